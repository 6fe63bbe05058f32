"""Batch mode on a pipe draws with `PlainConsole` (no rich import): the screen bytes must be
exactly those a rich no-colour console prints there, for every kind of line, hostile text
(escapes, TABs, bidi, bytes that were not UTF-8), multi-line replies, notes, errors with hints
and `:wire on`; and a plain batch session must not import rich at all unless a line needs it."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtp_shell import render
from smtp_shell.cli import main
from smtp_shell.environment import Environment
from smtp_shell.protocol.replies import Reply
from tests.robustness.hostile import HostileServer
from tests.shell.helpers import env as child_env

pytestmark = pytest.mark.timeout(60)


def rich_reference(file) -> object:
    """A rich no-colour console on a non-terminal that prints EVERY line through rich itself
    (recording turns the Renderer's plain fast path off; the width keeps notes unwrapped, as on
    a pipe)."""
    console = render.make_console(no_color=True, file=file, width=100_000)
    console.record = True
    return console


def draw_all(gloss: bool, draw) -> list[str]:
    """`draw(renderer)` on the plain console, rich's own fast path and rich printing everything."""
    outs = []
    for make in (lambda f: render.plain_console(file=f), lambda f: render.make_console(no_color=True, file=f),
                 rich_reference):
        buf = io.StringIO()
        draw(render.Renderer(make(buf), gloss=gloss))
        outs.append(buf.getvalue())
    return outs


HOSTILE = st.lists(st.sampled_from(["a", "Z", " ", "\t", "\r", "\n", "\x1b", "\x07", "\x08", "\x0c", "\x00", "\x7f",
                                    "\u202e", "\u200b", "\u00a0", "\udcff", "é", "日", "😀", "[red]", "\\", ":"]),
                   max_size=20).map("".join)


@settings(max_examples=150, deadline=None)
@given(text=HOSTILE, note=st.one_of(st.none(), HOSTILE), tls=st.booleans())
def test_client_lines_match_rich(text, note, tls):
    plain, fast, ref = draw_all(False, lambda r: r.client(text, tls=tls, note=note))
    assert plain == fast == ref


@settings(max_examples=150, deadline=None)
@given(code=st.sampled_from([220, 250, 334, 354, 421, 550, 999]), lines=st.lists(HOSTILE, min_size=1, max_size=4),
       enhanced=st.booleans(), challenge=st.one_of(st.none(), HOSTILE), notes=st.lists(HOSTILE, max_size=2),
       tls=st.booleans(), gloss=st.booleans())
def test_replies_match_rich(code, lines, enhanced, challenge, notes, tls, gloss):
    if enhanced:
        lines = [f"{code // 100}.1.0 {lines[0]}", *lines[1:]]
    reply = Reply(code, tuple(lines), notes=tuple(notes))
    plain, fast, ref = draw_all(gloss, lambda r: r.reply(reply, tls=tls, challenge=challenge))
    assert plain == fast == ref


@settings(max_examples=150, deadline=None)
@given(text=HOSTILE, hint=st.one_of(st.none(), HOSTILE), notes=st.lists(HOSTILE, max_size=2),
       direction=st.sampled_from([">", "<"]), tls=st.booleans(), data=st.binary(max_size=40))
def test_notes_errors_wire_and_raw_bytes_match_rich(text, hint, notes, direction, tls, data):
    def draw(r):
        r.note(text)
        r.warning(text)
        r.error(text, hint)
        r.wire(direction, text, notes, tls=tls)
        r.raw_server(data, text)
    plain, fast, ref = draw_all(False, draw)
    assert plain == fast == ref


def test_a_tab_line_is_expanded_by_rich_as_before():
    plain, fast, ref = draw_all(False, lambda r: r.reply(Reply(250, ("2.0.0 a\tb", "x\ty"))))
    assert plain == fast == ref == "<-  250-2.0.0 a b\n<-  250 x       y\n"


def test_the_plain_console_hands_everything_else_to_rich():
    buf = io.StringIO()
    console = render.plain_console(file=buf)
    assert not console.is_terminal and console.file is buf
    console.print("hello")  # rich's own print, made on first use
    assert buf.getvalue() == "hello\n" and console.width == render.make_console(file=io.StringIO()).width
    console.width = 33  # a setting goes to the rich console, and reads back from it
    assert console.width == 33 == console.rich_console().width


def test_batch_console_is_plain_only_where_rich_would_be_plain(monkeypatch):
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    assert isinstance(render.batch_console(), render.PlainConsole)
    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    assert not isinstance(render.batch_console(), render.PlainConsole)
    monkeypatch.delenv("TTY_COMPATIBLE")
    monkeypatch.setenv("FORCE_COLOR", "1")
    console = render.batch_console()
    assert not isinstance(console, render.PlainConsole) and console.is_terminal


