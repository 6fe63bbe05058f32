"""The teaching helpers among the shell's `:commands`: explanations, capabilities, glosses,
encodings, a guided login, RFC 5322 dates, the MIME composer and streaming a message file.

Why this exists: each helper shows a student one thing telnet never did (what a code means,
what base64 hides, what a Date is made of, what MIME puts on the wire) while they still type
every SMTP command themselves. The helpers only display and send; the knowledge lives in the
pure protocol modules (catalogue, capabilities, sasl, dates, message). They register themselves
in the one registry of `smtp_shell.shell.meta`.
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path

from rich.text import Text

from smtp_shell.render import visible
from smtp_shell.shell.meta import meta

BLOCK = 64 * 1024           # :send reads and streams the file in blocks of this size
SHOW_LINES = 60             # :compose sends longer messages with only their first lines shown
PASSWORD_ENV = "SMTP_SHELL_PASSWORD"


# ---- explanations -----------------------------------------------------------------------------

@meta("explain", ":explain [CODE ...]", "what a reply code or enhanced status code means (default: the last reply)",
      ":explain 5.7.8")
async def _explain(shell, args: str) -> None:
    from smtp_shell.protocol import catalogue
    from smtp_shell.render import render_explanation
    codes = args.split()
    if not codes:
        last = shell.driver.core.last_reply
        if last is None:
            raise ValueError("There is no reply to explain yet; give a code, e.g. :explain 550")
        codes = [str(last.code)] + ([last.enhanced] if last.enhanced else [])
    entries = []
    for code in codes:
        entry = catalogue.lookup(code)
        if entry is None:
            raise ValueError(f"{code!r} is not a reply code (like 550) or an enhanced status code (like 5.7.8)")
        entries.append(entry)
    for entry in entries:
        render_explanation(shell.driver.renderer.console, entry)


@meta("caps", ":caps", "explain each extension the server advertised in its last EHLO reply", ":caps")
async def _caps(shell, args: str) -> None:
    from smtp_shell.protocol.capabilities import describe_change, explain_capability
    core, d = shell.driver.core, shell.driver
    caps = core.capabilities
    if caps is None:
        hint = " again: STARTTLS made the server forget the first one" if core.capabilities_before_tls else " first"
        raise ValueError(f"No capabilities known yet: send EHLO{hint}.")
    if not caps.keywords:
        d.note("the server advertised no extensions (HELO never does: use EHLO to see them)")
    for keyword in caps.keywords:
        params = caps.params(keyword)
        d.note(f"{' '.join((keyword, *params)):<28} {explain_capability(keyword, params)}")
    if core.tls and core.capabilities_before_tls is not None:
        changes = describe_change(core.capabilities_before_tls, caps)
        d.note("compared with before STARTTLS: " + ("; ".join(changes) if changes else "nothing changed"))


@meta("gloss", ":gloss [on|off]", "show a dim one-line meaning under every reply (no argument: say which)",
      ":gloss on")
async def _gloss(shell, args: str) -> None:
    choice = args.lower()
    if choice not in ("on", "off", ""):
        raise ValueError("Say :gloss on or :gloss off")
    if choice:
        shell.driver.renderer.gloss = choice == "on"
    shell.driver.note(f"glosses are {'on' if shell.driver.renderer.gloss else 'off'}")


@meta("wire", ":wire [on|off]", "show every line as the bytes sent and received: CR LF as ␍␊, trailing spaces, "
      "UTF-8 in hex, dot-stuffing, the TLS boundary", ":wire on")
async def _wire(shell, args: str) -> None:
    choice = args.lower().strip()
    if choice not in ("on", "off", ""):
        raise ValueError("Say :wire on or :wire off")
    if choice:
        shell.driver.wire = choice == "on"
    shell.driver.note(f"wire view is {'on: each line below shows its bytes, ␍␊ is the CR LF that ends it' if shell.driver.wire else 'off'}")


# ---- encodings ----------------------------------------------------------------------------------

@meta("b64", ":b64 TEXT", "base64-encode text and show both forms (for AUTH by hand)", ":b64 student")
async def _b64(shell, args: str) -> None:
    from smtp_shell.protocol.sasl import REDACTED, b64encode_text
    if not args:
        raise ValueError("Give the text to encode, e.g. :b64 student (for a password, :auth login hides it)")
    # The text may well be a password (lesson 5 has students encode theirs): on screen only.
    shell.driver.note_private(f"{b64encode_text(args)} is base64 for {args!r}", f":b64 {REDACTED}")


@meta("unb64", ":unb64 BASE64", "decode base64 (a 334 challenge, say) and show both forms", ":unb64 VXNlcm5hbWU6")
async def _unb64(shell, args: str) -> None:
    from smtp_shell.protocol.sasl import REDACTED, SaslError, b64decode_text
    if not args:
        raise ValueError("Give the base64 to decode, e.g. :unb64 VXNlcm5hbWU6")
    try:
        decoded = b64decode_text(args)
    except SaslError as exc:  # the message quotes the text: on screen only
        shell.driver.fail_private(str(exc), "Usage: :unb64 BASE64", f":unb64 {REDACTED}: not base64")
        return
    shell.driver.note_private(f"{args} is base64 for {decoded!r}" + (" (text separated by NUL: an AUTH PLAIN response)"
                                                                      if "\x00" in decoded else ""),
                              f":unb64 {REDACTED}")


# ---- :auth ------------------------------------------------------------------------------------------

async def _password(shell) -> str:
    if shell.interactive and shell.ask is not None:
        answer = await shell.ask("Password (not shown): ", True)
        if answer is None:
            raise ValueError("Login cancelled; nothing was sent.")
        return answer
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    raise ValueError(f"In batch mode :auth takes the password from the environment variable {PASSWORD_ENV}, which is not set.")


async def _advised(shell, line: str) -> bool:
    """Show the advisor's warnings for `line`; at the keyboard, let the student stop. True: go on."""
    advice = shell.driver.advise(line)
    shell.driver.warn_advice(advice)
    if advice and shell.interactive and (shell.confirm is not None or shell.ask is not None):
        question = "Press Enter to go on anyway, or any other key to stop: "
        # only a bare Enter goes on
        go = ((await shell.confirm(question))[0] == "send" if shell.confirm is not None
              else await shell.question(question) == "")
        if not go:
            shell.driver.note("not sent")
            return False
    return True


