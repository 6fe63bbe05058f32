"""SASL helpers: base64 both ways, AUTH PLAIN, 334 challenges, and masking secrets."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtp_shell.protocol.sasl import (
    REDACTED,
    SaslError,
    b64decode_text,
    b64encode_text,
    decode_challenge,
    decodes_to_printable,
    is_password_prompt,
    looks_like_base64,
    mask_auth_command,
    plain_initial_response,
)


def test_b64encode_text():
    assert b64encode_text("student") == "c3R1ZGVudA=="
    assert b64encode_text("") == ""
    assert b64encode_text("é") == "w6k="
    assert "\n" not in b64encode_text("x" * 200)


def test_b64decode_text():
    assert b64decode_text("c3R1ZGVudA==") == "student"
    assert b64decode_text("  c3R1ZGVudA==\r\n") == "student"
    assert b64decode_text("c3R1ZGVudA") == "student"     # missing padding tolerated
    assert b64decode_text("") == ""
    assert b64decode_text("=") == ""
    assert b64decode_text("/w==") == "\\xff"             # not UTF-8: shown escaped


@pytest.mark.parametrize("bad", ["hello world", "abc!", "a", "abcde", "ab=c", "é"])
def test_b64decode_text_rejects(bad):
    with pytest.raises(SaslError) as info:
        b64decode_text(bad)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert "base64" in message and "\n" not in message


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_b64_round_trip(text):
    encoded = b64encode_text(text)
    assert looks_like_base64(encoded) or text == ""
    assert b64decode_text(encoded) == text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_decode_never_raises_other_errors(text):
    try:
        assert isinstance(b64decode_text(text), str)
    except SaslError:
        pass


@pytest.mark.parametrize("text, ok", [
    ("dXNlcg==", True), ("c3R1ZGVudA==", True), ("user", True), ("YWJj", True),
    ("dXNlcg", False), ("dXNlcg=", False), ("dXN=cg==", False), ("hello world", False),
    ("", False), ("abc", False), ("a===", False), ("ab+/", True),
])
def test_looks_like_base64(text, ok):
    assert looks_like_base64(text) is ok


def test_decodes_to_printable():
    assert decodes_to_printable("dXNlcg==")
    assert not decodes_to_printable("user")           # valid characters, garbage bytes
    assert not decodes_to_printable("not base64!")
    assert not decodes_to_printable(plain_initial_response("a", "b"))  # NUL separators
    assert not decodes_to_printable(b64encode_text("pass\n"))           # echo's newline


def test_plain_initial_response():
    ir = plain_initial_response("test", "pass")
    assert base64.b64decode(ir) == b"\0test\0pass"
    assert base64.b64decode(plain_initial_response("u", "p", "admin")) == b"admin\0u\0p"
    assert plain_initial_response("test", "test") == "AHRlc3QAdGVzdA=="


def test_decode_challenge():
    assert decode_challenge("VXNlcm5hbWU6") == "Username:"
    assert decode_challenge("UGFzc3dvcmQ6") == "Password:"
    assert decode_challenge("") == ""
    assert decode_challenge("   ") == ""
    with pytest.raises(SaslError):
        decode_challenge("not base64!")


@pytest.mark.parametrize("text, ok", [("Password:", True), ("password", True), ("PASSWORD: ", True),
                                      ("Username:", False), ("", False), ("Passwords:", False)])
def test_is_password_prompt(text, ok):
    assert is_password_prompt(text) is ok


@pytest.mark.parametrize("line, masked", [
    ("AUTH PLAIN dGVzdAB0ZXN0AHBhc3M=", "AUTH PLAIN ********"),
    ("AUTH LOGIN dXNlcg==", "AUTH LOGIN ********"),
    ("auth plain dGVzdAB0ZXN0AHBhc3M=", "auth plain ********"),
    ("Auth Plain dGVzdAB0ZXN0AHBhc3M=\r\n", "Auth Plain ********\r\n"),
    ("AUTH XOAUTH2 dXNlcj1zb21ldXNlcgFhdXRo", "AUTH XOAUTH2 ********"),
])
def test_mask_auth_command_masks(line, masked):
    assert mask_auth_command(line) == (masked, True)
    assert REDACTED == "********"


@pytest.mark.parametrize("line", ["AUTH LOGIN", "AUTH PLAIN", "auth login  ", "AUTH",
                                  "MAIL FROM:<a@b>", "EHLO AUTH PLAIN x", "AUTHX PLAIN abc", ""])
def test_mask_auth_command_leaves_others(line):
    assert mask_auth_command(line) == (line, False)
