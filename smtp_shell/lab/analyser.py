"""The server-side session analyser: what a client did, judged from what the server saw.

Pure (no I/O, no clock): it gets the session as a list of `Event`s — each chunk of bytes the
client sent (as received, decrypted after STARTTLS), each reply line the server sent, the
start of TLS, the close — and replays it the way aiosmtpd reads it: a command or an AUTH
answer is one line up to LF, the message text runs up to CRLF.CRLF, and each reply answers
the unit the server read just before it. Because every chunk is stamped with how many replies
the client had been sent when it arrived, the analyser also knows who did not wait.

The result is an `Analysis`: findings (rule + exact evidence, see findings.py), how far the
session got (greeted → EHLO → TLS → AUTH → MAIL → RCPT → DATA → accepted), the error replies,
the messages, and the session's lines with secrets masked — the same object feeds the
check-client rubric, the live session view and the class board.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

from smtp_shell.lab.findings import Finding, visible_bytes
from smtp_shell.lab.messagecheck import MessageFacts, check_message
from smtp_shell.lab.safetext import visible

STAGES = ("greeted", "EHLO", "TLS", "AUTH", "MAIL", "RCPT", "DATA", "accepted")
GROUP_ENDERS = {"EHLO", "HELO", "STARTTLS", "AUTH", "auth answer", "DATA", "QUIT", "NOOP"}
MASK = "***"
SHOWN_MESSAGE_LINES = 500  # message lines kept in Analysis.lines (all are checked)
MAX_SHOWN = 300            # characters of one line kept as evidence or for display

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
_ADDRESS_LITERAL = re.compile(r"^\[(?:\d{1,3}(?:\.\d{1,3}){3}|IPv6:[0-9A-Fa-f:.]+)\]$")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_PATH_REST = re.compile(r"^<([^<>\s]*)>((?: [A-Za-z0-9][A-Za-z0-9-]*(?:=\S+)?)*)$")


@dataclass(frozen=True)
class Event:
    kind: str                # "client" (bytes), "server" (one reply line, str), "tls", "close"
    data: bytes | str = b""
    at: float = 0.0          # seconds since the session started (kept for display only)


@dataclass(frozen=True)
class Line:
    who: str     # "C" client, "S" server, "--" a note
    text: str    # visible, secrets masked
    tls: bool
    number: int


@dataclass
class Analysis:
    findings: list[Finding] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)   # "RCPT TO:<x> -> 550 ..." (masked)
    messages: list[MessageFacts] = field(default_factory=list)
    user: str | None = None
    tls: bool = False
    ehlo: str | None = None
    ehlo_under_tls: bool = False
    quit: bool = False
    closed: bool = False
    said_anything: bool = False

    @property
    def progress(self) -> str:
        return self.stages[-1] if self.stages else "connected"

    def rules(self) -> set[str]:
        return {f.rule for f in self.findings}


class _Inbox:
    """The client's bytes not yet read by the server, each chunk stamped with the replies sent."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.marks: list[tuple[int, int]] = []  # (end offset, replies sent when it arrived)

    def add(self, data: bytes, replies: int) -> None:
        self.buffer += data
        self.marks.append((len(self.buffer), replies))

    def _take(self, length: int) -> tuple[bytes, int]:
        tag = self.marks[0][1]
        chunk = bytes(self.buffer[:length])
        del self.buffer[:length]
        self.marks = [(end - length, r) for end, r in self.marks if end > length]
        return chunk, tag

    def line(self) -> tuple[bytes, int] | None:
        end = self.buffer.find(b"\n")
        return None if end < 0 else self._take(end + 1)

    def data(self) -> tuple[bytes, int] | None:
        if self.buffer.startswith(b".\r\n"):
            return self._take(3)
        end = self.buffer.find(b"\r\n.\r\n")
        return None if end < 0 else self._take(end + 5)

    def clear(self) -> bytes:
        rest, self.buffer, self.marks = bytes(self.buffer), bytearray(), []
        return rest


def _shown(raw: bytes) -> str:
    """A line as evidence: its CRLF dropped, anything else (a bare LF, a CR) shown visibly."""
    return visible_bytes(raw[:-2] if raw.endswith(b"\r\n") else raw)


def _decode_b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