@meta("auth", ":auth plain|login [USER]", "log in step by step: asks the password (hidden), encodes and sends each line",
      ":auth login student", command_only=True)
async def _auth(shell, args: str) -> None:
    from smtp_shell.protocol.sasl import REDACTED, b64encode_text, plain_initial_response
    d = shell.driver
    words = args.split()
    if not words or words[0].lower() not in ("plain", "login") or len(words) > 2:
        raise ValueError("Say which mechanism: :auth login [USER] or :auth plain [USER]")
    if d.core.mode != "command":
        raise ValueError("Finish the message or AUTH exchange in progress first.")
    mech = words[0].upper()
    user = words[1] if len(words) == 2 else None
    if user is None:
        if not (shell.interactive and shell.ask):
            raise ValueError("In batch mode give the user name: :auth login USER")
        user = (await shell.ask("Username: ", False) or "").strip()
        if not user:
            raise ValueError("Login cancelled: no user name given.")
    if not await _advised(shell, f"AUTH {mech}"):
        return
    password = await _password(shell)
    if mech == "PLAIN":
        d.note(f"{REDACTED} is base64 for NUL {user!r} NUL the password (hidden): the AUTH PLAIN response")
        event = await d.send(f"AUTH PLAIN {plain_initial_response(user, password)}")
    else:
        event = await d.send("AUTH LOGIN")
        if event is not None and event.reply.code == 334:
            d.note(f"{b64encode_text(user)} is base64 for {user!r}")
            event = await d.send(b64encode_text(user))
        if event is not None and event.reply.code == 334 and not event.wants_secret:
            # "Username:" again: the password must not go out as a user name (nor be logged as one).
            d.fail("The server asked for the user name again instead of the password, so the password was "
                   "not sent; AUTH is cancelled with '*'.", "Check the user name, or try :auth plain.")
            event = await d.send("*")
        elif event is not None and event.reply.code == 334:
            d.note(f"{REDACTED} is base64 for the password (hidden)")
            event = await d.send(b64encode_text(password))
    if event is not None and event.reply.klass == 2:
        d.note(f"logged in as {user}")


