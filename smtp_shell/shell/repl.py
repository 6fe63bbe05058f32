"""The interactive REPL: prompt_toolkit's `prompt_async` under `patch_stdout`, so replies
that arrive while the student types print above the prompt at once.

Modes follow the protocol core: `smtp>` for commands, `data>` after 354 (each line sent as
typed, `.` alone ends), `auth>` during AUTH, and masked `password>` when the server's 334
challenge asks for a password. Ctrl-C clears the line (in DATA mode it offers to abort the
message), Ctrl-D or :quit leaves (QUIT first if connected). No error ends the loop.
"""

from __future__ import annotations

import asyncio
import signal

from prompt_toolkit import PromptSession
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.history import DummyHistory, FileHistory, History, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.patch_stdout import patch_stdout
from prompt_toolkit.styles import Style

from smtp_shell import paths
from smtp_shell.protocol.sasl import mask_auth_command
from smtp_shell.render import PALETTE, Renderer, make_console
from smtp_shell.shell import meta
from smtp_shell.shell.completion import SmtpCompleter
from smtp_shell.shell.context import ShellContext
from smtp_shell.shell.driver import SessionDriver
from smtp_shell.shell.options import SessionOptions
from smtp_shell.status import ExitStatus

_PT_COLOURS = {"bright_black": "ansibrightblack", "black on yellow": "ansiblack bg:ansiyellow"}


def pt_style(no_color: bool = False) -> Style:
    """The render palette, translated for prompt_toolkit (one theme for both)."""
    rules = {}
    for name, (colour, attrs) in PALETTE.items():
        pt_colour = "" if no_color else _PT_COLOURS.get(colour, "ansi" + colour.replace("_", ""))
        rules[name] = f"{pt_colour} {attrs}".strip()
    rules["bottom-toolbar"] = "noreverse bg:ansiblack fg:ansiwhite" if not no_color else "reverse"
    return Style.from_dict(rules)


_SECRET_COMMANDS = (":b64", ":unb64", ":auth")


def is_secret_line(line: str) -> bool:
    """A line that must never enter any history: an AUTH command with its credentials, or a
    shell command whose arguments may be a password (`:b64`, `:unb64`, `:auth`)."""
    head = line.lstrip().split(" ", 1)[0].lower()
    return mask_auth_command(line)[1] or head in _SECRET_COMMANDS


class NoSecretsHistory(History):
    """A history (in memory or a file) that never holds a secret line: not for ↑ recall in this
    session, not on disk, and not when read back from a file an older version wrote."""

    def __init__(self, inner: History) -> None:
        super().__init__()
        self.inner = inner

    def load_history_strings(self):
        return (line for line in self.inner.load_history_strings() if not is_secret_line(line))

    def append_string(self, string: str) -> None:
        if not is_secret_line(string):
            super().append_string(string)

    def store_string(self, string: str) -> None:
        self.inner.store_string(string)


def file_history(path) -> History:
    """The persistent history, private to its owner (0600 in a 0700 folder on POSIX)."""
    from smtp_shell.paths import private_file

    private_file(path)
    return NoSecretsHistory(FileHistory(str(path)))


def _mode_of(driver: SessionDriver) -> str:
    """The row of the input-mode table (smtp_shell.shell.modes) the next prompt belongs to."""
    core = driver.core
    if core.mode == "auth" and core.expects_secret:
        return "password"
    return core.mode


def _prompt_for(driver: SessionDriver) -> tuple[str, bool]:
    core = driver.core
    mode = _mode_of(driver)
    if mode == "bdat":
        return f"bdat ({core.chunk_remaining} octets left)> ", False
    if mode == "data":
        return "data> ", False
    if mode == "password":
        return "password> ", True
    if mode == "auth":
        return "auth> ", False
    return ("smtp~> " if core.tls else "smtp> "), False


def _toolbar(shell: ShellContext):
    def render():
        d = shell.driver
        core = d.core
        tls = "TLS" if core.tls else "plain"
        user = core.authenticated_user or "not logged in"
        rec = shell.recording or "not recording"
        extra = shell.toolbar_extra  # e.g. the lesson's progress (shell/lessonui.py)
        rec += f" │ {extra()}" if callable(extra) else ""
        return FormattedText([
            ("class:bottom-toolbar", f" {d.target} │ {tls} │ {core.state.status} │ {user} │ {rec} │ F1 explain │ :help "),
        ])
    return render


