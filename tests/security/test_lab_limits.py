"""The lab's limits with real sockets, while a well-behaved client's messages keep arriving intact.

Abusers connect from other loopback addresses (127.0.0.2 and up: every 127/8 address reaches
the lab on 127.0.0.1 and the lab sees them as different clients), the good client from
127.0.0.1, exactly as a classroom network would look. Each limit is checked by what the abuser
gets back and by what the lab did (its memory, its mailbox, the file system).
"""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import gc
import smtplib
import ssl
import threading

import pytest

from smtp_shell.lab import LabConfig, LabServer
from smtp_shell.lab.limits import AUTH_LOCK_AFTER, MAX_PER_ADDRESS, MAX_RECIPIENTS

pytestmark = pytest.mark.timeout(120)

USER, PASSWORD = "student", "right-Pa55"
GOOD = 30


def rss() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmRSS:"))


def body(n: int) -> bytes:
    lines = ["From: Good <good@lab.test>", "To: teacher@lab.test", f"Subject: good {n}", "", f"message {n}"]
    lines += [f"line {i}: " + "y" * (n * 7 % 300) for i in range(10 + n)]
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.fixture
def lab(tmp_path):
    config = LabConfig(host="127.0.0.1", port=0, mailbox=tmp_path / "mbox", cert_dir=tmp_path / "cert",
                       users={USER: PASSWORD}, allow_plain_auth=True, idle_timeout=30)
    with LabServer(config) as server:
        yield server


async def connect(lab, source: str):
    reader, writer = await asyncio.open_connection("127.0.0.1", lab.port, local_addr=(source, 0),
                                                   limit=1 << 20)
    greeting = await reader.readline()
    return reader, writer, greeting


async def reply(reader) -> bytes:
    out = b""
    while True:
        line = await asyncio.wait_for(reader.readline(), 30)
        out += line
        if len(line) < 4 or line[3:4] != b"-":
            return out


async def say(reader, writer, line: bytes) -> bytes:
    writer.write(line + b"\r\n")
    await writer.drain()
    return await reply(reader)


def plain(user: str, password: str) -> bytes:
    return base64.b64encode(f"\0{user}\0{password}".encode())


async def endless_line(lab, results: dict) -> None:
    """A DATA line of 64 MiB without CRLF: refused after the dot, never buffered whole."""
    reader, writer, _ = await connect(lab, "127.0.0.2")
    for line in (b"EHLO abuser", b"MAIL FROM:<bad@lab.test>", b"RCPT TO:<bad@lab.test>", b"DATA"):
        await say(reader, writer, line)
    chunk = b"z" * (1 << 20)
    for _ in range(64):
        writer.write(chunk)
        await writer.drain()
    results["long-line"] = await say(reader, writer, b"\r\n.")
    writer.close()


async def many_recipients(lab, results: dict) -> None:
    reader, writer, _ = await connect(lab, "127.0.0.3")
    await say(reader, writer, b"EHLO abuser")
    await say(reader, writer, b"MAIL FROM:<bad@lab.test>")
    codes = [(await say(reader, writer, f"RCPT TO:<r{i}@lab.test>".encode()))[:3] for i in range(MAX_RECIPIENTS + 20)]
    results["recipients"] = codes
    writer.close()


async def hog_connections(lab, results: dict, release: asyncio.Event) -> None:
    held = [await connect(lab, "127.0.0.4") for _ in range(MAX_PER_ADDRESS)]
    _, writer, greeting = await connect(lab, "127.0.0.4")
    results["hog-extra"] = greeting
    writer.close()
    results["hog-held"] = [g for _, _, g in held]
    await release.wait()
    for _, w, _ in held:
        w.close()


async def guess(lab, source: str, password: str, user: str = USER) -> bytes:
    reader, writer, _ = await connect(lab, source)
    await say(reader, writer, b"EHLO guesser")
    answer = await say(reader, writer, b"AUTH PLAIN " + plain(user, password))
    writer.close()
    return answer


async def guess_passwords(lab, results: dict) -> None:
    """Guesses spread over many connections and addresses: the account locks, even for the right password."""
    wrong = await asyncio.gather(*(guess(lab, f"127.0.0.{10 + i % 5}", f"guess-{i}") for i in range(AUTH_LOCK_AFTER)))
    results["guesses"] = [w[:3] for w in wrong]
    results["right-while-locked"] = await guess(lab, "127.0.0.30", PASSWORD)
    # one address trying many accounts: the address locks (454 before any password is read)
    await asyncio.gather(*(guess(lab, "127.0.0.40", "x", f"nobody{i}") for i in range(AUTH_LOCK_AFTER)))
    again = await asyncio.gather(*(guess(lab, "127.0.0.40", "x", f"other{i}") for i in range(2)))
    results["address-locked"] = [w[:3] for w in again]


