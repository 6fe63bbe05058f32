"""One lab SMTP connection: aiosmtpd's `SMTP` with the limits and courtesies a lab needs.

aiosmtpd speaks the protocol; this subclass adds what a classroom server needs per connection:
a limit on concurrent sessions and on commands per session, an idle timeout that says `421`
before closing (aiosmtpd just closes), slowed-down and finally refused AUTH failures,
case-insensitive AUTH mechanism names, enhanced status codes on aiosmtpd's own replies, the
session log (client lines are seen in `data_received`, server lines in `push`; after STARTTLS
both see plaintext), and the connection-level scripted faults (delays, disconnects, a drop
in the middle of DATA). The few aiosmtpd internals this needs are reached through
`aiosmtpd_hooks.HookedSMTP`, never named here.

Each connection gets a session id (`s000001-1a2b3c4d`: the counter and 32 random bits, so two
runs of the lab never share one). It is in the greeting (`[lab session ID]`) and at the top of
the session log, so a student's transcript can be matched with what the server itself saw
(`smtp-shell report --verify`).
"""

from __future__ import annotations

import asyncio
import collections
import re
import secrets

from aiosmtpd.smtp import SMTP

from smtp_shell.lab.aiosmtpd_hooks import HookedSMTP, UnboundCommand
from smtp_shell.lab.limits import read_data
from smtp_shell.lab.sessionlog import SessionLog

_REPLY = re.compile(r"^(\d{3})([ -])(.*)$", re.DOTALL)
_HAS_ENHANCED = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}( |$)")
_ENHANCED = {"221": "2.0.0", "250": "2.0.0", "252": "2.0.0", "421": "4.3.0", "451": "4.3.0",
             "452": "4.3.1", "454": "4.7.0", "500": "5.5.2", "501": "5.5.4", "502": "5.5.1",
             "503": "5.5.1", "504": "5.5.4", "530": "5.7.0", "535": "5.7.8", "538": "5.7.11",
             "550": "5.0.0", "552": "5.3.4", "553": "5.1.3", "554": "5.0.0", "555": "5.5.4"}


_enhanced_cache: dict[str, str] = {}


def add_enhanced_code(status: str) -> str:
    """`503 Error: need MAIL command` -> `503 5.5.1 Error: need MAIL command` (RFC 2034)."""
    done = _enhanced_cache.get(status)
    if done is None:
        done = _add_enhanced_code(status)
        if len(_enhanced_cache) >= 512:  # replies with an ID or an address in them come and go
            _enhanced_cache.clear()
        _enhanced_cache[status] = done
    return done


def _add_enhanced_code(status: str) -> str:
    match = _REPLY.match(status)
    if not match or _HAS_ENHANCED.match(match.group(3)) or match.group(1) not in _ENHANCED:
        return status
    code, sep, text = match.groups()
    return f"{code}{sep}{_ENHANCED[code]} {text}".rstrip()


_random_parts: list[str] = []


def _random_part() -> str:
    """32 random bits in hex for a session id (drawn from the system 256 at a time)."""
    try:
        return _random_parts.pop()
    except IndexError:  # (two lab servers in one process may both get here: each keeps its own)
        block = secrets.token_hex(4 * 256)
        parts = [block[i:i + 8] for i in range(0, len(block), 8)]
        mine = parts.pop()
        _random_parts.extend(parts)
        return mine


def _wrap(verb: str, method: UnboundCommand) -> UnboundCommand:
    """`method` (an unbound smtp_VERB) behind the lab's per-command limits, faults and profile."""
    async def run(self: LabSMTP, arg: str) -> None:
        self._commands += 1
        faults = self.lab.faults
        limit = faults.disconnect_after_commands
        if limit is not None and self._commands > limit:
            return await self._close_with("421 4.7.0 Service not available, closing transmission channel")
        if self._commands > self.lab.max_commands:
            return await self._close_with("421 4.7.0 Too many commands in one session, closing connection")
        if faults.delays(verb):
            await asyncio.sleep(faults.delay_seconds)
        refusal = self._profile_refusal(verb, arg)
        if refusal:
            return await self.push(refusal)
        await method(self, arg)

    return run


