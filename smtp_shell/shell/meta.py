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
    """One `:command`: its name, usage, one-line summary, example and handler."""

    name: str
    usage: str
    summary: str
    example: str
    handler: Callable[..., Awaitable[None]]
    interactive_only: bool = False
    command_only: bool = False  # only at the smtp> prompt (see smtp_shell.shell.modes for every mode's rule)


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


def meta(name: str, usage: str, summary: str, example: str, interactive_only: bool = False,
         command_only: bool = False, **_ignored):
    def register(fn):
        REGISTRY[name] = MetaCommand(name, usage, summary, example, fn, interactive_only, command_only)
        return fn
    return register


def route(line: str, mode: str):
    """What to do with `line` in input mode `mode` (one rule per mode, in smtp_shell.shell.modes)."""
    from smtp_shell.shell.modes import route as _route
    return _route(line, mode, registry() if line.startswith(":") else {})


def handles(line: str, mode: str) -> bool:
    """Is `line` a shell command (to run, or to refuse in words) in this mode?"""
    return route(line, mode).action != "send"


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

@meta("help", ":help [COMMAND]", "list the shell's commands, or explain one", ":help explain")
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


@meta("quit", ":quit", "send QUIT if connected and leave the shell", ":quit")
async def _quit(shell, args: str) -> None:
    driver = shell.driver
    if driver.connected and driver.core.mode in ("data", "bdat"):
        # Nothing that abandons a message is silent: ask at the keyboard, say so in batch mode.
        if shell.interactive and shell.ask is not None:
            answer = await shell.ask("The message is not finished; leaving abandons it (it is NOT sent). "
                                     "Leave anyway? [y/N] ", False)
            if not answer or answer.strip().lower() not in ("y", "yes"):
                driver.note("still in the message; go on typing it (a line with only '.' sends it)")
                return
            driver.note("message abandoned, not sent")
        else:
            from smtp_shell.status import ExitStatus
            driver.fail("message abandoned, not sent: :quit came before the line with only '.' "
                        "(to put the text :quit in a message, write ::quit).")
            driver.record_failure(ExitStatus.ABANDONED)
    shell.leaving = True
    await driver.quit()


@meta("advice", ":advice [on|off] [RULE]", "turn the advisor's warnings off or on, all or one rule (no argument: say which)",
      ":advice off missing-date")
async def _advice(shell, args: str) -> None:
    driver, words = shell.driver, args.split()
    if (words and words[0].lower() not in ("on", "off")) or len(words) > 2 or (not words and args):
        raise ValueError("Say :advice off, :advice on, or :advice off RULE (each warning names its rule)")
    if len(words) == 2 and words[1].lower() not in driver.advice_seen:
        driver.note(f"no warning named {words[1]!r} has been shown yet (each warning ends with its name in brackets)")
    if words:
        target = words[1].lower() if len(words) == 2 else "*"
        if words[0].lower() == "off":
            driver.advice_off.add(target)
        elif target == "*":
            driver.advice_off.clear()
        else:
            driver.advice_off.discard(target)
    if "*" in driver.advice_off:
        driver.note("the advisor is off: lines are sent without warnings (:advice on turns it back on)")
    elif driver.advice_off:
        driver.note("the advisor is on, except: " + ", ".join(sorted(driver.advice_off)))
    else:
        driver.note("the advisor is on: it warns before a line that looks like a mistake (:advice off silences it)")


@meta("connect", ":connect HOST[:PORT] [--tls]", "connect to another server", ":connect 127.0.0.1:8025")
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


@meta("reconnect", ":reconnect", "close this connection and open a new one to the same server", ":reconnect")
async def _reconnect(shell, args: str) -> None:
    if await shell.driver.connect():
        await shell.driver.wait_greeting()


@meta("pipeline", ":pipeline", "type several commands, then send them in one write (PIPELINING)",
      ":pipeline  then MAIL FROM:<a@lab.test> / RCPT TO:<b@lab.test> / DATA / empty line", interactive_only=True, command_only=True)
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
        route_ = route(line, "pipeline")
        if route_.action == "run":  # :help, :caps ... run now; they are not part of the group
            await dispatch(shell, route_.text)
            if shell.leaving:
                return
            continue
        if route_.action == "refuse":
            driver.fail(route_.note)
            continue
        lines.append(line)
    await driver.send_group(lines)
