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
"""

from __future__ import annotations

import contextlib
import errno
import os

from rich.console import Console
from rich.text import Text

from smtp_shell.address import escape, escape_pieces

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
    no_color = no_color or bool(os.environ.get("NO_COLOR"))
    # file=None lets rich look up sys.stdout at each print, so inside the REPL's patch_stdout a
    # reply that arrives while the student types is printed above the prompt, not over it.
    return Console(file=file, no_color=no_color, highlight=False, markup=False,
                   emoji=False, width=width, force_terminal=force_terminal, soft_wrap=True,
                   color_system=None if no_color else "auto")


def visible(text: str, base_style: str = "") -> Text:
    """`text` as rich Text, escaped by `address.escape`'s policy, with each escape highlighted."""
    if text.isprintable():  # the common case: nothing to escape
        return Text(text, style=base_style)
    out = Text(style=base_style)
    escape_style = rich_style("escape")
    for piece, is_escape in escape_pieces(text):
        out.append(piece, style=escape_style if is_escape else None)
    return out


plain_visible = escape  # the same policy as plain text (kept as a name for existing callers)


class Renderer:
    """Draws client lines, replies, notes and errors on a rich console."""

    def __init__(self, console: Console, gloss: bool = False) -> None:
        self.console = console
        self.gloss = gloss
        self.fancy = console.is_terminal and not console.no_color
        # Not a terminal (a pipe, a file: batch mode): rich would print exactly text.plain, so
        # write that directly, about ten times faster per line (a 1000-command script shows it).
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
        file = self._direct()
        if file is not None and not note and text.isprintable():  # plain output, nothing to escape
            self._write(file, (" ~> " if tls else " -> ") + text + "\n")
            return
        line = Text(" ~> " if tls else " -> ", style=rich_style("prefix"))
        line.append_text(visible(text, rich_style("client.tls" if tls else "client")))
        if note:
            line.append(f"  ({note})", style=rich_style("gloss"))
        self._emit(line)

    # -- server side -----------------------------------------------------------------
    def reply(self, reply, tls: bool = False, challenge: str | None = None) -> None:
        klass = reply.klass if 2 <= reply.klass <= 5 else 5
        error = klass in (4, 5)
        prefix = ("<~* " if error else "<~  ") if tls else ("<** " if error else "<-  ")
        code_style = rich_style(f"reply.{klass}")
        enhanced = reply.enhanced
        wire = reply.wire_lines()
        n = len(wire)
        file = None if self.output_closed else self._direct()
        if file is not None and challenge is None and all(text.isprintable() for text in reply.lines):
            # plain output, nothing to escape: exactly the text rich would print, without rich
            self._write(file, "".join(f"{prefix}{w[:4]}{text}\n" for w, text in zip(wire, reply.lines)))
            wire = ()
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
        for note in getattr(reply, "notes", ()):
            self.note(f"server: {note}")
        if self.gloss:
            from smtp_shell.protocol.catalogue import gloss

            self._emit(Text(f"     {gloss(reply.code, enhanced)}", style=rich_style("gloss")))

    def wire(self, direction: str, text: str, notes: list[str], tls: bool = False) -> None:
        """One line as bytes (:wire on): `text` already has CR/LF and odd bytes drawn visibly."""
        mark = "≈" if tls else "="   # the shell's ~ for TLS, doubled: the bytes under the line
        arrow = mark + ">" if direction == ">" else "<" + mark
        line = Text(f" {arrow} " if direction == ">" else f"{arrow}  ", style=rich_style("prefix"))
        line.append_text(visible(text, rich_style("gloss")))
        if notes:
            line.append("   ← " + "; ".join(notes), style=rich_style("note"))
        self._emit(line)

    # -- the tool's own voice ----------------------------------------------------------
    def _emit_wrapped(self, prefix: Text, body: Text) -> None:
        """The tool's own words: on a terminal, wrapped at its width at word boundaries, the
        continuation lines indented under the text; elsewhere one line, as before."""
        width = self.console.width - prefix.cell_len
        if self._direct() is not None or width < 20 or body.cell_len <= width:
            self._emit(prefix + body)
            return
        for i, part in enumerate(body.wrap(self.console, width)):
            self._emit((prefix if i == 0 else Text(" " * prefix.cell_len)) + part)

    def note(self, text: str) -> None:
        self._emit_wrapped(Text("=== ", style=rich_style("prefix")), visible(text, rich_style("note")))

    def warning(self, text: str) -> None:
        self._emit_wrapped(Text("=== ", style=rich_style("prefix")), visible("warning: " + text, rich_style("warning")))

    def error(self, text: str, hint: str | None = None) -> None:
        self._emit_wrapped(Text("*** ", style=rich_style("error")), visible(text, rich_style("error")))
        if hint:
            self._emit_wrapped(Text("    "), Text(plain_visible(hint), style=rich_style("note")))

    def raw_server(self, data: bytes, label: str) -> None:
        """Bytes from the server that are not a reply (shown escaped, never interpreted)."""
        from smtp_shell.protocol.replies import decode_server_text

        text = decode_server_text(data[:300]) + (" …" if len(data) > 300 else "")
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


def render_explanation(console: Console, entry) -> None:
    """`:explain` / `smtp-shell explain`: one catalogue entry."""
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
