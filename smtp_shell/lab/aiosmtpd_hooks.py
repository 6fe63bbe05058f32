"""Every private aiosmtpd name the lab relies on, in this one module, given a public name.

aiosmtpd's public extension points (handler `handle_*` hooks, `authenticator`, the constructor's
limits) cover most of what the lab does. A few things they do not: saying `421` before an
idle timeout closes the connection, refusing or delaying the greeting, treating a whole line as
activity, hanging up in the middle of DATA, and wrapping every command (limits, scripted
delays), and reading DATA with the line length enforced while reading (lab/limits.py). For those,
`HookedSMTP` overrides or calls aiosmtpd internals and offers plain methods
instead; `lab/session.py` uses only those. aiosmtpd is pinned (`>=1.4.6,<1.5`) and
`tests/lab/test_aiosmtpd_hooks.py` fails loudly, naming the missing name, when a release renames
one of them.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import re
import types
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import aiosmtpd.smtp
from aiosmtpd.smtp import MISSING, SMTP

# Module globals of aiosmtpd.smtp the lab replaces (see _AuthMembers, _names and _quiet_log).
PRIVATE_GLOBALS = ("inspect", "dir", "sanitized_log")
# Methods of aiosmtpd.smtp.SMTP the lab overrides or calls.
PRIVATE_METHODS = ("_handle_client", "_timeout_cb", "_reset_timeout", "_set_post_data_state", "_call_handler_hook",
                   "_getaddr")
# Attributes of an SMTP instance the lab reads (`_reader` exists once a connection is made).
PRIVATE_ATTRIBUTES = ("_smtp_methods", "_handler_coroutine", "_reader", "_timeout_handle", "_timeout_duration")
# What aiosmtpd's @syntax decorator sets on an smtp_* method; HELP lists and explains by them.
SYNTAX_ATTRIBUTES = ("__smtp_syntax__", "__smtp_syntax_extended__", "__smtp_syntax_when__")

Command = Callable[[str], Awaitable[Any]]
# An unbound `smtp_VERB` function: (the connection, the argument) -> awaitable.
UnboundCommand = Callable[[Any, str], Awaitable[Any]]

# `<local@domain>` in its plainest form (dot-atoms of letters, digits and `_+=-`), then the end or
# spaces before a parameter: what nearly every client sends, parsed here exactly as aiosmtpd's
# email-parser-based `_getaddr` would; anything else goes to aiosmtpd.
_PLAIN_ADDRESS = re.compile(r"<([A-Za-z0-9_+=-]+(?:\.[A-Za-z0-9_+=-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>"
                            r"(?: +(?=[^ \t(])|\Z)")


class HookedSMTP(SMTP):
    """aiosmtpd's SMTP with the private hooks the lab needs, under public names."""

    # The wrapped command table of each subclass, built on its first connection (wrap_commands).
    _wrapped_tables: ClassVar[dict[type, dict[str, UnboundCommand]]] = {}

    # -- hooks a subclass overrides -----------------------------------------------------------
    async def before_greeting(self) -> bool:
        """Runs before the 220 greeting; return False when the connection was answered and closed."""
        return True

    def before_idle_close(self) -> None:
        """Runs when the idle timeout fires, just before aiosmtpd closes the connection."""

    # -- what aiosmtpd keeps private ----------------------------------------------------------
    async def _handle_client(self) -> None:
        if await self.before_greeting():
            await super()._handle_client()

    def _timeout_cb(self) -> None:
        self.before_idle_close()
        super()._timeout_cb()

    def _reset_timeout(self, duration: float | None = None) -> None:
        # aiosmtpd cancels its timer and makes a new one on every command; under load that was
        # ~12 timer handles per message. Here the timer stays and only the deadline moves; when
        # the timer fires before the deadline it sleeps again until then (same timeout, same 421).
        due = self.loop.time() + (duration or self._timeout_duration)
        self._idle_due = due
        handle = self._timeout_handle
        if handle is not None and not handle.cancelled() and handle.when() <= due:
            return
        if handle is not None:
            handle.cancel()
        self._timeout_handle = self.loop.call_at(due, self._idle_timer)

    def _idle_timer(self) -> None:
        if self._idle_due - self.loop.time() > 0.001:  # there was activity since it was set
            self._timeout_handle = self.loop.call_at(self._idle_due, self._idle_timer)
            return
        self._timeout_cb()

    def still_active(self) -> None:
        """Restart the idle timer (the client did something)."""
        self._reset_timeout()

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        match = _PLAIN_ADDRESS.match(arg)
        if match is None:
            return super()._getaddr(arg)
        address = match.group(1)
        if self.local_part_limit and address.index("@") > self.local_part_limit:
            return None, None
        return address, arg[match.end():]

    def wrap_commands(self, wrap: Callable[[str, UnboundCommand], UnboundCommand]) -> None:
        """Replace every `smtp_VERB` handler with `wrap(VERB, function)` bound to this connection,
        keeping what HELP reads. `wrap` gets and returns unbound functions (self, arg), so the
        wrapped table is built once per class, not on every connection; each connection only
        binds it."""
        cls = type(self)
        table = HookedSMTP._wrapped_tables.get(cls)
        if table is None or table.keys() != self._smtp_methods.keys():
            table = {verb: _keep_syntax(verb, getattr(cls, f"smtp_{verb}"), wrap(verb, getattr(cls, f"smtp_{verb}")))
                     for verb in self._smtp_methods}
            HookedSMTP._wrapped_tables[cls] = table
        self._smtp_methods = {verb: types.MethodType(function, self) for verb, function in table.items()}

    async def read_client_line(self, timeout: float) -> bytes:
        """Read one line the client sent, outside the command loop (used while dropping DATA)."""
        return bytes(await asyncio.wait_for(self._reader.readuntil(b"\r\n"), timeout=timeout))

    async def read_data_block(self, separator: bytes) -> bytes:
        """The next block of message text after 354: everything the reader holds up to and
        including the first `separator`, or, when that is further than the reader's limit (or
        not there yet), as much as it holds without cutting a possible `separator` in two (the
        caller decides what to keep; lab/limits.py DataScanner)."""
        try:
            return await self._reader.readuntil(separator)
        except asyncio.LimitOverrunError as exc:
            return await self._reader.read(exc.consumed)

    async def call_data_hook(self) -> str | None:
        """The handler's `handle_DATA` reply for the envelope as it stands (None: no such hook)."""
        status = await self._call_handler_hook("DATA")
        return None if status is MISSING else str(status)

    def end_of_data(self) -> None:
        """Forget the envelope after a message (taken or refused), as aiosmtpd's DATA does."""
        self._set_post_data_state()

    def stop_command_loop(self) -> None:
        """Stop handling commands on this connection (before closing it without a reply)."""
        if self._handler_coroutine is not None:
            self._handler_coroutine.cancel()