def _key_bindings(shell: ShellContext) -> KeyBindings:
    """F1: explain the last reply (runs :explain; the half-typed line comes back afterwards)."""
    kb = KeyBindings()

    @kb.add("f1")
    def _explain(event) -> None:
        buffer = event.current_buffer
        hold(shell, _mode_of(shell.driver), buffer.text)
        buffer.text = ":explain"
        buffer.validate_and_handle()

    return kb


def hold(shell: ShellContext, mode: str, text: str) -> None:
    """Give `text` back to the next prompt of `mode` for editing, once (never to another mode)."""
    shell.retype, shell.retype_mode = text, mode


def take_held(shell: ShellContext, mode: str) -> str:
    """The line held for this mode's prompt, handed out once: whatever happens next (sent,
    changed, Ctrl-C), it never comes back."""
    text, held_for = shell.retype, shell.retype_mode
    shell.retype, shell.retype_mode = "", ""
    return text if held_for == mode else ""


def _confirm_bindings(extra: list[str]) -> KeyBindings:
    """The confirm step reads ONE key: a bare Enter sends; n (or "no") or Esc gives the line back
    unchanged (an Enter typed right after the n belongs to it); any other key gives the line
    back with that key typed, and whatever is typed next goes on into the editor (keys that
    arrive in the same burst after the answer are collected in `extra`, never lost);
    Ctrl-C/Ctrl-D drop it for good."""
    kb = KeyBindings()

    def answer(action: str, key: str = ""):
        def handler(event) -> None:
            if event.app.is_done:  # typed after the answer, in the same burst: it belongs to the editor
                extra.append(event.data if event.data.isprintable() else "")
                return
            event.app.exit(result=(action, key))
        return handler

    for send_key in ("enter", "c-j"):
        kb.add(send_key)(answer("send"))
    for n in ("n", "N"):
        for word in ((n,), (n, "o"), (n, "O")):
            for end in ((), ("enter",), ("c-j",)):
                kb.add(*word, *end)(answer("edit"))
    kb.add("escape", eager=True)(answer("edit"))
    kb.add("c-c")(answer("drop"))
    kb.add("c-d")(answer("drop"))
    kb.add("backspace")(answer("edit", "\b"))

    @kb.add("<any>")
    def _typed(event) -> None:
        data = event.data if event.data.isprintable() else ""
        if event.app.is_done:
            extra.append(data)
            return
        event.app.exit(result=("edit", data))

    return kb


