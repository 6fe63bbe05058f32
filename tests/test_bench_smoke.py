"""The benchmark runner, as a smoke test: every row at tiny sizes, one repetition, no target
judged, so the benchmarks never rot. Bounded well under a minute; talks only to 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(90)
def test_bench_runner_quick(tmp_path):
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--json", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=80)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["quick"] is True
    rows = results["rows"]
    names = " ".join(r["name"] for r in rows)
    for expected in ("batch session", "typed body", "first prompt", "NOOP", "DATA", "memory", "lab server", "replay", "export"):
        assert expected in names
    for row in rows:
        assert not row["note"].startswith("FAILED"), row
        if not row["note"].startswith("SKIPPED"):
            assert isinstance(row["ratio"], (int, float)), row  # tiny sizes: a figure, not a meaningful one
    assert "| benchmark |" in proc.stdout  # the one results table
