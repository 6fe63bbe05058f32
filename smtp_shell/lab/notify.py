"""Calling the lab's listeners (check-client, the web view, the console's event printer).

Why this exists: a listener is someone else's code running inside the server's event loop. A bug
in it must not break a student's SMTP session, but it must not vanish either: the first failure
of each listener is logged with its traceback (later ones are counted, not repeated), so the
instructor and the developer see it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger("smtp_shell.lab")
_failed: dict[int, int] = {}


def call_each(listeners: Iterable[Callable[..., Any]], *args: Any) -> None:
    """Call every listener with `args`; one that raises is logged (once) and the others still run."""
    for listener in list(listeners):
        try:
            listener(*args)
        except Exception:
            count = _failed.get(id(listener), 0) + 1
            _failed[id(listener)] = count
            if count == 1:
                log.exception("a lab listener (%r) failed; the SMTP session goes on", listener)
