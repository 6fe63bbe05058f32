"""A small scriptable hostile SMTP server for robustness tests.

Why this exists: the shell must survive servers that break every rule (silence, garbage,
floods, escape sequences, dropped connections, plaintext injected before TLS, bad
certificates). aiosmtpd is too well-behaved to provoke those, so each test writes the
server's behaviour as a short coroutine instead:

    async def script(peer: Peer) -> None:
        await peer.send("220 hostile.test ESMTP")
        await peer.expect("EHLO")
        await peer.send(b"250 \\x1b[31mred\\r\\n")
        await peer.hang()                      # never answer again

    with HostileServer(script) as server:      # 127.0.0.1, a free port, a background thread
        run_cli(["connect", server.target, "--batch", "--timeout", "1"], "EHLO a\\n", home)
        server.lines                           # every line the client sent, as bytes

The server runs its own event loop in a daemon thread, so it works the same for a shell
subprocess, the in-process REPL harness (which has its own loop) and pexpect. `peer.index`
numbers the connections from 0, so a script can misbehave on the first connection and
behave on the next (to prove `:reconnect` works). `smtp()` is a minimal well-behaved SMTP
dialogue whose replies a script overrides per verb.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Awaitable, Callable

HOST = "127.0.0.1"
NAME = "hostile.test"

Script = Callable[["Peer"], Awaitable[None]]


class Peer:
    """One client connection as the script sees it."""

    def __init__(self, server: HostileServer, index: int, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.index = index
        self.reader = reader
        self.writer = writer
        self.lines: list[bytes] = []

    # -- writing ----------------------------------------------------------------------
    async def send(self, data: bytes | str) -> None:
        """Send bytes as they are, or a str as one CRLF-terminated line."""
        if isinstance(data, str):
            data = data.encode("utf-8") + b"\r\n"
        self.writer.write(data)
        await self.writer.drain()

    async def drip(self, data: bytes, interval: float = 1.0) -> None:
        """Send `data` one byte at a time, `interval` seconds apart."""
        for i in range(len(data)):
            self.writer.write(data[i:i + 1])
            await self.writer.drain()
            await asyncio.sleep(interval)

    # -- reading ----------------------------------------------------------------------
    async def line(self, timeout: float | None = 30) -> bytes:
        """The next line the client sent (CRLF stripped); b"" once the client has gone."""
        try:
            raw = await asyncio.wait_for(self.reader.readline(), timeout)
        except (TimeoutError, ValueError):
            return b""
        if not raw:
            return b""
        line = raw.rstrip(b"\r\n")
        self.lines.append(line)
        self.server.lines.append(line)
        return line

    async def expect(self, verb: str, timeout: float | None = 30) -> bytes:
        """Read lines until one starts with `verb` (any case); b"" if the client went away."""
        while True:
            line = await self.line(timeout)
            if not line or line.upper().startswith(verb.upper().encode()):
                return line

    async def wait_for(self, event: threading.Event, timeout: float = 30) -> bool:
        """Wait (without blocking the server) until the test sets `event`."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, event.wait, timeout)

    # -- ending -----------------------------------------------------------------------
    async def hang(self, seconds: float = 3600) -> None:
        """Keep the connection open and say nothing (reading and recording what arrives)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            if not await self.line(timeout=deadline - loop.time()):
                if self.reader.at_eof():
                    return

    def close(self) -> None:
        """Close politely (FIN)."""
        self.writer.close()

    def abort(self) -> None:
        """Hang up at once, without flushing or a TLS goodbye."""
        self.writer.transport.abort()

    # -- TLS ------------------------------------------------------------------------
    async def starttls(self, context: ssl.SSLContext | None = None) -> None:
        """Upgrade this connection to TLS (server side), with the server's context by default."""
        await self.writer.start_tls(context or self.server.tls_context)

    # -- a well-behaved dialogue ---------------------------------------------------------
    async def smtp(self, on: dict[str, object] | None = None, greeting: str | None = "220 hostile.test ESMTP ready",
                   data_reply: str = "250 2.0.0 Queued") -> None:
        """Play a minimal SMTP server until QUIT or the client goes away.

        `on` maps a verb (upper case) to a reply string or to an async function
        `(peer, line) -> bool`: True goes on with the dialogue, False ends it. `"<data>"` in
        `on` is called for every DATA body line (after 354), `"<dot>"` for the final dot.
        """
        on = on or {}
        if greeting is not None:
            await self.send(greeting)
        in_data = False
        while True:
            line = await self.line(timeout=None)
            if not line and self.reader.at_eof():
                return
            if in_data:
                if line == b".":
                    in_data = False
                    if not await self._hook(on, "<dot>", line, data_reply):
                        return
                elif "<data>" in on and not await self._hook(on, "<data>", line, None):
                    return
                continue
            verb = line.split(b" ", 1)[0].split(b":", 1)[0].decode("ascii", "replace").upper()
            default = {
                "EHLO": "250-hostile.test greets you\r\n250-SIZE 1000000\r\n250 STARTTLS",
                "HELO": "250 hostile.test", "MAIL": "250 2.1.0 OK", "RCPT": "250 2.1.5 OK",
                "DATA": "354 End data with <CR><LF>.<CR><LF>", "RSET": "250 2.0.0 OK", "NOOP": "250 2.0.0 OK",
                "QUIT": "221 2.0.0 Bye", "STARTTLS": "220 2.0.0 Ready to start TLS",
                "AUTH": "334 VXNlcm5hbWU6",
            }.get(verb, "502 5.5.1 Command not implemented")
            if not await self._hook(on, verb, line, default):
                return
            if verb == "DATA" and (on.get("DATA") is None or isinstance(on.get("DATA"), str)):
                in_data = True
            if verb == "STARTTLS" and on.get("STARTTLS") is None and self.server.tls_context is not None:
                await self.starttls()
            if verb == "QUIT":
                self.close()
                return

    async def _hook(self, on: dict, key: str, line: bytes, default: str | None) -> bool:
        action = on.get(key, default)
        if action is None:
            return True
        if isinstance(action, (str, bytes)):
            await self.send(action if isinstance(action, bytes) else action.replace("\r\n", "\n").replace("\n", "\r\n"))
            return True
        return bool(await action(self, line))


