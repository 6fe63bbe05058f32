"""The lesson beside the REPL: the `:hint`, `:skip`, `:restart` and `:lesson` commands, and how a
lesson's intro, current step, feedback and summary are drawn.

Why this exists: the shell must not import `smtp_shell.lessons` (lessons sit above the shell), so
the running lesson is found duck-typed, as `shell.lesson` (or a session listener that
has `lesson_command`), and drawing takes plain values. Everything is printed as rich `Text`:
lesson files and message headers are never interpreted as markup.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, cast

from rich import box
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from smtp_shell.render import plain_visible
from smtp_shell.shell.meta import meta

if TYPE_CHECKING:
    from rich.console import JustifyMethod

MARKS = {"passed": "✓", "failed": "✗", "todo": "·", "skipped": "-"}
_LIST_ITEM = re.compile(r"^\s*(?:[-*]|\d+[.)])\s")


def prose(text: str) -> str:
    """Lesson text for the screen: lines of a paragraph joined (rich wraps them to the terminal),
    blank lines and list items kept, control characters shown as escapes."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        out: list[str] = []
        for line in block.splitlines():
            if out and not _LIST_ITEM.match(line):
                out[-1] += " " + line.strip()
            else:
                out.append(line.rstrip())
        paragraphs.append("\n".join(plain_visible(line) for line in out))
    return "\n\n".join(paragraphs)


def _print(console, renderable) -> None:
    console.print(renderable, soft_wrap=False)


def marks_line(states: list[str], current: int | None = None) -> str:
    """["passed", "failed", "todo"] -> "✓ ✗ ·" with the current step in brackets."""
    out = []
    for i, state in enumerate(states):
        mark = MARKS.get(state, "·")
        out.append(f"[{mark}]" if i == current else mark)
    return " ".join(out)


def _panel(console, title: str, body: Text, style: str) -> None:
    _print(console, Panel(body, title=Text(title), title_align="left", border_style=style, box=box.ROUNDED,
                        expand=False, width=min(console.width, 100)))


def show_intro(console, *, title: str, goal: str, minutes: int, intro: str, steps: int, before: str | None) -> None:
    body = Text(f"Goal: {goal}\nAbout {minutes} minutes, {steps} steps.\n\n", style="bold")
    body.append(prose(intro))
    body.append("\n\nType SMTP yourself; the lesson watches the replies. "
                ":lesson shows the step again, :hint gives a hint, :skip moves on, :restart starts over.",
                style="dim")
    if before:
        body.append("\n" + before, style="yellow")
    _panel(console, f"Lesson: {title}", body, "cyan")


def show_step(console, *, number: int, total: int, title: str, instruction: str, states: list[str]) -> None:
    body = Text(prose(instruction))
    body.append(f"\n\nprogress {marks_line(states, number - 1)}", style="dim")
    _panel(console, f"Step {number}/{total}: {title}", body, "cyan")


def show_pass(console, *, number: int, notice: str) -> None:
    text = Text(f"✓ step {number} done. ", style="bold green")
    if notice:
        text.append(prose(notice))
    _print(console, text)


def show_fail(console, *, number: int, attempt: int, reason: str, explanation: str | None, hints_left: bool) -> None:
    text = Text(f"✗ step {number}, attempt {attempt}: not yet", style="bold red")
    if reason:
        text.append(f" ({plain_visible(reason)})", style="red")
    _print(console, text)
    if explanation:
        _print(console, Text("  " + prose(explanation)))
    if hints_left:
        _print(console, Text("  :hint gives a hint; :skip moves on", style="dim"))


def show_hint(console, *, number: int, index: int, total: int, text: str, last: bool) -> None:
    line = Text(f"hint {index}/{total} for step {number}: ", style="bold yellow")
    line.append(prose(text))
    if last:
        line.append("  (that was the last hint; :skip moves on)", style="dim")
    _print(console, line)


def show_summary(console, *, title: str, rows: list[tuple[str, str, str, int, int]], complete: bool,
                 minutes: float, extra: list[str]) -> None:
    """rows: (number, title, result, failed attempts, hints used)."""
    table = Table(title=Text(f"{title}: " + ("lesson complete" if complete else "lesson not finished")),
                  box=box.SIMPLE, title_justify="left")
    for name, justify in (("#", "right"), ("step", "left"), ("result", "left"), ("failed attempts", "right"),
                          ("hints", "right")):
        table.add_column(name, justify=cast("JustifyMethod", justify))
    for number, step, result, attempts, hints in rows:
        table.add_row(number, Text(step), result, str(attempts), str(hints))
    _print(console, table)
    passed = sum(1 for r in rows if r[2] == "passed")
    _print(console, Text(f"{passed} of {len(rows)} steps passed, {sum(r[3] for r in rows)} failed attempts, "
                       f"{sum(r[4] for r in rows)} hints, {minutes:.1f} minutes."))
    for line in extra:
        _print(console, Text(plain_visible(line)))