@dataclass
class _Unit:
    kind: str          # the verb, "auth answer", "message" or "greeting"
    raw: bytes
    number: int        # the line number in Analysis.lines
    reply_no: int
    arg: str = ""
    tag: int = 0
    reply: list[str] = field(default_factory=list)


class _Walker:
    def __init__(self, seen_message_ids) -> None:
        self.a = Analysis()
        self.class_ids = seen_message_ids  # the class's (read when a message arrives; may grow)
        self.seen_ids: set[str] = set()     # this session's
        self.inbox = _Inbox()
        self.replies = 0                # final reply lines sent so far
        self.mode = "command"           # command, auth, data, tls-wait
        self.unit: _Unit | None = None  # the unit the current reply answers
        self.kinds: dict[int, str] = {}  # reply number -> the kind of unit it answered
        self.capabilities: set[str] = set()
        self.need_ehlo = False
        self.auth_mechanism = ""
        self.auth_secret_next = False
        self.auth_user: str | None = None
        self.mail_params: set[str] = set()
        self.in_reply = False
        self.starttls_reply = ""
        self.once: set[str] = set()

    # -- helpers --------------------------------------------------------------------------
    def find(self, rule: str, evidence: str, detail: str = "", line: int = 0, once: bool = False) -> None:
        if once:
            if rule in self.once:
                return
            self.once.add(rule)
        if len(evidence) > MAX_SHOWN:
            evidence = evidence[:MAX_SHOWN] + "…"
        self.a.findings.append(Finding(rule, evidence, detail, line))

    def add_line(self, who: str, text: str) -> int:
        self.a.lines.append(Line(who, text, self.a.tls, len(self.a.lines) + 1))
        return len(self.a.lines)

    def stage(self, name: str) -> None:
        if name not in self.a.stages:
            self.a.stages.append(name)

    # -- events ---------------------------------------------------------------------------
    def client(self, data: bytes) -> None:
        if data:
            self.a.said_anything = True
        if self.mode == "tls-wait":
            for raw in data.splitlines(keepends=True):
                number = self.add_line("C", _shown(raw))
                self.find("starttls-injection", f"C: {_shown(raw)}", line=number, once=True)
            return
        self.inbox.add(data, self.replies)

    def server(self, text: str) -> None:
        if not self.in_reply:
            self.unit = self.read_unit(text)
        number = self.add_line("S", visible(text))
        if self.unit is not None:
            self.unit.reply.append(text)
        self.in_reply = text[3:4] == "-"
        if self.in_reply:
            return
        self.replies += 1
        unit, self.unit = self.unit, None
        if unit is None:
            return
        self.kinds[self.replies] = unit.kind
        self.answered(unit, text, number)

    def tls(self) -> None:
        self.a.tls = True
        self.stage("TLS")
        self.mode = "command"
        self.inbox.clear()
        self.capabilities = set()
        self.need_ehlo = True
        self.add_line("--", "TLS started; the lines below were encrypted on the wire")

    def close(self) -> None:
        if self.mode == "tls-wait":
            self.find("tls-not-completed", f"S: {visible(self.starttls_reply)}",
                      "the connection closed after the 220 without a successful TLS handshake: "
                      "does your client trust the lab's CA file?")
        rest = self.inbox.clear()
        if self.mode == "data" and rest:
            self.message(rest, self.replies + 1, accepted=False)
            self.find("data-unfinished", f"C: {_shown(rest.splitlines(keepends=True)[-1])}",
                      "the server was still waiting for a line with only '.' when the connection closed")
        elif rest:
            number = self.add_line("C", _shown(rest))
            self.command_line_checks(rest, number)
            if not rest.endswith(b"\n"):
                self.find("no-line-end", f"C: {_shown(rest)}", line=number)
        self.a.closed = True
        self.add_line("--", "connection closed")

    # -- reading units the way the server does ---------------------------------------------
    def read_unit(self, reply: str) -> _Unit | None:
        reply_no = self.replies + 1
        if reply_no == 1:  # the server speaks first, whatever the client did
            return _Unit("greeting", b"", 0, reply_no)
        if self.mode == "data":
            got = self.inbox.data()
            if got is None:
                return None
            raw, tag = got
            self.waited(tag, reply_no, "message", raw.split(b"\r\n", 1)[0] + b"\r\n", 0)
            self.message(raw, reply_no, accepted=reply.startswith("250"))
            return _Unit("message", raw, len(self.a.lines), reply_no, tag=tag)
        got = self.inbox.line()
        if got is None:
            return None  # a reply nobody asked for: an idle timeout, a shutdown notice
        raw, tag = got
        if self.mode == "auth":
            number = self.add_line("C", MASK)
            self.waited(tag, reply_no, "auth answer", raw, number, MASK)
            self.auth_answer(raw, number)
            return _Unit("auth answer", raw, number, reply_no, tag=tag)
        text = raw.rstrip(b"\r\n").decode("utf-8", "surrogateescape")
        verb, _, arg = text.partition(" ")
        verb = verb.upper()
        shown = self.masked(verb, arg, raw)
        number = self.add_line("C", shown)
        self.command_line_checks(raw, number, shown)
        self.waited(tag, reply_no, verb, raw, number, shown)
        self.command(verb, arg, raw, number, shown)
        return _Unit(verb, raw, number, reply_no, arg, tag=tag)

    def masked(self, verb: str, arg: str, raw: bytes) -> str:
        if verb == "AUTH":
            parts = arg.split()
            if len(parts) >= 2:
                return visible(f"AUTH {parts[0]} {MASK}")
        return _shown(raw)

    def command_line_checks(self, raw: bytes, number: int, shown: str | None = None) -> None:
        evidence = f"C: {shown or _shown(raw)}"
        if raw.endswith(b"\n") and not raw.endswith(b"\r\n"):
            self.find("bare-lf", evidence, line=number, once=True)
        if b"\r" in (raw[:-2] if raw.endswith(b"\r\n") else raw.rstrip(b"\n")):
            self.find("bare-cr", evidence, line=number, once=True)
        if len(raw) > 512:
            self.find("command-too-long", f"C: {(shown or _shown(raw))[:80]}…", f"{len(raw)} octets", number)

    def waited(self, tag: int, reply_no: int, kind: str, raw: bytes, number: int, shown: str | None = None) -> None:
        if tag >= reply_no - 1:
            return
        evidence = f"C: {shown or _shown(raw)}"
        if tag == 0:
            self.find("early-talker", evidence, "it arrived before the server's 220 greeting", number, once=True)
            return
        unseen = [self.kinds.get(n, "?") for n in range(tag + 1, reply_no)]
        if kind == "message" and unseen[-1:] == ["DATA"]:
            self.find("data-before-354", evidence, line=number, once=True)
            return
        enders = [k for k in unseen if k in GROUP_ENDERS]
        if enders:
            self.find("no-wait", evidence, f"sent before the reply to {enders[0]} had arrived", number, once=True)
        elif "PIPELINING" not in self.capabilities:
            self.find("pipelining-not-offered", evidence,
                      f"sent before the reply to {unseen[0]} had arrived", number, once=True)

    # -- what each command means ---------------------------------------------------------
    def command(self, verb: str, arg: str, raw: bytes, number: int, shown: str) -> None:
        evidence = f"C: {shown}"
        if self.need_ehlo and verb not in ("EHLO", "HELO", "QUIT"):
            self.find("no-ehlo-after-tls", evidence, f"the first command under TLS was {visible(verb)}",
                      number, once=True)
            self.need_ehlo = False
        if verb in ("EHLO", "HELO"):
            self.need_ehlo = False
            self.a.ehlo = visible(arg.strip())
            self.a.ehlo_under_tls = self.a.ehlo_under_tls or self.a.tls
            problem = _ehlo_problem(arg)
            if problem:
                self.find("ehlo-syntax", evidence, problem, number, once=True)
            if verb == "HELO":
                self.find("helo-not-ehlo", evidence, line=number, once=True)
        elif verb == "AUTH":
            if not self.a.tls:
                self.find("auth-before-tls", evidence, line=number, once=True)
            parts = arg.split()
            self.auth_mechanism = parts[0].upper() if parts else ""
            if len(parts) >= 2:
                self.auth_secret_next = self.auth_mechanism == "LOGIN"
                self.check_auth_data(parts[1], number, "PLAIN answer" if self.auth_mechanism == "PLAIN"
                                     else "user name", evidence)
        elif verb == "MAIL":
            self.mail_params = set()
            problem = _path_problem(arg, "FROM")
            if problem:
                self.find("mail-syntax", evidence, problem, number)
            else:
                path, params = _PATH_REST.match(arg[5:]).groups()  # type: ignore[union-attr]
                self.mail_params = {p.upper() for p in params.split()}
                if not path.isascii() and "SMTPUTF8" not in self.mail_params:
                    self.find("smtputf8-missing", evidence, line=number)
        elif verb == "RCPT":
            problem = _path_problem(arg, "TO")
            if problem:
                self.find("rcpt-syntax", evidence, problem, number)
            elif not arg.isascii() and "SMTPUTF8" not in self.mail_params:
                self.find("smtputf8-missing", evidence, line=number)
        elif verb == "QUIT":
            self.a.quit = True

    def auth_answer(self, raw: bytes, number: int) -> None:
        text = raw.rstrip(b"\r\n").decode("utf-8", "surrogateescape").strip()
        if text == "*":
            return
        challenge = self.unit_challenge()
        if self.auth_mechanism == "PLAIN":
            what = "PLAIN answer"
        elif "pass" in challenge.lower() or self.auth_secret_next:
            what = "password"
        else:
            what = "user name"
        self.auth_secret_next = what == "user name" and self.auth_mechanism == "LOGIN"
        self.check_auth_data(text, number, what, f"C: {MASK} (the answer to 334 {visible(challenge)})")

    def unit_challenge(self) -> str:
        last = self.a.lines[-2].text if len(self.a.lines) >= 2 else ""
        decoded = _decode_b64(last[4:].strip()) if last.startswith("334") else None
        return decoded.decode("utf-8", "replace") if decoded is not None else ""

    def check_auth_data(self, text: str, number: int, what: str, evidence: str) -> None:
        decoded = _decode_b64(text)
        if decoded is None:
            shown = visible(text) if what == "user name" else f"{len(text)} characters"
            bad = next((c for c in text if not (c.isascii() and (c.isalnum() or c in "+/="))), None)
            why = f"the character {visible(bad)!r} cannot appear in base64" if bad else "the padding or length is wrong"
            self.find("auth-bad-base64", evidence, f"the {what} ({shown}) is not base64: {why}", number)
            return
        if what == "user name":
            self.auth_user = decoded.decode("utf-8", "replace").strip()
        elif what == "PLAIN answer":
            fields = decoded.split(b"\0")
            if len(fields) == 3:
                self.auth_user = fields[1].decode("utf-8", "replace")
        if decoded.endswith(b"\n"):
            ending = visible_bytes(b"\r\n" if decoded.endswith(b"\r\n") else b"\n")
            if what == "user name":
                detail = f"the user name decodes to '{visible_bytes(decoded)}'"
            else:
                detail = f"the {what} decodes to {len(decoded)} bytes ending in '{ending}'"
            self.find("auth-newline", evidence, detail, number, once=True)

    # -- replies -----------------------------------------------------------------------------
    def answered(self, unit: _Unit, final: str, number: int) -> None:
        code = final[:3]
        if unit.kind == "greeting":
            if code == "220":
                self.stage("greeted")
            return
        if code[:1] in ("4", "5"):
            request = MASK if unit.kind == "auth answer" else (
                "(the message)" if unit.kind == "message" else self.a.lines[unit.number - 1].text if unit.number else "")
            self.a.errors.append(f"{request} -> {visible(final)}")
        if unit.kind in ("EHLO", "HELO") and code == "250":
            self.stage("EHLO")
            self.capabilities = {line[4:].split(" ")[0].upper() for line in unit.reply[1:]} if unit.kind == "EHLO" else set()
        elif unit.kind == "STARTTLS" and code == "220":
            self.mode = "tls-wait"
            self.starttls_reply = final
            rest = self.inbox.clear()
            for raw in rest.splitlines(keepends=True):
                line = self.add_line("C", _shown(raw))
                self.find("starttls-injection", f"C: {_shown(raw)}", line=line, once=True)
            return
        elif code == "235":
            self.stage("AUTH")
            self.a.user = self.auth_user
        elif unit.kind in ("AUTH", "auth answer") and code == "535":
            self.find("auth-failed", f"S: {visible(final)}", line=number, once=True)
        elif unit.kind == "MAIL" and code == "250":
            self.stage("MAIL")
        elif unit.kind == "RCPT" and code == "250":
            self.stage("RCPT")
        elif unit.kind == "DATA" and code == "354":
            self.stage("DATA")
        elif unit.kind == "message" and code == "250":
            self.stage("accepted")
            self.a.messages[-1].accepted = True
        if code in ("500", "502") and unit.tag < unit.reply_no - 1 \
                and self.kinds.get(unit.reply_no - 1) == "message":
            self.find("message-ended-early", f"C: {self.a.lines[unit.number - 1].text}",
                      "this line of the message was read as a command", unit.number, once=True)
        self.mode = "auth" if code == "334" else "data" if code == "354" else "command"

    def message(self, raw: bytes, reply_no: int, accepted: bool) -> None:
        lines = raw.split(b"\r\n")
        if lines and lines[-1] == b"":
            lines.pop()
        if lines and lines[-1] == b".":
            lines.pop()
        first = len(self.a.lines) + 1
        for i, line in enumerate(lines):
            if i < SHOWN_MESSAGE_LINES:
                number = self.add_line("C", visible_bytes(line[:MAX_SHOWN]))
            elif i == SHOWN_MESSAGE_LINES:
                number = self.add_line("--", f"({len(lines) - i} more message lines not shown)")
            else:
                number = 0
            if b"\n" in line:
                self.find("bare-lf", f"C: {visible_bytes(line)}", "inside the message text", number, once=True)
            if b"\r" in line:
                self.find("bare-cr", f"C: {visible_bytes(line)}", "inside the message text", number, once=True)
            if len(line) > 998:
                self.find("line-too-long", f"C: {visible_bytes(line[:60])}…", f"{len(line)} characters", number,
                          once=True)
            if line.startswith(b".") and not line.startswith(b"..") and line.rstrip(b"\r\n") != b".":
                self.find("dot-not-stuffed", f"C: {visible_bytes(line)}",
                          "the server removed this leading dot", number, once=True)
        content = b"".join((line[1:] if line.startswith(b".") else line) + b"\r\n" for line in lines)
        found, facts = check_message(content, frozenset(self.mail_params), self.seen_ids | set(self.class_ids))
        self.a.findings += [Finding(f.rule, f.evidence, f.detail, f.line or first) for f in found]
        if facts.message_id:
            self.seen_ids.add(facts.message_id)
        self.a.messages.append(facts)


