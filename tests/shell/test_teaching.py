"""The teaching helpers in-process: a real SessionDriver against plain aiosmtpd on 127.0.0.1, the
helpers dispatched through the one registry, answers to their questions scripted. Asserts on
what the student sees and on what the server received."""

from __future__ import annotations

import asyncio
import email
import io
from datetime import UTC, datetime
from email import policy

import pytest

from smtp_shell.protocol.states import State
from smtp_shell.render import Renderer, make_console
from smtp_shell.shell import meta, teaching
from smtp_shell.shell.context import ShellContext
from smtp_shell.shell.driver import SessionDriver
from smtp_shell.shell.options import SessionOptions
from tests.support.servers import PASSWORD, USER

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


class Scripted:
    """Answers the helpers' questions in order; records each prompt and whether it was masked."""

    def __init__(self, answers=()) -> None:
        self.answers = list(answers)
        self.prompts: list[tuple[str, bool]] = []

    async def __call__(self, prompt: str, masked: bool = False):
        self.prompts.append((prompt, masked))
        return self.answers.pop(0) if self.answers else None


class Session:
    def __init__(self, server, answers=(), interactive=True) -> None:
        self.buffer = io.StringIO()
        options = SessionOptions(host="127.0.0.1", port=server.port, cafile=server.cafile, timeout=5)
        self.driver = SessionDriver(options, Renderer(make_console(file=self.buffer, width=200)))
        self.ask = Scripted(answers)
        self.shell = ShellContext(self.driver, interactive, ask=self.ask if interactive else None)

    @property
    def screen(self) -> str:
        return self.buffer.getvalue()

    async def open(self, tls=False):
        assert await self.driver.connect()
        await self.driver.wait_greeting()
        await self.driver.send("EHLO client.test")
        if tls:
            await self.driver.send("STARTTLS")
            assert self.driver.core.tls
            await self.driver.send("EHLO client.test")
        return self

    async def run(self, line: str) -> str:
        mark = len(self.screen)
        await meta.dispatch(self.shell, line)
        return self.screen[mark:]

    async def close(self):
        await self.driver.quit()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def received(server):
    """The last message the server got, parsed as a receiver would (line ends as LF)."""
    return email.message_from_bytes(server.messages[-1].replace(b"\r\n", b"\n"), policy=policy.default)


# ---- explanations and encodings -------------------------------------------------------------------

def test_explain_caps_gloss_and_base64(aiosmtpd_server):
    async def scenario():
        s = await Session(aiosmtpd_server).open()
        out = await s.run(":explain 550")
        assert "550" in out and "Usual causes" in out
        assert "5.7.8" in await s.run(":explain 5.7.8")
        assert "250" in await s.run(":explain")
        assert "not a reply code" in await s.run(":explain banana")
        out = await s.run(":caps")
        assert "STARTTLS" in out and "SIZE 33554432" in out and "32.0 MiB" in out
        assert "glosses are on" in await s.run(":gloss on")
        await s.driver.send("NOOP")
        from smtp_shell.protocol.catalogue import gloss
        assert s.screen.splitlines()[-1].strip() == gloss(250, None)
        assert "glosses are off" in await s.run(":gloss off")
        assert "c3R1ZGVudA== is base64 for 'student'" in await s.run(":b64 student")
        assert "VXNlcm5hbWU6 is base64 for 'Username:'" in await s.run(":unb64 VXNlcm5hbWU6")
        assert "AUTH PLAIN" in await s.run(":unb64 AHN0dWRlbnQAcHc=")
        assert "is not base64" in await s.run(":unb64 no way!")
        await s.driver.send("STARTTLS")
        await s.driver.send("EHLO client.test")
        out = await s.run(":caps")
        assert "AUTH LOGIN PLAIN" in out and "compared with before STARTTLS: " in out and "AUTH appeared" in out
        await s.close()

    run(scenario())


