"""What a release carries: the licence the metadata names, an sdist the test suite runs from,
and the example transcripts installed with the wheel (instructors get them with pip install)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_license_file_matches_the_metadata():
    project = _project()["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


def test_the_sdist_carries_what_the_suite_needs():
    manifest = (ROOT / "MANIFEST.in").read_text(encoding="utf-8").split()
    for folder in ("tests", "docs", "transcripts"):
        assert folder in manifest, f"MANIFEST.in does not graft {folder}/"


def test_every_shipped_transcript_is_installed_with_the_wheel():
    data_files = _project()["tool"]["setuptools"]["data-files"]
    patterns = data_files["share/smtp-shell/transcripts"]
    shipped = sorted(p.relative_to(ROOT) for p in (ROOT / "transcripts").glob("*.jsonl"))
    assert shipped, "no example transcripts in transcripts/"
    assert all(any(path.match(pattern) for pattern in patterns) for path in shipped)