def _ehlo_problem(arg: str) -> str | None:
    name = arg.strip()
    if not name:
        return "the name is missing"
    if " " in name:
        return f"{visible(name)!r} is more than one word; give one name"
    if _IPV4.match(name):
        return f"an IP address goes in brackets: [{visible(name)}]"
    if _DOMAIN.match(name) or _ADDRESS_LITERAL.match(name):
        return None
    return f"{visible(name)!r} is not a domain name (letters, digits, '-' and '.') or [IP address]"


def _path_problem(arg: str, keyword: str) -> str | None:
    head = keyword + ":"
    if arg[:len(head)].upper() != head:
        return f"the command must go on with {head}<address>"
    rest = arg[len(head):]
    if rest.startswith((" ", "\t")):
        return f"no space is allowed after {head}"
    if not rest.startswith("<"):
        return "the address must be in angle brackets, e.g. <you@example.org>"
    if keyword == "TO" and ("," in rest or rest.count("<") > 1):
        return "one address per RCPT TO; send one RCPT for each recipient"
    if not _PATH_REST.match(rest):
        return "after <address> only parameters such as SIZE=1000 may follow, separated by one space"
    return None


class SessionAnalyser:
    """Incremental: `feed()` each event as it happens; `analysis` is always up to date."""

    def __init__(self, seen_message_ids=frozenset()) -> None:
        self._walker = _Walker(seen_message_ids)

    @property
    def analysis(self) -> Analysis:
        return self._walker.a

    def feed(self, event: Event) -> None:
        walker = self._walker
        if event.kind == "client":
            walker.client(event.data if isinstance(event.data, bytes) else event.data.encode())
        elif event.kind == "server":
            walker.server(event.data if isinstance(event.data, str) else event.data.decode("utf-8", "replace"))
        elif event.kind == "tls":
            walker.tls()
        elif event.kind == "close" and not walker.a.closed:
            walker.close()
            a = walker.a
            if a.said_anything and not a.quit:
                a.findings.append(Finding("no-quit", "(the client closed the connection without QUIT)"))


def analyse(events, seen_message_ids=frozenset()) -> Analysis:
    """Judge one session from its events (see `Event`)."""
    analyser = SessionAnalyser(seen_message_ids)
    for event in events:
        analyser.feed(event)
    return analyser.analysis
