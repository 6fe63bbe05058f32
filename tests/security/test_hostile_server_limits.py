"""The client against a hostile server: a reply that never ends is bounded, and a server that
speaks only an old TLS version is explained without the wrong advice to drop --tls."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import threading
import warnings

import pytest

from tests.robustness.hostile import serve
from tests.security.test_streaming import _WRAPPER
from tests.transcript.helpers import cli_env

pytestmark = pytest.mark.timeout(120)

LINES = 400_000  # about 40 MB of "250-" lines in one reply


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the peak from /proc/self/status")
def test_an_endless_multiline_reply_is_bounded(tmp_path):
    async def script(peer):
        async def ehlo(p, line):
            chunk = b"".join(b"250-" + b"%08d" % i + b" padding to make the line longer......................\r\n"
                             for i in range(1000))
            for _ in range(LINES // 1000):
                await p.send(chunk)
            await p.send("250 finally the end")
            return True
        await peer.smtp({"EHLO": ehlo})

    with serve(script) as server:
        out = tmp_path / "stdout"
        with open(out, "wb") as fh:
            result = subprocess.run([sys.executable, "-c", _WRAPPER, "connect", server.target, "--batch",
                                     "--timeout", "60"], input="EHLO me\nNOOP\nQUIT\n", stdout=fh,
                                    stderr=subprocess.PIPE, text=True, timeout=110, env=cli_env(tmp_path),
                                    cwd=str(tmp_path))
    shown = out.read_text(encoding="utf-8")
    peak_kb = int(next(line for line in result.stderr.splitlines() if line.startswith("PEAK-RSS-KB")).split()[1])
    assert "went past 1000 lines" in shown, shown[-3000:]
    assert "250 finally the end" in shown and "221 " in shown  # the session stayed in step and went on
    assert shown.count("padding to make") <= 1001
    assert peak_kb < 100 * 1024, f"the client peaked at {peak_kb // 1024} MB for a 40 MB reply"


def test_a_server_with_only_old_tls_is_not_told_to_drop_tls(tmp_path):
    from smtp_shell.lab.certificate import make_certificate, write_pair

    cert, key = make_certificate(("localhost", "127.0.0.1"), common_name="old tls")
    pair = write_pair(cert, key, tmp_path / "c.pem", tmp_path / "k.pem")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pair.cert_path, pair.key_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def accept_one() -> None:
        conn, _ = listener.accept()
        try:
            ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            pass
        finally:
            conn.close()

    thread = threading.Thread(target=accept_one, daemon=True)
    thread.start()
    result = subprocess.run([sys.executable, "-m", "smtp_shell", "connect", f"127.0.0.1:{port}", "--tls", "--cafile",
                             str(pair.cert_path), "--batch", "--timeout", "5"], input="QUIT\n", capture_output=True,
                            text=True, timeout=60, env=cli_env(tmp_path), cwd=str(tmp_path))
    thread.join(5)
    listener.close()
    said = result.stdout + result.stderr
    assert result.returncode == 4, said  # TLS failed
    assert "TLS 1.2 or newer" in said and "would not help" in said, said
    assert "drop --tls" not in said
