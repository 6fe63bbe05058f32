"""Make docs/screenshots/repl-dark.png and repl-light.png: the real REPL against its own lab,
driven in tmux, captured with its colours and rendered to PNG by headless Chromium.

Why this exists: the README shows what the shell looks like on a dark and on a light terminal;
the pictures are made from the program itself, so they can be made again after any change:

    python docs/screenshots/make.py   (needs tmux, /usr/bin/chromium and a font with the control
                                        pictures ␍␊, e.g. Debian's fonts-symbola)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.terminal_theme import MONOKAI, TerminalTheme
from rich.text import Text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LIGHT = TerminalTheme((255, 255, 255), (30, 30, 30), [
    (0, 0, 0), (194, 54, 33), (37, 138, 50), (173, 123, 0), (0, 60, 190), (160, 40, 160), (0, 130, 140),
    (200, 200, 200)], [
    (100, 100, 100), (230, 60, 50), (40, 160, 60), (200, 150, 0), (30, 90, 230), (190, 60, 190), (0, 160, 170),
    (255, 255, 255)])
# (what to type, what the screen shows once it is done)
TYPED = [("EHLO student.example", "250 HELP"), ("STARTTLS", "TLS is on"), ("EHLO student.example", "AUTH appeared"),
         (":wire on", "wire view is"), ("MAIL FROM:<student@lab.test>", "Sender OK"), ("NOOOP", "not recognized")]
COLUMNS, ROWS = 118, 46


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def wait_for(session: str, needle: str, timeout: float = 20) -> None:
    deadline, answered = time.monotonic() + timeout, False
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-t", session)
        if needle in screen:
            return
        if not answered and "Press Enter to send it anyway" in screen:
            tmux("send-keys", "-t", session, "Enter")  # the advisor's question: send it as typed
            answered = True
        time.sleep(0.1)
    raise SystemExit(f"the shell never showed {needle!r}")


def capture(theme: str, home: Path) -> str:
    session = f"shot-{theme}-{os.getpid()}"
    env = f"SMTP_SHELL_HOME={home} SMTP_SHELL_THEME={theme} PYTHONPATH={ROOT} TERM=xterm-256color"
    tmux("new-session", "-d", "-s", session, "-x", str(COLUMNS), "-y", str(ROWS),
         f"env {env} {sys.executable} -m smtp_shell")
    try:
        wait_for(session, "smtp>")
        for line, shown in TYPED:
            tmux("send-keys", "-t", session, line, "Enter")
            wait_for(session, shown)
        return tmux("capture-pane", "-p", "-e", "-t", session)
    finally:
        tmux("kill-session", "-t", session)


def to_png(ansi: str, theme: TerminalTheme, out: Path, work: Path) -> None:
    with open(os.devnull, "w") as sink:
        console = Console(record=True, width=COLUMNS, force_terminal=True, color_system="256", file=sink)
        console.print(Text.from_ansi(ansi.rstrip("\n")), soft_wrap=True)
    page = work / f"{out.stem}.html"
    page.write_text(console.export_html(theme=theme, inline_styles=True), encoding="utf-8")
    subprocess.run(["/usr/bin/chromium", "--headless", "--no-sandbox", "--hide-scrollbars", f"--screenshot={out}",
                    f"--window-size={COLUMNS * 8 + 60},{ROWS * 20 + 60}", page.as_uri()],
                   check=True, capture_output=True, timeout=60)


def main() -> int:
    if not shutil.which("tmux"):
        raise SystemExit("needs tmux")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for theme, terminal in (("dark", MONOKAI), ("light", LIGHT)):
            ansi = capture(theme, work / f"home-{theme}")
            to_png(ansi, terminal, HERE / f"repl-{theme}.png", work)
            print(f"wrote {HERE / f'repl-{theme}.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
