"""`replay --against`: send the client side of a transcript to a live server and compare.

Why this exists: a transcript is also a test. Re-running a student's session against the lab
(or a server after a configuration change) shows at once which step now gets a different
answer. The caller hands in a live session driver (the shell's `SessionDriver`: the real
client, so STARTTLS and pipelining behave as they did); this module only decides what to
send and compares reply codes, pairing the n-th reply of each connection with the n-th
recorded one. Text after the code is not compared (message ids and host names change).

AUTH placeholders are re-created from the secret hint the recorder stored (`login-username`,
`login-password`, `plain-initial`, `plain-response`), the user name and a password the
caller provides: only in the lines the recorder masked itself, and only under TLS
(`credential_problem`); the caller asks before the password is used. DATA lines are skipped
when the server did not go into DATA mode this time.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

from smtp_shell.protocol.sasl import REDACTED
from smtp_shell.transcript.reader import Event, Transcript


@dataclass
class Difference:
    connection: int
    index: int
    after: str            # the client line the reply answered ("(greeting)" for the greeting)
    recorded: str         # "250 2.1.5 Recipient OK"
    live: str             # "550 5.1.1 ..." or "(no reply)"

    def sentence(self) -> str:
        return f"after {self.after}: the recording got {self.recorded}, the server now answers {self.live}"


@dataclass
class Comparison:
    differences: list[Difference] = field(default_factory=list)
    compared: int = 0
    skipped_lines: int = 0

    @property
    def matched(self) -> bool:
        return not self.differences


@dataclass
class _Segment:
    """One connection of the recording: the lines sent and the replies received."""
    tls: bool = False
    lines: list[Event] = field(default_factory=list)
    replies: list[tuple[str, Event]] = field(default_factory=list)  # (what it answered, reply)


def segments(transcript: Transcript) -> list[_Segment]:
    out: list[_Segment] = []
    waiting: list[str] = []
    for event in transcript.events:
        if event.kind == "connect" or (event.kind in ("c", "s") and not out):
            out.append(_Segment(tls=bool(event.get("tls")) if event.kind == "connect" else False))
            waiting = []
            if event.kind == "connect":
                continue
        if not out:
            continue  # notes before the first connection
        seg = out[-1]
        if event.kind == "c":
            seg.lines.append(event)
            if event.get("as", "command") in ("command", "dot", "auth"):
                waiting.append(event.text)
        elif event.kind == "s":
            if event.get("reply") == "greeting" or (not seg.replies and not waiting):
                seg.replies.append(("the greeting", event))
            else:
                seg.replies.append((waiting.pop(0) if waiting else "an unsolicited reply", event))
    return out


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


_AUTH_PLACEHOLDER = re.compile(r"AUTH[ \t]+(PLAIN|LOGIN)[ \t]+" + re.escape(REDACTED), re.I)
_INITIAL = ("plain-initial", "login-username-initial", "initial-response")
_RESPONSES = ("login-username", "login-password", "plain-response", "response", "cancel")


def credential_problem(event: Event, encrypted: bool) -> str | None:
    """Why a credential must NOT be put into this line, or None. Credentials go only into the
    lines the recorder itself masked (`AUTH PLAIN|LOGIN ********`, or a lone `********` answering
    a 334), and only over an encrypted connection: a transcript is a student's file, and a
    forged event (`EHLO ********` marked secret) must never carry the instructor's password."""
    hint = event.get("secret")
    if not hint:
        return None
    kind = event.get("as", "command")
    if hint in _INITIAL:
        genuine = kind == "command" and _AUTH_PLACEHOLDER.fullmatch(event.text.strip()) is not None
    elif hint in _RESPONSES:
        genuine = kind == "auth" and event.text.strip() == REDACTED
    else:
        genuine = False
    if not genuine:
        return (f"line {event.line} of the transcript claims to hold a secret ({hint!r}) but is not an AUTH "
                "line smtp-shell recorded, so no credential was put into it and it was not sent")
    if not encrypted and hint != "cancel":
        return (f"line {event.line} would send a credential over a connection without TLS, so it was not sent "
                "(the recording used STARTTLS or implicit TLS before AUTH; this replay did not get there)")
    return None