def send_good(port: int, errors: list) -> None:
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
            for n in range(GOOD):
                client.sendmail("good@lab.test", ["teacher@lab.test"], body(n))
    except Exception as exc:
        errors.append(repr(exc))


class PeakRss:
    """Samples this process's RSS every 10 ms (the lab runs in it): the peak, not the end value,
    shows whether a 64 MiB line was buffered (freed big blocks go back to the system at once)."""

    def __init__(self) -> None:
        self.peak = rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss())

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)


def test_every_limit_holds_while_the_good_client_is_served(lab, tmp_path):
    gc.collect()
    before = rss()
    errors: list = []
    good = threading.Thread(target=send_good, args=(lab.port, errors))
    results: dict = {}

    async def abuse():
        release = asyncio.Event()
        hog = asyncio.create_task(hog_connections(lab, results, release))
        await asyncio.gather(endless_line(lab, results), many_recipients(lab, results), guess_passwords(lab, results))
        while "hog-held" not in results:
            await asyncio.sleep(0.05)
        release.set()
        await hog

    with PeakRss() as sampler:
        good.start()
        asyncio.run(asyncio.wait_for(abuse(), 100))
        good.join(60)
    grown = sampler.peak - before

    assert not good.is_alive() and errors == []
    saved = sorted((tmp_path / "mbox" / "teacher@lab.test").glob("*.eml"))
    assert len(saved) == GOOD
    bodies = {body(n) for n in range(GOOD)}
    for path in saved:
        raw = path.read_bytes()
        assert raw[raw.index(b"From: Good"):] in bodies
    assert {email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Subject"] for p in saved} == \
        {f"good {n}" for n in range(GOOD)}

    # a 64 MiB line: refused, and the lab never held it (it runs in this process)
    assert results["long-line"].startswith(b"500"), results["long-line"]
    assert grown < 40 * 2**20, f"the lab grew by {grown / 2**20:.0f} MiB while a 64 MiB line streamed in"
    assert not (tmp_path / "mbox" / "bad@lab.test").exists()

    # recipients: the first 100 accepted, then 452 (RFC 5321 §4.5.3.1.8)
    codes = results["recipients"]
    assert codes[:MAX_RECIPIENTS] == [b"250"] * MAX_RECIPIENTS and set(codes[MAX_RECIPIENTS:]) == {b"452"}

    # connections: one address gets its share, not every slot
    assert all(g.startswith(b"220") for g in results["hog-held"])
    assert results["hog-extra"].startswith(b"421") and b"your address" in results["hog-extra"]

    # AUTH guessing across connections and addresses: the account locks, the right password too
    assert results["guesses"] == [b"535"] * AUTH_LOCK_AFTER
    assert results["right-while-locked"].startswith(b"535"), results["right-while-locked"]
    assert results["address-locked"] == [b"454"] * 2


def test_a_second_starttls_gets_503(lab):
    with smtplib.SMTP("127.0.0.1", lab.port, timeout=10) as client:
        client.ehlo()
        client.starttls(context=ssl.create_default_context(cafile=str(lab.cert_path)))
        client.ehlo()
        code, text = client.docmd("STARTTLS")
        assert code == 503, text
        assert client.noop()[0] == 250  # and the session goes on


def test_the_mailbox_follows_no_symlink(lab, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "mbox" / "victim@lab.test").symlink_to(outside, target_is_directory=True)
    planted = tmp_path / "mbox" / "teacher@lab.test"
    planted.mkdir()
    (planted / "20260101T000000Z-000001.eml").symlink_to(tmp_path / "secret.txt")
    (tmp_path / "secret.txt").write_text("instructor's file")
    with smtplib.SMTP("127.0.0.1", lab.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail("a@lab.test", ["victim@lab.test"], b"Subject: x\r\n\r\nx\r\n")
        assert refused.value.smtp_code == 451
        client.sendmail("a@lab.test", ["teacher@lab.test"], b"Subject: y\r\n\r\ny\r\n")
    assert list(outside.iterdir()) == []
    from smtp_shell.lab.mailbox import Mailbox
    listed = [m.path for m in Mailbox(tmp_path / "mbox").messages()]
    assert len(listed) == 1 and not listed[0].is_symlink()