def test_caps_before_ehlo_says_what_to_do(aiosmtpd_server):
    async def scenario():
        s = Session(aiosmtpd_server)
        await s.driver.connect()
        await s.driver.wait_greeting()
        assert "send EHLO first" in await s.run(":caps")
        await s.close()

    run(scenario())


def test_date_for_a_named_zone_part_by_part(aiosmtpd_server, monkeypatch):
    monkeypatch.setattr(teaching, "now", lambda: datetime(2026, 11, 24, 18, 1, 2, tzinfo=UTC))

    async def scenario():
        s = await Session(aiosmtpd_server).open()
        out = await s.run(":date Europe/Paris")
        assert "=== Date: Tue, 24 Nov 2026 19:01:02 +0100" in out
        assert "day of week" in out and "+0100" in out and "one hour ahead" in out
        assert "Unknown time zone" in await s.run(":date Mars/Olympus")
        assert "Date: " in await s.run(":date")
        await s.close()

    run(scenario())


# ---- :auth -----------------------------------------------------------------------------------------

def test_auth_login_step_by_step_never_shows_the_password(aiosmtpd_server):
    async def scenario():
        s = await Session(aiosmtpd_server, answers=[PASSWORD]).open(tls=True)
        out = await s.run(":auth login student")
        assert s.ask.prompts == [("Password (not shown): ", True)]
        assert "c3R1ZGVudA== is base64 for 'student'" in out
        assert "******** is base64 for the password (hidden)" in out
        assert "<~  235 " in out and "logged in as student" in out
        assert s.driver.core.authenticated_user == USER
        await s.close()
        assert PASSWORD not in s.screen and "czNjcmV0" not in s.screen

    run(scenario())


def test_auth_plain_asks_the_user_name_when_not_given(aiosmtpd_server):
    async def scenario():
        s = await Session(aiosmtpd_server, answers=[USER, PASSWORD]).open(tls=True)
        out = await s.run(":auth plain")
        assert [masked for _p, masked in s.ask.prompts] == [False, True]
        assert " ~> AUTH PLAIN ********" in out and "<~  235 " in out
        assert PASSWORD not in s.screen
        await s.close()

    run(scenario())


def test_auth_before_tls_warns_and_lets_the_student_stop(aiosmtpd_server):
    async def scenario():
        s = await Session(aiosmtpd_server, answers=["n"]).open()
        out = await s.run(":auth login student")
        assert "did not advertise AUTH, but it offers STARTTLS" in out and "not sent" in out
        assert " -> AUTH" not in out
        await s.close()

    run(scenario())


def test_auth_in_batch_mode_takes_the_password_from_the_environment(aiosmtpd_server, monkeypatch):
    async def scenario():
        s = await Session(aiosmtpd_server, interactive=False).open(tls=True)
        out = await s.run(":auth login student")
        assert "SMTP_SHELL_PASSWORD" in out and " ~> AUTH" not in out
        assert "give the user name" in await s.run(":auth login")
        monkeypatch.setenv("SMTP_SHELL_PASSWORD", PASSWORD)
        out = await s.run(":auth login student")
        assert "logged in as student" in out and PASSWORD not in s.screen
        assert "Say which mechanism" in await s.run(":auth cram-md5")
        await s.close()

    run(scenario())


# ---- :compose and :send -------------------------------------------------------------------------------

COMPOSE_ANSWERS = ["Stüdent <student@lab.test>", "Teacher <teacher@lab.test>, b@lab.test", "Grüße aus dem Labor ✉",
                   "Hallo!", ".leading dot line", "Tschüss.", ".", "y", "<p>Hallo!</p>", "."]


