"""Rich rendering of the conversation, used live, in batch mode and in replay alike.

Conventions follow swaks, which people already know: ` -> ` a line the client sent, `<-  ` a
server reply, ` ~> ` / `<~  ` the same under TLS, `<** ` / `<~* ` an error reply (4xx/5xx),
`=== ` the tool's own notes, `*** ` an error of the tool or the connection. Reply codes are
coloured by class and the enhanced status code is marked; multi-line replies are bracketed
as one group on a terminal.

Server text is untrusted: it is always added to rich `Text` objects as plain strings (never
parsed as markup), and control characters, escape sequences, bidi overrides and bytes that
were not UTF-8 are shown visibly (`\\x1b`, `\\u202e`, `\\xff`), never sent to the terminal.
On a non-terminal or with NO_COLOR the output is plain text with the same prefixes.

rich is imported on first use, not with this module: batch mode writing to a pipe draws with
`PlainConsole` and plain strings, and never needs it (about a fifth of its start-up); a line
rich would treat differently (a TAB, which it expands to tab stops) and everything else a
console does (`:explain`, widths, tables) get a real rich console, made lazily.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from typing import TYPE_CHECKING

from smtp_shell.address import escape, escape_pieces

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

# One palette for rich and prompt_toolkit: name -> (colour, attributes). The 16 ANSI colours
# only, so every terminal theme maps them; `dark` is the default, `light` for white backgrounds
# (and most projectors): no yellow text, no grey that fades on white.
THEMES: dict[str, dict[str, tuple[str, str]]] = {
    "dark": {
        "reply.2": ("green", "bold"),
        "reply.3": ("cyan", "bold"),
        "reply.4": ("yellow", "bold"),
        "reply.5": ("red", "bold"),
        "enhanced": ("magenta", "underline"),
        "client": ("bright_blue", "bold"),       # never dark blue on black
        "client.tls": ("bright_magenta", "bold"),
        "prefix": ("bright_black", ""),
        "note": ("bright_black", ""),
        "warning": ("yellow", ""),
        "error": ("red", "bold"),
        "gloss": ("bright_black", "italic"),
        "escape": ("black on yellow", ""),
        "secret": ("bright_black", "italic"),
        "tls": ("magenta", ""),
    },
    "light": {
        "reply.2": ("green", "bold"),
        "reply.3": ("blue", "bold"),
        "reply.4": ("magenta", "bold"),
        "reply.5": ("red", "bold"),
        "enhanced": ("blue", "underline"),
        "client": ("blue", "bold"),
        "client.tls": ("magenta", "bold"),
        "prefix": ("black", ""),
        "note": ("black", "italic"),
        "warning": ("magenta", ""),
        "error": ("red", "bold"),
        "gloss": ("black", "italic"),
        "escape": ("black on yellow", ""),
        "secret": ("black", "italic"),
        "tls": ("magenta", ""),
    },
}
PALETTE: dict[str, tuple[str, str]] = dict(THEMES["dark"])


def use_theme(name: str | None) -> None:
    """Switch the palette (`--theme`, or SMTP_SHELL_THEME); unknown names raise ValueError."""
    name = (name or os.environ.get("SMTP_SHELL_THEME") or "dark").lower()
    if name not in THEMES:
        raise ValueError(f"unknown theme {name!r}; the themes are {', '.join(THEMES)}")
    PALETTE.clear()
    PALETTE.update(THEMES[name])


def rich_style(name: str) -> str:
    colour, attrs = PALETTE[name]
    return f"{attrs} {colour}".strip()


def make_console(no_color: bool = False, file=None, width: int | None = None, force_terminal: bool | None = None) -> Console:
    """The console everything prints to. Plain when not a terminal, with NO_COLOR, or asked."""
    from rich.console import Console

    no_color = no_color or bool(os.environ.get("NO_COLOR"))
    # file=None lets rich look up sys.stdout at each print, so inside the REPL's patch_stdout a
    # reply that arrives while the student types is printed above the prompt, not over it.
    return Console(file=file, no_color=no_color, highlight=False, markup=False,
                   emoji=False, width=width, force_terminal=force_terminal, soft_wrap=True,
                   color_system=None if no_color else "auto")


class PlainConsole:
    """A stand-in for `make_console(no_color, file)` on a non-terminal that does not import rich.

    The `Renderer` writes its lines to `file` directly (exactly the text rich would print there:
    no colour, no wrapping); whatever else is asked of it (`print`, `width`, `capture`, a line
    with a TAB) goes to the real rich console, made on first use with the same arguments, so
    the output cannot differ. `file=None` means `sys.stdout` at each write, as rich does."""

    is_terminal = False

    def __init__(self, no_color: bool = False, file=None) -> None:
        self._no_color_asked = no_color
        self.no_color = no_color or bool(os.environ.get("NO_COLOR"))
        self._file = file
        self._quiet = False
        self._rich: Console | None = None

    def rich_console(self) -> Console:
        """The real rich console behind this one (made now if needed)."""
        if self._rich is None:
            self._rich = make_console(self._no_color_asked, file=self._file)
            self._rich.quiet = self._quiet
        return self._rich

    @property
    def file(self):
        file = self._file or sys.stdout
        file = getattr(file, "rich_proxied_file", file)
        return file if file is not None else self.rich_console().file  # no stdout at all: rich's null file

    @property
    def quiet(self) -> bool:
        return self._quiet

    @quiet.setter
    def quiet(self, value: bool) -> None:
        self._quiet = value
        if self._rich is not None:
            self._rich.quiet = value

    @property
    def record(self) -> bool:
        return self._rich is not None and self._rich.record

    @property
    def _buffer_index(self) -> int:  # inside rich's capture(): the Renderer leaves the lines to rich
        return 0 if self._rich is None else self._rich._buffer_index

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.rich_console(), name)

    def __setattr__(self, name: str, value) -> None:
        if name.startswith("_") or name in ("no_color", "quiet"):
            object.__setattr__(self, name, value)
        else:  # `console.width = 100` and the like: a setting of the rich console
            setattr(self.rich_console(), name, value)


def plain_console(no_color: bool = False, file=None) -> PlainConsole:
    """A console for plain output to a non-terminal, without importing rich (see PlainConsole)."""
    return PlainConsole(no_color, file)


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError, OSError):  # closed, missing or not a real file
        return False


def batch_console(no_color: bool = False):
    """Batch mode's console: `plain_console` when stdout is a pipe or a file (and nothing asks
    rich to treat it as a terminal: FORCE_COLOR, TTY_COMPATIBLE, a Jupyter kernel), else
    `make_console`. Both print the same bytes there; the plain one never imports rich."""
    environ = os.environ
    if (sys.stdout is None or _stdout_is_terminal() or "FORCE_COLOR" in environ or "TTY_COMPATIBLE" in environ
            or "IPython" in sys.modules):
        return make_console(no_color)
    return plain_console(no_color)


def visible(text: str, base_style: str = "") -> Text:
    """`text` as rich Text, escaped by `address.escape`'s policy, with each escape highlighted."""
    from rich.text import Text

    if text.isprintable():  # the common case: nothing to escape
        return Text(text, style=base_style)
    out = Text(style=base_style)
    escape_style = rich_style("escape")
    for piece, is_escape in escape_pieces(text):
        out.append(piece, style=escape_style if is_escape else None)
    return out


