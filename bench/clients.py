"""The baseline clients and the load generator, each run as a fresh process like the tool it is
compared with:

    python -m bench.clients noop     --port P --count N        plain socket: EHLO, N x NOOP, QUIT
    python -m bench.clients smtplib  --port P --file F [--cafile C]
                                     smtplib.sendmail of F's bytes (after STARTTLS, verifying
                                     the server against C, when C is given)
    python -m bench.clients load     --port P --clients C --messages M
                                     C concurrent connections, M messages each; prints JSON
    python bench/clients.py session PORT CAFILE USER PASSWORD FILE
                                     the floor of the session rows: a minimal synchronous client
                                     (socket + ssl) doing EHLO, STARTTLS, EHLO, AUTH PLAIN, MAIL,
                                     RCPT, DATA (FILE: CRLF text, dot-stuffed), QUIT; USER `-`:
                                     no AUTH (the fast sink has none)

The session client is run as a script file (not `-m`), and this module imports only `socket` and
`sys` at the top, so the floor pays for no package, argparse or asyncio import it does not need.

The load generator is plain asyncio streams, one command at a time per connection (no
pipelining), the same for every server it is pointed at. It prints
`{"ok": messages answered 250, "failed": ..., "elapsed": seconds, "p50"/"p99": seconds from the
final dot to the 250}`.
"""

from __future__ import annotations

import socket
import sys
import time

MESSAGE = (b"From: Student <student@lab.test>\r\nTo: Teacher <teacher@lab.test>\r\n"
           b"Subject: load test\r\nMessage-ID: <load@lab.test>\r\n\r\n"
           b"One of many small messages sent at the same moment by a class.\r\n.\r\n")


def _read_reply(sock_file) -> bytes:
    """One (possibly multi-line) reply."""
    while True:
        line = sock_file.readline()
        if not line:
            raise ConnectionError("server closed")
        if line[3:4] != b"-":
            return line


def noop(port: int, count: int) -> None:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = sock.makefile("rb")
    _read_reply(f)
    sock.sendall(b"EHLO bench.client\r\n")
    _read_reply(f)
    for _ in range(count):
        sock.sendall(b"NOOP\r\n")
        if not _read_reply(f).startswith(b"250"):
            sys.exit("NOOP not accepted")
    sock.sendall(b"QUIT\r\n")
    _read_reply(f)
    sock.close()


def _stuffed(fh, block_size: int = 1 << 20):
    """The DATA body of CRLF text from `fh`, dot-stuffed, then the final dot: streamed in blocks,
    each sent up to its last CRLF, so every piece starts at a line start."""
    carry = b""
    while True:
        block = fh.read(block_size)
        text = carry + block
        if block:
            end = text.rfind(b"\r\n")
            cut = end + 2 if end >= 0 else 0
        else:
            cut = len(text)  # the end of the file: all that is left
        piece, carry = text[:cut], text[cut:]
        if piece:  # stuff its first line, and every line after a CRLF
            yield (b"." if piece[:1] == b"." else b"") + piece.replace(b"\r\n.", b"\r\n..")
        if not block:
            yield (b"" if not text or text.endswith(b"\r\n") else b"\r\n") + b".\r\n"
            return


