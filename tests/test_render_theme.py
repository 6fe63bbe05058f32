"""Screens that read well: the tool's own words wrap at the terminal's width at word boundaries
(continuation lines indented under the text), a light theme for white backgrounds and projectors
(`--theme`, SMTP_SHELL_THEME), no dark blue on black, and a status that says what comes next."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from rich.console import Console

from smtp_shell import render
from smtp_shell.protocol.states import State
from smtp_shell.shell.repl import pt_style


@pytest.fixture(autouse=True)
def dark_again():
    yield
    render.use_theme("dark")


def test_notes_wrap_at_word_boundaries_on_a_terminal():
    out = io.StringIO()
    console = Console(file=out, width=50, force_terminal=True, no_color=True, markup=False, highlight=False)
    render.Renderer(console).note("The server did not advertise AUTH, but it offers STARTTLS, and many servers "
                                  "list AUTH only under TLS.")
    lines = out.getvalue().splitlines()
    assert len(lines) > 1 and all(len(line) <= 50 for line in lines)
    assert lines[0].startswith("=== The server") and all(line.startswith("    ") for line in lines[1:])
    words = " ".join(line.removeprefix("===").strip() for line in lines).split()
    assert " ".join(words) == ("The server did not advertise AUTH, but it offers STARTTLS, and many servers "
                               "list AUTH only under TLS.")


def test_plain_output_is_never_wrapped():
    out = io.StringIO()
    render.Renderer(render.make_console(no_color=True, file=out, width=40)).note("x " * 60)
    assert len(out.getvalue().splitlines()) == 1


def test_client_lines_are_never_dark_blue_on_a_dark_background_and_the_light_theme_has_no_yellow():
    render.use_theme("dark")
    assert render.PALETTE["client"][0] != "blue"
    render.use_theme("light")
    assert all("yellow" not in colour or "on yellow" in colour for colour, _ in render.PALETTE.values())
    assert render.PALETTE["note"][0] != "bright_black"
    pt_style()  # prompt_toolkit accepts every colour of the theme


def test_the_theme_comes_from_the_environment_and_a_wrong_one_is_one_sentence(monkeypatch):
    monkeypatch.setenv("SMTP_SHELL_THEME", "light")
    render.use_theme(None)
    assert render.THEMES["light"] == render.PALETTE
    done = subprocess.run([sys.executable, "-m", "smtp_shell", "explain", "550"], capture_output=True, text=True,
                          env=dict(os.environ, SMTP_SHELL_THEME="neon"), timeout=30)
    assert done.returncode == 2 and done.stderr.strip() == "smtp-shell: unknown theme 'neon'; the themes are dark, light"


def test_the_status_says_what_comes_next():
    assert State.GREETED.status == "greeted by the server — say EHLO next"
    assert State.READY.status == "EHLO done — MAIL FROM next"
