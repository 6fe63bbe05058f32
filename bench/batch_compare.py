"""Run swaks, smtplib and `smtp-shell --batch` against the same failing servers, side by side.

Why this exists: docs/batch.md promises that smtp-shell's exit statuses and stop rule match what
script authors know from swaks and smtplib. This script is how the table there was filled in, so
anyone can re-run it: `python -m bench.batch_compare` (needs swaks on PATH; loopback only).
Each scenario is a scripted server from tests/robustness/hostile.py on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import smtplib
import subprocess
import sys
import tempfile

from tests.robustness.hostile import HostileServer

SENDER, RCPT = "a@lab.test", "b@lab.test"
MESSAGE = "Subject: compare\r\n\r\nbody\r\n"
SCRIPT = f"EHLO a\nMAIL FROM:<{SENDER}>\nRCPT TO:<{RCPT}>\nDATA\nSubject: compare\n\nbody\n.\nQUIT\n"


def _script(**on):
    async def run(peer):
        if "greeting" in on:
            await peer.send(on["greeting"])
            peer.close()
            return
        await peer.smtp({k: v for k, v in on.items() if k != "data_reply"}, data_reply=on.get("data_reply", "250 2.0.0 Queued"))
    return run


async def _close_after_421(peer, line):
    await peer.send("421 4.4.2 closing")
    peer.close()
    return False


SCENARIOS = {
    "accepted": _script(),
    "421 greeting": _script(greeting="421 4.3.2 not now"),
    "MAIL refused 550": _script(MAIL="550 5.7.1 sender refused"),
    "RCPT refused 550": _script(RCPT="550 5.1.1 no such user", DATA="554 5.5.1 no valid recipients"),
    "DATA refused 554": _script(DATA="554 5.5.1 no valid recipients"),
    "dot refused 452": _script(data_reply="452 4.3.1 insufficient storage"),
    "dot refused 554": _script(data_reply="554 5.7.1 message rejected"),
    "421 during DATA": _script(**{"<data>": _close_after_421}),
}


def run_swaks(target: str) -> str:
    host, port = target.split(":")
    result = subprocess.run(["swaks", "--server", host, "--port", port, "--from", SENDER, "--to", RCPT,
                             "--body", "body", "--header", "Subject: compare", "--timeout", "5"],
                            capture_output=True, text=True, timeout=30)
    return f"exit {result.returncode}"


def run_smtplib(target: str) -> str:
    host, port = target.split(":")
    try:
        with smtplib.SMTP(host, int(port), timeout=5) as client:
            refused = client.sendmail(SENDER, [RCPT], MESSAGE)
        return "returns " + (str(refused) if refused else "{}")
    except smtplib.SMTPException as exc:
        return type(exc).__name__ + (f" {exc.smtp_code}" if hasattr(exc, "smtp_code") else "")
    except OSError as exc:
        return type(exc).__name__


def run_shell(target: str) -> str:
    env = dict(os.environ, NO_COLOR="1", SMTP_SHELL_HOME=tempfile.mkdtemp())
    result = subprocess.run([sys.executable, "-m", "smtp_shell", "connect", target, "--batch", "--timeout", "5"],
                            input=SCRIPT, capture_output=True, text=True, timeout=30, env=env)
    from smtp_shell.status import ExitStatus
    try:
        name = ExitStatus(result.returncode).name
    except ValueError:
        name = "?"
    return f"exit {result.returncode} ({name})"


def main() -> None:
    has_swaks = shutil.which("swaks") is not None
    print("| failure | swaks | smtplib `sendmail` | smtp-shell --batch |")
    print("|---|---|---|---|")
    for name, script in SCENARIOS.items():
        cells = []
        for runner in (run_swaks if has_swaks else None, run_smtplib, run_shell):
            if runner is None:
                cells.append("(swaks not installed)")
                continue
            with HostileServer(script) as server:
                cells.append(runner(server.target))
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
