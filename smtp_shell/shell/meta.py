"""The shell's own `:commands`: ONE registry drives dispatch, `:help` and completion.

A command is registered with its name, usage, a one-line description and an example. Its
handler is an async function `(shell, args: str) -> None`, where `shell` is the running
`ShellContext` (driver, renderer and, in the REPL, a way to ask the user). Adding a helper is
adding one decorated function here; nothing else needs to know.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Awaitable, Callable

from smtp_shell.protocol.errors import LocalProtocolError


@dataclass(frozen=True)
class MetaCommand:
    name: str
    usage: str
    summary: str
    example: str
    handler: Callable[..., Awaitable[None]]
    interactive_only: bool = False


REGISTRY: dict[str, MetaCommand] = {}


def meta(name: str, usage: str, summary: str, example: str, interactive_only: bool = False):
    def register(fn):
        REGISTRY[name] = MetaCommand(name, usage, summary, example, fn, interactive_only)
        return fn
    return register


def split(line: str) -> tuple[str, str]:
    """`:explain 550` -> ("explain", "550")."""
    body = line[1:].strip()
    name, _, args = body.partition(" ")
    return name.lower(), args.strip()


async def dispatch(shell, line: str) -> None:
    name, args = split(line)
    if not name:
        shell.driver.fail("A lone ':' is not a command.", "Type :help to see the shell's commands.")
        return
    cmd = REGISTRY.get(name)
    if cmd is None:
        close = [n for n in REGISTRY if n.startswith(name[:2])]
        suggestion = f" Did you mean :{close[0]}?" if close else ""
        shell.driver.fail(f"':{name}' is not a shell command.{suggestion}", "Type :help to list them.")
        return
    if cmd.interactive_only and not shell.interactive:
        shell.driver.fail(f":{name} needs someone at the keyboard, so it does nothing in batch mode.")
        return
    try:
        await cmd.handler(shell, args)
    except LocalProtocolError as exc:
        shell.driver.fail(exc.message, exc.hint)
    except ValueError as exc:
        shell.driver.fail(str(exc), f"Usage: {cmd.usage}")


# ---- the commands -------------------------------------------------------------------------

@meta("help", ":help [COMMAND]", "list the shell's commands, or explain one", ":help explain")
async def _help(shell, args: str) -> None:
    from smtp_shell.protocol.commands import VERBS
    r = shell.driver.renderer
    if args:
        cmd = REGISTRY.get(args.lstrip(":").lower())
        if cmd is None:
            raise ValueError(f"':{args}' is not a shell command")
        r.note(f"{cmd.usage}  —  {cmd.summary}   e.g. {cmd.example}")
        return
    r.note("Type SMTP commands exactly as the server should see them; smtp-shell ends each line with CRLF.")
    for verb, (syntax, meaning) in VERBS.items():
        r.note(f"  {syntax:<44} {meaning}")
    r.note("The shell's own commands start with ':'")
    for cmd in REGISTRY.values():
        r.note(f"  {cmd.usage:<24} {cmd.summary}   e.g. {cmd.example}")
    r.note("Keys: Tab completes, Up/Down history, Ctrl-C clears the line, Ctrl-D leaves.")


@meta("quit", ":quit", "send QUIT if connected and leave the shell", ":quit")
async def _quit(shell, args: str) -> None:
    shell.leaving = True
    await shell.driver.quit()


@meta("connect", ":connect HOST[:PORT] [--tls]", "connect to another server", ":connect 127.0.0.1:8025")
async def _connect(shell, args: str) -> None:
    from smtp_shell.cli import parse_hostport
    words = shlex.split(args)
    if not words:
        raise ValueError("Give the server to connect to, e.g. :connect 127.0.0.1:8025")
    tls = "--tls" in words
    words = [w for w in words if w != "--tls"]
    host, port = parse_hostport(words[0], 465 if tls else 25)
    shell.driver.options.implicit_tls = tls
    if await shell.driver.connect(host, port):
        await shell.driver.wait_greeting()


@meta("reconnect", ":reconnect", "close this connection and open a new one to the same server", ":reconnect")
async def _reconnect(shell, args: str) -> None:
    if await shell.driver.connect():
        await shell.driver.wait_greeting()


@meta("explain", ":explain [CODE]", "what a reply code or enhanced code means (default: the last reply)", ":explain 5.7.8")
async def _explain(shell, args: str) -> None:
    from smtp_shell.protocol import catalogue
    from smtp_shell.render import render_explanation
    code = args
    if not code:
        last = shell.driver.core.last_reply
        if last is None:
            raise ValueError("There is no reply to explain yet; give a code, e.g. :explain 550")
        for c in filter(None, (last.enhanced, str(last.code))):
            entry = catalogue.lookup(c)
            if entry:
                render_explanation(shell.driver.renderer.console, entry)
        return
    entry = catalogue.lookup(code)
    if entry is None:
        raise ValueError(f"{code!r} is not a reply code (like 550) or an enhanced status code (like 5.7.8)")
    render_explanation(shell.driver.renderer.console, entry)


@meta("caps", ":caps", "explain what the server advertised in its last EHLO reply", ":caps")
async def _caps(shell, args: str) -> None:
    from smtp_shell.protocol.capabilities import explain_capability
    caps = shell.driver.core.capabilities
    r = shell.driver.renderer
    if caps is None or not caps.keywords:
        raise ValueError("No capabilities known yet: send EHLO first (after STARTTLS, EHLO again)")
    for keyword in caps.keywords:
        params = caps.items[keyword]
        r.note(f"{' '.join((keyword,) + tuple(params)):<28} {explain_capability(keyword, params)}")


@meta("gloss", ":gloss on|off", "show a one-line meaning under every reply", ":gloss on")
async def _gloss(shell, args: str) -> None:
    if args.lower() not in ("on", "off"):
        raise ValueError("Say :gloss on or :gloss off")
    shell.driver.renderer.gloss = args.lower() == "on"
    shell.driver.note(f"glosses {args.lower()}")


@meta("b64", ":b64 TEXT", "base64-encode text (for AUTH LOGIN by hand)", ":b64 student")
async def _b64(shell, args: str) -> None:
    from smtp_shell.protocol.sasl import b64encode_text
    shell.driver.note(f"{args!r} -> {b64encode_text(args)}")


@meta("unb64", ":unb64 BASE64", "decode base64 text (a 334 challenge, say)", ":unb64 VXNlcm5hbWU6")
async def _unb64(shell, args: str) -> None:
    from smtp_shell.protocol.sasl import SaslError, b64decode_text
    try:
        shell.driver.note(f"{args} -> {b64decode_text(args)!r}")
    except SaslError as exc:
        raise ValueError(str(exc)) from None
