"""Which steps of each lesson a user passed before: a small JSON file in the data folder.

Why this exists: a student who leaves mid-lesson and comes back starts at the beginning (the
server has forgotten the session) but should be told what they already managed. The file is
rewritten atomically; a missing or damaged file just means "no progress yet".
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

from smtp_shell import paths
from smtp_shell.paths import atomic_write


def default_path() -> Path:
    return paths.data_dir() / "lesson-progress.json"


class Progress:
    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else default_path()

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def passed_before(self, lesson_id: str) -> list[int]:
        entry = self._read().get(lesson_id)
        steps = entry.get("passed") if isinstance(entry, dict) else None
        return sorted({s for s in steps if isinstance(s, int)}) if isinstance(steps, list) else []

    def completed_before(self, lesson_id: str) -> bool:
        entry = self._read().get(lesson_id)
        return isinstance(entry, dict) and entry.get("completed") is True

    def record(self, lesson_id: str, passed: list[int], completed: bool) -> None:
        """Merge this run's passed steps into the file (never loses earlier ones). Never raises."""
        data = self._read()
        found = data.get(lesson_id)
        entry = found if isinstance(found, dict) else {}
        before = set(self.passed_before(lesson_id))
        data[lesson_id] = {
            "passed": sorted(before | set(passed)),
            "completed": bool(completed or entry.get("completed") is True),
            "updated": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        }
        try:
            atomic_write(self.path, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"))
        except OSError:
            pass  # progress is a courtesy: the lesson goes on without it
