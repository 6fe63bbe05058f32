"""Scripted faults give exactly the configured replies, the same way every time."""

from __future__ import annotations

import smtplib
import time

import pytest

from smtp_shell.lab import Faults, FaultsError
from smtp_shell.lab.mailbox import Mailbox


def start(wire, lab):
    w = wire(lab)
    assert w.reply().startswith("220")
    w.cmd("EHLO me")
    return w


def test_reject_recipient_with_the_exact_reply(make_lab, wire):
    lab = make_lab(faults=Faults(reject_recipients={"Nobody@Lab.Test": "550 5.1.1 No such user here"}))
    w = start(wire, lab)
    w.cmd("MAIL FROM:<a@lab.test>")
    assert w.cmd("RCPT TO:<nobody@lab.test>") == "550 5.1.1 No such user here"
    assert w.cmd("RCPT TO:<somebody@lab.test>").startswith("250")


def test_greylist_first_try_451_then_accepted(make_lab):
    lab = make_lab(faults=Faults(greylist=True))
    with smtplib.SMTP(lab.host, lab.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as info:
            client.sendmail("a@lab.test", ["b@lab.test"], b"Subject: x\r\n\r\nhi\r\n")
        code, text = info.value.recipients["b@lab.test"]
        assert (code, text) == (451, b"4.7.1 Greylisted, please try again later")
    with smtplib.SMTP(lab.host, lab.port, timeout=10) as client:
        client.sendmail("a@lab.test", ["b@lab.test"], b"Subject: x\r\n\r\nhi\r\n")
    assert len(Mailbox(lab.mailbox).messages()) == 1


def test_max_recipients(make_lab, wire):
    lab = make_lab(faults=Faults(max_recipients=2))
    w = start(wire, lab)
    w.cmd("MAIL FROM:<a@lab.test>")
    assert w.cmd("RCPT TO:<b@lab.test>").startswith("250")
    assert w.cmd("RCPT TO:<c@lab.test>").startswith("250")
    assert w.cmd("RCPT TO:<d@lab.test>") == "452 4.5.3 Too many recipients"


def test_max_size(make_lab, wire):
    lab = make_lab(faults=Faults(max_size=100))
    w = start(wire, lab)
    assert w.cmd("MAIL FROM:<a@lab.test> SIZE=500").startswith("552 5.3.4")
    w.cmd("MAIL FROM:<a@lab.test>")
    w.cmd("RCPT TO:<b@lab.test>")
    w.cmd("DATA")
    w.send(b"Subject: big\r\n\r\n" + b"x" * 200 + b"\r\n.\r\n")
    assert w.reply() == "552 5.3.4 Message size exceeds fixed limit of 100 bytes"


def test_disconnect_after_commands(make_lab, wire):
    lab = make_lab(faults=Faults(disconnect_after_commands=2))
    w = start(wire, lab)  # EHLO was command 1
    assert w.cmd("NOOP").startswith("250")
    assert w.cmd("NOOP") == "421 4.7.0 Service not available, closing transmission channel"
    assert w.closed()


def test_delay_only_the_chosen_verbs(make_lab, wire):
    lab = make_lab(faults=Faults(delay_seconds=0.6, delay_verbs=["rcpt"]))
    w = start(wire, lab)
    started = time.monotonic()
    w.cmd("MAIL FROM:<a@lab.test>")
    assert time.monotonic() - started < 0.5
    started = time.monotonic()
    assert w.cmd("RCPT TO:<b@lab.test>").startswith("250")
    assert time.monotonic() - started >= 0.55


def test_drop_during_data(make_lab, wire):
    lab = make_lab(faults=Faults(drop_during_data=True))
    w = start(wire, lab)
    w.cmd("MAIL FROM:<a@lab.test>")
    w.cmd("RCPT TO:<b@lab.test>")
    assert w.cmd("DATA").startswith("354")
    w.send(b"Subject: x\r\n")
    assert w.closed()
    assert w.buffer == b""  # no reply at all
    assert Mailbox(lab.mailbox).messages() == []


def test_faults_file(tmp_path):
    path = tmp_path / "faults.toml"
    path.write_text('greylist = true\nmax_recipients = 3\ndelay_seconds = 1.5\ndelay_verbs = ["RCPT"]\n'
                    '[reject_recipients]\n"nobody@lab.test" = "550 5.1.1 No such user here"\n')
    faults = Faults.from_toml(path)
    assert faults.greylist and faults.max_recipients == 3 and faults.delays("RCPT") and not faults.delays("MAIL")
    assert faults.rejection_for("NOBODY@lab.test") == "550 5.1.1 No such user here"


@pytest.mark.parametrize("text, problem", [
    ("greylist = yes", "not valid TOML"),
    ("greylst = true", "'greylst' is not a fault"),
    ("max_recipients = -1", "max_recipients must be a whole number"),
    ('[reject_recipients]\n"a@b" = "hello"', "must be one line starting with a 4xx or 5xx code"),
    ("delay_seconds = 'slow'", "delay_seconds must be a number"),
])
def test_bad_faults_file_is_one_sentence_naming_the_file(tmp_path, text, problem):
    path = tmp_path / "faults.toml"
    path.write_text(text)
    with pytest.raises(FaultsError) as info:
        Faults.from_toml(path)
    message = str(info.value)
    assert str(path) in message and problem in message and "\n" not in message


def test_missing_faults_file(tmp_path):
    with pytest.raises(FaultsError, match="does not exist"):
        Faults.from_toml(tmp_path / "nope.toml")