class LabSMTP(HookedSMTP):
    # The challenges students meet on real servers (aiosmtpd's default is "User Name\0").
    AuthLoginUsernameChallenge = "Username:"
    AuthLoginPasswordChallenge = "Password:"

    def __init__(self, handler, *, lab, implicit_tls: bool = False, **kwargs):
        # aiosmtpd keeps this dict on the class and clears it for every new connection;
        # a per-connection copy keeps concurrent sessions from changing each other's limits.
        self.command_size_limits = collections.defaultdict(lambda: SMTP.command_size_limit)
        super().__init__(handler, **kwargs)
        self.lab = lab
        self.implicit_tls = implicit_tls
        self.log: SessionLog | None = None
        self.session_id: str | None = None
        self.auth_failures = 0
        self.close_after_reply = False
        self._commands = 0
        self._counted = False
        self._over_limit = False
        self._too_many_here = False
        self._address: str | None = None  # the client's address, counted in lab.per_address
        self._no_enhance = False
        self._connections = 0      # 1 for the TCP connection, 2 once STARTTLS gave a TLS one
        self.wrap_commands(_wrap)

    @property
    def peer_address(self) -> str:
        peer = self.session.peer if self.session is not None else None
        return str(peer[0]) if peer else "unknown"

    @property
    def uses_tls(self) -> bool:
        return self.implicit_tls or self._connections > 1

    # -- connection life cycle ------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self._connections += 1
        first = self._connections == 1
        super().connection_made(transport)
        if first:
            lab = self.lab
            with lab.lock:
                lab.session_counter += 1
                number = lab.session_counter
            self.session_id = f"s{number:06d}-{_random_part()}"
            self.__ident__ = f"{self.__ident__} [lab session {self.session_id}]"
            self.log = SessionLog(lab.mailbox.log_dir, number, self.session.peer, session_id=self.session_id)
            self.log.note("implicit TLS connection" if self.implicit_tls else "plain connection")
            if lab.observers:
                lab.observe(self, "open", self.session.peer)
                if self.implicit_tls:
                    lab.observe(self, "tls", "implicit")
            self._over_limit = len(lab.sessions) >= lab.max_sessions
            peer = self.session.peer
            self._address = peer[0] if peer else None
            self._too_many_here = self._address is not None and lab.per_address[self._address] >= lab.max_per_address
            lab.sessions.add(self)
            if self._address is not None:
                lab.per_address[self._address] += 1
            self._counted = True
        elif self.log is not None:
            ssl_object = transport.get_extra_info("ssl_object")
            version = ssl_object.version() if ssl_object is not None else "?"
            self.log.tls_started(version)
            if self.lab.observers:
                self.lab.observe(self, "tls", version)

    def connection_lost(self, error) -> None:
        if self._counted:
            self._counted = False
            self.lab.sessions.discard(self)
            if self._address is not None:
                left = self.lab.per_address[self._address] - 1
                if left > 0:
                    self.lab.per_address[self._address] = left
                else:
                    del self.lab.per_address[self._address]
            if self.log is not None:
                self.log.close()
            if self.lab.observers:
                self.lab.observe(self, "close", None)
        super().connection_lost(error)

    def data_received(self, data: bytes) -> None:
        if self.log is not None:
            self.log.client_bytes(data)
        if self.lab.observers:
            self.lab.observe(self, "client", data)
        if self.session is not None and self.transport is not None and b"\n" in data:
            # a whole line (also of message text) counts as activity; bytes dripped into a line
            # that never ends do not, so a slow-drip client is still cut off by the idle timeout
            self.still_active()
        super().data_received(data)

    async def before_greeting(self) -> bool:
        if self._over_limit or self._too_many_here:
            which = " from your address" if self._too_many_here else ""
            await self.push(f"421 4.7.0 {self.hostname} too many connections{which}, try again later")
            self.transport.close()
            return False
        faults = self.lab.faults
        if faults.delays("GREETING"):
            await asyncio.sleep(faults.delay_seconds)
        return True

    def before_idle_close(self) -> None:
        reply = f"421 4.4.2 {self.hostname} Idle timeout, closing connection"
        if self.log is not None:
            self.log.server_line(reply)
        if self.lab.observers:
            self.lab.observe(self, "server", reply)
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(reply.encode("ascii") + b"\r\n")

    def shutdown_notice(self) -> None:
        """The lab server is stopping: say so (421) and close."""
        if self.transport is not None and not self.transport.is_closing():
            reply = f"421 4.3.2 {self.hostname} lab server shutting down"
            if self.log is not None:
                self.log.server_line(reply)
            if self.lab.observers:
                self.lab.observe(self, "server", reply)
            self.transport.write(reply.encode("ascii") + b"\r\n")
            self.transport.close()

    # -- replies --------------------------------------------------------------------------
    async def push(self, status) -> None:
        if isinstance(status, str) and not self._no_enhance:
            status = add_enhanced_code(status)
        if isinstance(status, str):
            status = self.lab.profile.rewrite(status, self.hostname)
        if self.log is not None:
            self.log.server_line(status if isinstance(status, str) else status.decode("utf-8", "replace"))
        if self.lab.observers:
            self.lab.observe(self, "server", status if isinstance(status, str) else status.decode("utf-8", "replace"))
        await super().push(status)

    async def smtp_EHLO(self, hostname: str):
        self._no_enhance = True  # RFC 2034: no enhanced codes in the greeting/EHLO lines
        try:
            await super().smtp_EHLO(hostname)
        finally:
            self._no_enhance = False

    async def smtp_HELO(self, hostname: str):
        self._no_enhance = True
        try:
            await super().smtp_HELO(hostname)
        finally:
            self._no_enhance = False

    # -- commands -------------------------------------------------------------------------
    def _profile_refusal(self, verb: str, arg: str | None) -> str | None:
        """What this lab's profile refuses before aiosmtpd sees the command (profiles.py)."""
        profile = self.lab.profile
        if not profile.esmtp and verb in ("EHLO", "STARTTLS", "AUTH"):
            return "502 5.5.2 Error: command not recognized"
        if profile.strict and verb in ("MAIL", "RCPT") and arg and ":" in arg \
                and not arg.partition(":")[2].lstrip().startswith("<"):
            who = "sender" if verb == "MAIL" else "recipient"
            return f"501 5.1.7 Bad {who} address syntax: the address goes in angle brackets (RFC 5321 §4.1.2)"
        return None

    async def _close_with(self, reply: str) -> None:
        await self.push(reply)
        self.transport.close()

    async def smtp_AUTH(self, arg: str) -> None:
        if arg:
            mechanism, _, rest = arg.strip().partition(" ")
            arg = f"{mechanism.upper()} {rest}".strip()  # `auth login` works as on real servers
        address = self.peer_address
        if self.lab.auth_throttle.locked(address):
            await self.push("454 4.7.0 Too many failed logins from your address; try again in a few minutes")
            return
        failures_before = self.auth_failures
        await super().smtp_AUTH(arg)
        if self.close_after_reply:
            self.transport.close()
        elif self.auth_failures > failures_before:
            # slow down password guessing in this connection (0.2 s, 0.4 s, ... at most 2 s) and,
            # through the shared throttle, across all connections from this address or to this account
            await asyncio.sleep(max(min(0.2 * self.auth_failures, 2.0), self.lab.auth_throttle.delay(address)))

    async def smtp_STARTTLS(self, arg: str):
        if self.uses_tls:  # RFC 3207 §4.2: STARTTLS is not allowed once TLS is on
            await self.push("503 5.5.1 TLS is already active")
            return
        await super().smtp_STARTTLS(arg)

    async def smtp_DATA(self, arg: str) -> None:
        ready = self.session.host_name and self.envelope.rcpt_tos and not arg
        if not (self.lab.faults.drop_during_data and ready):
            return await self._bounded_data(arg)
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        try:  # let the client start sending, then hang up without a reply
            await self.read_client_line(timeout=5)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        self.log.note("scripted fault: connection dropped during DATA")
        self.stop_command_loop()
        self.transport.close()

    async def _bounded_data(self, arg: str) -> None:
        """aiosmtpd's DATA, with the line length enforced while reading (lab/limits.py)."""
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        problem, content = await read_data(self)
        if problem is not None:
            self.end_of_data()
            await self.push("500 5.5.6 Line too long (see RFC 5321 4.5.3.1.6)" if problem == "too long"
                            else "552 5.3.4 Error: Too much mail data")
            return
        self.envelope.original_content = content
        self.envelope.content = content
        status = await self.call_data_hook()
        self.end_of_data()
        await self.push(status or "250 OK")