def restore_secret(event: Event, user: str | None, password) -> str | None:
    """The line to send for a masked one, or None if it cannot be re-created. `password()` asks lazily."""
    hint = event.get("secret")
    if not hint:
        return event.text
    prefix = event.text.split(REDACTED)[0] if REDACTED in event.text else ""
    user = user or event.get("user")
    if hint == "cancel":
        return "*"
    if hint in ("login-username", "login-username-initial") and user:
        return prefix + _b64(user)
    if hint == "login-password":
        return _b64(password())
    if hint in ("plain-initial", "plain-response") and user:
        return prefix + _b64(f"\0{user}\0{password()}")
    return None


def _describe(reply) -> str:
    first = reply.lines[0] if reply.lines else ""
    return f"{reply.code} {first}".strip()


class _Collector:
    """A listener that compares each live reply with the recorded one as it arrives."""

    def __init__(self, renderer, comparison: Comparison) -> None:
        self.renderer = renderer
        self.comparison = comparison
        self.segment: _Segment | None = None
        self.number = 0
        self.count = 0

    def start(self, segment: _Segment, number: int) -> None:
        self.segment, self.number, self.count = segment, number, 0

    def server_reply(self, event, *, tls: bool = False) -> None:
        from smtp_shell.transcript.replay import reply_of

        if self.segment is None:
            return
        if event.kind == "greeting" and not (self.segment.replies and self.segment.replies[0][0] == "the greeting"):
            return  # the recording started after the greeting (:record mid-session)
        i, self.count = self.count, self.count + 1
        if i >= len(self.segment.replies):
            self._differ(i, "(nothing more)", "(no reply recorded)", _describe(event.reply))
            return
        after, recorded = self.segment.replies[i]
        self.comparison.compared += 1
        if recorded.get("code") != event.reply.code:
            self._differ(i, after, _describe(reply_of(recorded)), _describe(event.reply))

    def finish(self) -> None:
        if self.segment is None:
            return
        for i in range(self.count, len(self.segment.replies)):
            after, recorded = self.segment.replies[i]
            from smtp_shell.transcript.replay import reply_of
            self._differ(i, after, _describe(reply_of(recorded)), "(no reply)")
        self.segment = None

    def _differ(self, index: int, after: str, recorded: str, live: str) -> None:
        diff = Difference(self.number, index, after, recorded, live)
        self.comparison.differences.append(diff)
        self.renderer.error("differs from the recording: " + diff.sentence())

    def __getattr__(self, name: str):  # every other listener call: nothing to do
        return lambda *args, **kwargs: None


async def run_against(transcript: Transcript, driver, *, user: str | None, password) -> Comparison:
    """Re-send the client side of `transcript` through `driver`; return what differed."""
    comparison = Comparison()
    collector = _Collector(driver.renderer, comparison)
    driver.listeners.append(collector)
    for number, segment in enumerate(segments(transcript), start=1):
        collector.start(segment, number)
        driver.options.implicit_tls = segment.tls
        if not await driver.connect():
            collector.finish()
            break
        await driver.wait_greeting()
        for event in segment.lines:
            kind, mode = event.get("as", "command"), driver.core.mode
            if (kind in ("data", "dot") and mode != "data") or (kind == "auth" and mode != "auth"):
                comparison.skipped_lines += 1
                continue
            if kind == "command" and mode != "command":
                driver.fail(f"The server is in {mode} mode here but the recording was not, so the rest of "
                            "this connection was not sent.", "Look at the differences above.")
                break
            if not driver.connected:
                break
            problem = credential_problem(event, driver.core.tls)
            if problem is not None:
                driver.warn(problem)
                comparison.skipped_lines += 1
                if mode == "auth":
                    await driver.send("*")  # end the AUTH exchange the server is waiting in
                continue
            line = restore_secret(event, user, password)
            if line is None:
                driver.warn(f"cannot re-create the AUTH secret {event.get('secret')!r}; sending '*' to cancel AUTH")
                line = "*"
            await driver.send(line)
        await driver.wait_idle()
        if any(e.get("verb") == "QUIT" for e in segment.lines):
            await driver.quit()
        else:  # the recording left this connection without QUIT (:reconnect): so do we
            await driver.disconnect(quiet=True)
        collector.finish()
    driver.listeners.remove(collector)
    if comparison.skipped_lines:
        driver.note(f"{comparison.skipped_lines} recorded DATA or AUTH lines were not sent: "
                    "the server was not in that mode this time")
    if comparison.matched:
        driver.note(f"all {comparison.compared} replies matched the recording (same reply codes)")
    else:
        driver.fail(f"{len(comparison.differences)} of the recorded replies differ from what the server answers now.",
                    "Each difference is shown above, after the step it belongs to.")
    return comparison