def test_compose_in_data_mode_sends_the_message(aiosmtpd_server, tmp_path):
    attachment = tmp_path / "chart.png"
    attachment.write_bytes(PNG)

    async def scenario():
        s = await Session(aiosmtpd_server, answers=COMPOSE_ANSWERS + [str(attachment)]).open()
        for line in ("MAIL FROM:<student@lab.test>", "RCPT TO:<teacher@lab.test>", "DATA"):
            await s.driver.send(line)
        assert s.driver.core.mode == "data"
        out = await s.run(":compose")
        assert "exactly as it goes on the wire" in out
        assert "multipart/mixed" in out and "multipart/alternative" in out and "attachment 'chart.png'" in out
        assert "more lines like these" in out
        assert " -> Subject: =?utf-8?" in out and "Message accepted" in out
        assert s.driver.core.state is State.READY and s.shell.composed is None
        await s.close()

    run(scenario())
    msg = received(aiosmtpd_server)
    assert msg["Subject"] == "Grüße aus dem Labor ✉"
    assert msg["From"].addresses[0].display_name == "Stüdent"
    assert [a.addr_spec for a in msg["To"].addresses] == ["teacher@lab.test", "b@lab.test"]
    assert msg["Date"] and msg["Message-ID"].endswith("@lab.test>")
    assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n") == "Hallo!\n.leading dot line\nTschüss.\n"
    [part] = list(msg.iter_attachments())
    assert part.get_filename() == "chart.png" and part.get_content() == PNG


def test_compose_first_then_type_the_envelope_then_compose_send(aiosmtpd_server):
    answers = ["student@lab.test", "teacher@lab.test", "plain", "x" * 3000, ".", "", "no-such-file.bin", ""]

    async def scenario():
        s = await Session(aiosmtpd_server, answers=answers).open()
        out = await s.run(":compose")
        assert "Cannot read no-such-file.bin" in out
        assert "to send it, type: MAIL FROM:<student@lab.test>  |  RCPT TO:<teacher@lab.test>  |  DATA" in out
        assert s.driver.core.state is State.READY and s.shell.composed is not None
        await s.driver.send("MAIL FROM:<student@lab.test>")
        assert "type: RCPT TO:<teacher@lab.test>  |  DATA  |  then :compose send" in await s.run(":compose show")
        for line in ("RCPT TO:<teacher@lab.test>", "DATA"):
            await s.driver.send(line)
        out = await s.run(":compose send")
        assert "Message accepted" in out
        assert "Nothing composed yet" in await s.run(":compose send")
        await s.close()

    run(scenario())
    msg = received(aiosmtpd_server)
    assert msg["Subject"] == "plain" and msg["Content-Transfer-Encoding"] == "quoted-printable"
    assert msg.get_content().replace("\r\n", "\n") == "x" * 3000 + "\n"


def test_compose_long_messages_are_summarised(aiosmtpd_server):
    body = [f"line {i}" for i in range(200)]
    answers = ["student@lab.test", "teacher@lab.test", "long", *body, ".", "", ""]

    async def scenario():
        s = await Session(aiosmtpd_server, answers=answers).open()
        for line in ("MAIL FROM:<student@lab.test>", "RCPT TO:<teacher@lab.test>", "DATA"):
            await s.driver.send(line)
        out = await s.run(":compose")
        assert "more lines sent without showing them" in out and " -> line 199" not in out
        assert "Message accepted" in out
        await s.close()

    run(scenario())
    assert received(aiosmtpd_server).get_content().splitlines() == body


def test_compose_cancelled_and_smtputf8_advice(aiosmtpd_server):
    async def scenario():
        s = await Session(aiosmtpd_server, answers=["student@lab.test", "not an address", None]).open()
        out = await s.run(":compose")
        assert "is not an e-mail address" in out and "compose cancelled" in out
        s.ask.answers = ["student@lab.test", "jürgen@lab.test", "hi", "body", ".", "", ""]
        out = await s.run(":compose")
        advertised = s.driver.core.capabilities.has("SMTPUTF8")
        assert f"send MAIL FROM:<...> SMTPUTF8 (this server {'advertised' if advertised else 'did not advertise'} it" in out
        assert "MAIL FROM:<student@lab.test> SMTPUTF8" in out
        await s.close()

    run(scenario())


