"""Completion offers what the state table says makes sense now, refined by what the server
advertised, plus the shell's own :commands."""

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from smtp_shell.protocol.session import ClientSession
from smtp_shell.shell.completion import SmtpCompleter


class _Driver:
    def __init__(self, core):
        self.core = core


def complete(core, text):
    c = SmtpCompleter(_Driver(core), helo_name="student.example")
    return [x.text for x in c.get_completions(Document(text), CompleteEvent())]


def greeted():
    s = ClientSession()
    s.connected()
    s.receive_data(b"220 lab ESMTP\r\n")
    return s


def test_after_greeting_offers_hello_first():
    core = greeted()
    offered = complete(core, "")
    assert offered[:2] == ["EHLO student.example", "HELO student.example"]
    assert not any(o.startswith("MAIL") for o in offered)
    assert complete(core, "eh") == ["EHLO student.example"]


def test_after_ehlo_offers_envelope_and_advertised_extensions():
    core = greeted()
    core.send_line("EHLO me")
    core.receive_data(b"250-lab\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n")
    offered = complete(core, "")
    assert "MAIL FROM:<" in offered and "STARTTLS" in offered and "AUTH" in offered
    assert "DATA" not in offered
    assert complete(core, "AUTH ") == ["PLAIN", "LOGIN"]
    assert complete(core, "AUTH L") == ["LOGIN"]


def test_no_starttls_offered_when_not_advertised_or_already_tls():
    core = greeted()
    core.send_line("EHLO me")
    core.receive_data(b"250 lab\r\n")
    assert "STARTTLS" not in complete(core, "")


def test_data_offered_only_after_a_recipient():
    core = greeted()
    core.send_line("EHLO me"); core.receive_data(b"250 lab\r\n")
    core.send_line("MAIL FROM:<a@b>"); core.receive_data(b"250 ok\r\n")
    assert "DATA" not in complete(core, "")
    core.send_line("RCPT TO:<c@d>"); core.receive_data(b"250 ok\r\n")
    assert "DATA" in complete(core, "")


def test_meta_commands_complete_and_nothing_in_data_mode():
    core = greeted()
    assert ":reconnect" in complete(core, ":re")
    core.send_line("EHLO me"); core.receive_data(b"250 lab\r\n")
    core.send_line("MAIL FROM:<a@b>"); core.receive_data(b"250 ok\r\n")
    core.send_line("RCPT TO:<c@d>"); core.receive_data(b"250 ok\r\n")
    core.send_line("DATA"); core.receive_data(b"354 go\r\n")
    assert complete(core, "") == []
