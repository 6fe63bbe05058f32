"""Read lesson files: TOML in, a validated `Lesson` out, or one `LessonError` sentence that names
the file, the step and the problem. Also finds the bundled lessons and an instructor's folder.

Why this exists: instructors write their own lessons, and a typo in one must be reported where
it is ("lesson.toml: step 3: the check kind 'replyy' is unknown ..."), never as a traceback in
front of a class.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import unicodedata
from pathlib import Path

from smtp_shell.lessons.checks import CheckError, parse_check
from smtp_shell.lessons.model import LabSettings, Lesson, LessonError, Step

DATA_DIR = Path(__file__).parent / "data"
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_ORDER = re.compile(r"^(\d{1,3})-(.+)$")
_EXPLAIN_KEY = re.compile(r"^(([A-Z]+|<dot>|<auth>|<greeting>) )?([2-5]\d\d|[2-5]xx)$|^other$")

LESSON_KEYS = {"id", "title", "goal", "minutes", "intro", "lab", "steps"}
STEP_KEYS = {"title", "instruction", "check", "hints", "explain", "notice", "golden", "wrong", "predict"}
LAB_KEYS = {"users", "allow_plain_auth", "faults", "max_message_size"}


class _Problem(Exception):
    """A problem inside the file; the loader adds the file name."""


def _text(data: dict, key: str, where: str, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        if value is None:
            raise _Problem(f"{where}has no {key}; add {key} = \"...\"")
        raise _Problem(f"{where}{key} must be non-empty text, not {value!r}")
    return value.strip()


def _lines(data: dict, key: str, where: str, required: bool = False) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Problem(f"{where}{key} must be a list of text, like [\"...\", \"...\"], not {value!r}")
    if required and not any(v.strip() for v in value):
        raise _Problem(f"{where}needs at least one entry in {key}")
    return tuple(value)


def _unknown(data: dict, allowed: set[str], where: str) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise _Problem(f"{where}{extra[0]!r} is not a known key (known: {', '.join(sorted(allowed))})")


def _step(number: int, data) -> Step:
    where = f"step {number}: "
    if not isinstance(data, dict):
        raise _Problem(f"{where}must be a table ([[steps]] with instruction, check and hints)")
    _unknown(data, STEP_KEYS, where)
    instruction = _text(data, "instruction", where)
    if "check" not in data:
        raise _Problem(f"{where}has no check; add check = {{ kind = \"reply\", verb = \"EHLO\", class = 2 }}")
    try:
        check = parse_check(data["check"])
    except CheckError as exc:
        raise _Problem(f"{where}{exc}") from None
    explain = data.get("explain", {})
    if not isinstance(explain, dict):
        raise _Problem(f"{where}explain must be a table of reply codes, like {{ \"550\" = \"...\" }}")
    for key, value in explain.items():
        if not _EXPLAIN_KEY.match(key):
            raise _Problem(f"{where}explain key {key!r} must be a reply code (\"550\"), a class (\"5xx\"), either "
                           f"after a verb (\"DATA 503\"), or \"other\"")
        if not isinstance(value, str) or not value.strip():
            raise _Problem(f"{where}explain {key!r} must be non-empty text")
    title = _text(data, "title", where, required=False) or instruction.split(".")[0][:60]
    return Step(number=number, title=" ".join(title.split()), instruction=instruction, check=check,
                hints=_lines(data, "hints", where, required=True), explain=dict(explain),
                notice=_text(data, "notice", where, required=False),
                golden=_lines(data, "golden", where), wrong=_lines(data, "wrong", where),
                predict=_predict(data, where))


def _predict(data: dict, where: str) -> bool:
    value = data.get("predict", False)
    if not isinstance(value, bool):
        raise _Problem(f"{where}predict must be true or false (ask for a prediction of the reply code), not {value!r}")
    return value


def _lab(data) -> LabSettings:
    if data is None:
        return LabSettings()
    if not isinstance(data, dict):
        raise _Problem("lab must be a table ([lab] with users, allow_plain_auth, faults, max_message_size)")
    _unknown(data, LAB_KEYS, "lab: ")
    users = data.get("users", {})
    if not isinstance(users, dict) or not all(isinstance(k, str) and k and not any(c.isspace() for c in k)
                                              and isinstance(v, str) and v for k, v in users.items()):
        raise _Problem("lab: users must be a table of name = \"password\", like { student = \"lab-password\" }")
    plain = data.get("allow_plain_auth", False)
    if not isinstance(plain, bool):
        raise _Problem(f"lab: allow_plain_auth must be true or false, not {plain!r}")
    size = data.get("max_message_size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or not 100 <= size <= 100 * 2**20):
        raise _Problem(f"lab: max_message_size must be a number of bytes from 100 to 104857600, not {size!r}")
    faults = data.get("faults", {})
    if not isinstance(faults, dict):
        raise _Problem("lab: faults must be a table, see docs/lab.md")
    from smtp_shell.lab.faults import Faults, FaultsError

    try:
        Faults.from_mapping(faults)
    except (FaultsError, TypeError, ValueError, AttributeError) as exc:
        raise _Problem(f"lab: faults: {exc}") from None
    return LabSettings(users=dict(users), allow_plain_auth=plain, faults=dict(faults), max_message_size=size)


_UNSAFE = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def _plain_text_only(value, where: str = "") -> None:
    """Refuse control and format characters (ESC, C1, bidi overrides, zero-width) anywhere in the
    file: a lesson is shown on an instructor's terminal, and such a character could rewrite it."""
    if isinstance(value, dict):
        for key, item in value.items():
            _plain_text_only(key, where)
            _plain_text_only(item, f"{where}{key}: ")
    elif isinstance(value, list):
        for item in value:
            _plain_text_only(item, where)
    elif isinstance(value, str) and not value.isprintable():
        for ch in value:
            if ch not in "\n\t" and unicodedata.category(ch) in _UNSAFE:
                raise _Problem(f"{where}holds the control character U+{ord(ch):04X}; a lesson is plain text, "
                               "so remove it")


