"""The `smtp-shell lab` and `smtp-shell mailbox` commands: what the user sees on the terminal.

`run_lab` starts a LabServer in the foreground, prints how to reach it (address, certificate
and fingerprint, accounts, mailbox) and stops it cleanly on Ctrl-C. `run_mailbox` lists what
arrived or shows one message with decoded headers and its MIME tree. All text that came from
a client is passed to rich as `Text` (never as markup) and with control characters escaped.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from smtp_shell import paths
from smtp_shell.address import format_hostport, is_loopback, parse_hostport
from smtp_shell.lab.safetext import visible
from smtp_shell.status import ExitStatus, fail


def _console(wide: bool = False, soft_wrap: bool = False) -> Console:
    console = Console(highlight=False, markup=False, emoji=False, soft_wrap=soft_wrap)
    if wide and not console.is_terminal:
        console.width = max(console.width, 160)  # piped or captured output: do not squeeze tables
    return console


def parse_listen(text: str, default_port: int = 8025) -> tuple[str, int]:
    """`HOST`, `HOST:PORT`, `[::1]:PORT` for --listen; port 0 means any free port."""
    try:
        return parse_hostport(text, default_port, port_zero_ok=True)
    except ValueError as exc:
        raise ValueError(f"--listen: {exc}") from None


# -- smtp-shell lab --------------------------------------------------------------------------
def run_lab(args) -> int:
    from smtp_shell.lab.accounts import AccountError, parse_user, read_user_file
    from smtp_shell.lab.classroom import Classroom, ClassroomError
    from smtp_shell.lab.faults import Faults, FaultsError
    from smtp_shell.lab.server import LabConfig, LabError, LabServer

    try:
        host, port = parse_listen(args.listen)
        users = read_user_file(args.user_file) if getattr(args, "user_file", None) else {}
        users.update(parse_user(u) for u in args.user)
        faults = Faults.from_toml(args.faults) if args.faults else Faults()
        classroom = Classroom.from_args(args)
        users = {**classroom.users, **users}
    except (ValueError, AccountError, FaultsError, ClassroomError) as exc:
        return fail(str(exc))
    if args.tls_port is not None and not 0 <= args.tls_port <= 65535:
        return fail(f"--tls-port {args.tls_port} is not a port; use 0 to 65535, e.g. --tls-port 8465")
    out = _console(soft_wrap=True)  # paths and fingerprints stay on one line, copyable
    config = LabConfig(host=host, port=port, tls_port=args.tls_port, mailbox=args.mailbox, users=users,
                       allow_plain_auth=args.allow_plain_auth, faults=faults, profile=args.profile)
    if getattr(args, "max_sessions", None):
        config.max_sessions = max(1, args.max_sessions)
    if getattr(args, "max_per_address", None):
        config.max_per_address = max(1, args.max_per_address)
    try:
        printer = _EventPrinter(out)
        server = LabServer(config, on_event=printer)
        classroom.attach(server)
        server.start()
    except LabError as exc:
        return fail(str(exc))
    try:
        classroom.start(server)
    except ClassroomError as exc:
        server.stop()
        return fail(str(exc))
    try:
        _banner(out, server, config, classroom.banner())
        stopped = threading.Event()
        while not stopped.wait(0.5):  # a timed wait keeps Ctrl-C working on Windows too
            pass
    except KeyboardInterrupt:
        pass
    finally:
        classroom.stop()
        server.stop()
        printer.flush()
    out.print(f"\nlab server stopped ({server.messages_saved} message file(s) saved this run); goodbye.")
    return ExitStatus.OK


def _banner(out: Console, server, config, extra: list[str] | tuple[str, ...] = ()) -> None:
    address = format_hostport(server.host, server.port)
    out.print(Text(f"smtp-shell lab server listening on {address} (SMTP with STARTTLS)", style="bold"))
    if server.tls_port is not None:
        out.print(f"implicit TLS on {format_hostport(server.host, server.tls_port)}")
    if not is_loopback(server.host):
        out.print(Text(f"warning: {address} is reachable by other machines on the network; "
                       f"anyone who can reach it can connect and send mail to this lab server.", style="yellow"))
    out.print(f"certificate: {server.cert_path}")
    out.print(f"SHA-256 fingerprint: {server.fingerprint}")
    if server.accounts.is_default:
        out.print(f"account: {server.default_account_hint()}")
    else:
        out.print("accounts: " + ", ".join(server.accounts.names) + " (passwords as given with --user)")
    out.print("AUTH: " + ("allowed without TLS (--allow-plain-auth): passwords cross the network readable"
                          if config.allow_plain_auth else "only after STARTTLS (or on the implicit TLS port)"))
    out.print(f"mailbox: {server.mailbox}")
    out.print(f"session logs: {server.log_dir}")
    active = config.faults.active()
    if active:
        out.print(Text("scripted faults: " + "; ".join(visible(a) for a in active), style="magenta"))
    for line in extra:  # the classroom: roster, web view
        out.print(line)
    out.print(f"try: smtp-shell connect {address} --cafile {server.cert_path}")
    out.print("Press Ctrl-C to stop.")


# -- smtp-shell mailbox ----------------------------------------------------------------------
def run_mailbox(args) -> int:
    from smtp_shell.lab.mailbox import Mailbox, MailboxError

    positional = list(args.args)
    show_id = None
    if "show" in positional[:2]:
        at = positional.index("show")
        if len(positional) != at + 2:
            return fail("`mailbox show` needs one message ID, e.g. smtp-shell mailbox show 3")
        show_id = positional[at + 1]
        positional = positional[:at]
    if len(positional) > 1:
        return fail("give at most one mailbox folder, or `show ID`; see smtp-shell mailbox --help")
    root = Path(positional[0]) if positional else args.mailbox or paths.default_mailbox()
    if not root.is_dir():
        return fail(f"there is no mailbox folder {root}; start `smtp-shell lab` and send a message, "
                     f"or give the folder with --mailbox DIR")
    mailbox = Mailbox(root)
    if show_id is None:
        return _list(mailbox)
    if show_id.endswith(".eml") and Path(show_id).is_file():
        from smtp_shell.lab.mailbox import StoredMessage

        return _show(StoredMessage(Path(show_id)), None)
    try:
        row, message = mailbox.find(show_id)
    except MailboxError as exc:
        return fail(str(exc))
    return _show(message, row)


def _list(mailbox) -> int:
    from smtp_shell.lab.messages import summarize

    out = _console(wide=True)
    messages = mailbox.messages()
    if not messages:
        out.print(f"No messages in {mailbox.root} yet; send one to the lab server (smtp-shell lab).")
        return ExitStatus.OK
    table = Table(title=Text(f"{len(messages)} message(s) in {mailbox.root}"), show_lines=False)
    for column in ("#", "ID", "time", "from", "to", "subject", "size", "TLS", "user"):
        table.add_column(column, justify="right" if column in ("#", "size") else "left", overflow="fold",
                         no_wrap=column in ("#", "ID", "time", "size", "TLS"),
                         min_width=12 if column in ("from", "to", "subject") else None)
    for row, message in enumerate(messages, 1):
        try:
            s = summarize(message)
        except OSError as exc:
            table.add_row(str(row), Text(visible(message.id)), Text(f"(unreadable: {exc.strerror})"))
            continue
        table.add_row(str(row), Text(visible(s.id)), Text(visible(s.received)), Text(visible(s.sender)), Text(visible(s.recipient)),
                      Text(visible(s.subject)), str(s.size), Text(visible(s.tls)), Text(visible(s.user)))
    out.print(table)
    out.print("Show one with: smtp-shell mailbox show ID (or its row number)")
    return ExitStatus.OK


def _show(message, row) -> int:
    """One message; a message nested too deeply for the parser is one sentence (the mailbox
    holds what a client sent, so it may be built to break the parser)."""
    try:
        return _show_parsed(message, row)
    except RecursionError:
        return fail(f"message {visible(message.id)} nests its MIME parts too deeply to show; "
                    f"it was kept as sent in {visible(str(message.path))}")


def _show_parsed(message, row) -> int:
    from smtp_shell.lab.messages import attachments, body_text, header_text, outline

    out = _console()
    try:
        msg = message.parse()
    except OSError as exc:
        return fail(f"cannot read {message.path} ({exc.strerror}); check the file's permissions")
    title = f"message {visible(message.id)}" + (f" (row {row})" if row else "")
    out.print(Text(title, style="bold"))
    out.print(Text(f"file: {visible(str(message.path))}", style="dim"))
    out.rule("headers (decoded)")
    for name in dict.fromkeys(msg.keys()):
        for value in msg.get_all(name, []) or []:
            try:
                shown = " ".join(str(value).split())
            except Exception:
                shown = header_text(msg, name)
            line = Text()
            line.append(visible(name) + ": ", style="bold cyan")
            line.append(visible(shown))
            out.print(line)
    out.rule("MIME structure")
    root_part = outline(msg)
    tree = Tree(_part_label(root_part))
    _grow(tree, root_part)
    out.print(tree)
    found = attachments(root_part)
    if found:
        out.rule("attachments")
        table = Table()
        for column in ("filename", "type", "size"):
            table.add_column(column)
        for part in found:
            table.add_row(Text(visible(part.filename or "(no name)")), Text(visible(part.content_type)),
                          "?" if part.size is None else str(part.size))
        out.print(table)
    text = body_text(msg)
    if text is not None:
        out.rule("body")
        out.print(Text(visible(text, keep_newlines=True)))
    return ExitStatus.OK


def _part_label(part) -> Text:
    label = Text(visible(part.content_type), style="bold")
    if part.details:  # charset, transfer encoding: written by the sender, so escaped
        label.append(f"  {visible(part.details)}", style="dim")
    if part.filename:
        label.append(f"  {visible(part.filename)}", style="green")
    if part.size is not None:
        label.append(f"  {part.size} bytes", style="dim")
    return label


def _grow(tree: Tree, part) -> None:
    for child in part.children:
        _grow(tree.add(_part_label(child)), child)


class _EventPrinter:
    """What the lab server calls for each event (a message saved), from its own thread. Events
    are printed in bursts, at most FLUSH seconds after they happen (one write, or one rich print
    on a terminal, for all the messages of a busy moment instead of one per message); `flush()`
    prints what is waiting (the lab command calls it once the server has stopped)."""

    FLUSH = 0.1

    def __init__(self, out) -> None:
        self.out = out
        self._pending: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, text: str) -> None:
        with self._lock:
            self._pending.append(visible(text))
            first = len(self._pending) == 1
        if first:
            try:
                asyncio.get_running_loop().call_later(self.FLUSH, self.flush)
            except RuntimeError:  # not called from an event loop: print at once
                self.flush()

    def flush(self) -> None:
        with self._lock:
            lines, self._pending = self._pending, []
        if not lines:
            return
        if self.out.is_terminal:
            self.out.print(Text("\n".join(lines), style="dim"))
        else:  # plain text written directly (rich per message would slow a busy classroom server down)
            self.out.file.write("".join(line + "\n" for line in lines))
            self.out.file.flush()
