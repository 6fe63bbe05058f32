"""A throwaway Postfix `smtpd` on 127.0.0.1 for tests that need a real MTA (CHUNKING/BDAT,
SMTPUTF8, a real server's wording), with its own config directory and maildir.

Why this exists: `smtp-sink` and aiosmtpd do not speak BDAT; Postfix's real smtpd does. The
recipe is the one verified in ../shared/TEST-SERVERS.md: start from master.cf.dist with the
smtp service on 127.0.0.1:PORT and chroot off, queue and data directories inside DIR, every
accepted message delivered by the `virtual` transport as one file in DIR/maildir/new/, nothing
ever relayed (default and relay transports are `error`), logs in DIR/postfix.log.

    with PostfixServer() as mta:             # skips the test if Postfix is not installed
        mta.target                           # "127.0.0.1:PORT"
        mta.delivered(count=1)               # the raw bytes of each delivered message, in order
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.support.servers import free_port

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
POSTCONF = shutil.which("postconf") or "/usr/sbin/postconf"
MASTER_DIST = Path("/usr/share/postfix/master.cf.dist")


def missing() -> str | None:
    """Why a private Postfix cannot run here, or None."""
    if not (os.path.exists(POSTFIX) and os.path.exists(POSTCONF) and MASTER_DIST.exists()):
        return "Postfix is not installed (apt-get install postfix; .ci/run installs it)"
    if os.geteuid() != 0:
        return "a private Postfix instance needs root (it drops privileges to postfix/nobody)"
    try:
        pwd.getpwnam("postfix")
        pwd.getpwnam("nobody")
        grp.getgrnam("nogroup")
    except KeyError as exc:
        return f"the {exc} account Postfix needs is missing"
    return None


class PostfixServer:
    """The instance lives in its own directory under the system temp dir (pytest's tmp_path is
    private to root, and Postfix's daemons must traverse the path); removed by stop()."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="smtp-shell-postfix-"))
        self.etc = self.dir / "etc"
        self.maildir = self.dir / "maildir" / "new"
        self.port = free_port()
        self.host = "127.0.0.1"

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    def _postconf(self, *args: str) -> None:
        subprocess.run([POSTCONF, "-c", str(self.etc), *args], check=True, capture_output=True, timeout=30)

    def _configure(self) -> None:
        self.etc.mkdir()
        master = MASTER_DIST.read_text()
        master = master.replace("\nsmtp      inet", f"\n{self.host}:{self.port}      inet", 1)
        (self.etc / "master.cf").write_text(master)
        nobody, nogroup = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
        (self.etc / "main.cf").write_text("compatibility_level = 3.6\n")
        settings = {
            "queue_directory": self.dir / "queue", "data_directory": self.dir / "data",
            "inet_interfaces": "127.0.0.1", "inet_protocols": "ipv4", "mydestination": "",
            "myhostname": "postfix.test", "mynetworks": "127.0.0.0/8",
            "smtpd_recipient_restrictions": "permit_mynetworks, reject",
            "virtual_mailbox_domains": "static:all", "virtual_mailbox_maps": "static:maildir/",
            "virtual_mailbox_base": self.dir, "virtual_uid_maps": f"static:{nobody}",
            "virtual_gid_maps": f"static:{nogroup}", "virtual_transport": "virtual",
            "default_transport": "error", "relay_transport": "error",
            "maillog_file": self.dir / "postfix.log", "maillog_file_prefixes": self.dir,
            "alias_maps": "", "alias_database": "",
            # deliver what the client sent: no Message-Id/Date/From added for "local" clients
            "local_header_rewrite_clients": "", "always_add_missing_headers": "no",
        }
        self._postconf("-e", *(f"{k} = {v}" for k, v in settings.items()))
        self._postconf("-F", "*/*/chroot = n")
        for sub in ("queue", "data", "maildir"):
            (self.dir / sub).mkdir(exist_ok=True)
        os.chmod(self.dir, 0o755)
        os.chown(self.dir / "data", pwd.getpwnam("postfix").pw_uid, grp.getgrnam("postfix").gr_gid)
        for path in (self.dir / "maildir", *(self.dir / "maildir").rglob("*")):
            os.chown(path, nobody, nogroup)

    def start(self) -> PostfixServer:
        reason = missing()
        if reason:
            pytest.skip(reason)
        self._configure()
        result = subprocess.run([POSTFIX, "-c", str(self.etc), "start"], capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"postfix did not start: {result.stdout}{result.stderr}{self.log()}")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"220"):
                        return self
            except OSError:
                time.sleep(0.1)  # start-up takes 1-2 s; nothing to await but the port
        self.stop()
        raise RuntimeError(f"postfix never listened on {self.target}:\n{self.log()}")

    def stop(self) -> None:
        if self.etc.exists():
            subprocess.run([POSTFIX, "-c", str(self.etc), "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self) -> str:
        path = self.dir / "postfix.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def delivered(self, count: int, timeout: float = 20) -> list[bytes]:
        """The raw bytes of the delivered messages (oldest first), once `count` have arrived."""
        deadline = time.monotonic() + timeout
        while True:
            files = sorted(self.maildir.glob("*"), key=lambda p: p.stat().st_mtime_ns) if self.maildir.exists() else []
            if len(files) >= count or time.monotonic() > deadline:
                return [p.read_bytes() for p in files]
            time.sleep(0.05)  # the virtual agent writes the file ~0.1 s after 250; poll the maildir

    def __enter__(self) -> PostfixServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
