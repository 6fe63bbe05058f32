"""The lab server: configuration, listeners and the background thread they run in.

`LabServer(LabConfig(...)).start()` returns once the server is listening (like aiosmtpd's
Controller) and `stop()` shuts it down promptly. The listeners are made here directly rather
than through aiosmtpd's Controller so that port 0 (any free port) works, both listeners
(STARTTLS and implicit TLS) share one event loop, and a port already in use becomes one clear
sentence instead of a traceback. The certificate comes from certificate.py.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from smtp_shell import paths
from smtp_shell.address import format_hostport
from smtp_shell.lab import sessionlog
from smtp_shell.lab.accounts import Accounts
from smtp_shell.lab.certificate import ensure_lab_certificate
from smtp_shell.lab.faults import Faults
from smtp_shell.lab.handler import LabContext, LabHandler, authenticate
from smtp_shell.lab.limits import MAX_PER_ADDRESS, MAX_RECIPIENTS, AuthThrottle
from smtp_shell.lab.mailbox import Mailbox, MailboxError
from smtp_shell.lab.profiles import Profile
from smtp_shell.lab.session import LabSMTP

log = logging.getLogger("smtp_shell.lab")


class _QuietAiosmtpd(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


_mail_log = logging.getLogger("mail.log")
_mail_log.addHandler(logging.NullHandler())  # aiosmtpd's warnings must not land on the student's screen
_mail_log.addFilter(_QuietAiosmtpd())


_frozen = threading.Event()


def _freeze_startup_objects() -> None:
    """What start-up made (modules, classes, the lab's tables) lives as long as the process: keep
    it out of every full garbage collection (~5 % of the lab's CPU under load). Once per
    process: a process that starts several lab servers (tests) freezes only the first time."""
    if not _frozen.is_set():
        _frozen.set()
        gc.freeze()


class LabError(Exception):
    """The lab server cannot start (the message is one sentence with a next step)."""


@dataclass
class LabConfig:
    """Everything a lab server is started with (the `smtp-shell lab` options)."""

    host: str = "127.0.0.1"
    port: int = 8025
    tls_port: int | None = None
    mailbox: Path | None = None
    users: dict[str, str] = field(default_factory=dict)
    allow_plain_auth: bool = False
    faults: Faults = field(default_factory=Faults)
    idle_timeout: float = 300
    max_sessions: int = 100
    max_commands: int = 1000
    max_per_address: int = MAX_PER_ADDRESS   # concurrent connections from one client address
    max_recipients: int = MAX_RECIPIENTS     # per message (RFC 5321's minimum)
    auth_throttle: bool = True               # failed logins counted across connections (lab/limits.py)
    max_message_size: int = 10 * 1024 * 1024
    cert_dir: Path | None = None
    server_hostname: str = "smtp-shell.lab"
    profile: str = "lab"          # how the lab answers: lab, postfix, strict, minimal (profiles.py)


def _listen_error(exc: OSError, host: str, port: int, option: str) -> LabError:
    if exc.errno == errno.EADDRINUSE or getattr(exc, "winerror", None) == 10048:
        other = format_hostport(host, port + 1 if port < 65535 else 8026)
        return LabError(f"port {port} on {host} is already in use; stop the other server or choose another "
                        f"with {option} {other}")
    if exc.errno in (errno.EACCES, errno.EPERM) or getattr(exc, "winerror", None) == 10013:
        return LabError(f"no permission to listen on port {port} on {host}; choose a port above 1023 with {option}")
    return LabError(f"cannot listen on {format_hostport(host, port)} ({exc.strerror or exc}); "
                    f"check the address given to {option}")


def _data_dir_error(exc: OSError) -> LabError:
    where = f" {exc.filename}" if exc.filename else ""
    return LabError(f"the smtp-shell data folder{where} cannot be created ({exc.strerror or exc}); "
                    f"set SMTP_SHELL_HOME to a writable folder")


class LabServer:
    def __init__(self, config: LabConfig | None = None, on_event: Callable[[str], None] | None = None):
        self.config = config or LabConfig()
        self.accounts = Accounts(self.config.users)
        self.host = self.config.host
        self.port = self.config.port
        self.tls_port = self.config.tls_port
        try:
            self.mailbox: Path = (Path(self.config.mailbox).expanduser().absolute() if self.config.mailbox
                                  else paths.default_mailbox())
        except OSError as exc:
            raise _data_dir_error(exc) from None
        self._mailbox = Mailbox(self.mailbox)
        self.log_dir = self._mailbox.log_dir
        self.cert_path: Path | None = None
        self.fingerprint: str | None = None
        self._on_event = on_event
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[asyncio.AbstractServer] = []
        self._lab: LabContext | None = None
        self.observers: list = []  # see LabContext.observe; add before start()

    # -- public ---------------------------------------------------------------------------
    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The server's event loop (running in its own thread once started)."""
        return self._loop

    def default_account_hint(self) -> str:
        return self.accounts.hint()

    def reset_lesson_state(self) -> None:
        """Forget what a lesson taught the server (greylisting's memory), as on a fresh start."""
        lab = self._lab
        if lab is not None:
            with lab.lock:
                lab.greylist_seen.clear()

    @property
    def messages_saved(self) -> int:
        return self._lab.messages_saved if self._lab else 0

    def start(self) -> None:
        if self._thread is not None:
            return
        try:
            self._mailbox.ensure_writable()
        except MailboxError as exc:
            raise LabError(str(exc)) from None
        try:
            cert_dir = Path(self.config.cert_dir) if self.config.cert_dir else paths.lab_dir()
        except OSError as exc:
            raise _data_dir_error(exc) from None
        try:
            pair = ensure_lab_certificate(cert_dir)
        except OSError as exc:
            raise LabError(f"cannot create the lab certificate in {cert_dir} ({exc.strerror or exc}); "
                           f"check that the folder is writable") from None
        self.cert_path, self.fingerprint = pair.cert_path, pair.fingerprint()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(pair.cert_path, pair.key_path)
        self._lab = LabContext(
            hostname=self.config.server_hostname, accounts=self.accounts, faults=self.config.faults,
            mailbox=self._mailbox, max_sessions=self.config.max_sessions,
            max_commands=self.config.max_commands, max_per_address=self.config.max_per_address,
            max_recipients=self.config.max_recipients, auth_throttle=AuthThrottle(enabled=self.config.auth_throttle),
            on_event=self._on_event, observers=self.observers, profile=Profile.named(self.config.profile))
        self._loop = loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(loop, context, ready, failure),
                                        name="smtp-shell-lab", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            error = failure[0]
            raise error if isinstance(error, LabError) else LabError(f"the lab server failed to start ({error})")

    def stop(self) -> None:
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        try:
            loop.call_soon_threadsafe(loop.stop)
        except RuntimeError:
            pass  # the loop is already closed
        thread.join(timeout=15)
        self._thread = None

    def __enter__(self) -> LabServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- the server thread ----------------------------------------------------------------
    def _factory(self, context: ssl.SSLContext | None, implicit: bool):
        cfg = self.config
        return lambda: LabSMTP(
            LabHandler(), lab=self._lab, implicit_tls=implicit, loop=self._loop,
            hostname=cfg.server_hostname, ident="ESMTP smtp-shell lab server",
            data_size_limit=cfg.max_message_size, enable_SMTPUTF8=True, timeout=cfg.idle_timeout,
            tls_context=None if implicit else context,
            auth_require_tls=False if implicit else not cfg.allow_plain_auth,
            authenticator=authenticate)

    async def _listen(self, loop: asyncio.AbstractEventLoop, context: ssl.SSLContext) -> None:
        cfg = self.config
        try:
            server = await loop.create_server(self._factory(context, False), host=cfg.host, port=cfg.port,
                                              backlog=max(100, cfg.max_sessions))  # a class connecting at once
        except OSError as exc:
            raise _listen_error(exc, cfg.host, cfg.port, "--listen") from None
        self._servers.append(server)
        self.port = server.sockets[0].getsockname()[1]
        if cfg.tls_port is not None:
            try:
                server = await loop.create_server(self._factory(context, True), host=cfg.host, port=cfg.tls_port,
                                                  ssl=context, ssl_handshake_timeout=15,
                                                  backlog=max(100, cfg.max_sessions))
            except OSError as exc:
                raise _listen_error(exc, cfg.host, cfg.tls_port, "--tls-port") from None
            self._servers.append(server)
            self.tls_port = server.sockets[0].getsockname()[1]

    def _run(self, loop: asyncio.AbstractEventLoop, context: ssl.SSLContext, ready: threading.Event,
             failure: list[BaseException]) -> None:
        asyncio.set_event_loop(loop)
        loop.set_exception_handler(lambda _loop, ctx: log.debug("lab server: %s", ctx.get("message")))
        try:
            loop.run_until_complete(self._listen(loop, context))
        except BaseException as exc:
            failure.append(exc)
            loop.run_until_complete(self._shutdown())
            loop.close()
            ready.set()
            return
        _freeze_startup_objects()
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._shutdown())
            loop.run_until_complete(loop.shutdown_default_executor())
            self._mailbox.close()  # finish queued writes, stop the writer thread
            sessionlog.drain()     # and the session logs' last lines
            loop.close()

    async def _shutdown(self) -> None:
        for server in self._servers:
            server.close()
        for session in list(self._lab.sessions if self._lab else ()):
            session.shutdown_notice()
        if self._lab and self._lab.sessions:
            await asyncio.sleep(0.2)  # let the 421s go out and the closes complete
        for session in list(self._lab.sessions if self._lab else ()):
            if session.transport is not None:
                session.transport.abort()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for server in self._servers:
            try:
                await asyncio.wait_for(server.wait_closed(), timeout=2)
            except TimeoutError:
                pass
        self._servers.clear()
