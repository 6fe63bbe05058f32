"""Every input mode of the shell as ONE table: what Enter does, which `:`-commands work, what
Ctrl-C and Ctrl-D do, what is recorded. The REPL, batch mode and `docs/input.md` all read it.

Why this exists: a student's first trust in smtp-shell is that the line they type is the line
on the wire, once. When each prompt decided on its own which `:` lines were commands, body
lines starting with `:quit` abandoned messages and `:unb64` at `auth>` went out as a
credential. Now `route(line, mode)` is the one answer to "is this a shell command here, or
text to send?", and the table below is the one description of each mode.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InputMode:
    """One input mode of the shell: its prompt, when it applies and what Enter does."""

    name: str
    prompt: str
    when: str        # when the shell is in this mode
    enter: str       # what Enter does
    commands: str    # which `:`-commands work (see `route`)
    ctrl_c: str
    ctrl_d: str
    recorded: str    # what reaches the screen and the transcript
    masked: bool = False
    history: bool = False  # lines typed here can be recalled with the Up arrow (in this mode only)


# How a mode treats a line that starts with ':' (the `commands` column, machine-readable).
ALL = "all"              # every :-command; an unknown one is refused in one sentence
TEXT_ESCAPE = "escape"   # :-commands that make sense here; '::' sends ':'; unknown :word is text
AUTH_LINE = "auth"       # :-commands that make sense here; base64 never starts with ':', so an unknown one is refused
NONE = "none"            # the line is taken exactly as typed (a secret, a chunk, an answer)

MODES: dict[str, InputMode] = {m.name: m for m in (
    InputMode(
        "command", "smtp>", "connected, outside DATA and AUTH (smtp~> under TLS)",
        "sends the line as one SMTP command ending in CRLF; if the advisor has a warning, asks first (see confirm)",
        ALL, "clears the line", "sends QUIT if connected, then leaves",
        "the line as sent (AUTH arguments masked)", history=True),
    InputMode(
        "data", "data>", "after the server's 354 to DATA",
        "sends the line as one message line (a leading '.' doubled); a line with only '.' ends the message; "
        "a line starting with '::' is sent with one ':' removed",
        TEXT_ESCAPE, "asks whether to abandon the message (closing the connection is the only way)",
        "asks whether to abandon the message and leave", "the line as sent"),
    InputMode(
        "auth", "auth>", "during AUTH, when the server's 334 asks for a user name",
        "sends the line as one base64 AUTH response; a line with only '*' cancels AUTH",
        AUTH_LINE, "says how to cancel AUTH (send '*')", "sends QUIT if connected, then leaves",
        "the response masked as ********"),
    InputMode(
        "password", "password>", "during AUTH, when the server's 334 asks for anything but a user name",
        "sends the line (typed masked) as one base64 AUTH response",
        AUTH_LINE, "says how to cancel AUTH (send '*')", "sends QUIT if connected, then leaves",
        "the response masked as ********; never kept in any history", masked=True),
    InputMode(
        "secret", "Password (not shown):", ":auth asks for the password",
        "takes the line as the password, exactly as typed (it may start with ':')",
        NONE, "cancels the login; nothing is sent", "cancels the login; nothing is sent",
        "nothing: the password is sent base64-encoded and shown as ********; never kept in any history",
        masked=True),
    InputMode(
        "confirm", "Press Enter to send it anyway, or n to edit it first:", "the advisor warned about a typed line",
        "a bare Enter sends the line as typed; 'n' or Esc gives it back for editing unchanged; any other key "
        "gives it back for editing with that key typed at its end (a typed line is never swallowed)",
        NONE, "drops the line for good (it never comes back)", "drops the line for good",
        "nothing (the line is recorded only if it is sent)"),
    InputMode(
        "bdat", "bdat>", "after typing BDAT n [LAST]: the shell takes exactly the next n octets",
        "adds the line and CRLF to the chunk (the prompt counts the octets left); the chunk is sent raw, "
        "with no dot-stuffing, once n octets are typed; a line longer than what is left is refused "
        "(in batch mode the message is abandoned, not sent)",
        NONE, "asks whether to abandon the chunk (closing the connection is the only way)",
        "asks whether to abandon the chunk and leave", "each chunk line as sent"),
    InputMode(
        "pipeline", "pipe>", "after :pipeline",
        "adds the line to the group; an empty line sends the whole group in one write (PIPELINING)",
        ALL, "cancels the group; nothing is sent", "cancels the group; nothing is sent",
        "the group's lines when sent, each reply marked with the command it answers"),
)}

# Commands that only make sense at the smtp> prompt (they start or need an exchange of their own).
COMMAND_ONLY_NOTE = "works only at the smtp> prompt"


@dataclass(frozen=True)
class Route:
    """What to do with one typed line in one mode."""

    action: str          # "run" | "send" | "refuse"
    text: str            # the line to run or send (the escape removed)
    note: str = ""       # say this first (an escape used, a :word sent as text)


def route(line: str, mode: str, known: dict) -> Route:
    """Is `line` a shell command in `mode`, text to send, or refused? `known` maps command names
    to registered commands (objects with `command_only`)."""
    policy = MODES[mode].commands
    if policy == NONE or not line.startswith(":"):
        return Route("send", line)
    if policy == TEXT_ESCAPE and line.startswith("::"):
        return Route("send", line[1:], f"'::' at the start of a line sends one ':' ({line[1:]!r} goes into the message)")
    name = line[1:].strip().partition(" ")[0].lower()
    cmd = known.get(name)
    if cmd is None:
        if policy == TEXT_ESCAPE and name:
            return Route("send", line, f"':{name}' is not a shell command, so this line goes into the message as text")
        return Route("run", line)  # dispatch explains an unknown command in one sentence; nothing is sent
    if mode != "command" and getattr(cmd, "command_only", False):
        escape = " (to send it as message text, start it with '::')" if policy == TEXT_ESCAPE else ""
        return Route("refuse", line, f":{name} {COMMAND_ONLY_NOTE}, so nothing was sent or run{escape}.")
    return Route("run", line)


def markdown() -> str:
    """docs/input.md, generated from the table (a test keeps the file in sync)."""
    policies = {
        ALL: "all",
        TEXT_ESCAPE: "all but the smtp>-only ones; `::x` sends `:x`; an unknown `:word` is sent as text, with a note",
        AUTH_LINE: "all but the smtp>-only ones; an unknown `:word` is refused (base64 never starts with `:`)",
        NONE: "none: the line is taken as typed",
    }
    out = [
        "# Input modes",
        "",
        "<!-- generated from smtp_shell/shell/modes.py by `python -m smtp_shell.shell.modes`; do not edit -->",
        "",
        "What you type is sent exactly once, exactly as typed, or refused in one sentence. Every prompt",
        "of the shell is one of these modes. The smtp>-only commands are `:auth`, `:pipeline` and `:bdat`.",
        "",
        "| mode | prompt | when | Enter | `:`-commands | Ctrl-C | Ctrl-D | recorded |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in MODES.values():
        rule = "all but the smtp>-only ones" if m.commands == ALL and m.name != "command" else policies[m.commands]
        cells = [m.name, f"`{m.prompt}`", m.when, m.enter, rule, m.ctrl_c, m.ctrl_d,
                 m.recorded + (" (typed masked)" if m.masked else "")]
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    out += [
        "",
        "## Lines that start with `:` or `.` in a message",
        "",
        "In DATA mode a line is message text unless it names a shell command. Two escapes keep every",
        "line sendable:",
        "",
        "- **dot-stuffing** (RFC 5321 §4.5.2, done for you): a line that starts with `.` is sent with a",
        "  second `.`; the server removes it. Only a line holding a single `.` ends the message.",
        "- **colon escape** (smtp-shell's own): a line that starts with `::` is sent with one `:`",
        "  removed, so `::quit` puts the text `:quit` into the message. The shell says so when it",
        "  happens. A line like `:-)` or `:note` that names no command is sent as text, with a note.",
        "",
        "Nothing that abandons a message is silent: in the REPL `:quit`, Ctrl-C and Ctrl-D in DATA",
        "mode ask first; in batch mode `:quit` in DATA says \"message abandoned, not sent\" and the",
        "exit status is not 0 (see batch.md).",
        "",
        "## The advisor and the confirm step",
        "",
        "When the advisor warns about a line, only a bare Enter sends it. `:advice off` silences every",
        "warning, `:advice off RULE` one rule (the rule's name is shown with each warning), `:advice on`",
        "turns them back on. Lines typed masked are kept in no history, so the Up arrow never",
        "recalls them in any mode.",
        "",
    ]
    return "\n".join(out)


if __name__ == "__main__":  # python -m smtp_shell.shell.modes > docs/input.md
    print(markdown(), end="")