def session(port: int, cafile: str, user: str, password: str, path: str) -> None:
    """The whole batch session, synchronously, with nothing but socket and ssl."""
    import ssl
    from binascii import b2a_base64

    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = sock.makefile("rb")

    def command(line: bytes, expect: bytes) -> None:
        sock.sendall(line)
        reply = _read_reply(f)
        if not reply.startswith(expect):
            sys.exit(f"{line[:20]!r} answered {reply!r}")

    if not _read_reply(f).startswith(b"220"):
        sys.exit("no 220 greeting")
    command(b"EHLO client.test\r\n", b"250")
    command(b"STARTTLS\r\n", b"220")
    context = ssl.create_default_context(cafile=cafile)
    sock = context.wrap_socket(sock, server_hostname="127.0.0.1")
    f = sock.makefile("rb")
    command(b"EHLO client.test\r\n", b"250")
    if user != "-":
        auth = b2a_base64(b"\0" + user.encode() + b"\0" + password.encode(), newline=False)
        command(b"AUTH PLAIN " + auth + b"\r\n", b"235")
    command(b"MAIL FROM:<student@lab.test>\r\n", b"250")
    command(b"RCPT TO:<teacher@lab.test>\r\n", b"250")
    command(b"DATA\r\n", b"354")
    with open(path, "rb") as fh:
        for piece in _stuffed(fh):
            sock.sendall(piece)
    reply = _read_reply(f)
    if not reply.startswith(b"250"):
        sys.exit(f"message answered {reply!r}")
    command(b"QUIT\r\n", b"221")
    print("250 accepted")
    sock.close()


def send_smtplib(port: int, path: str, cafile: str | None = None) -> None:
    import smtplib

    with open(path, "rb") as fh:
        data = fh.read()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        if cafile:
            import ssl

            smtp.starttls(context=ssl.create_default_context(cafile=cafile))
        smtp.sendmail("student@lab.test", ["teacher@lab.test"], data)


async def _one_client(port: int, messages: int, counts: dict) -> None:
    import asyncio

    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        counts["failed"] += messages
        return

    async def reply() -> bytes:
        while True:
            line = await reader.readline()
            if not line:
                raise ConnectionError("server closed")
            if line[3:4] != b"-":
                return line

    async def command(line: bytes) -> bytes:
        writer.write(line)
        return await reply()

    done = 0
    try:
        if not (await reply()).startswith(b"220"):
            raise ConnectionError("no 220 greeting")
        await command(b"EHLO load.client\r\n")
        for _ in range(messages):
            ok = (await command(b"MAIL FROM:<student@lab.test>\r\n")).startswith(b"250")
            ok = (await command(b"RCPT TO:<teacher@lab.test>\r\n")).startswith(b"250") and ok
            if ok and (await command(b"DATA\r\n")).startswith(b"354"):
                sent = time.perf_counter()  # MESSAGE ends with the final dot: time to its answer
                if (await command(MESSAGE)).startswith(b"250"):
                    counts["latency"].append(time.perf_counter() - sent)
                    counts["ok"] += 1
                    done += 1
                    continue
            await command(b"RSET\r\n")
        await command(b"QUIT\r\n")
    except (OSError, ConnectionError):
        pass
    finally:
        counts["failed"] += messages - done
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass


async def _load(port: int, clients: int, messages: int) -> dict:
    import asyncio

    counts: dict = {"ok": 0, "failed": 0, "latency": []}
    start = time.perf_counter()
    await asyncio.gather(*(_one_client(port, messages, counts) for _ in range(clients)))
    counts["elapsed"] = time.perf_counter() - start
    latency = sorted(counts.pop("latency")) or [0.0]
    counts["p50"] = latency[len(latency) // 2]
    counts["p99"] = latency[min(len(latency) - 1, int(len(latency) * 0.99))]
    return counts


def main(argv: list[str] | None = None) -> None:
    import argparse
    import asyncio
    import json

    parser = argparse.ArgumentParser(prog="python -m bench.clients")
    parser.add_argument("kind", choices=("noop", "smtplib", "load"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--file")
    parser.add_argument("--cafile")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--messages", type=int, default=20)
    args = parser.parse_args(argv)
    if args.kind == "noop":
        noop(args.port, args.count)
    elif args.kind == "smtplib":
        send_smtplib(args.port, args.file, args.cafile)
    else:
        print(json.dumps(asyncio.run(_load(args.port, args.clients, args.messages))))


if __name__ == "__main__":
    if sys.argv[1:2] == ["session"]:  # the floor: no argparse (see the module's docstring)
        port, cafile, user, password, path = sys.argv[2:7]
        session(int(port), cafile, user, password, path)
    else:
        main()
