"""The canary: every private aiosmtpd name the lab relies on still exists in the installed aiosmtpd.

If an aiosmtpd release renames one, this fails first and names it, instead of the lab failing
strangely at run time (an idle timeout without its 421, HELP without its commands ...).
"""

from __future__ import annotations

import asyncio
import inspect

import pytest
from aiosmtpd.smtp import SMTP

from smtp_shell.lab.aiosmtpd_hooks import PRIVATE_ATTRIBUTES, PRIVATE_METHODS, SYNTAX_ATTRIBUTES, HookedSMTP
from smtp_shell.lab.session import LabSMTP


@pytest.mark.parametrize("name", PRIVATE_METHODS)
def test_private_methods_the_lab_overrides_or_calls_exist(name):
    assert callable(getattr(SMTP, name, None)), f"aiosmtpd.smtp.SMTP.{name} is gone: update smtp_shell/lab/aiosmtpd_hooks.py"


@pytest.mark.parametrize("name", PRIVATE_ATTRIBUTES)
def test_private_attributes_the_lab_reads_exist(name):
    loop = asyncio.new_event_loop()
    try:
        smtp = SMTP(object(), loop=loop)
        found = hasattr(smtp, name) or f"self.{name} =" in inspect.getsource(SMTP)  # _reader: set on connect
    finally:
        loop.close()
    assert found, f"aiosmtpd.smtp.SMTP has no {name} any more: update smtp_shell/lab/aiosmtpd_hooks.py"


def test_help_still_reads_the_syntax_attributes():
    for attr in SYNTAX_ATTRIBUTES:
        assert hasattr(SMTP.smtp_MAIL, attr), f"aiosmtpd's @syntax no longer sets {attr}"
    assert "__smtp_syntax__" in inspect.getsource(SMTP.smtp_HELP)


def test_the_lab_session_names_no_private_aiosmtpd_name():
    source = inspect.getsource(LabSMTP)
    for name in PRIVATE_METHODS + PRIVATE_ATTRIBUTES:
        assert name not in source, f"lab/session.py uses {name}; reach it through HookedSMTP"
    assert issubclass(LabSMTP, HookedSMTP)


def test_the_faster_getmembers_finds_the_same_auth_mechanisms():
    """aiosmtpd's SMTP.__init__ uses `inspect.getmembers` only to collect `auth_*` methods
    (aiosmtpd_hooks._AuthMembers relies on that); the mechanisms must be exactly the stock ones."""
    import aiosmtpd.smtp

    from smtp_shell.lab.aiosmtpd_hooks import PRIVATE_GLOBALS

    class Handler:
        def __init__(self):
            self.auth_CUSTOM = lambda server, args: None

        async def auth_EXTRA(self, server, args):
            return None

    source = inspect.getsource(SMTP.__init__)
    assert source.count("inspect.getmembers(") == 1 and 'mname.startswith("auth_")' in source
    for name in PRIVATE_GLOBALS:
        assert hasattr(aiosmtpd.smtp, name)
    loop = asyncio.new_event_loop()
    try:
        fast = HookedSMTP(Handler(), loop=loop, hostname="x")._auth_methods
        aiosmtpd.smtp.inspect, saved = inspect, aiosmtpd.smtp.inspect
        try:
            stock = HookedSMTP(Handler(), loop=loop, hostname="x")._auth_methods
        finally:
            aiosmtpd.smtp.inspect = saved
    finally:
        loop.close()
    assert sorted(fast) == sorted(stock) and {"PLAIN", "LOGIN", "EXTRA", "CUSTOM"} <= set(fast)
    assert [(k, v.is_builtin) for k, v in sorted(fast.items())] == [(k, v.is_builtin) for k, v in sorted(stock.items())]


def _stock(module_global: str):
    """A context in which aiosmtpd.smtp uses the stock `module_global` (inspect or the builtin dir)."""
    import contextlib

    import aiosmtpd.smtp

    @contextlib.contextmanager
    def stock():
        saved = getattr(aiosmtpd.smtp, module_global)
        if module_global == "dir":
            del aiosmtpd.smtp.dir
        else:
            setattr(aiosmtpd.smtp, module_global, inspect)
        try:
            yield
        finally:
            setattr(aiosmtpd.smtp, module_global, saved)

    return stock()