def test_compose_needs_a_keyboard(aiosmtpd_server):
    async def scenario():
        s = await Session(aiosmtpd_server, interactive=False).open()
        assert "needs someone at the keyboard" in await s.run(":compose")
        await s.close()

    run(scenario())


def test_send_streams_a_file_dot_stuffed_in_blocks(aiosmtpd_server, tmp_path, monkeypatch):
    lines = [b"From: student@lab.test", b"Subject: big", b"", *[b".dot %d" % i if i % 7 == 0 else b"line %d" % i
                                                                 for i in range(20000)]]
    path = tmp_path / "big.eml"
    path.write_bytes(b"\n".join(lines))  # bare LF and no final newline: both fixed on the wire
    monkeypatch.setattr(teaching, "BLOCK", 4096)

    async def scenario():
        s = await Session(aiosmtpd_server).open()
        assert "Type MAIL FROM, RCPT TO and DATA first" in await s.run(f":send {path}")
        for line in ("MAIL FROM:<student@lab.test>", "RCPT TO:<teacher@lab.test>", "DATA"):
            await s.driver.send(line)
        sizes = []
        real = s.driver.send_raw

        async def counting(data):
            sizes.append(len(data))
            return await real(data)

        s.driver.send_raw = counting
        out = await s.run(f":send {path}")
        assert "dot-stuffed" in out and "Message accepted" in out
        assert len(sizes) > 50 and max(sizes) < 2 * 4096
        assert "Cannot read" in await s.run(":send /no/such/file.eml")
        await s.close()

    run(scenario())
    assert aiosmtpd_server.messages[-1] == b"\r\n".join(lines) + b"\r\n"


# ---- the registry ------------------------------------------------------------------------------------

def test_help_lists_every_helper_with_an_example(aiosmtpd_server):
    async def scenario():
        s = await Session(aiosmtpd_server).open()
        out = await s.run(":help")
        for name in ("explain", "caps", "gloss", "b64", "unb64", "auth", "date", "compose", "send"):
            cmd = meta.registry()[name]
            assert cmd.usage.startswith(":" + name) and cmd.summary and cmd.example.startswith(":" + name)
            assert cmd.usage in out and cmd.example in out
        await s.close()

    run(scenario())


@pytest.mark.parametrize("line, expected", [(":compose send", True), (":send a.eml", True), (":COMPOSE", True),
                                            (":explain", True), (":hint", True), (":date", True),
                                            (":-) smiley", False), ("::quit", False), ("send", False)])
def test_which_helpers_run_in_data_mode(line, expected):
    assert meta.handles(line, "data") is expected


def test_batch_mode_streams_a_file_and_logs_in_from_the_environment(aiosmtpd_server, tmp_path, monkeypatch):
    from tests.shell.helpers import run_cli
    path = tmp_path / "note.eml"
    path.write_bytes(b"From: student@lab.test\nDate: Tue, 24 Nov 2026 19:01:02 +0000\n\n.hidden dot\n")
    monkeypatch.setenv("SMTP_SHELL_PASSWORD", PASSWORD)
    script = ["EHLO a", "STARTTLS", "EHLO a", ":auth login student", "MAIL FROM:<student@lab.test>",
              "RCPT TO:<teacher@lab.test>", "DATA", f":send {path}", "QUIT"]
    result = run_cli(["connect", aiosmtpd_server.target, "--cafile", str(aiosmtpd_server.cafile), "--batch"],
                     "\n".join(script) + "\n", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "logged in as student" in result.stdout and PASSWORD not in result.stdout
    assert aiosmtpd_server.messages == [b"From: student@lab.test\r\nDate: Tue, 24 Nov 2026 19:01:02 +0000\r\n\r\n"
                                        b".hidden dot\r\n"]
