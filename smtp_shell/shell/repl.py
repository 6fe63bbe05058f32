"""The interactive REPL: prompt_toolkit's `prompt_async` under `patch_stdout`, so replies
that arrive while the student types print above the prompt at once.

Modes follow the protocol core: `smtp>` for commands, `data>` after 354 (each line sent as
typed, `.` alone ends), `auth>` during AUTH, and masked `password>` when the server's 334
challenge asks for a password. Ctrl-C clears the line (in DATA mode it offers to abort the
message), Ctrl-D or :quit leaves (QUIT first if connected). No error ends the loop.
"""

from __future__ import annotations

from prompt_toolkit import PromptSession
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.history import DummyHistory, FileHistory, History, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.patch_stdout import patch_stdout
from prompt_toolkit.styles import Style

from smtp_shell import paths
from smtp_shell.protocol.sasl import mask_auth_command
from smtp_shell.protocol.states import State
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


def _prompt_for(driver: SessionDriver) -> tuple[str, bool]:
    core = driver.core
    if core.mode == "data":
        return "data> ", False
    if core.mode == "auth":
        return ("password> ", True) if core.expects_secret else ("auth> ", False)
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
        shell.retype = buffer.text
        buffer.text = ":explain"
        buffer.validate_and_handle()

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
    # data>, pipe> and the shell's questions share one history (never with secret lines in it);
    # anything typed masked or in AUTH mode goes through a prompt with no history at all, so a
    # password can never come back with the up arrow.
    secret_session: PromptSession[str] = PromptSession(history=NoSecretsHistory(InMemoryHistory()),
                                                       bottom_toolbar=_toolbar(shell), style=style,
                                                       input=input, output=output)
    masked_session: PromptSession[str] = PromptSession(history=DummyHistory(), bottom_toolbar=_toolbar(shell),
                                                       style=style, input=input, output=output)

    async def ask(question: str, masked: bool = False) -> str | None:
        try:
            return await (masked_session if masked else secret_session).prompt_async(question, is_password=masked)
        except (KeyboardInterrupt, EOFError):
            return None

    shell.ask = ask
    with patch_stdout(raw=True):
        if await driver.connect():
            await driver.wait_greeting()
        if on_ready is not None:
            on_ready(shell)
        while not shell.leaving:
            mode = driver.core.mode
            prompt, masked = _prompt_for(driver)
            retype = shell.retype
            try:
                if mode == "command":
                    text = await session.prompt_async(prompt, default=retype)
                    if retype and text != ":explain":
                        shell.retype = ""
                elif mode == "auth":
                    text = await masked_session.prompt_async(prompt, is_password=masked)
                else:
                    text = await secret_session.prompt_async(prompt, is_password=masked)
            except KeyboardInterrupt:
                if mode == "data":
                    await _offer_abort(shell)
                elif mode == "auth":
                    driver.note("AUTH is still in progress; to cancel it, send a line with only * (RFC 4954).")
                continue
            except EOFError:
                shell.leaving = True
                await driver.quit()
                break
            try:
                await _handle_line(shell, text, mode)
            except Exception as exc:  # the REPL never dies: report and go on
                driver.fail(f"Internal error: {exc!r}; the session goes on.",
                            "Please report this with the command you typed.")
    await driver.disconnect(quiet=True)
    return int(driver.exit_status if driver.exit_status != ExitStatus.OK else ExitStatus.OK)


async def _handle_line(shell: ShellContext, text: str, mode: str) -> None:
    driver = shell.driver
    if meta.handles(text, mode):
        await meta.dispatch(shell, text)
        return
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
        for item in advice:
            driver.warn(item.message)
        answer = await shell.question("Press Enter to send it anyway, or n to edit it first: ")
        if answer is None or answer.strip().lower() in ("n", "no"):
            if not driver.core.expects_secret:
                shell.retype = text
            driver.note("not sent")
            return
    await driver.send(text)
    # A person cannot out-type a server: settle before prompting again so every reply prints
    # above a fresh prompt. (Real pipelining from the keyboard: :pipeline.)
    await driver.wait_idle()


async def _send_pasted_body(shell: ShellContext, text: str) -> None:
    """A paste of several lines in DATA mode: each line goes out as one message line (CRLF),
    advice printed as in batch mode; a lone '.' ends the message and the rest is not sent."""
    driver = shell.driver
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    driver.note(f"pasted {len(lines)} lines: each is sent as one message line ending in CRLF")
    for i, line in enumerate(lines):
        for advice in driver.advise(line):
            driver.warn(advice.message)
        await driver.send(line)
        if driver.core.mode != "data":
            rest = len(lines) - i - 1
            if rest:
                driver.warn(f"the message ended at the lone '.', so the {rest} pasted line(s) after it were not sent")
            return


async def _offer_abort(shell: ShellContext) -> None:
    driver = shell.driver
    driver.note("SMTP cannot take back DATA: a line with only '.' SENDS the message. "
                "To abort it, smtp-shell must close the connection.")
    answer = await shell.question("Abort this message and reconnect? [y/N] ")
    if answer and answer.strip().lower() in ("y", "yes"):
        driver.note("aborting: closing the connection without ending DATA")
        if await driver.connect():
            await driver.wait_greeting()
    elif driver.core.state is State.DATA:
        driver.note("still in DATA mode; go on typing the message")
