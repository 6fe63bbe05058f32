"""An unexpected error in the REPL: the session goes on, the screen gets one sentence naming a
private crash file, and that file holds the full traceback for a bug report."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import pytest

from tests.support.repl import Repl


@pytest.mark.timeout(30)
def test_an_internal_error_names_a_private_crash_file_with_the_traceback(aiosmtpd_server, monkeypatch, tmp_path):
    from smtp_shell.shell import meta

    real = meta.dispatch

    async def broken(shell, line):
        if line.startswith(":date"):
            raise ZeroDivisionError("planted bug")
        await real(shell, line)

    monkeypatch.setattr(meta, "dispatch", broken)
    repl = Repl(aiosmtpd_server)

    async def main():
        async with repl.session():
            await repl.type(":date", "Internal error")
            await repl.type("NOOP", "250")          # the session goes on
            await repl.type(":quit", "221")

    asyncio.run(asyncio.wait_for(main(), 25))
    match = re.search(r"[Tt]he traceback is in (\S+crash-\S+\.txt)", repl.screen)
    assert match, repl.screen
    crash = match.group(1).rstrip(";")
    text = Path(crash).read_text(encoding="utf-8")
    assert "Traceback" in text and "ZeroDivisionError: planted bug" in text and "command mode" in text
    if os.name == "posix":
        assert os.stat(crash).st_mode & 0o777 == 0o600