def _keep_syntax(verb: str, method: UnboundCommand, wrapper: UnboundCommand) -> UnboundCommand:
    """`wrapper` carrying `method`'s name, docs and HELP syntax; an override without a @syntax of
    its own (smtp_EHLO, smtp_AUTH, ...) gets the syntax aiosmtpd declared on the method it overrides."""
    functools.update_wrapper(wrapper, method)
    stock = getattr(SMTP, f"smtp_{verb}", None)
    for attr in SYNTAX_ATTRIBUTES:
        if getattr(wrapper, attr, None) is None and stock is not None and hasattr(stock, attr):
            setattr(wrapper, attr, getattr(stock, attr))
    return wrapper


class _AuthMembers:
    """`inspect` as aiosmtpd.smtp sees it. `SMTP.__init__` calls `inspect.getmembers` on the
    connection and on the handler for every new connection, only to pick their `auth_*`
    methods; the full getmembers reads and sorts every attribute (18 % of the lab's event loop
    under load). This one returns the same `auth_*` members, from a per-class list of names."""

    _names: ClassVar[dict[type, list[str]]] = {}
    _signatures: ClassVar[dict[Any, inspect.Signature]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(inspect, name)

    @classmethod
    def signature(cls, obj: Any, **kwargs: Any) -> inspect.Signature:
        """`SMTP.__init__` reads the handler's `handle_EHLO` signature on every connection; it is
        the same for every bound method of one function (cached per function)."""
        if kwargs or not isinstance(obj, types.MethodType):
            return inspect.signature(obj, **kwargs)
        signature = cls._signatures.get(obj.__func__)
        if signature is None:
            signature = cls._signatures[obj.__func__] = inspect.signature(obj)
        return signature

    @classmethod
    def getmembers(cls, obj: Any, predicate: Any = None) -> list[tuple[str, Any]]:
        if predicate is not None:
            return inspect.getmembers(obj, predicate)
        kind = type(obj)
        names = cls._names.get(kind)
        if names is None:
            names = cls._names[kind] = [name for name in dir(kind) if name.startswith("auth_")]
        own = [name for name in getattr(obj, "__dict__", ()) if name.startswith("auth_") and name not in names]
        members = []
        for name in sorted(names + own) if own else names:
            try:
                members.append((name, getattr(obj, name)))
            except AttributeError:
                continue
        return members


_DIR_PREFIXES = ("smtp_", "handle_", "auth_")
_class_names: dict[type, list[str]] = {}


def _names(obj: Any) -> list[str]:
    """`dir` as aiosmtpd.smtp sees it. `SMTP.__init__` calls `dir()` on the connection and on the
    handler for every new connection, only to pick their `smtp_*` and `handle_*` names (a full
    `dir` lists and sorts ~250 names). This gives the names with those prefixes (and `auth_`),
    sorted as `dir` sorts them, from a per-class list plus the instance's own attributes."""
    kind = type(obj)
    if kind.__dir__ is not object.__dir__:  # a class that lists its own names
        return [name for name in dir(obj) if name.startswith(_DIR_PREFIXES)]
    names = _class_names.get(kind)
    if names is None:
        names = _class_names[kind] = [name for name in dir(kind) if name.startswith(_DIR_PREFIXES)]
    own = [name for name in getattr(obj, "__dict__", ()) if name.startswith(_DIR_PREFIXES) and name not in names]
    return sorted(names + own) if own else list(names)


_stock_sanitized_log = aiosmtpd.smtp.sanitized_log
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def _quiet_log(func: Callable[..., None], msg: Any, *args: Any, **kwargs: Any) -> None:
    """aiosmtpd's `sanitized_log` (used twice per command line) copies and masks its arguments
    before the logger decides whether to log at all; here the logger decides first."""
    logger, level = getattr(func, "__self__", None), _LEVELS.get(getattr(func, "__name__", ""))
    if isinstance(logger, logging.Logger) and level is not None and not logger.isEnabledFor(level):
        return
    _stock_sanitized_log(func, msg, *args, **kwargs)


aiosmtpd.smtp.sanitized_log = _quiet_log
aiosmtpd.smtp.inspect = _AuthMembers()  # type: ignore[assignment]
aiosmtpd.smtp.dir = _names  # type: ignore[attr-defined]