async def repl_session(options: SessionOptions, *, input=None, output=None, console=None,
                       history=None, listeners=(), on_ready=None) -> int:
    console = console or make_console(options.no_color)
    driver = SessionDriver(options, Renderer(console))
    driver.listeners.extend(listeners)
    shell = ShellContext(driver, interactive=True)
    if history is None:
        try:
            history = file_history(paths.history_file())
        except OSError:
            history = InMemoryHistory()
    if not isinstance(history, NoSecretsHistory):
        history = NoSecretsHistory(history)
    style = pt_style(options.no_color)
    session: PromptSession[str] = PromptSession(history=history, completer=SmtpCompleter(driver, options.helo_name or "localhost"),
                            bottom_toolbar=_toolbar(shell), style=style, input=input, output=output,
                            complete_while_typing=False, enable_history_search=True,
                            key_bindings=_key_bindings(shell))
    # data> and the shell's questions (pipe> among them) keep an in-memory history that never
    # holds a secret line; anything typed masked or in AUTH mode goes through a prompt with no
    # history at all, so a password can never come back with the up arrow. Each is made on its
    # first use: a prompt_toolkit session costs ~5 ms, and the first smtp> prompt waits for none of them.
    extra: list[str] = []
    sessions: dict[str, PromptSession] = {}

    def prompt_session(kind: str) -> PromptSession:
        if kind not in sessions:
            made: PromptSession
            if kind == "secret":
                made = PromptSession(history=NoSecretsHistory(InMemoryHistory()), bottom_toolbar=_toolbar(shell),
                                     style=style, input=input, output=output)
            elif kind == "masked":
                made = PromptSession(history=DummyHistory(), bottom_toolbar=_toolbar(shell), style=style,
                                     input=input, output=output)
            elif kind == "data":
                made = PromptSession(history=NoSecretsHistory(InMemoryHistory()), bottom_toolbar=_toolbar(shell),
                                     style=style, input=input, output=output, key_bindings=_key_bindings(shell))
            else:  # "confirm"
                made = PromptSession(bottom_toolbar=_toolbar(shell), style=style, input=input, output=output,
                                     key_bindings=_confirm_bindings(extra))
            sessions[kind] = made
        return sessions[kind]

    async def confirm(question: str) -> tuple[str, str]:
        extra.clear()
        try:
            action, key = await prompt_session("confirm").prompt_async(question) or ("drop", "")
        except (KeyboardInterrupt, EOFError):
            return ("drop", "")
        return (action, key + "".join(extra)) if action == "edit" else (action, key)

    async def ask(question: str, masked: bool = False) -> str | None:
        try:
            return await prompt_session("masked" if masked else "secret").prompt_async(question, is_password=masked)
        except (KeyboardInterrupt, EOFError):
            return None

    shell.ask = ask
    shell.confirm = confirm
    with patch_stdout(raw=True):
        if await driver.connect():
            await driver.wait_greeting()
        if on_ready is not None:
            on_ready(shell)
        while not shell.leaving:
            mode = _mode_of(driver)
            prompt, masked = _prompt_for(driver)
            retype = take_held(shell, mode)
            try:
                if mode == "command":
                    text = await session.prompt_async(prompt, default=retype)
                elif mode in ("data", "bdat"):
                    text = await prompt_session("data").prompt_async(prompt, default=retype)
                elif mode in ("auth", "password"):
                    text = await prompt_session("masked").prompt_async(prompt, is_password=masked, default=retype)
                else:
                    text = await prompt_session("secret").prompt_async(prompt, is_password=masked, default=retype)
            except KeyboardInterrupt:
                if mode in ("data", "bdat"):
                    await _offer_abort(shell)
                elif mode in ("auth", "password"):
                    driver.note("AUTH is still in progress; to cancel it, send a line with only * (RFC 4954).")
                continue
            except EOFError:
                if mode in ("data", "bdat") and driver.connected:
                    await meta.dispatch(shell, ":quit")  # asks first: leaving abandons the message
                    continue
                shell.leaving = True
                await driver.quit()
                break
            try:
                await _handle_line(shell, text, mode)
            except Exception as exc:  # the REPL never dies: report and go on
                from smtp_shell.paths import write_crash_report

                crash = write_crash_report(exc, f"REPL, {mode} mode")
                where = (f"the traceback is in {crash}; please attach it to a bug report"
                         if crash else "please report this with the command you typed")
                driver.fail(f"Internal error: {exc!r}; the session goes on.", where[0].upper() + where[1:] + ".")
    await driver.disconnect(quiet=True)
    return int(driver.exit_status if driver.exit_status != ExitStatus.OK else ExitStatus.OK)


async def _handle_line(shell: ShellContext, text: str, mode: str) -> None:
    driver = shell.driver
    if mode == "bdat":
        await _chunk_line(shell, text)
        return
    route = meta.route(text, mode)
    if route.action == "run":
        await interruptible(driver, meta.dispatch(shell, route.text))
        return
    if route.action == "refuse":
        driver.fail(route.note)
        hold(shell, mode, text)
        return
    if route.note:
        driver.note(route.note)
    text = route.text
    if mode == "command":
        if not text.strip():
            if text:
                driver.note("nothing sent: the line holds only spaces (a server would answer 500)")
            return
    if mode == "data" and ("\n" in text or "\r" in text):
        await _send_pasted_body(shell, text)
        return
    advice = driver.advise(text)
    if advice:
        driver.warn_advice(advice)
        if not await confirmed(shell, mode, route, text):
            return
    await interruptible(driver, _send_and_settle(driver, text))


