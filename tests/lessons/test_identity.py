"""Who did the lesson: asked once on a terminal and kept, never asked in a script; `--student` and
SMTP_SHELL_STUDENT win; the name is in the transcript; lessons record into the data folder."""

from __future__ import annotations

import json
import sys

import pexpect
import pytest

from tests.shell.helpers import env, run_cli

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pty tests need a POSIX pty")


def header(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8").splitlines()[0])


@pytest.mark.timeout(90)
def test_asked_once_at_the_first_lesson_then_kept(tmp_path):
    home = tmp_path / "home"
    environment = env(home)
    environment.pop("SMTP_SHELL_STUDENT")
    for answer in ("Ada Lovelace", None):
        child = pexpect.spawn(sys.executable, ["-m", "smtp_shell", "lesson", "1", "--mailbox", str(tmp_path / "mb")],
                              env=environment, encoding="utf-8", timeout=20, dimensions=(50, 200), cwd=tmp_path)
        try:
            if answer is not None:
                child.expect("Your name, for your lesson transcripts")
                child.sendline(answer)
            child.expect(r"Recording this lesson to (\S+) as Ada Lovelace")
            child.expect(r"smtp~?>")
            child.sendline(":quit")
            child.expect(pexpect.EOF)
        finally:
            child.close()
    files = sorted((home / "transcripts").glob("first-contact-ada-lovelace-*.jsonl"))
    assert len(files) == 2 and not (tmp_path / "transcripts").exists()   # the data folder, not the cwd
    assert {header(f)["student"] for f in files} == {"Ada Lovelace"}
    assert json.loads((home / "config.json").read_text())["student"] == "Ada Lovelace"


@pytest.mark.timeout(60)
def test_never_asked_in_a_script_and_flags_win(tmp_path):
    home = tmp_path / "home"
    result = run_cli(["lesson", "1", "--batch", "--mailbox", str(tmp_path / "mb")], "QUIT\n", home)
    assert "Your name" not in result.stdout + result.stderr
    assert "Recording this lesson to" in result.stdout and "as Test Student" in result.stdout
    result = run_cli(["lesson", "1", "--batch", "--student", "Bob\x1b[31m", "--mailbox", str(tmp_path / "mb")],
                     "QUIT\n", home)
    (bob,) = (home / "transcripts").glob("first-contact-bob-31m-*.jsonl")
    assert header(bob)["student"] == "Bob [31m"   # the escape character does not survive
