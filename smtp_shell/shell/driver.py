"""The live session: one transport connection, one protocol core, one renderer.

Both the interactive REPL and batch mode drive a `SessionDriver`. A reader task feeds every
byte from the server into the core and renders each event as it arrives (so a late reply or
an unsolicited 421 appears at once); the typing side awaits the reply to what it sent before
prompting again, except where the protocol lets the client go on (DATA lines, pipelining).
The STARTTLS upgrade happens in the reader task, right after the 220, before anything else
is read. Listeners (the transcript recorder, lessons) see every event the screen sees.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from smtp_shell.protocol import advisor
from smtp_shell.protocol.commands import Command
from smtp_shell.protocol.errors import LocalProtocolError, RemoteProtocolError
from smtp_shell.protocol.events import ServerEvent, TLSFacts
from smtp_shell.protocol.model import SessionModel
from smtp_shell.protocol.replies import Reply
from smtp_shell.protocol.sasl import REDACTED, mask_auth_command
from smtp_shell.protocol.session import CapabilitiesLearned, ClientSession, Outgoing, PlaintextInjection, ReplyEvent, TLSReady
from smtp_shell.protocol.states import State
from smtp_shell.render import Renderer
from smtp_shell.shell.options import SessionOptions
from smtp_shell.status import ExitStatus
from smtp_shell.transport import ErrorKind, TLSInfo, TLSSettings, TransportError, seconds_text, silence_hint

if TYPE_CHECKING:
    import asyncio

    from smtp_shell.transport.aio import Connection
    from smtp_shell.transport.blocking import BlockingConnection

_EXIT_FOR_KIND = {
    ErrorKind.TIMEOUT: ExitStatus.TIMEOUT,
    ErrorKind.TLS_ON_PLAIN_PORT: ExitStatus.TLS_FAILED,
    ErrorKind.PLAIN_ON_TLS_PORT: ExitStatus.TLS_FAILED,
    ErrorKind.CERT_UNVERIFIED: ExitStatus.TLS_FAILED,
    ErrorKind.CERT_HOSTNAME: ExitStatus.TLS_FAILED,
    ErrorKind.CERT_EXPIRED: ExitStatus.TLS_FAILED,
    ErrorKind.TLS_HANDSHAKE: ExitStatus.TLS_FAILED,
}


class Listener:
    """Sees everything the session shows, as the renderer's own calls, plus protocol events.

    Render-level calls mirror `Renderer` exactly (same names, same arguments), so a recording
    replayed through a Renderer looks exactly like the live session. Secrets never reach a
    listener: lines are passed already masked.
    """

    # what the screen shows (mirrors Renderer)
    def client(self, text: str, tls: bool = False) -> None: ...
    def reply(self, reply: Reply, tls: bool = False, challenge: str | None = None) -> None: ...
    def note(self, text: str) -> None: ...
    def warning(self, text: str) -> None: ...
    def error(self, text: str, hint: str | None = None) -> None: ...
    def raw_server(self, data: bytes, label: str) -> None: ...
    def tls_info(self, info: TLSInfo) -> None: ...
    # what happened (for lessons, reports)
    def watch(self, session: SessionModel) -> None: ...  # the session model to read (once connected)
    def sent(self, outgoing: Outgoing, *, tls: bool) -> None: ...
    def server_reply(self, event: ReplyEvent, *, tls: bool) -> None: ...
    def connected(self, target: str, tls: bool) -> None: ...
    def closed(self, reason: str) -> None: ...
    def marker(self, label: str) -> None: ...


async def _shielded_wait(future: asyncio.Future, timeout: float | None):
    """`await asyncio.wait_for(asyncio.shield(future), timeout)` for a future, in fewer loop
    turns (one waker future instead of a shield and a wait_for per reply): the result, or
    asyncio.TimeoutError with `future` left pending, never cancelled."""
    if not future.done():
        import asyncio

        loop = asyncio.get_running_loop()
        waker = loop.create_future()

        def wake(_=None) -> None:
            if not waker.done():
                waker.set_result(None)
        future.add_done_callback(wake)
        handle = loop.call_later(timeout, wake) if timeout is not None else None
        try:
            await waker
        finally:
            if handle is not None:
                handle.cancel()
            future.remove_done_callback(wake)
        if not future.done():
            raise TimeoutError
    return future.result()


@dataclass
class _Waiter:
    """Where the reply to one sent command will arrive (`seq` is the model's number for it)."""

    seq: int
    verb: str
    future: Any  # an asyncio.Future[ReplyEvent], or shell/blocking.py's plain future


def _tls_facts(info: TLSInfo | None) -> TLSFacts | None:
    """What the session model keeps of a handshake (the model never sees ssl objects)."""
    return None if info is None else TLSFacts(info.version, info.cipher, info.verified)


class SessionDriver:
    """One connection and one protocol core: what is sent, shown, recorded and judged. Its I/O is
    asyncio (a task reads replies as they arrive); shell/blocking.py's BlockingDriver overrides
    only the I/O methods at the end of this class, for batch mode."""

    blocking = False  # True for the driver without an event loop (shell/blocking.py)

    def __init__(self, options: SessionOptions, renderer: Renderer) -> None:
        self.options = options
        self.renderer = renderer
        self.core = ClientSession()
        self.conn: Connection | BlockingConnection | None = None
        self.listeners: list[Listener] = []
        self.exit_status = ExitStatus.OK
        self.saw_5xx = False
        self.target = options.target
        self._reader: asyncio.Task | None = None  # the asyncio driver's reading task
        # The commands awaiting replies are the session model's (`core.model.in_flight_commands`);
        # the driver only keeps where each reply is awaited, by the model's number for it.
        self._waiters: dict[int, _Waiter] = {}
        self._greeting: Any = None       # a future (see _new_future) for the greeting
        self._upgrade_done: Any = None   # a future: the STARTTLS upgrade is over
        self._annotate_replies = 0
        self._shown_as: dict[int, str] = {}  # id(command) -> how a masked pipelined line was shown
        self._last_sent: Command | None = None  # the command of the last line put on the wire
        self.quit_sent = False
        # Batch mode's verdict (smtp_shell.status): the first failure decides the exit status.
        self.failure: ExitStatus | None = None
        self.transaction_failed = False  # set when a transaction fails; batch mode clears it
        self.messages_accepted = 0
        self.advice_off: set[str] = set()  # rule names silenced with :advice off RULE ("*": all)
        self.advice_seen: set[str] = set()  # rule names of the warnings shown so far
        self.wire = False   # :wire on: every line as bytes, CR LF drawn visibly

    def show_wire(self, direction: str, data: bytes, typed: str | None = None) -> None:
        """The bytes of `data` line by line (screen only: transcripts keep their own format)."""
        if not self.wire:
            return
        from smtp_shell.protocol.wire import show_line, split_lines

        for raw in split_lines(data):
            line = show_line(raw)
            notes = list(line.notes)
            if typed is not None and raw.startswith(b"..") and typed.startswith(".") and not typed.startswith(".."):
                notes.append(f"dot-stuffed: you typed {typed!r}; a leading dot is doubled on the wire (RFC 5321 §4.5.2)")
            self.renderer.wire(direction, line.text, notes, self.core.tls)

    # -- events to listeners and the screen --------------------------------------------
    def _each(self, method: str, *args, **kwargs) -> None:
        for listener in self.listeners:
            call = getattr(listener, method, None)  # a listener need not implement every call
            if call is not None:
                call(*args, **kwargs)

    def show(self, method: str, *args) -> None:
        """Draw on the screen and tell every listener the same call."""
        getattr(self.renderer, method)(*args)
        self._each(method, *args)

    def note(self, text: str) -> None:
        self.show("note", text)

    def note_private(self, shown: str, recorded: str) -> None:
        """A note for the screen only (the user asked to see a secret, e.g. `:b64 PASSWORD`):
        listeners (the transcript) get `recorded`, which must hold no secret."""
        self.renderer.note(shown)
        self._each("note", recorded)

    def fail_private(self, shown: str, hint: str | None, recorded: str) -> None:
        """An error for the screen only (it quotes a secret); listeners get `recorded`."""
        self.renderer.error(shown, hint)
        self._each("error", recorded, None)

    def warn(self, text: str) -> None:
        self.show("warning", text)

    def warn_advice(self, advice: list) -> None:
        """Show the advisor's warnings, each naming its rule (`:advice off RULE` silences it)."""
        for item in advice:
            self.advice_seen.add(item.rule)
            self.warn(f"{item.message} [{item.rule}]")

    def hint(self, text: str) -> None:
        self.show("note", "hint: " + text)

    def fail(self, text: str, hint: str | None = None) -> None:
        self.show("error", text, hint)

    def marker(self, label: str) -> None:
        """A chapter mark (a lesson step passed): drawn as a note, recorded as a marker."""
        self.renderer.note(f"--- {label} ---")
        self._each("marker", label)

    def record_failure(self, status: ExitStatus, in_transaction: bool = True) -> None:
        """Remember why batch mode must not exit 0 (the first failure decides)."""
        if self.failure is None:
            self.failure = status
        if in_transaction:
            self.transaction_failed = True

    def _judge(self, event: ReplyEvent) -> None:
        """Classify a reply for batch mode's exit status: accepted message, refused step, 421."""
        reply, verb = event.reply, event.verb
        if reply.code == 421:
            self.record_failure(ExitStatus.CONNECTION_LOST)
        elif verb in ("<dot>", "<bdat-last>"):
            if reply.klass == 2:
                self.messages_accepted += 1
            elif reply.klass in (4, 5):
                self.record_failure(ExitStatus.MESSAGE_REFUSED_4XX if reply.klass == 4 else ExitStatus.MESSAGE_REFUSED_5XX)
        elif reply.klass in (4, 5):
            if verb in ("MAIL", "RCPT", "DATA", "BDAT"):
                self.record_failure(ExitStatus.ENVELOPE_REFUSED)
            else:
                self.record_failure(ExitStatus.REPLY_5XX, in_transaction=False)

    def _fail_transport(self, exc: TransportError) -> None:
        self.fail(exc.message)
        status = _EXIT_FOR_KIND.get(exc.kind, ExitStatus.CONNECTION_FAILED)
        if self.exit_status == ExitStatus.OK:
            self.exit_status = status
        mid = self.core.state in (State.MAIL, State.RCPT, State.DATA) and status is ExitStatus.CONNECTION_FAILED
        self.record_failure(ExitStatus.CONNECTION_LOST if mid else status, in_transaction=False)

    @property
    def connected(self) -> bool:
        return self.conn is not None and not self.conn.closed and self.core.state not in (State.DISCONNECTED, State.CLOSED)

    def _connection(self) -> Connection | BlockingConnection:
        """The open connection; a TransportError (as a hang-up would give) if there is none."""
        if self.conn is None:
            raise TransportError(ErrorKind.CLOSED, "Not connected to a server; use :reconnect to start a new session.")
        return self.conn

    # -- connecting ------------------------------------------------------------------
    async def connect(self, host: str | None = None, port: int | None = None) -> bool:
        if host is not None:
            self.options.host, self.options.port = host, port or 25
            self.target = self.options.target
        await self.disconnect(quiet=True)
        o = self.options
        settings = TLSSettings(cafile=o.cafile or o.lab_cafile, insecure=o.insecure)
        if o.insecure:
            self.warn("certificate verification is OFF (--insecure): anyone between you and the server could read and change this session")
        self.note(f"connecting to {self.target}{' with implicit TLS' if o.implicit_tls else ''} ...")
        try:
            self.conn = await self._open(o.host, o.port, implicit_tls=o.implicit_tls, tls=settings,
                                         connect_timeout=o.timeout)
        except TransportError as exc:
            self._fail_transport(exc)
            return False
        self.note(f"connected to {self.conn.peer}")
        self.core.connected(tls=o.implicit_tls, facts=_tls_facts(self.conn.tls_info))
        self.quit_sent = False
        self._each("watch", self.core.model)
        self._each("connected", self.target, o.implicit_tls)
        if self.conn.tls_info is not None:
            self.show("tls_info", self.conn.tls_info)
        self._greeting = self._new_future()
        self._start_reader()
        return True

    async def wait_greeting(self) -> bool:
        """Wait for the server's greeting; explain the silence if it never comes."""
        if self._greeting is None:
            return False
        try:
            await self._wait(self._greeting, self.options.timeout)
            return True
        except TimeoutError:
            self.fail(silence_hint(self.options.port, self.options.host, self.options.timeout))
            if self.exit_status == ExitStatus.OK:
                self.exit_status = ExitStatus.TIMEOUT
            self.record_failure(ExitStatus.TIMEOUT, in_transaction=False)
            return False
        except ConnectionError:
            return False

    async def disconnect(self, quiet: bool = False) -> None:
        await self._stop_reader()
        if self.conn is not None:
            await self.conn.close()
            self.conn = None
            if not quiet:
                self.note("disconnected")
        self._release_waiters()
        if self.core.state not in (State.DISCONNECTED,):
            self.core.connection_lost()

    def _release_waiters(self) -> None:
        waiters, self._waiters = list(self._waiters.values()), {}
        for waiter in waiters:
            if not waiter.future.done():
                waiter.future.set_exception(ConnectionError("closed"))
                waiter.future.exception()  # mark retrieved: a waiter that timed out has no reader left
        if self._greeting is not None and not self._greeting.done():
            self._greeting.set_exception(ConnectionError("closed"))
            self._greeting.exception()  # mark retrieved

    # -- reading ---------------------------------------------------------------------
    async def _read_loop(self) -> None:
        conn = self.conn
        assert conn is not None
        while await self._read_once(conn):
            pass

    async def _read_once(self, conn: Connection | BlockingConnection, timeout: float | None = None) -> bool:
        """Receive what arrives (waiting up to `timeout`) and act on it: replies shown and
        matched, STARTTLS's upgrade done. False once the connection is over (and reported).
        A receive timeout (only with a `timeout`) is raised as TimeoutError, nothing reported."""
        try:
            data = await conn.receive(timeout=timeout)
        except TransportError as exc:
            if timeout is not None and exc.kind is ErrorKind.TIMEOUT:
                raise TimeoutError from None
            return self._read_failed(exc)
        return await self._received(conn, data)

    def _read_failed(self, exc: TransportError) -> bool:
        self._fail_transport(exc)
        self._server_closed(silent=True)
        return False

    async def _received(self, conn: Connection | BlockingConnection, data: bytes) -> bool:
        """Act on bytes from the server (b"": it closed). False once the connection is over."""
        if not data:
            self._server_closed()
            return False
        self.show_wire("<", data)
        await self._handle(self.core.receive_data(data))
        return not (conn.closed and self.core.state is State.DISCONNECTED)  # False: we closed it (failed TLS)

    def _server_closed(self, silent: bool = False) -> None:
        state = self.core.state
        partial = self.core.partial_reply
        owed_chunk = self.core.chunk_remaining
        self.core.connection_lost()
        if not (self.quit_sent or state is State.CLOSED):
            mid = state in (State.MAIL, State.RCPT, State.DATA) or owed_chunk
            self.record_failure(ExitStatus.CONNECTION_LOST if mid else ExitStatus.CONNECTION_FAILED, in_transaction=False)
        if not silent:
            if partial:
                self.show("raw_server", partial, "cut off")
            if self.quit_sent or state is State.CLOSED:
                self.note("the server closed the connection (:reconnect starts a new session)")
            elif partial:
                self.fail("The server closed the connection in the middle of a reply; "
                          "use :reconnect to start a new session.")
            elif state is State.DATA:
                self.fail("The server closed the connection during DATA, so the message was not delivered; "
                          "use :reconnect to start a new session.")
            else:
                self.fail("The server closed the connection; use :reconnect to start a new session.")
            if not (self.quit_sent or state is State.CLOSED) and self.exit_status == ExitStatus.OK:
                self.exit_status = ExitStatus.CONNECTION_FAILED
        self._each("closed", "server closed the connection")
        self._release_waiters()

    async def _handle(self, events: list[ServerEvent]) -> None:
        upgrade = False
        for event in events:
            if isinstance(event, ReplyEvent):
                self._show_reply(event)
            elif isinstance(event, CapabilitiesLearned):
                for change in event.changes:
                    self.note(change)
            elif isinstance(event, RemoteProtocolError):
                if event.raw:
                    label = "not SMTP" if "not an SMTP reply" in event.message else "from the server"
                    self.show("raw_server", event.raw, label)
                self.fail(event.message, event.hint)
            elif isinstance(event, TLSReady):
                upgrade = True
            elif isinstance(event, PlaintextInjection):
                self._report_injection(event.data)
        if upgrade:
            await self._upgrade()

    def _report_injection(self, data: bytes) -> None:
        self.show("raw_server", data, "discarded")
        self.fail(f"The server sent {len(data)} bytes after its 220 to STARTTLS and before TLS started; "
                  "they were discarded, never treated as replies (a plaintext-injection attack looks like this).")

    def _show_reply(self, event: ReplyEvent) -> None:
        reply = event.reply
        tls = self.core.tls
        self.show("reply", reply, tls, event.challenge)
        if event.kind == "response":
            grouped = self._annotate_replies > 0
            if grouped:
                self._annotate_replies -= 1
            if grouped or (event.command is not None and event.command is not self._last_sent):
                answered = event.command.text if event.command else event.verb
                if event.command is not None:  # as the line was shown: masked if it was a secret
                    answered = self._shown_as.pop(id(event.command), mask_auth_command(answered or "")[0])
                self.note(f"  ↳ that answers {answered}")
        # listeners (a lesson) judge the reply once it and what it answers are on the screen
        self._each("server_reply", event, tls=tls)
        # a reply a lesson step asked for is explained by the step, not by a generic hint
        if not any(getattr(x, "claims", lambda _e: False)(event) for x in self.listeners):
            for advice in advisor.hints_after(self.core, event):
                self.hint(advice.message)
        if reply.klass == 5:
            self.saw_5xx = True
        if event.kind != "greeting" or reply.klass != 2:
            self._judge(event)
        if event.kind == "greeting":
            if self._greeting is not None and not self._greeting.done():
                self._greeting.set_result(reply)
        elif event.kind == "response":
            if event.state_after is State.TLS_PENDING:
                # The typing side must not go on until the upgrade is done (or failed).
                self._upgrade_done = self._new_future()
            waiter = self._waiters.pop(event.seq, None) if event.seq is not None else None
            if waiter is not None and not waiter.future.done():
                waiter.future.set_result(event)
        elif event.kind == "unsolicited":
            self.warn("the server sent a reply nobody asked for" +
                      (": it is closing the session (421)" if reply.code == 421 else ""))
        if event.state_after is State.DATA:
            self.note("DATA mode: type the headers, a blank line, then the body; a line with only . ends the message")

    async def _upgrade(self) -> None:
        try:
            await self._do_upgrade()
        finally:
            if self._upgrade_done is not None and not self._upgrade_done.done():
                self._upgrade_done.set_result(None)

    async def _do_upgrade(self) -> None:
        assert self.conn is not None
        self.note("the server is ready for TLS: upgrading this connection ...")
        try:
            info, leftover = await self.conn.starttls()
        except TransportError as exc:
            self._fail_transport(exc)
            await self.conn.close()
            self.core.connection_lost()
            self._release_waiters()
            self._each("closed", "TLS failed")
            return
        if leftover:
            self._report_injection(leftover)
        self.core.tls_started(_tls_facts(info))
        if self.wire:
            self.renderer.note("──── TLS boundary: from here the bytes on the wire are encrypted; :wire shows "
                               "them as they are before encryption ────")
        self.show("tls_info", info)
        self.note("TLS is on. The server has forgotten everything said before it: send EHLO again.")

    # -- writing -----------------------------------------------------------------------
    async def _can_send(self) -> bool:
        """True if a line can go out now; otherwise say why, once. What has already arrived (a 421,
        a close) is acted on first (`catch_up`), so the answer is about the connection as it is."""
        await self.catch_up()
        if self.conn is None or self.conn.closed or self.core.state in (State.DISCONNECTED, State.CLOSED):
            self.fail("Not connected to a server, so nothing was sent.", "Use :reconnect, or :connect HOST:PORT.")
            return False
        return True

    def advise(self, text: str) -> list:
        """The advisor's warnings about sending `text` now (shown by the caller), minus the
        rules silenced with :advice off."""
        if self.core.state in (State.DISCONNECTED, State.CLOSED, State.TLS_PENDING) or self.core.mode == "bdat":
            return []
        advice = advisor.check_before(self.core, text)
        if "*" in self.advice_off:
            return []
        return [a for a in advice if a.rule not in self.advice_off]

    def _show_sent(self, out: Outgoing, typed: str) -> None:
        """A line the core accepted, as the student sees it, the same for every way of sending
        (one line, a pipelined group, a block of body lines): masked if it is a secret, its bytes
        under :wire, the listeners told, the core's notes (dot-stuffing, an over-long line) shown."""
        shown = out.masked_text if out.secret else out.text
        self.show("client", shown, self.core.tls)
        self.show_wire(">", (shown + "\r\n").encode() if out.secret else out.data, typed)
        self._each("sent", out, tls=self.core.tls)
        for note in out.notes:
            self.note(note)

    async def send(self, text: str) -> ReplyEvent | None:
        """Send one typed line; wait for its reply when the protocol says to. Never raises."""
        if not await self._can_send():
            return None
        try:
            out = self.core.send_line(text)
        except LocalProtocolError as exc:
            self.fail(exc.message, exc.hint)
            return None
        waiter = self._await_reply(out)
        self._show_sent(out, text)
        if out.command is not None and out.command.verb == "QUIT":
            self.quit_sent = True
        if out.command is not None:
            self._last_sent = out.command
        if not await self._write(out.data):
            return None
        # --no-pipeline: wait for every reply, even where PIPELINING would let the client go on
        must_wait = out.wait_for_reply or (self.options.no_pipeline and not self.core.chunk_remaining)
        if waiter is None or not must_wait:
            return None
        event = await self.wait_for(waiter)
        if event is not None and event.state_after is State.TLS_PENDING and self._upgrade_done is not None:
            try:
                await self._wait(self._upgrade_done, self.options.timeout + 1)
            except (TimeoutError, ConnectionError):
                pass  # the transport reports its own handshake timeout
        return event

    def _await_reply(self, out: Outgoing) -> _Waiter | None:
        """Where the reply to `out` will arrive, if it gets one (commands, the final dot, AUTH lines)."""
        if out.seq is None:
            return None
        waiter = _Waiter(out.seq, out.command.verb if out.command else out.kind, self._new_future())
        self._waiters[out.seq] = waiter
        return waiter

    async def send_group(self, texts: list[str]) -> list[ReplyEvent | None]:
        """Pipelining (RFC 2920): send several command lines in ONE write, then match the
        replies to them in order. Returns one reply event (or None) per line."""
        if not await self._can_send():
            return []
        waiters: list[_Waiter] = []
        chunks: list[bytes] = []
        credentials: list[str] = []  # secret kinds of the lines that will answer an AUTH's challenges
        for text in texts:
            try:
                out = self.core.send_line(text)
            except LocalProtocolError as exc:
                self.fail(exc.message, exc.hint)
                break
            if credentials and not out.secret:  # masked exactly like the single-line path in AUTH mode
                out = dataclasses.replace(out, secret=True, masked_text=REDACTED, secret_kind=credentials.pop(0))
                if out.command is not None:
                    self._shown_as[id(out.command)] = REDACTED
            elif out.command is not None and out.command.verb == "AUTH" and not out.secret:
                login = out.command.args.strip().upper().startswith("LOGIN")
                credentials = ["login-username", "login-password"] if login else ["plain-response"]
            self._show_sent(out, text)
            chunks.append(out.data)
            waiter = self._await_reply(out)
            if waiter is not None:
                waiters.append(waiter)
        if not chunks:
            return []
        self.note(f"{len(chunks)} lines sent in one write (pipelining); the replies come back in the same order")
        self._annotate_replies = len(waiters)
        if not await self._write(b"".join(chunks)):
            return []
        return [await self.wait_for(w) for w in waiters]

    async def send_body(self, texts: list[str]) -> int:
        """Several DATA lines (no final dot) shown one by one but written in ONE write: a long
        typed body costs one system call per block, not per line. Returns how many went out."""
        if not await self._can_send():
            return 0
        chunks = []
        with self.renderer.held():
            for text in texts:
                try:
                    out = self.core.send_line(text)
                except LocalProtocolError as exc:
                    self.fail(exc.message, exc.hint)
                    break
                self._show_sent(out, text)
                chunks.append(out.data)
        if chunks and not await self._write(b"".join(chunks)):
            return 0
        return len(chunks)

    async def send_chunk(self, data: bytes) -> ReplyEvent | None:
        """Octets of the BDAT chunk owed, raw; once the chunk is complete, wait for BDAT's reply."""
        if not await self._can_send():
            return None
        try:
            out = self.core.send_chunk(data)
        except LocalProtocolError as exc:
            self.fail(exc.message, exc.hint)
            return None
        for piece in out.text.splitlines() or [""]:
            self.show("client", piece, self.core.tls)  # each chunk line as typed; the octets are counted below
        self._each("sent", out, tls=self.core.tls)
        if not await self._write(data):
            return None
        if self.core.chunk_remaining:
            return None
        self.note("the chunk is complete; waiting for the reply to BDAT")
        return await self.wait_last()

    async def send_raw_chunk(self, data: bytes) -> bool:
        """A whole BDAT chunk from a file, raw and not drawn line by line (it may be large)."""
        if not await self._can_send():
            return False
        try:
            out = self.core.send_chunk(data)
        except LocalProtocolError as exc:
            self.fail(exc.message, exc.hint)
            return False
        self._each("sent", out, tls=self.core.tls)
        self.note(f"  … {len(data)} octets of the message, sent raw (no dot-stuffing in BDAT)")
        return await self._write(data)

    async def wait_last(self) -> ReplyEvent | None:
        """The reply to the last command in flight (after waiting for those before it)."""
        flights = self.core.model.in_flight_commands
        waiter = self._waiters.get(flights[-1].seq) if flights else None
        return None if waiter is None else await self.wait_for(waiter)

    async def send_raw(self, data: bytes) -> bool:
        """Stream bytes that need no reply (a DATA body from :send)."""
        return await self._write(data)

    async def _write(self, data: bytes) -> bool:
        """Write to the server. If that fails, first let the reader show (and record) every reply
        that had already arrived, up to the close, then say what went wrong, once."""
        try:
            await self._connection().send(data)
            return True
        except TransportError as exc:
            if self._reading():
                await self.settle()  # read to EOF: a 421 before the close is shown before the error
            if exc.kind is not ErrorKind.CLOSED or self.core.state is not State.DISCONNECTED:
                self._fail_transport(exc)
            return False

    async def wait_for(self, waiter: _Waiter) -> ReplyEvent | None:
        try:
            return await self._wait(waiter.future, self.options.timeout)
        except TimeoutError:
            self.fail(f"No reply to {waiter.verb} within {seconds_text(self.options.timeout)}; "
                      "the server may be slow or stuck: wait, raise --timeout, or use :reconnect.")
            if self.exit_status == ExitStatus.OK:
                self.exit_status = ExitStatus.TIMEOUT
            self.record_failure(ExitStatus.TIMEOUT, in_transaction=False)
            return None
        except ConnectionError:
            return None

    async def settle(self, timeout: float = 1.0) -> None:
        """Give the reader a moment to report a connection that has just ended (before saying more)."""
        if self._reader is not None and not self._reader.done():
            import asyncio

            await asyncio.wait({self._reader}, timeout=timeout)

    async def wait_idle(self) -> None:
        """Wait until every command in flight has its reply (or the timeout passes). While a BDAT
        chunk is owed there is nothing to wait for: its reply comes after the chunk."""
        while self.core.model.in_flight_commands and not self.core.chunk_remaining:
            waiter = self._waiters.get(self.core.model.in_flight_commands[-1].seq)
            if waiter is None or await self.wait_for(waiter) is None:
                return

    async def quit(self) -> None:
        """Leave politely: QUIT if connected, then close."""
        if self.connected and self.core.state is not State.DATA and not self.quit_sent:
            await self.send("QUIT")
        await self.settle(2.0)  # the server's close (after its 221) is read and reported
        await self.disconnect(quiet=True)

    async def within(self, work: Any, timeout: float) -> None:
        """Run `work` (a coroutine of this driver), giving up after `timeout` seconds: TimeoutError."""
        import asyncio

        await asyncio.wait_for(work, timeout)

    # -- the I/O this driver waits on: asyncio, a reading task delivering replies as they
    # arrive (the REPL's way). shell/blocking.py overrides exactly these for batch mode.
    async def _open(self, host: str, port: int, **kwargs: Any) -> Connection | BlockingConnection:
        from smtp_shell.transport.aio import Connection

        return await Connection.open(host, port, **kwargs)

    def _new_future(self) -> Any:
        import asyncio

        return asyncio.get_running_loop().create_future()

    def _start_reader(self) -> None:
        import asyncio

        self._reader = asyncio.create_task(self._read_loop())

    async def _stop_reader(self) -> None:
        if self._reader is not None:
            import asyncio

            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):
                pass
            self._reader = None

    def _reading(self) -> bool:
        """Is something still reading the connection (so settle() can learn more)?"""
        return self._reader is not None and not self._reader.done()

    async def _wait(self, future: Any, timeout: float | None) -> Any:
        """The result of `future` within `timeout` (TimeoutError, future left pending)."""
        return await _shielded_wait(future, timeout)

    async def catch_up(self) -> None:
        """Before sending: act on what has already arrived (the reading task does it here)."""
