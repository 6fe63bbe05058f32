"""`smtp-shell lab` and `smtp-shell mailbox` as a user runs them."""

from __future__ import annotations

import os
import re
import signal
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from smtp_shell.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run_cli(args, home, **kwargs):
    env = {**os.environ, "SMTP_SHELL_HOME": str(home), "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    return subprocess.Popen([sys.executable, "-m", "smtp_shell", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def read_until(stream, marker: str, limit: float = 20) -> str:
    seen = ""
    deadline = time.monotonic() + limit
    while marker not in seen and time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        seen += line
    return seen


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX-only")
def test_lab_command_prints_where_and_stops_on_ctrl_c(tmp_path, lab_home):
    mailbox = tmp_path / "class-mailbox"
    proc = run_cli(["lab", "--listen", "127.0.0.1:0", "--mailbox", str(mailbox)], lab_home)
    try:
        banner = read_until(proc.stdout, "Press Ctrl-C")
        port = int(re.search(r"listening on 127\.0\.0\.1:(\d+)", banner).group(1))
        assert port != 0
        assert re.search(r"SHA-256 fingerprint: ([0-9A-F]{2}:){31}[0-9A-F]{2}", banner)
        assert f"mailbox: {mailbox}" in banner and "lab-cert.pem" in banner
        assert "student / lab-password" in banner
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("a@lab.test", ["b@lab.test"], b"Subject: hi\r\n\r\nhi\r\n")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "goodbye" in out and "Traceback" not in err
    assert len(list(mailbox.glob("b@lab.test/*.eml"))) == 1
    # the event of the message (printed in bursts) is never lost, even when the lab stops at once
    saved = re.search(r"message from <a@lab\.test> to <b@lab\.test> saved as \S+", out)
    assert saved and saved.start() < out.index("goodbye"), out


def test_lab_events_are_printed_in_bursts_in_order():
    """Inside the server's loop, events wait a moment and go out together (one write); outside a
    loop they go out at once; flush() prints whatever waits."""
    import asyncio
    import io

    from rich.console import Console

    from smtp_shell.lab.console import _EventPrinter

    buffer = io.StringIO()
    printer = _EventPrinter(Console(file=buffer, force_terminal=False))
    writes = []
    real_write = buffer.write
    buffer.write = lambda text: writes.append(text) or real_write(text)  # type: ignore[method-assign]

    async def burst() -> None:
        for n in range(5):
            printer(f"message {n} saved")
        assert buffer.getvalue() == ""
        await asyncio.sleep(printer.FLUSH * 3)

    asyncio.run(burst())
    assert buffer.getvalue() == "".join(f"message {n} saved\n" for n in range(5)) and len(writes) == 1
    printer("outside \x1b[31m a loop")
    assert buffer.getvalue().endswith("outside \\x1b[31m a loop\n")
    printer.flush()
    assert len(writes) == 2


def test_lab_port_in_use_is_one_sentence(make_lab, lab_home):
    lab = make_lab()
    proc = run_cli(["lab", "--listen", f"127.0.0.1:{lab.port}"], lab_home)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert err.strip() == (f"smtp-shell: port {lab.port} on 127.0.0.1 is already in use; stop the other server "
                           f"or choose another with --listen 127.0.0.1:{lab.port + 1}")


def test_lab_bad_arguments_are_one_sentence(tmp_path, capsys):
    bad = tmp_path / "faults.toml"
    bad.write_text("greylist = maybe")
    assert main(["lab", "--faults", str(bad), "--listen", "127.0.0.1:0"]) == 1
    assert str(bad) in capsys.readouterr().err
    assert main(["lab", "--user", "alice", "--listen", "127.0.0.1:0"]) == 1
    assert "NAME:PASSWORD" in capsys.readouterr().err
    assert main(["lab", "--listen", "127.0.0.1:99999"]) == 1
    assert "--listen" in capsys.readouterr().err


def multipart() -> bytes:
    msg = EmailMessage()
    msg["From"] = "=?utf-8?q?J=C3=B6rg?= <joerg@lab.test>"
    msg["To"] = "teacher@lab.test"
    msg["Subject"] = "Übung 3 mit [bold]Anhang[/bold] \x1b[31m"
    msg.set_content("Hallo, siehe Anhang.")
    msg.add_alternative("<p>Hallo</p>", subtype="html")
    msg.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="bericht.pdf")
    return msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def test_mailbox_list_and_show(make_lab, capsys):
    lab = make_lab()
    with smtplib.SMTP(lab.host, lab.port, timeout=10) as client:
        client.sendmail("joerg@lab.test", ["teacher@lab.test"], multipart())
        client.sendmail("joerg@lab.test", ["teacher@lab.test"], b"Subject: second\r\n\r\nx\r\n")
    assert main(["mailbox", "--mailbox", str(lab.mailbox)]) == 0
    out = capsys.readouterr().out
    assert "Übung 3 mit [bold]Anhang[/bold]" in out and "Jörg <joerg@lab.test>" in out
    assert "\x1b" not in out and "\\x1b" in out  # the escape in the subject is shown, not obeyed
    assert out.index("Übung") < out.index("second")  # newest last
    assert main(["mailbox", str(lab.mailbox), "show", "1"]) == 0
    shown = capsys.readouterr().out
    assert "Subject: Übung 3 mit [bold]Anhang[/bold]" in shown
    for part in ("multipart/mixed", "multipart/alternative", "text/plain", "text/html", "application/pdf"):
        assert part in shown
    assert "bericht.pdf" in shown and "Hallo, siehe Anhang." in shown


def test_mailbox_show_by_prefix_and_unknown_id(make_lab, capsys):
    lab = make_lab()
    with smtplib.SMTP(lab.host, lab.port, timeout=10) as client:
        client.sendmail("a@lab.test", ["b@lab.test"], b"Subject: only\r\n\r\nx\r\n")
    [path] = lab.mailbox.glob("b@lab.test/*.eml")
    assert main(["mailbox", "--mailbox", str(lab.mailbox), "show", path.stem[:-3]]) == 0
    assert "Subject: only" in capsys.readouterr().out
    assert main(["mailbox", "--mailbox", str(lab.mailbox), "show", "nope"]) == 1
    err = capsys.readouterr().err
    assert "no message 'nope'" in err and "smtp-shell mailbox" in err


def test_mailbox_missing_folder(tmp_path, capsys):
    assert main(["mailbox", str(tmp_path / "none")]) == 1
    assert "--mailbox DIR" in capsys.readouterr().err