# ---- the commands ----------------------------------------------------------------------------------

def current_lesson(shell):
    """The running lesson engine (duck-typed), or a ValueError saying there is none."""
    engine = shell.lesson
    if engine is None:
        engine = next((x for x in shell.driver.listeners if hasattr(x, "lesson_command")), None)
        if engine is not None:
            shell.lesson = engine
    if engine is None:
        raise ValueError("No lesson is running; start one with smtp-shell lesson NAME")
    engine.lesson_command(shell)  # lets the engine know the shell it runs in
    return engine


@meta("predict", ":predict CODE", "say which reply code you expect before you send (a lesson step may ask)",
      ":predict 550")
async def _predict(shell, args: str) -> None:
    current_lesson(shell).predict(args)


@meta("hint", ":hint", "the next hint for the current lesson step", ":hint")
async def _hint(shell, args: str) -> None:
    current_lesson(shell).hint()


@meta("skip", ":skip", "skip the current lesson step (it counts as not done)", ":skip")
async def _skip(shell, args: str) -> None:
    current_lesson(shell).skip()


@meta("lesson", ":lesson", "show the current lesson step again, with the progress", ":lesson")
async def _lesson(shell, args: str) -> None:
    current_lesson(shell).show_step()


@meta("restart", ":restart", "start the lesson over from step 1, on a new connection", ":restart")
async def _restart(shell, args: str) -> None:
    engine = current_lesson(shell)
    engine.restart()
    if await shell.driver.connect():
        await shell.driver.wait_greeting()


RUN_TIMEOUT = 30.0   # seconds a program started by :run may take before it is stopped
RUN_LINES = 200      # lines of its output shown


@meta("run", ":run PROGRAM [ARGS]", "run your own client program against this server (it gets SMTP_HOST, SMTP_PORT "
      "and SMTP_CAFILE); its output is shown, then a lesson reads what the lab saw", ":run python3 my_client.py")
async def _run(shell, args: str) -> None:
    import os
    import shlex
    import sys

    try:
        argv = shlex.split(args)
    except ValueError as exc:
        raise ValueError(f"Cannot read that command line ({exc}); quote it as in a shell.") from None
    if not argv:
        raise ValueError("Give the program to run, e.g. :run python3 my_client.py")
    if argv[0] in ("python", "python3"):
        argv[0] = sys.executable  # the Python that runs smtp-shell, with pytz and tzlocal
    options = shell.driver.options
    env = dict(os.environ, SMTP_HOST=options.host, SMTP_PORT=str(options.port))
    if options.lab_cafile:
        env["SMTP_CAFILE"] = str(options.lab_cafile)
    shell.driver.note(f"running {' '.join(argv)} against {options.target} (SMTP_HOST, SMTP_PORT"
                      f"{', SMTP_CAFILE' if options.lab_cafile else ''} are set) ...")
    if getattr(shell.driver, "blocking", False):  # batch mode's driver: no event loop to wait on
        output, status = _run_blocking(argv, env)
    else:
        output, status = await _run_async(argv, env)
    ended = (f"it exited with status {status}" if status is not None else
             f"it was still running after {RUN_TIMEOUT:.0f} s and was stopped (waiting for a reply that never came?)")
    lines = output.decode("utf-8", "replace").splitlines()
    for line in lines[:RUN_LINES]:
        shell.driver.note("│ " + line)
    if len(lines) > RUN_LINES:
        shell.driver.note(f"│ ... {len(lines) - RUN_LINES} more lines")
    shell.driver.note(ended)
    lesson = shell.lesson or next((x for x in shell.driver.listeners if hasattr(x, "client_ran")), None)
    if lesson is not None:
        lesson.client_ran()


async def _run_async(argv: list[str], env: dict[str, str]) -> tuple[bytes, int | None]:
    """The program's output (stdout and stderr) and exit status; None if stopped after RUN_TIMEOUT."""
    import asyncio

    try:
        proc = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.DEVNULL, env=env,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    except OSError as exc:
        raise ValueError(f"Cannot run {argv[0]} ({exc.strerror or exc}).") from None
    try:
        output, _ = await asyncio.wait_for(proc.communicate(), RUN_TIMEOUT)
        return output, proc.returncode
    except TimeoutError:
        proc.kill()
        output, _ = await proc.communicate()
        return output, None


def _run_blocking(argv: list[str], env: dict[str, str]) -> tuple[bytes, int | None]:
    """The same as _run_async, for the blocking driver."""
    import subprocess

    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=env)
    except OSError as exc:
        raise ValueError(f"Cannot run {argv[0]} ({exc.strerror or exc}).") from None
    try:
        output, _ = proc.communicate(timeout=RUN_TIMEOUT)
        return output, proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
        return output, None
