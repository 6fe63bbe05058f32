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