class HostileServer:
    """A TCP (optionally implicit-TLS) server on 127.0.0.1 that runs `script` per connection."""

    def __init__(self, script: Script, *, tls_context: ssl.SSLContext | None = None,
                 implicit_tls: bool = False) -> None:
        self.script = script
        self.tls_context = tls_context
        self.implicit_tls = implicit_tls
        self.host = HOST
        self.port = 0
        self.lines: list[bytes] = []          # every line any client sent, in order
        self.connections = 0
        self.finished = threading.Event()     # set each time a script returns
        self.errors: list[BaseException] = []  # unexpected exceptions raised by scripts
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> HostileServer:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="hostile-smtp", daemon=True)
        self._thread.start()
        if not ready.wait(10) or self._server is None:
            raise RuntimeError("the hostile server did not start")
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._thread = None

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self, ready: threading.Event) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        loop.set_exception_handler(lambda _loop, _ctx: None)  # hostile by design: stay quiet
        try:
            self._server = loop.run_until_complete(asyncio.start_server(
                self._serve, HOST, 0, ssl=self.tls_context if self.implicit_tls else None,
                ssl_handshake_timeout=5 if self.implicit_tls else None, limit=4 * 1024 * 1024))
            self.port = self._server.sockets[0].getsockname()[1]
        finally:
            ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            loop.run_until_complete(asyncio.gather(*self._tasks, return_exceptions=True))
            loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        index = self.connections
        self.connections += 1
        sock = writer.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        try:
            await self.script(Peer(self, index, reader, writer))
        except (asyncio.CancelledError, ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            pass
        except Exception as exc:  # a broken script: keep it for the test to see
            self.errors.append(exc)
        finally:
            self._tasks.discard(task)
            self.finished.set()
            if not writer.transport.is_closing():
                writer.close()


def serve(script: Script, **kwargs) -> HostileServer:
    """`with serve(script) as server:` — a started HostileServer."""
    return HostileServer(script, **kwargs)


# ---- scripts several test modules use -------------------------------------------------------

async def never_greets(peer):
    await peer.hang()


async def greets_then_silent(peer):
    await peer.send("220 hostile.test ESMTP")
    await peer.hang()


async def closes_after_starttls_220(peer):
    async def starttls(p, line):
        await p.send("220 2.0.0 Ready to start TLS")
        p.close()
        return False
    await peer.smtp({"STARTTLS": starttls})
