"""The only code in smtp-shell that touches sockets and ssl.

CONTRACT (implemented by the transport work; the shell codes against exactly this):

    settings = TLSSettings(cafile=None, insecure=False)
    conn = await Connection.open(host, port, implicit_tls=False, tls=settings, connect_timeout=10.0)
    await conn.send(b"EHLO me\r\n")
    data = await conn.receive(timeout=30.0)   # bytes as they arrive; b"" means the server closed
    info, leftover = await conn.starttls()     # after the server's 220 to STARTTLS
    await conn.close()

- Built on asyncio's Protocol API (`loop.create_connection`, `loop.start_tls`), not streams, so
  the bytes received after the 220 and before the handshake are known exactly: `starttls()`
  returns them as `leftover` (the caller reports them as a plaintext injection and never
  parses them).
- `conn.tls_info` is a `TLSInfo` once TLS is up (implicit or STARTTLS), else None.
- Every failure raises `TransportError(kind, message)` where `message` is ONE sentence saying
  what happened and what to do next; `kind` is one of the `ErrorKind` values.
"""