plain_visible = escape  # the same policy as plain text (kept as a name for existing callers)


class Renderer:
    """Draws client lines, replies, notes and errors on a rich console (or a `PlainConsole`)."""

    def __init__(self, console: Console | PlainConsole, gloss: bool = False) -> None:
        self.console = console
        self.gloss = gloss
        self.fancy = console.is_terminal and not console.no_color
        # Not a terminal (a pipe, a file: batch mode): rich would print exactly the plain text,
        # so each method writes that string directly, without building rich Text, about ten
        # times faster per line. Lines rich would change (a TAB) still go through rich.
        self._plain = not console.is_terminal
        self.output_closed = False  # stdout was closed under us (`| head`): drawing goes nowhere now
        self.holding = False        # inside held(): flush once at the end, not per line

    def _direct(self):
        """The file to write plain lines to directly, or None when rich must print them
        (a terminal, a recording console, a capture in progress, a quiet console)."""
        console = self.console
        if self._plain and not console.record and not console.quiet and console._buffer_index == 0:
            return console.file
        return None

    def _write(self, file, text: str) -> None:
        if self.output_closed:
            return
        try:
            file.write(text)
            if not self.holding:
                file.flush()
        except OSError as exc:
            self._closed_under_us(exc)

    def _plain_line(self, line: str) -> bool:
        """Write `line` as it is, if rich would print exactly that (plain output, nothing that
        rich treats specially: printable, no TAB). False: the caller draws it through rich."""
        if self.output_closed:
            return True
        file = self._direct()
        if file is None or not line.isprintable():
            return False
        self._write(file, line + "\n")
        return True

    @contextlib.contextmanager
    def held(self):
        """Draw many lines with one flush at the end (a long message body in batch mode)."""
        previous, self.holding = self.holding, True
        try:
            yield
        finally:
            self.holding = previous
            if not previous:
                self.flush()

    def flush(self) -> None:
        """Push out what plain output holds (before the program waits: for the server, for input)."""
        file = self._direct()
        if file is not None and not self.output_closed:
            try:
                file.flush()
            except OSError as exc:
                self._closed_under_us(exc)

    def _closed_under_us(self, exc: OSError) -> None:
        """stdout went away (a reader like `head` exited): stop drawing, quietly, for good. The
        descriptor is pointed at /dev/null so the interpreter's last flush cannot complain."""
        if not isinstance(exc, BrokenPipeError) and exc.errno not in (errno.EPIPE, errno.EINVAL):
            raise exc
        self.output_closed = True
        self.console.quiet = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.console.file.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass

    def _emit(self, text: Text) -> None:
        if self.output_closed:
            return
        file = self._direct()
        if file is not None:
            plain = text.plain
            if "\t" not in plain:  # rich expands tabs to tab stops: leave those lines to it
                self._write(file, plain + "\n")
                return
        try:
            self.console.print(text, soft_wrap=True, crop=False, overflow="ignore")
        except OSError as exc:
            self._closed_under_us(exc)

    # -- client side ---------------------------------------------------------------
    def client(self, text: str, tls: bool = False, note: str | None = None) -> None:
        if self.output_closed:
            return
        prefix = " ~> " if tls else " -> "
        if self._plain and self._plain_line(prefix + escape(text) + (f"  ({note})" if note else "")):
            return
        from rich.text import Text

        line = Text(prefix, style=rich_style("prefix"))
        line.append_text(visible(text, rich_style("client.tls" if tls else "client")))
        if note:
            line.append(f"  ({note})", style=rich_style("gloss"))
        self._emit(line)

    # -- server side -----------------------------------------------------------------
    def reply(self, reply, tls: bool = False, challenge: str | None = None) -> None:
        if self.output_closed:
            return
        klass = reply.klass if 2 <= reply.klass <= 5 else 5
        error = klass in (4, 5)
        prefix = ("<~* " if error else "<~  ") if tls else ("<** " if error else "<-  ")
        enhanced = reply.enhanced
        wire = reply.wire_lines()
        file = self._direct() if self._plain else None
        if file is not None:
            # plain output: exactly the text rich would print, without rich
            lines = [f"{prefix}{w[:4]}{escape(text)}" for w, text in zip(wire, reply.lines)]
            if challenge is not None and lines:
                lines[-1] += f"  ({escape(challenge)})" if challenge else "  (empty challenge: send your response)"
            if all(line.isprintable() for line in lines):
                self._write(file, "".join(line + "\n" for line in lines))
                wire = ()
        if wire:
            self._reply_rich(reply, prefix, klass, wire, challenge)
        for note in getattr(reply, "notes", ()):
            self.note(f"server: {note}")
        if self.gloss:
            from smtp_shell.protocol.catalogue import gloss

            text = f"     {gloss(reply.code, enhanced)}"
            if not (self._plain and self._plain_line(text)):
                from rich.text import Text

                self._emit(Text(text, style=rich_style("gloss")))

    def _reply_rich(self, reply, prefix: str, klass: int, wire, challenge: str | None) -> None:
        from rich.text import Text

        code_style = rich_style(f"reply.{klass}")
        enhanced = reply.enhanced
        n = len(wire)
        for i, (wire_line, text) in enumerate(zip(wire, reply.lines)):
            line = Text(prefix, style=rich_style("prefix"))
            if self.fancy and n > 1:
                line.append("┌ " if i == 0 else ("└ " if i == n - 1 else "│ "), style=rich_style("prefix"))
            line.append(wire_line[:4], style=code_style)
            rest = text
            if enhanced and rest.startswith(enhanced):
                line.append(enhanced, style=rich_style("enhanced"))
                rest = rest[len(enhanced):]
            line.append_text(visible(rest))
            if i == n - 1 and challenge is not None:
                if challenge:  # decoded from the server's base64: untrusted like any server text
                    line.append("  (", style=rich_style("gloss"))
                    line.append_text(visible(challenge, rich_style("gloss")))
                    line.append(")", style=rich_style("gloss"))
                else:
                    line.append("  (empty challenge: send your response)", style=rich_style("gloss"))
            self._emit(line)

    def wire(self, direction: str, text: str, notes: list[str], tls: bool = False) -> None:
        """One line as bytes (:wire on): `text` already has CR/LF and odd bytes drawn visibly."""
        mark = "≈" if tls else "="   # the shell's ~ for TLS, doubled: the bytes under the line
        arrow = mark + ">" if direction == ">" else "<" + mark
        head = f" {arrow} " if direction == ">" else f"{arrow}  "
        tail = ("   ← " + "; ".join(notes)) if notes else ""
        if self._plain and self._plain_line(head + escape(text) + tail):
            return
        from rich.text import Text

        line = Text(head, style=rich_style("prefix"))
        line.append_text(visible(text, rich_style("gloss")))
        if notes:
            line.append(tail, style=rich_style("note"))
        self._emit(line)

    # -- the tool's own voice ----------------------------------------------------------
    def _emit_wrapped(self, prefix: Text, body: Text) -> None:
        """The tool's own words: on a terminal, wrapped at its width at word boundaries, the
        continuation lines indented under the text; elsewhere one line, as before."""
        if self._direct() is not None:
            self._emit(prefix + body)
            return
        width = self.console.width - prefix.cell_len
        if width < 20 or body.cell_len <= width:
            self._emit(prefix + body)
            return
        from rich.text import Text

        console = self.console.rich_console() if isinstance(self.console, PlainConsole) else self.console
        for i, part in enumerate(body.wrap(console, width)):
            self._emit((prefix if i == 0 else Text(" " * prefix.cell_len)) + part)

    def note(self, text: str) -> None:
        if self._plain and self._plain_line("=== " + escape(text)):
            return
        from rich.text import Text

        self._emit_wrapped(Text("=== ", style=rich_style("prefix")), visible(text, rich_style("note")))

    def warning(self, text: str) -> None:
        if self._plain and self._plain_line("=== " + escape("warning: " + text)):
            return
        from rich.text import Text

        self._emit_wrapped(Text("=== ", style=rich_style("prefix")), visible("warning: " + text, rich_style("warning")))

    def error(self, text: str, hint: str | None = None) -> None:
        from_rich = not (self._plain and self._plain_line("*** " + escape(text)))
        if from_rich:
            from rich.text import Text

            self._emit_wrapped(Text("*** ", style=rich_style("error")), visible(text, rich_style("error")))
        if hint and not (self._plain and self._plain_line("    " + plain_visible(hint))):
            from rich.text import Text

            self._emit_wrapped(Text("    "), Text(plain_visible(hint), style=rich_style("note")))

    def raw_server(self, data: bytes, label: str) -> None:
        """Bytes from the server that are not a reply (shown escaped, never interpreted)."""
        from smtp_shell.protocol.replies import decode_server_text

        text = decode_server_text(data[:300]) + (" …" if len(data) > 300 else "")
        if self._plain and self._plain_line("<!  " + escape(f"{label}: ") + escape(text)):
            return
        from rich.text import Text

        line = Text("<!  ", style=rich_style("error"))
        line.append_text(visible(f"{label}: ", rich_style("error")))  # a label can come from a file
        line.append_text(visible(text))
        self._emit(line)

    def tls_info(self, info) -> None:
        verified = "verified" if info.verified else "NOT verified (--insecure)"
        self.note(f"TLS started: {info.version}, {info.cipher}")
        self.note(f"certificate: {info.subject}; issued by {info.issuer}")
        self.note(f"valid {info.not_before} to {info.not_after}; {verified}")
        self.note(f"SHA-256 fingerprint {info.fingerprint_sha256}")


def render_explanation(console: Console | PlainConsole, entry) -> None:
    """`:explain` / `smtp-shell explain`: one catalogue entry."""
    from rich.text import Text

    klass = int(entry.code[0]) if entry.code[:1].isdigit() else 5
    head = Text()
    head.append(entry.code, style=rich_style(f"reply.{klass}" if 2 <= klass <= 5 else "reply.5"))
    head.append("  " + entry.summary, style="bold")
    console.print(head)
    console.print(Text(entry.explanation))
    if entry.causes:
        console.print(Text("Usual causes:", style="bold"))
        for cause in entry.causes:
            console.print(Text(f"  • {cause}"))
    console.print(Text(f"See {entry.rfc}.", style=rich_style("note")))
