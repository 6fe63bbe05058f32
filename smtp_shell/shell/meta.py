"""The shell's own `:commands`: ONE registry drives dispatch, `:help` and completion.

A command is registered with its name, usage, a one-line description and an example. Its
handler is an async function `(shell, args: str) -> None`, where `shell` is the running
`ShellContext` (driver, renderer and, in the REPL, a way to ask the user). Adding a helper is
adding one decorated function here; nothing else needs to know.
"""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from smtp_shell.protocol.errors import LocalProtocolError


@dataclass(frozen=True)
class MetaCommand:
    name: str
    usage: str
    summary: str
    example: str
    handler: Callable[..., Awaitable[None]]
    interactive_only: bool = False
    in_data: bool = False  # also a shell command in DATA mode (otherwise ':' lines there are message text)
    anytime: bool = False  # a shell command in every mode, DATA and AUTH included (:help, :quit, :reconnect)


REGISTRY: dict[str, MetaCommand] = {}

# Modules that register more commands: imported on first use of the registry, so a batch
# session that never types a ':' line does not pay for them at start-up.
_PLUGINS = ("smtp_shell.shell.teaching", "smtp_shell.shell.recording", "smtp_shell.shell.lessonui")
_plugins_loaded = False


def registry() -> dict[str, MetaCommand]:
    """Every registered command (loading the modules that register the rest, once)."""
    global _plugins_loaded
    if not _plugins_loaded:
        _plugins_loaded = True
        import importlib

        for module in _PLUGINS:
            importlib.import_module(module)
    return REGISTRY


def meta(name: str, usage: str, summary: str, example: str, interactive_only: bool = False, in_data: bool = False,
         anytime: bool = False):
    def register(fn):
        REGISTRY[name] = MetaCommand(name, usage, summary, example, fn, interactive_only, in_data, anytime)
        return fn
    return register


def handles(line: str, mode: str) -> bool:
    """Is `line` a shell command in this mode? In command mode every ':' line is. In DATA and
    AUTH modes only the commands registered for them (a message line may well start with ':',
    and an AUTH line is a secret that must reach the server untouched)."""
    if not line.startswith(":"):
        return False
    if mode == "command":
        return True
    cmd = registry().get(split(line)[0])
    if cmd is None:
        return False
    return cmd.anytime or (mode == "data" and cmd.in_data)


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
    cmd = registry().get(name)
    if cmd is None:
        close = [n for n in registry() if n.startswith(name[:2])]
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

@meta("help", ":help [COMMAND]", "list the shell's commands, or explain one", ":help explain", anytime=True)
async def _help(shell, args: str) -> None:
    from smtp_shell.protocol.commands import VERBS
    r = shell.driver.renderer
    if args:
        cmd = registry().get(args.lstrip(":").lower())
        if cmd is None:
            raise ValueError(f"':{args}' is not a shell command")
        r.note(f"{cmd.usage}  —  {cmd.summary}   e.g. {cmd.example}")
        return
    r.note("Type SMTP commands exactly as the server should see them; smtp-shell ends each line with CRLF.")
    for syntax, meaning in VERBS.values():
        r.note(f"  {syntax:<44} {meaning}")
    r.note("The shell's own commands start with ':'")
    for cmd in registry().values():
        r.note(f"  {cmd.usage:<24} {cmd.summary}   e.g. {cmd.example}")
    r.note("Keys: Tab completes, Up/Down history, Ctrl-C clears the line, Ctrl-D leaves.")


@meta("quit", ":quit", "send QUIT if connected and leave the shell", ":quit", anytime=True)
async def _quit(shell, args: str) -> None:
    shell.leaving = True
    await shell.driver.quit()


@meta("connect", ":connect HOST[:PORT] [--tls]", "connect to another server", ":connect 127.0.0.1:8025", anytime=True)
async def _connect(shell, args: str) -> None:
    from smtp_shell.address import parse_hostport
    words = shlex.split(args)
    if not words:
        raise ValueError("Give the server to connect to, e.g. :connect 127.0.0.1:8025")
    tls = "--tls" in words
    words = [w for w in words if w != "--tls"]
    host, port = parse_hostport(words[0], 465 if tls else 25)
    shell.driver.options.implicit_tls = tls
    if await shell.driver.connect(host, port):
        await shell.driver.wait_greeting()


@meta("reconnect", ":reconnect", "close this connection and open a new one to the same server", ":reconnect", anytime=True)
async def _reconnect(shell, args: str) -> None:
    if await shell.driver.connect():
        await shell.driver.wait_greeting()


@meta("pipeline", ":pipeline", "type several commands, then send them in one write (PIPELINING)",
      ":pipeline  then MAIL FROM:<a@lab.test> / RCPT TO:<b@lab.test> / DATA / empty line", interactive_only=True)
async def _pipeline(shell, args: str) -> None:
    driver = shell.driver
    caps = driver.core.capabilities
    if caps is None or not caps.has("PIPELINING"):
        driver.warn("the server has not advertised PIPELINING (send EHLO first); it may reject or mix up the replies")
    driver.note("type one command per line; an empty line sends them all at once (Ctrl-C cancels)")
    lines = []
    while True:
        line = await shell.ask("pipe> ", False)
        if line is None:
            driver.note("pipeline cancelled; nothing was sent")
            return
        if not line.strip():
            break
        lines.append(line)
    await driver.send_group(lines)