# ---- a whole batch session: the screen is the same with either console --------------------------

def _hostile(tabs: bool):
    """A server whose replies carry escapes, bidi overrides, bytes that are not UTF-8, a bare LF,
    multi-line replies, an error, and (with `tabs`) TABs."""
    async def script(peer):
        await peer.send("220-hostile.test \x1b[31mred\x1b[0m ESMTP\r\n" + ("220-tab\there\r\n" if tabs else "")
                        + "220 \u202eevil")
        await peer.smtp({
            "EHLO": "250-hostile.test greets you\r\n250-SIZE 1000000\r\n250 8BITMIME",
            "NOOP": b"250 ok\nbare LF\r\n",
            "VRFY": b"550-5.1.1 no such\x07 user\r\n550 5.1.1 \xff\xfe gone\r\n",
            "EXPN": "252 2.1.5 Cannot\tEXPN" if tabs else "252 2.1.5 Cannot EXPN",
        }, greeting=None)
    return script


SESSION = ("EHLO me\nNOOP\nVRFY a\tb\nEXPN x\n:wire on\nMAIL FROM:<a@lab.test>\nRCPT TO:<\x1b[2Jb@lab.test>\n"
           "DATA\nSubject: x\n\n\tbody with a tab\n.\nBOGUS\n:explain 550\n:wire off\nQUIT\n")


def _session(target: str) -> str:
    env = Environment(stdin=io.StringIO(SESSION), stdout=io.StringIO(), stderr=io.StringIO(), environ={})
    main(["connect", target, "--timeout", "5", "--keep-going"], env)
    return env.stdout.getvalue()


def test_a_batch_session_prints_the_same_bytes_with_the_plain_and_the_rich_console(monkeypatch):
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    with HostileServer(_hostile(tabs=True)) as server:
        plain = _session(server.target)
        real_make_console = render.make_console
        made = []

        def reference(no_color=False, file=None, **kwargs):  # what batch mode would otherwise print with
            console = real_make_console(no_color, file=file, width=100_000, **kwargs)
            console.record = True  # every line printed by rich itself
            made.append(console)
            return console
        monkeypatch.setenv("TTY_COMPATIBLE", "0")  # batch_console: use make_console, not the plain one
        monkeypatch.setattr(render, "make_console", reference)
        ref = _session(server.target)
    assert made, "the reference session did not use a rich console"
    assert plain == ref
    for seen in ("<-  220-hostile.test \\x1b[31mred", "\\u202eevil", "tab     here", "=== server: line ended with a bare LF",
                 "<** 550-5.1.1 no such\\x07 user", "\\xff\\xfe gone", " -> VRFY a      b", "Cannot    EXPN",
                 " => MAIL FROM:<a@lab.test>␍␊", " -> RCPT TO:<\\x1b[2Jb@lab.test>", " ->     body with a tab", " => ␉body with a tab␍␊",
                 "*** The server sent a line that is not an SMTP reply", "\n    This happens when",
                 "=== hint: ", "=== warning: BOGUS", "550  ", "<-  250 2.0.0 Queued", "<-  221 2.0.0 Bye"):
        assert seen in plain, (seen, plain)


def test_batch_mode_on_a_pipe_does_not_import_rich(tmp_path):
    probe = ("import runpy, sys\n"
             "sys.argv = ['smtp-shell'] + sys.argv[1:]\n"
             "try:\n    runpy.run_module('smtp_shell', run_name='__main__')\n"
             "finally:\n    print('RICH' if any(m == 'rich' or m.startswith('rich.') for m in sys.modules) else 'NO-RICH',"
             " file=sys.stderr)\n")

    def run(script: str, tabs: bool) -> str:
        with HostileServer(_hostile(tabs)) as server:
            env = child_env(tmp_path)
            for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
                env.pop(name, None)
            result = subprocess.run([sys.executable, "-c", probe, "connect", server.target, "--batch", "--timeout", "5"],
                                    input=script, capture_output=True, text=True, timeout=30, env=env)
        assert "Traceback" not in result.stderr, result.stderr
        return result.stderr.strip().splitlines()[-1]

    plain_session = "EHLO me\nNOOP\nVRFY x\nEXPN x\nMAIL FROM:<\x1b@x>\nRCPT TO:<b@x>\nDATA\nSubject: x\n\nhi\n.\nBOGUS\nQUIT\n"
    assert run(plain_session, tabs=False) == "NO-RICH"
    assert run("EHLO me\nQUIT\n", tabs=True) == "RICH"  # a TAB line: rich expands it, as before
