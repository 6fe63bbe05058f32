"""A class roster and `smtp-shell lab --web --roster` as an instructor runs them."""

from __future__ import annotations

import os
import re
import signal
import smtplib
import ssl
import stat
import sys
import urllib.request

import pytest

from smtp_shell.lab.roster import RosterError, load_roster
from tests.lab.test_console import read_until, run_cli


def test_roster_keeps_given_passwords_and_generates_the_others_once(tmp_path):
    roster = tmp_path / "class.csv"
    roster.write_text("name,password\nalice,alice-secret\n# a comment\n\nbob\ncarol,\n", encoding="utf-8")
    first = load_roster(roster)
    assert first.users["alice"] == "alice-secret"
    assert sorted(first.generated) == ["bob", "carol"] and first.passwords_file == tmp_path / "class.passwords.csv"
    assert len(first.users["bob"]) >= 12 and first.users["bob"] != first.users["carol"]
    if sys.platform != "win32":
        assert stat.S_IMODE(os.stat(first.passwords_file).st_mode) == 0o600
    again = load_roster(roster)
    assert again.users == first.users  # nobody's password changes between lab sessions
    assert first.mailbox_of("bob") == "bob@lab.test"


@pytest.mark.parametrize("text, message", [
    ("alice\nalice\n", "line 2: 'alice' is listed twice"),
    ("al ice\n", "line 1: 'al ice' is not a user name"),
    ("alice,pw,extra\n", "line 1: write name or name,password"),
    ("# nobody\n", "lists nobody"),
])
def test_a_bad_roster_is_one_sentence(tmp_path, text, message):
    roster = tmp_path / "class.csv"
    roster.write_text(text, encoding="utf-8")
    with pytest.raises(RosterError, match=re.escape(message)):
        load_roster(roster)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX-only")
def test_lab_with_web_and_roster(tmp_path, lab_home):
    roster = tmp_path / "class.csv"
    roster.write_text("alice,alice-secret\nbob\n", encoding="utf-8")
    mailbox = tmp_path / "mailbox"
    proc = run_cli(["lab", "--listen", "127.0.0.1:0", "--mailbox", str(mailbox), "--web", "127.0.0.1:0",
                    "--roster", str(roster)], lab_home)
    try:
        banner = read_until(proc.stdout, "Press Ctrl-C")
        port = int(re.search(r"listening on 127\.0\.0\.1:(\d+)", banner).group(1))
        url = re.search(r"web view: (http://127\.0\.0\.1:\d+/)\n", banner).group(1)
        assert "roster: 2 student account(s)" in banner
        assert f"generated passwords (1): {tmp_path / 'class.passwords.csv'}" in banner
        assert "token" not in banner  # loopback: no token needed
        bob_password = (tmp_path / "class.passwords.csv").read_text().splitlines()[1].split(",")[1]
        assert bob_password not in banner
        assert (mailbox / "alice@lab.test").is_dir() and (mailbox / "bob@lab.test").is_dir()
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.starttls(context=ssl.create_default_context(
                cafile=re.search(r"certificate: (\S+)", banner).group(1)))
            client.login("bob", bob_password)
        with urllib.request.urlopen(url + "api/board", timeout=10) as response:
            body = response.read().decode()
        assert '"name": "alice"' in body and '"progress": "never connected"' in body and '"name": "bob"' in body
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "goodbye" in out and "Traceback" not in err


def test_web_on_a_network_address_prints_a_token(tmp_path, lab_home):
    from smtp_shell.lab.web.app import WebView

    view = WebView(server=None, tracker=None, host="192.0.2.10", port=8080)
    assert view.token and view.url == f"http://192.0.2.10:8080/?token={view.token}"
    assert WebView(server=None, tracker=None, host="::1", port=8080).token is None


def test_the_embedded_default_prints_the_web_url(tmp_path, lab_home):
    import subprocess

    proc = run_cli(["--web", "127.0.0.1:0", "--batch"], lab_home, stdin=subprocess.PIPE)
    try:
        first = proc.stdout.readline()
        url = re.match(r"Lab web view: (http://127\.0\.0\.1:\d+/)$", first.strip()).group(1)
        read_until(proc.stdout, "220 ")
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200 and "Class board" in response.read().decode()
        _, err = proc.communicate("QUIT\n", timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err


def test_a_web_port_in_use_is_one_sentence(tmp_path, lab_home):
    import socket
    import subprocess

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = run_cli(["lab", "--listen", "127.0.0.1:0", "--mailbox", str(tmp_path / "mb"),
                        "--web", f"127.0.0.1:{port}"], lab_home, stdin=subprocess.DEVNULL)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1 and "Traceback" not in err
    assert f"the web view cannot listen on 127.0.0.1:{port}" in err and "choose another address with --web" in err