# ---- :date ------------------------------------------------------------------------------------------

def now() -> datetime:
    """The current moment, aware (the one clock the helpers read; tests may replace it)."""
    return datetime.now(UTC)


@meta("date", ":date [ZONE]", "an RFC 5322 Date header for now (local zone, or ZONE), part by part",
      ":date Europe/Paris")
async def _date(shell, args: str) -> None:
    from smtp_shell.protocol.dates import explain_date, rfc5322_date
    value = rfc5322_date(now(), args.strip() or None)  # ValueError names an unknown zone
    d = shell.driver
    d.note(f"Date: {value}")
    for part, meaning in explain_date(value):
        d.note(f"  {part:<10} {meaning}")


# ---- :compose -------------------------------------------------------------------------------------

_BASE64_LINE = re.compile(rb"[A-Za-z0-9+/]{40,}={0,2}")


def show_wire(console, wire: bytes) -> None:
    """The message as it will go on the wire, long runs of encoded lines elided, every line shown safely."""
    lines = wire.split(b"\r\n")[:-1]

    def emit(raw: bytes) -> None:
        line = Text("  │ ")
        line.append_text(visible(raw.decode("utf-8", "replace")))
        console.print(line, soft_wrap=True)

    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and _BASE64_LINE.fullmatch(lines[j]):
            j += 1
        if j - i > 4:
            for raw in lines[i:i + 3]:
                emit(raw)
            console.print(Text(f"  │ … {j - i - 3} more lines like these …", style="italic"))
            i = j
        else:
            emit(lines[i])
            i += 1


async def _ask_lines(shell, prompt: str) -> list[str] | None:
    """Lines until a lone '.', or None if the student cancelled."""
    lines: list[str] = []
    while True:
        answer = await shell.ask(prompt, False)
        if answer is None:
            return None
        if answer == ".":
            return lines
        lines.append(answer)


async def _ask_draft(shell):
    from smtp_shell.protocol import message as m
    ask, remembered = shell.ask, shell.compose_from

    async def field(prompt: str, check=None, default: str = "") -> str | None:
        while True:
            answer = await ask(prompt + (f" [{default}]" if default else "") + ": ", False)
            if answer is None:
                return None
            answer = answer.strip() or default
            try:
                if check:
                    check(answer)
                return answer
            except ValueError as exc:
                shell.driver.fail(str(exc))

    sender = await field("From", m.parse_addresses, remembered)
    to = sender and await field("To (comma-separated)", m.parse_addresses)
    subject = to and await field("Subject")
    body = None if subject is None else await _ask_lines(shell, "body (a lone . ends)> ")
    html = None if body is None else await field("HTML version too? [y/N]")
    if html is not None and html.lower() in ("y", "yes"):
        html = await _ask_lines(shell, "html (a lone . ends)> ")
        html = None if html is None else "\n".join(html) + "\n"
    else:
        html = "" if html is not None else None
    if html is None:
        return None
    attachments = []
    while True:
        paths = await field("Attach files (paths, comma-separated; Enter for none)")
        if paths is None:
            return None
        try:
            for raw in filter(None, (p.strip() for p in paths.split(","))):
                path = Path(raw).expanduser()
                attachments.append(m.Attachment(path.name, path.read_bytes()))
            break
        except OSError as exc:
            attachments = []
            shell.driver.fail(f"Cannot read {exc.filename}: {exc.strerror}; give the paths again.")
    shell.compose_from = sender
    return m.Draft(sender, (to,), subject, "\n".join(body) + "\n", html, tuple(attachments))


