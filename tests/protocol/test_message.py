"""The composer's output parsed back with `email`: headers, MIME structure, transfer encodings,
UTF-8 round trips, and the envelope a student has to type."""

from __future__ import annotations

import email
from email import policy

import pytest

from smtp_shell.protocol import message as m

DATE = "Tue, 24 Nov 2026 19:01:02 +0100"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


def parse(wire: bytes):
    """Parse as a receiver would (line ends as LF); raw UTF-8 headers (SMTPUTF8) are read as UTF-8 text."""
    wire = wire.replace(b"\r\n", b"\n")
    try:
        wire.decode("ascii")
    except UnicodeDecodeError:
        return email.message_from_string(wire.decode("utf-8"), policy=policy.default)
    return email.message_from_bytes(wire, policy=policy.default)


def content(part):
    """The decoded text of a part; text in base64/quoted-printable carries CRLF, its canonical form."""
    return part.get_content().replace("\r\n", "\n")


def compose(**kw):
    fields = dict(sender="Student <student@lab.test>", recipients=("teacher@lab.test",), subject="Hello",
                  text="Hi there.\nSecond line.\n")
    fields.update(kw)
    draft = m.Draft(**fields)
    msg = m.build(draft, DATE, m.message_id(draft.sender, "abc123"))
    return draft, m.to_wire(msg), msg


def test_plain_ascii_message_is_7bit_with_all_headers():
    _, wire, msg = compose()
    assert wire.isascii() and b"\r\n" in wire and b"\n" not in wire.replace(b"\r\n", b"")
    back = parse(wire)
    assert back["From"] == "Student <student@lab.test>" and back["To"] == "teacher@lab.test"
    assert back["Subject"] == "Hello" and back["Date"] == DATE and back["Message-ID"] == "<abc123@lab.test>"
    assert back["MIME-Version"] == "1.0"
    assert back.get_content_type() == "text/plain" and back.get_content_charset() == "utf-8"
    assert back["Content-Transfer-Encoding"] == "7bit"
    assert back.get_content() == "Hi there.\nSecond line.\n"
    assert m.mime_tree(msg) == ["text/plain, charset=utf-8, 7bit"]


def test_utf8_subject_names_and_body_round_trip_as_encoded_words_and_qp():
    text = "Grüße aus Köln!\nÇa va très bien.\n"
    _, wire, _ = compose(sender="Jürgen Müller <jurgen@lab.test>", recipients=("Zoë <zoe@lab.test>", "b@lab.test"),
                         subject="Grüße — ça va? ✉", text=text)
    assert wire.isascii()
    assert b"=?utf-8?" in wire.split(b"\r\n\r\n")[0]
    back = parse(wire)
    assert back["Subject"] == "Grüße — ça va? ✉"
    assert [a.display_name for a in back["To"].addresses] == ["Zoë", ""]
    assert back["From"].addresses[0].display_name == "Jürgen Müller"
    assert back["Content-Transfer-Encoding"] in ("quoted-printable", "base64")
    assert content(back) == text


def test_mostly_non_latin_text_goes_base64():
    text = "Привет, как дела? Это письмо целиком по-русски.\n" * 3
    _, wire, _ = compose(text=text)
    back = parse(wire)
    assert back["Content-Transfer-Encoding"] == "base64" and content(back) == text


def test_html_alternative_and_attachments_structure():
    _draft, wire, msg = compose(subject="Bericht über Äpfel", html="<p>Hi <b>there</b>.</p>\n",
                               attachments=(m.Attachment("chart.png", PNG), m.Attachment("notes.txt", b"plain notes\n"),
                                            m.Attachment("données.bin", b"\x00\x01\x02")))
    assert m.mime_tree(msg) == [
        "multipart/mixed",
        "  multipart/alternative",
        "    text/plain, charset=utf-8, 7bit",
        "    text/html, charset=utf-8, 7bit",
        "  image/png, base64, attachment 'chart.png'",
        "  text/plain, charset=utf-8, 7bit, attachment 'notes.txt'",
        "  application/octet-stream, base64, attachment 'données.bin'",
    ]
    back = parse(wire)
    assert back["Subject"] == "Bericht über Äpfel"
    files = {p.get_filename(): p for p in back.iter_attachments()}
    assert files["chart.png"].get_content() == PNG
    assert files["notes.txt"].get_content() == "plain notes\n"
    assert files["données.bin"].get_content() == b"\x00\x01\x02"
    assert all(p.get_content_disposition() == "attachment" for p in files.values())
    body = back.get_body(("html",))
    assert body.get_content() == "<p>Hi <b>there</b>.</p>\n"
    assert wire.count(b"MIME-Version") == 1


def test_non_ascii_address_needs_smtputf8_and_raw_utf8_headers():
    draft, wire, _ = compose(recipients=("Jürgen <jürgen@lab.test>",), subject="Grüße")
    assert m.needs_smtputf8(draft)
    assert m.envelope_commands(draft) == ["MAIL FROM:<student@lab.test> SMTPUTF8", "RCPT TO:<jürgen@lab.test>", "DATA"]
    assert "jürgen@lab.test".encode() in wire and b"=?utf-8?" not in wire
    back = parse(wire)
    assert back["To"].addresses[0].addr_spec == "jürgen@lab.test" and back["Subject"] == "Grüße"


def test_envelope_commands_for_several_recipients():
    draft, _, _ = compose(recipients=("A <a@lab.test>, b@lab.test", "c@lab.test"))
    assert not m.needs_smtputf8(draft)
    assert m.envelope_commands(draft) == ["MAIL FROM:<student@lab.test>", "RCPT TO:<a@lab.test>",
                                          "RCPT TO:<b@lab.test>", "RCPT TO:<c@lab.test>", "DATA"]


@pytest.mark.parametrize("bad", ["", "student", "student@", "@lab.test", "two words@lab.test", "a@b@"])
def test_bad_addresses_get_one_sentence(bad):
    with pytest.raises(ValueError, match=r"e-mail address|No address"):
        m.parse_addresses(bad)


def test_long_lines_and_leading_dots_survive():
    text = "x" * 1500 + "\n.starts with a dot\n"
    _, wire, _ = compose(text=text)
    assert max(len(line) for line in wire.split(b"\r\n")) <= 78
    assert content(parse(wire)) == text


def test_message_id_domain_falls_back_and_names_with_specials_are_quoted():
    assert m.message_id("not an address", "t") == "<t@smtp-shell.invalid>"
    assert m.message_id("a@bücher.test", "t") == "<t@xn--bcher-kva.test>"
    _, wire, _ = compose(sender='"Doe, Jane" <jane@lab.test>', recipients=('"Ünïcode, Name" <ü@lab.test>',))
    back = parse(wire)
    assert back["From"].addresses[0].display_name == "Doe, Jane"
    assert back["To"].addresses[0].display_name == "Ünïcode, Name"
