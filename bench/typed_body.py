"""A 20,000-line message body typed into `smtp-shell --batch` vs swaks sending the same body.

Why this exists: issue 11 asks that a long typed body not be slower than swaks. This prints
wall times (best of N) for both against the same fast sink (`bench.servers fast`), plus a short
smtp-shell session, so start-up can be told apart from the per-line cost:
`python -m bench.typed_body [LINES] [ROUNDS]` (needs swaks on PATH; loopback only).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAD = ["From: a@lab.test", "To: b@lab.test", "Subject: big", "Date: Tue, 24 Nov 2026 19:01:02 +0000", ""]
ENVELOPE = "EHLO a\nMAIL FROM:<a@lab.test>\nRCPT TO:<b@lab.test>\nDATA\n"


def best(cmd: list[str], stdin: Path, rounds: int, env: dict) -> float:
    times = []
    for _ in range(rounds):
        with stdin.open("rb") as fh:
            start = time.perf_counter()
            subprocess.run(cmd, stdin=fh, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=env)
            times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    work = Path(tempfile.mkdtemp(prefix="typed-body-"))
    body = HEAD + [f"line {i} the quick brown fox jumps over the lazy dog" for i in range(lines)]
    (work / "body.txt").write_text("\n".join(body) + "\n")
    (work / "big.txt").write_text(ENVELOPE + "\n".join(body) + "\n.\nQUIT\n")
    (work / "small.txt").write_text(ENVELOPE + "\n".join(HEAD) + "\nbody\n.\nQUIT\n")
    env = dict(os.environ, NO_COLOR="1", SMTP_SHELL_HOME=str(work / "home"))
    sink = subprocess.Popen([sys.executable, "-m", "bench.servers", "fast"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert sink.stdout is not None
        port = sink.stdout.readline().split()[1]
        shell = [sys.executable, "-m", "smtp_shell", "connect", f"127.0.0.1:{port}", "--batch"]
        small = best(shell, work / "small.txt", rounds, env)
        big = best(shell, work / "big.txt", rounds, env)
        print(f"smtp-shell, short session:       {small:.3f} s")
        print(f"smtp-shell, {lines} typed lines: {big:.3f} s  ({(big - small) / lines * 1e6:.1f} µs per line)")
        if shutil.which("swaks"):
            swaks = ["swaks", "--server", "127.0.0.1", "--port", port, "--from", "a@lab.test", "--to", "b@lab.test",
                     "--data", f"@{work / 'body.txt'}"]
            print(f"swaks, the same body:            {best(swaks, work / 'small.txt', rounds, env):.3f} s")
    finally:
        sink.terminate()
        sink.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