def _lesson(data: dict, stem: str) -> Lesson:
    _plain_text_only(data)
    _unknown(data, LESSON_KEYS, "")
    m = _ORDER.match(stem)
    order, default_id = (int(m.group(1)), m.group(2)) if m else (999, stem)
    ident = data.get("id", default_id)
    if not isinstance(ident, str) or not _ID.match(ident):
        raise _Problem(f"id must be lower-case letters, digits, '-' or '_' (like \"first-contact\"), not {ident!r}")
    minutes = data.get("minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 600:
        raise _Problem(f"minutes must be a whole number from 1 to 600 (the estimated time), not {minutes!r}")
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        raise _Problem("has no steps; add at least one [[steps]] table")
    return Lesson(id=ident, title=_text(data, "title", ""), goal=_text(data, "goal", ""), minutes=minutes,
                  intro=_text(data, "intro", ""), steps=tuple(_step(i, s) for i, s in enumerate(steps, 1)),
                  lab=_lab(data.get("lab")), order=order)


def parse_lesson(text: str, name: str = "<lesson>") -> Lesson:
    """A lesson from TOML text; `name` is the file name used in messages and for the default id."""
    where = name
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LessonError(f"{where}: not valid TOML ({exc}); fix the syntax, see docs/lessons.md") from None
    except (ValueError, TypeError, RecursionError) as exc:
        raise LessonError(f"{where}: cannot be read as TOML ({exc.__class__.__name__})") from None
    try:
        return _lesson(data, Path(name).stem)
    except _Problem as exc:
        raise LessonError(f"{where}: {exc}") from None
    except RecursionError:
        raise LessonError(f"{where}: the checks are nested too deeply") from None


def load_lesson(path: Path) -> Lesson:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LessonError(f"{path}: no such lesson file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LessonError(f"{path}: cannot be read ({exc.__class__.__name__}); save it as UTF-8 text") from None
    lesson = parse_lesson(text, str(path))
    return dataclasses.replace(lesson, path=path)


def bundled_files() -> list[Path]:
    return sorted(DATA_DIR.glob("*.toml"))


def discover(lessons_dir: Path | None = None) -> tuple[list[Lesson], list[LessonError]]:
    """Bundled lessons, then those in `lessons_dir`, each list in file order; plus the broken files."""
    files = bundled_files()
    if lessons_dir is not None:
        if not Path(lessons_dir).is_dir():
            return [], [LessonError(f"{lessons_dir}: not a folder; give --lessons-dir the folder with the .toml files")]
        files += sorted(Path(lessons_dir).glob("*.toml"))
    lessons, errors = [], []
    for path in files:
        try:
            lessons.append(load_lesson(path))
        except LessonError as exc:
            errors.append(exc)
    return lessons, errors


def resolve(name: str, lessons: list[Lesson]) -> Lesson | None:
    """A lesson by id, file stem, number ("2") or unique id prefix; the last one wins on a tie
    of ids (an instructor's folder overrides a bundled lesson)."""
    key = name.strip().lower()
    for lesson in reversed(lessons):
        if key in (lesson.id, lesson.path.stem if lesson.path else None):
            return lesson
    if key.isdigit():
        for lesson in lessons:
            if lesson.order == int(key):
                return lesson
    matches = [lesson for lesson in lessons if lesson.id.startswith(key)]
    return matches[0] if len(matches) == 1 else None
