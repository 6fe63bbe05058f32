"""`smtp-shell` (embedded lab + REPL) loads only what the first prompt needs: the lab's
certificate exists already, so no `cryptography`; the teaching, recording and lesson modules,
the transcript tools, the reply-code catalogue and the web view load on first use. Each was
once on the way to the first prompt (issue 17); this pins the set so it cannot come back
silently. Left with Ctrl-D at the prompt, so no `:command` loads anything either."""

from __future__ import annotations

import io
import sys

import pexpect
import pytest

from tests.shell.helpers import env

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="pty tests need a POSIX pty"), pytest.mark.pty, pytest.mark.slow,
              pytest.mark.timeout(90)]

NOT_BEFORE_THE_PROMPT = (
    "cryptography",                     # the lab certificate exists: ssl loads it
    "smtp_shell.lessons", "smtp_shell.transcript", "smtp_shell.lab.checkclient", "smtp_shell.lab.classroom",
    "smtp_shell.lab.web", "aiohttp",    # no --web
    "smtp_shell.shell.teaching", "smtp_shell.shell.recording", "smtp_shell.shell.lessonui",
    "smtp_shell.protocol.catalogue",
    "platformdirs",                     # SMTP_SHELL_HOME names the folder
)

PROBE = """\
import atexit, os, sys
atexit.register(lambda: os.write(2, ("MODULES " + " ".join(sorted(sys.modules)) + "\\n").encode()))
import runpy
sys.argv = ["smtp-shell"]
runpy.run_module("smtp_shell", run_name="__main__", alter_sys=True)
"""


def _run_to_the_prompt_and_leave(home) -> str:
    child = pexpect.spawn(sys.executable, ["-c", PROBE], env=env(home), encoding="utf-8", timeout=20,
                          dimensions=(50, 220))
    child.logfile_read = io.StringIO()
    child.expect("220 ")
    child.expect("smtp>")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    return child.logfile_read.getvalue()


def test_the_first_prompt_loads_none_of_the_later_modules(tmp_path):
    _run_to_the_prompt_and_leave(tmp_path)         # the first start makes the lab certificate
    screen = _run_to_the_prompt_and_leave(tmp_path)
    line = next(line for line in screen.splitlines() if line.startswith("MODULES "))
    loaded = set(line.split()[1:])
    assert "prompt_toolkit" in loaded and "smtp_shell.lab.server" in loaded, screen
    early = sorted(m for m in loaded if any(m == p or m.startswith(p + ".") for p in NOT_BEFORE_THE_PROMPT))
    assert early == [], f"loaded before the first prompt: {early}"
