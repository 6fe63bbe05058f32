"""`report`, `replay` and `export` stream: a transcript far larger than the memory they use.

Why this exists: a student can hand in a 1 GB file (or a runaway recording can make one); the
instructor's report over the class must not need several times that in memory. A ~200 MB
transcript is generated (docs/security.md gives what 1 GB measured by hand), each command
runs in a subprocess, and the subprocess reports its own peak RSS.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.transcript.helpers import cli_env

SIZE = 200 * 10**6
PEAK_LIMIT_KB = 120 * 1024  # far below the file's 200 MB (measured: about 20-30 MB)

# The peak of this process's own address space (VmHWM), read by the process itself: ru_maxrss
# would also count the pytest process it was forked from.
_WRAPPER = ("import sys\n"
            "from smtp_shell.cli import main\n"
            "status = main(sys.argv[1:])\n"
            "sys.stdout.flush()\n"
            "peak = next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
            "sys.stderr.write('PEAK-RSS-KB %s\\n' % peak)\n"
            "sys.exit(status)\n")


def generate(path, size: int) -> int:
    """A valid transcript of about `size` bytes: sessions of 40 long DATA lines each, repeated."""
    header = {"format": "smtp-shell-transcript", "version": 1, "started": "2026-05-01T09:30:00.000Z",
              "target": "127.0.0.1:8025"}
    events = [{"t": 0.5, "k": "connect", "target": "127.0.0.1:8025", "tls": False},
              {"t": 0.5, "k": "s", "text": "220 lab ESMTP\r\n", "code": 220, "reply": "greeting"},
              {"t": 0.6, "k": "c", "text": "MAIL FROM:<a@lab.test>", "as": "command", "verb": "MAIL"},
              {"t": 0.7, "k": "s", "text": "250 2.1.0 OK\r\n", "code": 250, "verb": "MAIL"},
              {"t": 0.8, "k": "c", "text": "DATA", "as": "command", "verb": "DATA"},
              {"t": 0.9, "k": "s", "text": "354 go\r\n", "code": 354, "verb": "DATA"},
              *[{"t": 1.0, "k": "c", "text": "x" * 900, "as": "data"}] * 40,
              {"t": 1.1, "k": "c", "text": ".", "as": "dot"},
              {"t": 1.2, "k": "s", "text": "250 2.0.0 saved\r\n", "code": 250, "verb": "<dot>"},
              {"t": 1.3, "k": "marker", "text": "step"}]
    block = "".join(json.dumps(e) + "\n" for e in events).encode()
    sessions = 0
    with open(path, "wb") as f:
        f.write((json.dumps(header) + "\n").encode())
        while sessions * len(block) < size:
            f.write(block)
            sessions += 1
        f.write(b'{"t": 2, "k": "end", "status": 0}\n')
    return sessions


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    folder = tmp_path_factory.mktemp("big") / "class"
    folder.mkdir()
    path = folder / "huge.jsonl"
    sessions = generate(path, SIZE)
    yield path, sessions
    path.unlink()


def peak_rss(args, home, stdout) -> tuple[subprocess.CompletedProcess, int]:
    with open(stdout, "wb") as out:  # a file, not a pipe: the test process must not hold 200 MB either
        result = subprocess.run([sys.executable, "-c", _WRAPPER, *map(str, args)], stdout=out,
                                stderr=subprocess.PIPE, text=True, timeout=500, env=cli_env(home), cwd=str(home))
    line = next(line for line in result.stderr.splitlines() if line.startswith("PEAK-RSS-KB "))
    return result, int(line.split()[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the peak from /proc/self/status")
@pytest.mark.timeout(600)
@pytest.mark.parametrize("command", ["report", "replay", "text", "md", "html", "svg", "mermaid"])
def test_memory_stays_bounded_on_a_huge_transcript(big, tmp_path, command):
    path, sessions = big
    out = tmp_path / f"out.{command}"
    if command == "report":
        args = ["report", path.parent, "--format", "json", "-o", out]
    elif command == "replay":
        args = ["replay", path, "--no-timing"]
    else:
        args = ["export", path, "--format", command, "-o", out]
    result, peak_kb = peak_rss(args, tmp_path, tmp_path / "stdout")
    assert result.returncode == 0, result.stderr[-2000:]
    assert peak_kb < PEAK_LIMIT_KB, f"{command}: peak RSS {peak_kb // 1024} MB for a {SIZE // 10**6} MB transcript"
    if command == "report":
        row = json.loads(out.read_text())[0]
        assert row["messages_accepted"] == sessions and row["status"] == "complete"
    elif command == "replay":
        with open(tmp_path / "stdout", encoding="utf-8") as shown:
            assert sum(1 for line in shown if "250 2.0.0 saved" in line) == sessions
    elif command in ("text", "md"):
        assert out.stat().st_size > SIZE * 0.8  # every line is there
    elif command in ("html", "svg"):
        assert "more" in out.read_text(encoding="utf-8")[-200_000:]  # the diagram / still says what it left out
