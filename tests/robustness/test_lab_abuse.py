"""The lab server under abuse: while one well-behaved client (smtplib) sends 100 messages, 200
others connect and misbehave (garbage, overlong lines, half-open connections that never speak,
a slow drip, repeated wrong AUTH, DATA that never ends, disconnects mid-DATA). All 100 good
messages are saved intact, memory stays bounded, idle and dripping clients are cut off by the
idle timeout, AUTH failures are slowed down, and the server still answers afterwards."""

from __future__ import annotations

import asyncio
import base64
import collections
import email
import email.policy
import gc
import os
import smtplib
import threading
import time

import pytest

from smtp_shell.lab import LabConfig, LabServer

pytestmark = pytest.mark.timeout(90)

IDLE = 1.5          # the lab's idle timeout in this test (default 300 s)
MISBEHAVERS = 200
GOOD = 100
KINDS = ["garbage", "overlong", "half-open", "drip", "wrong-auth", "endless-data", "drop-mid-data"]


def rss_bytes() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


async def read_all(reader: asyncio.StreamReader, limit: float) -> tuple[bytes, float | None]:
    """Everything until the server closes (and when it did), or until `limit` seconds pass."""
    loop = asyncio.get_running_loop()
    start, data = loop.time(), b""
    while True:
        remaining = limit - (loop.time() - start)
        if remaining <= 0:
            return data, None
        try:
            chunk = await asyncio.wait_for(reader.read(65536), remaining)
        except TimeoutError:
            return data, None
        except (ConnectionError, OSError):
            return data, loop.time() - start
        if not chunk:
            return data, loop.time() - start
        data += chunk


async def misbehave(kind: str, port: int, results: dict) -> None:
    loop = asyncio.get_running_loop()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    except OSError as exc:
        results[kind].append(("connect-failed", repr(exc)))
        return
    try:
        if kind == "half-open":          # connect, never say a word
            data, closed_after = await read_all(reader, IDLE + 6)
            results[kind].append((closed_after, data))
            return
        greeting = await asyncio.wait_for(reader.readline(), 10)
        if kind == "garbage":
            writer.write(os.urandom(3000) + b"\r\n" + os.urandom(3000) + b"\r\n\x00\xff\r\nQUIT\r\n")
            data, closed_after = await read_all(reader, IDLE + 6)
        elif kind == "overlong":
            writer.write(b"EHLO " + b"a" * 300_000 + b"\r\nMAIL FROM:<" + b"b" * 5000 + b"@x>\r\nNOOP\r\n")
            data, closed_after = await read_all(reader, IDLE + 6)
        elif kind == "drip":             # one byte at a time, never finishing a line in time
            start = loop.time()
            heard = b""
            for byte in b"EHLO drip.example.org.with.a.long.name\r\n":
                try:
                    writer.write(bytes([byte]))
                    await writer.drain()
                except (ConnectionError, OSError):
                    break
                try:  # wait 0.3 s before the next byte, listening (writing after the 421 would reset it away)
                    heard = await asyncio.wait_for(reader.read(65536), 0.3)
                except TimeoutError:
                    continue
                except (ConnectionError, OSError):
                    break
                break
            data, closed = await read_all(reader, IDLE + 6)
            data = heard + data
            closed_after = loop.time() - start if closed is not None else None
        elif kind == "wrong-auth":
            writer.write(b"EHLO auth.example\r\n")
            await writer.drain()
            await read_reply(reader)
            bad = base64.b64encode(b"\x00student\x00wrong-password").decode()
            replies, times = [], []
            for _ in range(5):
                t0 = loop.time()
                writer.write(f"AUTH PLAIN {bad}\r\n".encode())
                await writer.drain()
                replies.append(await read_reply(reader))
                times.append(loop.time() - t0)
            data, closed_after = await read_all(reader, 5)
            results[kind].append((replies, times, closed_after))
            return
        elif kind in ("endless-data", "drop-mid-data"):
            writer.write(b"EHLO data.example\r\nMAIL FROM:<bad@lab.test>\r\nRCPT TO:<bad@lab.test>\r\nDATA\r\n")
            await writer.drain()
            for _ in range(4):
                await read_reply(reader)
            writer.write(b"Subject: never finished\r\n\r\n" + b"half a message\r\n" * 200)
            await writer.drain()
            if kind == "drop-mid-data":
                writer.transport.abort()
                results[kind].append(("dropped", b""))
                return
            data, closed_after = await read_all(reader, IDLE + 6)  # ... and then nothing, forever
        results[kind].append((closed_after, greeting + data))
    except Exception as exc:
        results[kind].append(("error", repr(exc)))
    finally:
        writer.transport.abort()


async def read_reply(reader: asyncio.StreamReader) -> bytes:
    out = b""
    while True:
        line = await asyncio.wait_for(reader.readline(), 10)
        out += line
        if not line or line[3:4] != b"-":
            return out


