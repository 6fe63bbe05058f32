"""Server addresses and hostile text: the two small policies every layer shares.

`HOST[:PORT]` is parsed and formatted here and nowhere else, so `connect`, `:connect`,
`lesson --server`, `replay --against` and `lab --listen` accept the same spellings and refuse the
same mistakes in the same words: an empty host is refused, IPv6 addresses are written in
brackets (`[::1]:8025`), a port is a number from 1 to 65535 (0, "any free port", only where
a server listens).

Text that came from elsewhere (a server's reply, a client's command, a message header, a
transcript or a lesson file a student handed in) is untrusted. `escape` is the one policy for
showing it on a terminal, in a log or in a table:

- every character `str.isprintable()` refuses, except the ordinary space and TAB, is shown as an
  escape: `\\xNN` below U+0100, `\\uNNNN` / `\\UNNNNNNNN` above, and a byte that was not UTF-8
  (decoded with `surrogateescape`) as the `\\xNN` of that byte;
- CR is a control character like any other and is always shown (`\\x0d`): a lone CR moves the
  cursor back and lets the rest of a line overwrite what came before it;
- TAB is whitespace and is always kept: it only moves the cursor right, hides nothing, and a
  folded header's TAB reads better as a gap than as `\\x09`;
- LF is shown (`\\x0a`) unless the caller shows several lines (`keep_newlines=True`, a message
  body), where it is the line break.

The module imports nothing from the package, so every layer may use it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

# -- HOST[:PORT] ---------------------------------------------------------------------------


def parse_hostport(text: str, default_port: int = 25, *, port_zero_ok: bool = False) -> tuple[str, int]:
    """`host`, `host:port`, `[::1]:port`, bare `::1` -> (host, port).

    Raises ValueError with one sentence saying what is wrong and how to write it.
    `port_zero_ok` allows port 0 (a server that listens on any free port).
    """
    text = text.strip()
    if not text:
        raise ValueError("the server address is empty; give HOST or HOST:PORT, e.g. 127.0.0.1:8025")
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep:
            raise ValueError(f"{text!r} has no closing ']'; write IPv6 addresses as [::1]:PORT")
        if rest and not rest.startswith(":"):
            raise ValueError(f"{text!r} has {rest!r} after ']'; write IPv6 addresses as [::1]:PORT")
        port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:  # a name, an IPv4 address, or a bare IPv6 address (several colons, no port)
        host, port_text = text, ""
    host = host.strip()
    if not host:
        raise ValueError(f"{text!r} has no host; write HOST:PORT, e.g. 127.0.0.1:{port_text or default_port}")
    if not port_text:
        return host, default_port
    lowest = 0 if port_zero_ok else 1
    if not port_text.isdigit() or not lowest <= int(port_text) <= 65535:
        also = " (0: any free port)" if port_zero_ok else ""
        raise ValueError(f"{port_text!r} is not a port number; use a number from {lowest} to 65535{also}, "
                         f"e.g. {format_hostport(host, default_port or 8025)}")
    return host, int(port_text)


def format_hostport(host: str, port: int) -> str:
    """(host, port) -> `host:port`, with an IPv6 address in brackets: `[::1]:8025`."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def is_loopback(host: str) -> bool:
    """`localhost`, 127.0.0.0/8 or ::1: only this machine can reach a server listening there."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- hostile text ----------------------------------------------------------------------------


def _escape_char(ch: str) -> str:
    cp = ord(ch)
    if 0xDC80 <= cp <= 0xDCFF:  # a byte that was not valid UTF-8 (surrogateescape)
        return f"\\x{cp - 0xDC00:02x}"
    if cp < 0x100:
        return f"\\x{cp:02x}"
    if cp <= 0xFFFF:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


def _kept(ch: str, keep_newlines: bool) -> bool:
    return ch.isprintable() or ch in " \t" or (keep_newlines and ch == "\n")


def escape_pieces(text: str, keep_newlines: bool = False) -> Iterator[tuple[str, bool]]:
    """`text` as runs of (piece, is_escape): what `escape` joins, for renderers that style escapes."""
    run: list[str] = []
    for ch in text:
        if _kept(ch, keep_newlines):
            run.append(ch)
            continue
        if run:
            yield "".join(run), False
            run = []
        yield _escape_char(ch), True
    if run:
        yield "".join(run), False


def escape(text: str, keep_newlines: bool = False) -> str:
    """`text` safe to print: control and format characters, escape sequences and undecodable
    bytes shown as visible escapes (`\\x1b`, `\\x0d`, `\\u202e`, `\\xff`); see the module docstring."""
    if text.isprintable():  # the common case, decided in C: nothing to escape
        return text
    return "".join(piece for piece, _ in escape_pieces(text, keep_newlines))


def escape_bytes(data: bytes, keep_newlines: bool = False) -> str:
    """Bytes as they arrived: UTF-8 where they are, every other byte and control shown (`\\xff`)."""
    return escape(data.decode("utf-8", "surrogateescape"), keep_newlines)