async def confirmed(shell: ShellContext, mode: str, route, text: str) -> bool:
    """The confirm step after an advisor warning. True: send now. Otherwise the line was given
    back for editing (n, Esc, or any other key, which is applied) or dropped (Ctrl-C)."""
    driver = shell.driver
    assert shell.confirm is not None  # the REPL always provides it
    action, key = await shell.confirm("Press Enter to send it anyway, or n to edit it first: ")
    if action == "send":
        return True
    if action == "drop":
        driver.note("not sent; the line is dropped")
        return False
    typed = route_text_back(route, text)
    typed = typed[:-1] if key == "\b" else typed + key
    if not driver.core.expects_secret:
        hold(shell, mode, typed)
    driver.note("not sent; the line is back for editing")
    return False


def route_text_back(route, text: str) -> str:
    """The line as the student typed it (an escape they typed stays typed)."""
    return ":" + text if route.note.startswith("'::'") else text


async def _send_and_settle(driver: SessionDriver, text: str) -> None:
    await driver.send(text)
    # A person cannot out-type a server: settle before prompting again so every reply prints
    # above a fresh prompt. (Real pipelining from the keyboard: :pipeline.)
    await driver.wait_idle()


async def interruptible(driver: SessionDriver, coro) -> None:
    """Run `coro`; Ctrl-C (SIGINT, which arrives while no prompt owns the terminal) stops the
    wait instead of killing the shell. The reply still prints when it arrives."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(coro)
    try:
        loop.add_signal_handler(signal.SIGINT, task.cancel)
    except (NotImplementedError, RuntimeError, ValueError):
        await task
        return
    try:
        await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise
        driver.note("stopped waiting (Ctrl-C); a reply that arrives later is still shown")
        if driver.core.mode == "data":
            driver.note("still in DATA mode: what went out so far is part of the message; "
                        "a line with only '.' sends it, Ctrl-C at the prompt offers to abandon it")
    finally:
        try:
            loop.remove_signal_handler(signal.SIGINT)
        except (NotImplementedError, RuntimeError, ValueError):
            pass


async def _chunk_line(shell: ShellContext, text: str) -> None:
    """One typed line towards the BDAT chunk owed: the line and CRLF, or the line alone when
    it ends the chunk exactly; a line that does not fit is refused and given back."""
    driver = shell.driver
    data = text.encode("utf-8", "surrogateescape")
    left = driver.core.chunk_remaining
    if len(data) + 2 <= left:
        data += b"\r\n"
    elif len(data) != left:
        driver.fail(f"Not sent: the line is {len(data) + 2} octets with CRLF and the chunk has {left} left "
                    "(or type exactly the octets left, without Enter's CRLF counting, to end the chunk).")
        hold(shell, "bdat", text)
        return
    await interruptible(driver, driver.send_chunk(data))


async def _send_pasted_body(shell: ShellContext, text: str) -> None:
    """A paste of several lines in DATA mode: each line goes out as one message line (CRLF),
    advice printed as in batch mode; a lone '.' ends the message and the rest is not sent."""
    driver = shell.driver
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    driver.note(f"pasted {len(lines)} lines: each is sent as one message line ending in CRLF")
    for i, line in enumerate(lines):
        driver.warn_advice(driver.advise(line))
        await driver.send(line)
        if driver.core.mode != "data":
            rest = len(lines) - i - 1
            if rest:
                driver.warn(f"the message ended at the lone '.', so the {rest} pasted line(s) after it were not sent")
            return


async def _offer_abort(shell: ShellContext) -> None:
    driver = shell.driver
    what = "a BDAT chunk" if driver.core.mode == "bdat" else "DATA: a line with only '.' SENDS the message"
    driver.note(f"SMTP cannot take back {what}. To abort it, smtp-shell must close the connection.")
    answer = await shell.question("Abort this message and reconnect? [y/N] ")
    if answer and answer.strip().lower() in ("y", "yes"):
        driver.note("aborting: closing the connection without ending DATA")
        if await driver.connect():
            await driver.wait_greeting()
    elif driver.core.mode == "data":
        driver.note("still in DATA mode; go on typing the message")
    elif driver.core.mode == "bdat":
        driver.note(f"still in the BDAT chunk; {driver.core.chunk_remaining} octets to go")