def send_good_messages(port: int, bodies: list[bytes], errors: list) -> None:
    try:
        for batch_start in range(0, len(bodies), 10):
            with smtplib.SMTP("127.0.0.1", port, timeout=20) as client:
                client.ehlo("good.example")
                for body in bodies[batch_start:batch_start + 10]:
                    client.sendmail("good@lab.test", ["teacher@lab.test"], body)
    except Exception as exc:
        errors.append(repr(exc))


def make_body(n: int) -> bytes:
    lines = ["From: Good <good@lab.test>", "To: teacher@lab.test", f"Subject: good message {n}",
             f"Message-ID: <good-{n}@lab.test>", "", f"This is good message number {n}."]
    lines += [f"line {i} of message {n}: " + "x" * (n % 50) for i in range(20 + n)]
    return ("\r\n".join(lines) + "\r\n").encode()


def test_lab_server_under_abuse(tmp_path):
    # All 200 misbehavers come from 127.0.0.1 here, so the per-address connection limit and the
    # cross-connection AUTH throttle are lifted: tests/security/test_lab_limits.py covers those
    # with clients on several loopback addresses; this test is about per-connection behaviour.
    config = LabConfig(host="127.0.0.1", port=0, mailbox=tmp_path / "mailbox", cert_dir=tmp_path / "cert",
                       idle_timeout=IDLE, max_sessions=MISBEHAVERS + 50, allow_plain_auth=True,
                       max_per_address=MISBEHAVERS + 50, auth_throttle=False)
    with LabServer(config) as server:
        with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as warm:  # warm up (imports, first message)
            warm.sendmail("warm@lab.test", ["warm@lab.test"], b"Subject: warm\r\n\r\nwarm\r\n")
        gc.collect()
        rss_before = rss_bytes()
        started = time.monotonic()

        bodies = [make_body(n) for n in range(GOOD)]
        good_errors: list = []
        good = threading.Thread(target=send_good_messages, args=(server.port, bodies, good_errors))
        results: dict = collections.defaultdict(list)

        async def swarm():
            await asyncio.gather(*(misbehave(KINDS[i % len(KINDS)], server.port, results)
                                   for i in range(MISBEHAVERS)))

        good.start()
        asyncio.run(asyncio.wait_for(swarm(), 60))
        good.join(60)
        elapsed = time.monotonic() - started
        assert not good.is_alive() and good_errors == []

        # the server still answers, and has let go of every misbehaving session
        with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as after:
            assert after.noop()[0] == 250
        deadline = time.monotonic() + 5
        while len(server._lab.sessions) > 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(server._lab.sessions) == 0
        gc.collect()
        rss_after = rss_bytes()

    # every good message saved, intact; nothing from the misbehavers
    saved = sorted((tmp_path / "mailbox" / "teacher@lab.test").glob("*.eml"))
    assert len(saved) == GOOD
    got = set()
    for path in saved:
        raw = path.read_bytes()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        body = raw[raw.index(b"From: Good"):]
        assert body in bodies, path
        got.add(message["Subject"])
    assert got == {f"good message {n}" for n in range(GOOD)}
    assert not (tmp_path / "mailbox" / "bad@lab.test").exists()

    # the misbehavers: all ran, none crashed the client side unexpectedly
    assert sum(len(v) for v in results.values()) == MISBEHAVERS
    assert not [r for v in results.values() for r in v if r[0] in ("error", "connect-failed")], dict(results)

    # idle and dripping clients are cut off by the idle timeout, with 421 4.4.2
    for kind in ("half-open", "drip", "endless-data"):
        for closed_after, data in results[kind]:
            assert closed_after is not None and closed_after < IDLE + 5, (kind, closed_after)
            assert b"421 4.4.2" in data and b"Idle timeout" in data, (kind, data[-200:])
    for closed_after, _ in results["drip"]:
        assert closed_after < 0.3 * 40 - 2  # cut off well before the line could be finished

    # garbage and overlong lines get error replies, not a crash
    for _closed_after, data in results["garbage"] + results["overlong"]:
        assert b"500" in data or b"421" in data, data[-300:]

    # repeated wrong AUTH: each failure slows the next reply; the fifth gets 421 and a hang-up
    for replies, times, closed_after in results["wrong-auth"]:
        assert [r[:3] for r in replies] == [b"535"] * 4 + [b"421"], replies
        assert b"Too many failed authentication attempts" in replies[4]
        assert sum(times[1:]) >= 0.2 + 0.4 + 0.6 + 0.8 - 0.1, times
        assert times[4] > times[1], times
        assert closed_after is not None

    # memory: bounded (generous: the test's own 200 clients live in this process too)
    growth = rss_after - rss_before
    assert growth < 120 * 1024 * 1024, f"RSS grew by {growth / 2**20:.1f} MiB"
    assert elapsed < 60, elapsed
