"""Row 2: time to the first prompt of the interactive shell, in a pty.

`smtp-shell` with no arguments starts the embedded lab server, connects to it, shows the
greeting and prompts: timed from spawn until `smtp>` appears after the 220 greeting. The
baseline is the import floor of any prompt_toolkit + rich program: a fresh
`python -c "import prompt_toolkit, rich"` in the same pty setup, timed from spawn to exit.
The lab certificate already exists (made by a warm-up run), as for a student's second start.
"""

from __future__ import annotations

import time

from bench.common import PY, BenchError, Row, fmt_ms, interleaved, skipped, smtp_shell_cmd

NAME = "first prompt, interactive (pty)"
OURS = "smtp-shell (lab server + greeting + prompt)"
BASE = 'python -c "import prompt_toolkit, rich"'
TARGET = "<= 1.2"


def run(ctx) -> Row:
    try:
        import pexpect
    except ImportError:
        return skipped(NAME, OURS, BASE, TARGET, "pexpect is not installed (pip install pexpect)")
    cmd = smtp_shell_cmd()

    def ours() -> float:
        start = time.perf_counter()
        child = pexpect.spawn(cmd[0], cmd[1:], env=ctx.env, encoding="utf-8", timeout=30,
                              dimensions=(40, 200))
        try:
            child.expect("220 ")
            child.expect("smtp>")
            elapsed = time.perf_counter() - start
            child.sendline(":quit")
            child.expect(pexpect.EOF)
        except pexpect.ExceptionPexpect as exc:
            raise BenchError(f"smtp-shell did not reach its prompt: {exc}; output: {child.before!r}") from None
        finally:
            child.close(force=True)
        return elapsed

    def floor() -> float:
        start = time.perf_counter()
        child = pexpect.spawn(PY, ["-c", "import prompt_toolkit, rich"], env=ctx.env, encoding="utf-8",
                              timeout=30, dimensions=(40, 200))
        child.expect(pexpect.EOF)
        elapsed = time.perf_counter() - start
        child.close(force=True)
        return elapsed

    samples = interleaved(ctx.reps_fast, ours=ours, floor=floor)
    o, b = samples["ours"], samples["floor"]
    ratio = o.median / b.median
    return Row(NAME, OURS, BASE, "time ours / import floor", ratio, TARGET, ratio <= 1.2, fmt_ms(o), fmt_ms(b),
               data={"ours": o.as_dict(), "base": b.as_dict()})
