"""The servers the benchmarks talk to, each run as its own process on 127.0.0.1.

    python -m bench.servers fast  --port P    a minimal, fast SMTP sink (threads, bulk DATA scan)
           [--cert CERT --key KEY]            ... offering STARTTLS with that certificate
    python -m bench.servers sink  --port P    plain aiosmtpd with a counting `Sink` handler

Each prints `READY <port>` on stdout once it listens, and on SIGTERM (or SIGINT) prints one
JSON line with what it received (`{"messages": N, "bytes": B}`) and exits. The lab server is
run through the real CLI (`smtp-shell lab`), see `bench.common.LabProcess`.

Why a fast sink of our own: for the client-side rows (DATA throughput, NOOP round trips,
memory) the server must not be the bottleneck, or every client would look the same. aiosmtpd
reads DATA line by line (tens of MB/s); this sink scans whole 1 MiB reads for the CRLF.CRLF
terminator, so it runs at loopback speed and the figures measure the clients.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import sys
import threading

TERMINATOR = b"\r\n.\r\n"
RECV = 1 << 20


class _Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages = 0
        self.bytes = 0
        self.sizes: list[int] = []

    def add(self, size: int) -> None:
        with self.lock:
            self.messages += 1
            self.bytes += size
            if len(self.sizes) < 10000:
                self.sizes.append(size)


def _serve_fast_conn(conn: socket.socket, stats: _Stats, tls=None) -> None:
    """One connection: greeting, line commands, DATA scanned in bulk; STARTTLS when `tls` (an
    `ssl.SSLContext`) is given. No AUTH."""
    buf = bytearray()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def readline() -> bytes | None:
        start = 0
        while True:
            end = buf.find(b"\n", start)
            if end >= 0:
                line = bytes(buf[:end + 1])
                del buf[:end + 1]
                return line
            start = len(buf)
            chunk = conn.recv(RECV)
            if not chunk:
                return None
            buf.extend(chunk)

    def read_data() -> int | None:
        """Consume the message up to and including CRLF.CRLF; return its size (terminator excluded)."""
        total = 0
        tail = b"\r\n"  # the start of DATA counts as the start of a line
        pending = bytes(buf)
        buf.clear()
        while True:
            if not pending:
                pending = conn.recv(RECV)
                if not pending:
                    return None
            window = tail + pending
            pos = window.find(TERMINATOR)
            if pos >= 0:
                used = pos + len(TERMINATOR) - len(tail)  # bytes of `pending` consumed
                total += max(used - len(TERMINATOR), 0)
                buf.extend(pending[used:])
                return total
            total += len(pending)
            tail = window[-4:]
            pending = b""

    try:
        conn.sendall(b"220 bench.fast ESMTP fast sink\r\n")
        while True:
            line = readline()
            if line is None:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO",):
                offer = b"250-STARTTLS\r\n" if tls is not None and not isinstance(conn, tls.sslsocket_class) else b""
                conn.sendall(b"250-bench.fast\r\n250-8BITMIME\r\n250-PIPELINING\r\n" + offer + b"250 SMTPUTF8\r\n")
            elif verb == b"STAR" and tls is not None and not buf:
                conn.sendall(b"220 2.0.0 Ready to start TLS\r\n")
                conn = tls.wrap_socket(conn, server_side=True)
            elif verb == b"HELO":
                conn.sendall(b"250 bench.fast\r\n")
            elif verb == b"MAIL":
                conn.sendall(b"250 2.1.0 OK\r\n")
            elif verb == b"RCPT":
                conn.sendall(b"250 2.1.5 OK\r\n")
            elif verb == b"DATA":
                conn.sendall(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                size = read_data()
                if size is None:
                    return
                stats.add(size)
                conn.sendall(b"250 2.0.0 Accepted\r\n")
            elif verb == b"NOOP" or verb == b"RSET":
                conn.sendall(b"250 2.0.0 OK\r\n")
            elif verb == b"QUIT":
                conn.sendall(b"221 2.0.0 Bye\r\n")
                return
            else:
                conn.sendall(b"502 5.5.1 Not implemented\r\n")
    except OSError:
        return
    finally:
        conn.close()


def run_fast(port: int, cert: str | None = None, key: str | None = None) -> None:
    tls = None
    if cert:
        import ssl

        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(cert, key)
    stats = _Stats()
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(256)
    _on_term(lambda: {"messages": stats.messages, "bytes": stats.bytes, "sizes": stats.sizes[:20]})
    print(f"READY {srv.getsockname()[1]}", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=_serve_fast_conn, args=(conn, stats, tls), daemon=True).start()


def run_sink(port: int) -> None:
    import asyncio
    import logging
    import warnings

    from aiosmtpd.handlers import Sink
    from aiosmtpd.smtp import SMTP

    logging.getLogger("mail.log").addHandler(logging.NullHandler())
    logging.getLogger("mail.log").propagate = False
    warnings.simplefilter("ignore")

    class CountingSink(Sink):
        """aiosmtpd's Sink, plus a count of the messages it was given (to check none was lost)."""
        messages = 0
        bytes = 0

        async def handle_DATA(self, server, session, envelope):
            CountingSink.messages += 1
            CountingSink.bytes += len(envelope.original_content or b"")
            return "250 OK"

    _on_term(lambda: {"messages": CountingSink.messages, "bytes": CountingSink.bytes})
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    handler = CountingSink()
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(handler, hostname="bench.sink", loop=loop, decode_data=False),
        host="127.0.0.1", port=port, backlog=256))
    print(f"READY {server.sockets[0].getsockname()[1]}", flush=True)
    loop.run_forever()


def _on_term(report) -> None:
    def handler(signum, frame):
        sys.stdout.write(json.dumps(report()) + "\n")
        sys.stdout.flush()
        import os
        os._exit(0)
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.servers")
    parser.add_argument("kind", choices=("fast", "sink"))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert", help="fast: offer STARTTLS with this certificate (PEM)")
    parser.add_argument("--key", help="fast: the certificate's private key (PEM)")
    args = parser.parse_args(argv)
    if args.kind == "fast":
        run_fast(args.port, args.cert, args.key)
    else:
        run_sink(args.port)


if __name__ == "__main__":
    main()