def test_the_faster_dir_finds_the_same_commands_and_hooks():
    """aiosmtpd's SMTP.__init__ uses `dir()` only to collect `handle_*` hooks and `smtp_*`
    commands (aiosmtpd_hooks._names relies on that): the tables must be exactly the stock ones,
    for the lab's own classes and for a handler with hooks of its own."""
    from smtp_shell.lab.handler import LabHandler

    source = inspect.getsource(SMTP.__init__)
    assert source.count("dir(") == 2 and 'm.startswith("handle_")' in source and 'm.startswith("smtp_")' in source

    class Handler:
        def __init__(self):
            self.handle_NOOP = lambda *args: None

        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            return responses

    def tables(handler) -> tuple:
        smtp = LabSMTP(handler, lab=None, loop=loop, hostname="x")
        return (sorted(smtp._handle_hooks), smtp._ehlo_hook_ver, sorted(smtp._smtp_methods),
                [(name, str(getattr(f, "__smtp_syntax__", None))) for name, f in sorted(smtp._smtp_methods.items())])

    loop = asyncio.new_event_loop()
    try:
        for handler in (LabHandler(), Handler()):
            fast = tables(handler)
            with _stock("dir"), _stock("inspect"):
                stock = tables(handler)
            assert fast == stock and "EHLO" in fast[0] and "DATA" in fast[2]
    finally:
        loop.close()


def test_the_fast_address_parser_agrees_with_aiosmtpd():
    """MAIL FROM/RCPT TO addresses in their plainest form skip the email parser
    (HookedSMTP._getaddr); every argument must give exactly what aiosmtpd's own `_getaddr` gives."""
    import random

    loop = asyncio.new_event_loop()
    try:
        smtp = HookedSMTP(object(), loop=loop, hostname="x")
        limited = HookedSMTP(object(), loop=loop, hostname="x")
        limited.local_part_limit = 3
        samples = ["<a@b>", "<a@b> SIZE=1", "<a@b>  SIZE=1 BODY=8BITMIME", "<a@b>\tX", "<a@b>(c) X", "<a.b@c.d>",
                   "<A+b-c_d@EX-1.com>", "<a@b>X", "<a@b>>", "<a@[1.2.3.4]>", "<>", "<a@b> ", " <a@b>", '<"q"@b>',
                   "<a@b.>", "<.a@b>", "<a@-b>", "<1@2>", "<a@b..c>", "<a@b>  ", "<a=b@c>", "<a@b>, x", "a@b",
                   "<jörg@lab.test>", "<a@b> (x)", "<a@b>\n", "<a@b> \t", "<abcd@lab.test>", ""]
        rnd = random.Random(3)
        alphabet = "ab.@<>= \t()-_+\"[],ö:"
        samples += ["<" + "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12))) for _ in range(3000)]
        samples += [f"<{rnd.choice(['a', 'a.b', 'a+b', 'abcd'])}@{rnd.choice(['b', 'b.c', 'b-c.d'])}>"
                    + rnd.choice(["", " ", "  X=1", " X", "\tX", " (c)"]) for _ in range(500)]
        def outcome(parse, server, arg):
            try:
                return parse(server, arg)
            except Exception as exc:  # aiosmtpd's own parser raises on a few inputs ("<"); so must we
                return type(exc)

        for arg in samples:
            for server in (smtp, limited):
                assert outcome(HookedSMTP._getaddr, server, arg) == outcome(SMTP._getaddr, server, arg), arg
    finally:
        loop.close()


def test_activity_moves_the_idle_timeout_and_it_still_fires(make_lab, wire):
    """The idle timer is moved, not remade, on activity (HookedSMTP._reset_timeout): a client
    that keeps talking past the timeout stays connected; once it stops, it gets the 421."""
    import time

    lab = make_lab(idle_timeout=1.0)
    w = wire(lab)
    w.reply()
    for _ in range(6):  # 1.8 s of activity, longer than the timeout
        assert w.cmd("NOOP").startswith("250")
        time.sleep(0.3)
    assert w.reply().startswith("421 4.4.2")
    assert w.closed()


def test_command_lines_are_still_logged_and_masked_when_aiosmtpd_logging_is_on(caplog):
    """aiosmtpd_hooks._quiet_log skips aiosmtpd's argument copying only when the logger would
    drop the record: with mail.log at DEBUG the lines are logged, AUTH secrets still masked."""
    import logging

    import aiosmtpd.smtp

    assert aiosmtpd.smtp.sanitized_log.__name__ == "_quiet_log"
    assert inspect.getsource(SMTP._handle_client).count("sanitized_log(") == 2
    with caplog.at_level(logging.DEBUG, logger="mail.log"):
        aiosmtpd.smtp.sanitized_log(aiosmtpd.smtp.log.debug, "line: %r", b"AUTH PLAIN c2VjcmV0\r\n")
    assert "AUTH PLAIN ********" in caplog.text and "c2VjcmV0" not in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="mail.log"):
        aiosmtpd.smtp.sanitized_log(aiosmtpd.smtp.log.debug, "line: %r", b"NOOP\r\n")
    assert caplog.text == ""
