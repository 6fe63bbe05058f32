"""The wire view's drawing of bytes: CR LF as ␍␊, bare LF and bare CR named, trailing spaces,
UTF-8 bytes in hex, control bytes as pictures (never raw), and blocks cut into lines."""

from __future__ import annotations

from smtp_shell.protocol.wire import show_line, split_lines


def test_a_proper_line_ends_in_cr_lf_drawn_and_has_no_notes():
    line = show_line(b"EHLO me\r\n")
    assert line.text == "EHLO me␍␊" and line.notes == ()


def test_bare_lf_and_bare_cr_are_named():
    assert show_line(b".\n").text == ".␊" and "bare LF: SMTP wants CR LF" in show_line(b".\n").notes
    assert "bare CR inside the line" in show_line(b"a\rb\r\n").notes and show_line(b"a\rb\r\n").text == "a␍b␍␊"


def test_trailing_spaces_and_tabs_are_visible():
    line = show_line(b"MAIL FROM:<a@b.c>  \r\n")
    assert line.text == "MAIL FROM:<a@b.c>␠␠␍␊" and "2 trailing spaces" in line.notes
    assert show_line(b"a\tb\r\n").text == "a␉b␍␊"


def test_non_ascii_is_shown_with_its_utf8_bytes():
    line = show_line("Subject: Café crème\r\n".encode())
    assert "é=C3 A9" in line.notes[0] and "è=C3 A8" in line.notes[0]
    assert "bytes that are not UTF-8" in show_line(b"caf\xe9\r\n").notes[0]


def test_control_bytes_and_escapes_never_reach_the_terminal():
    text = show_line(b"\x1b[31mred\x00\r\n").text
    assert "\x1b" not in text and "\x00" not in text and "␛" in text and "␀" in text


def test_blocks_are_cut_after_each_lf_keeping_a_partial_line():
    assert split_lines(b"250-a\r\n250 b\r\n") == [b"250-a\r\n", b"250 b\r\n"]
    assert split_lines(b"x\ny") == [b"x\n", b"y"] and "no line end yet" in show_line(b"y").notes