def _what_to_type(shell, draft) -> None:
    """Tell the student which commands to type before `:compose send`, asking the state table."""
    from smtp_shell.protocol import advisor
    from smtp_shell.protocol import message as m
    d = shell.driver
    commands = m.envelope_commands(draft)
    steps = advisor.steps_to(advisor.projected_state(d.core), "DATA") if d.connected else None
    if steps is None:
        commands = [":reconnect", "EHLO <your-domain>", *commands]
    else:
        commands = [c for c in commands if c.split()[0] in steps or c == "DATA"]
        if {"EHLO", "HELO"} & set(steps):
            commands.insert(0, "EHLO <your-domain>")
    d.note("to send it, type: " + "  |  ".join(commands) + "  |  then :compose send")


async def _send_composed(shell, wire: bytes) -> None:
    from smtp_shell.protocol.commands import DotStuffer
    d = shell.driver
    lines = wire.decode("utf-8").split("\r\n")[:-1]
    shown = lines if len(lines) <= SHOW_LINES else lines[:SHOW_LINES // 2]
    for line in shown:
        if d.core.mode != "data":
            return
        await d.send(line)
    rest = lines[len(shown):]
    if rest:
        stuffer = DotStuffer()
        if not await d.send_raw(stuffer.feed(("\r\n".join(rest) + "\r\n").encode("utf-8"))):
            return
        d.note(f"… {len(rest)} more lines sent without showing them ({stuffer.stuffed_lines} dot-stuffed)")
    event = await d.send(".")
    if event is not None and event.reply.klass == 2:
        d.note("the composed message was accepted")
        shell.composed = None


@meta("compose", ":compose [send|show|forget]",
      "build a MIME message (UTF-8, HTML, attachments), show it as sent; after DATA's 354 send it",
      ":compose", interactive_only=True)
async def _compose(shell, args: str) -> None:
    from smtp_shell.protocol import message as m
    from smtp_shell.protocol.dates import rfc5322_date
    d, sub = shell.driver, args.strip().lower()
    kept = shell.composed
    if sub not in ("", "send", "show", "forget"):
        raise ValueError("Say :compose, :compose send, :compose show or :compose forget")
    if sub == "forget":
        shell.composed = None
        d.note("the composed message is forgotten")
        return
    if sub in ("send", "show") and kept is None:
        raise ValueError("Nothing composed yet: type :compose first")
    if sub == "" and kept is not None and d.core.mode == "data":
        answer = await shell.ask(f"Send the message composed earlier ({kept[0].subject!r})? [Y/n] ", False)
        sub = "send" if answer is not None and answer.strip().lower() in ("", "y", "yes") else ""
    if sub == "":
        draft = await _ask_draft(shell)
        if draft is None:
            d.note("compose cancelled; nothing was sent")
            return
        msg = m.build(draft, rfc5322_date(now()), m.message_id(draft.sender, secrets.token_hex(8)))
        kept = shell.composed = (draft, m.to_wire(msg), m.mime_tree(msg))
        sub = "show+"
    draft, wire, tree = kept
    if sub.startswith("show"):
        d.note(f"the message, exactly as it goes on the wire ({len(wire)} bytes):")
        show_wire(d.renderer.console, wire)
        d.note("MIME structure: " + "  ".join(f"[{line.strip()}]" if i else line for i, line in enumerate(tree)))
        if m.needs_smtputf8(draft):
            caps = d.core.capabilities
            offered = "this server advertised it" if caps and caps.has("SMTPUTF8") else \
                "this server did not advertise it, so it will likely refuse"
            d.note(f"an address is not ASCII: send MAIL FROM:<...> SMTPUTF8 ({offered})")
    if d.core.mode == "data" and sub in ("send", "show+"):
        await _send_composed(shell, wire)
    else:
        _what_to_type(shell, draft)


# ---- :send FILE -------------------------------------------------------------------------------------

@meta("send", ":send FILE", "stream a message file (.eml) as the DATA body, dot-stuffed, after DATA's 354",
      ":send report.eml")
async def _send(shell, args: str) -> None:
    from smtp_shell.protocol.capabilities import human_size
    from smtp_shell.protocol.commands import DotStuffer
    d = shell.driver
    if not args:
        raise ValueError("Give the file to send, e.g. :send message.eml")
    path = Path(args.strip()).expanduser()
    try:
        size = path.stat().st_size
        handle = path.open("rb")
    except OSError as exc:
        raise ValueError(f"Cannot read {args.strip()}: {exc.strerror}.") from None
    with handle:
        if d.core.mode != "data":
            raise ValueError("Type MAIL FROM, RCPT TO and DATA first: :send streams the message after the 354.")
        limit = d.core.capabilities.size if d.core.capabilities else None
        if limit and size > limit:
            d.warn(f"the file is {human_size(size)} and the server's SIZE limit is {human_size(limit)}: expect a 552")
        stuffer = DotStuffer()
        progress = _progress(d, size)
        task = progress.add_task(path.name, total=size) if progress else None
        try:
            if progress:
                progress.start()
            while block := handle.read(BLOCK):
                if not await d.send_raw(stuffer.feed(block)):
                    return
                if progress:
                    progress.advance(task, len(block))
            if not await d.send_raw(stuffer.finish()[:-3]):  # the tail, without ".\r\n": sent as a line below
                return
        finally:
            if progress:
                progress.stop()
    d.note(f"streamed {path.name}: {human_size(size)}, {stuffer.lines} lines, {stuffer.stuffed_lines} dot-stuffed")
    await d.send(".")


# ---- :bdat FILE ---------------------------------------------------------------------------------

@meta("bdat", ":bdat FILE [--chunk SIZE]", "send a message file as BDAT chunks, the last with LAST (CHUNKING, RFC 3030)",
      ":bdat report.eml --chunk 4096", command_only=True)
async def _bdat(shell, args: str) -> None:
    import shlex

    from smtp_shell.protocol.capabilities import human_size
    d = shell.driver
    words = shlex.split(args)
    chunk = BLOCK
    if "--chunk" in words:
        i = words.index("--chunk")
        if i + 1 >= len(words) or not words[i + 1].isdigit() or int(words[i + 1]) < 1:
            raise ValueError("Give the chunk size in octets after --chunk, e.g. --chunk 4096")
        chunk = int(words[i + 1])
        del words[i:i + 2]
    if len(words) != 1:
        raise ValueError("Give one file to send, e.g. :bdat message.eml")
    path = Path(words[0]).expanduser()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"Cannot read {words[0]}: {exc.strerror}.") from None
    caps = d.core.capabilities
    if caps is not None and not caps.has("CHUNKING"):
        d.warn("the server did not advertise CHUNKING, so it will most likely refuse BDAT (use DATA and :send)")
    # BDAT carries the message as it is: no dot-stuffing, but lines must end in CRLF (RFC 3030 §2).
    data = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    if data != raw:
        d.note("the file's line ends were turned into CRLF, as BDAT requires")
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] or [b""]
    for n, piece in enumerate(pieces, 1):
        last = n == len(pieces)
        event = await d.send(f"BDAT {len(piece)}{' LAST' if last else ''}")
        if piece:
            if d.core.mode != "bdat" or not await d.send_raw_chunk(piece):
                return  # not sent (refused locally, or the connection is gone): said already
            event = await d.wait_last()
        if event is None or event.reply.klass != 2:
            d.note(f"BDAT chunk {n} of {len(pieces)} was not accepted, so the rest of {path.name} was not sent")
            return
    d.note(f"sent {path.name} as {len(pieces)} BDAT chunk(s): {human_size(len(data))}")


def _progress(driver, size: int):
    """A rich progress bar for large files, only on a terminal."""
    console = driver.renderer.console
    if not console.is_terminal or size < 4 * BLOCK:
        return None
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                    console=console, transient=True)
