"""A private Postfix `smtpd` with STARTTLS and AUTH (PLAIN, LOGIN): the fixed-speed server of the
session rows, so the lab's own speed does not distort a client figure.

It is the throwaway instance of tests/support/postfix.py (own config folder, no daemon of the
system's, nothing relayed, every message delivered to a maildir after the 250) plus:
- STARTTLS with the certificate and key given (the bench passes the lab's, so both clients verify
  the server against the same CA file as with the lab);
- AUTH through Cyrus SASL with a private sasldb (`saslpasswd2`, from Debian's `sasl2-bin`)
  holding the lab's user and password: `pwcheck_method: auxprop`, no saslauthd.

    reason = postfix_missing()        # None, or why it cannot run here (then use the lab)
    with TlsAuthPostfix(cert, key, user, password) as mta:
        mta.port, mta.dir
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
from pathlib import Path

from tests.support.postfix import POSTCONF, PostfixServer, missing  # the bench runs from a checkout

SASLPASSWD2 = shutil.which("saslpasswd2") or "/usr/sbin/saslpasswd2"
REALM = "postfix.test"  # = myhostname of the instance; the user's SASL realm


def postfix_missing() -> str | None:
    """Why a private Postfix with TLS and AUTH cannot run here, or None."""
    reason = missing()
    if reason:
        return reason
    if not os.path.exists(SASLPASSWD2):
        return "saslpasswd2 is missing (apt-get install sasl2-bin libsasl2-modules), so Postfix cannot offer AUTH"
    plugins = [Path(p) for p in ("/usr/lib/x86_64-linux-gnu/sasl2", "/usr/lib/aarch64-linux-gnu/sasl2",
                                 "/usr/lib/sasl2")]
    if not any((p / "libsasldb.so.2").exists() or (p / "libsasldb.so").exists() for p in plugins):
        return "the Cyrus SASL sasldb plugin is missing (apt-get install libsasl2-modules-db)"
    return None


class TlsAuthPostfix(PostfixServer):
    def __init__(self, cert: Path, key: Path, user: str, password: str) -> None:
        super().__init__()
        self.cert, self.key, self.user, self.password = cert, key, user, password

    def _configure(self) -> None:
        super()._configure()
        postfix_uid, postfix_gid = pwd.getpwnam("postfix").pw_uid, grp.getgrnam("postfix").gr_gid
        tls = self.dir / "tls"
        tls.mkdir()
        shutil.copy(self.cert, tls / "cert.pem")
        shutil.copy(self.key, tls / "key.pem")
        os.chmod(tls / "key.pem", 0o600)  # read by smtpd's tlsmgr/smtpd as root before dropping privileges
        sasl = self.etc / "sasl"
        sasl.mkdir()
        db = self.dir / "sasldb2"
        subprocess.run([SASLPASSWD2, "-f", str(db), "-c", "-p", "-u", REALM, self.user],
                       input=self.password.encode(), check=True, capture_output=True, timeout=30)
        os.chown(db, postfix_uid, postfix_gid)
        os.chmod(db, 0o600)
        (sasl / "smtpd.conf").write_text(f"pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                                         f"mech_list: PLAIN LOGIN\nsasldb_path: {db}\n")
        os.chmod(sasl, 0o755)
        settings = {
            "smtpd_tls_cert_file": tls / "cert.pem", "smtpd_tls_key_file": tls / "key.pem",
            "smtpd_tls_security_level": "may", "smtpd_tls_loglevel": "0",
            "smtpd_tls_session_cache_database": "",
            "smtpd_sasl_auth_enable": "yes", "smtpd_sasl_type": "cyrus", "smtpd_sasl_path": "smtpd",
            "cyrus_sasl_config_path": sasl, "smtpd_sasl_local_domain": REALM,
            "smtpd_sasl_security_options": "noanonymous", "smtpd_tls_auth_only": "yes",
            "smtpd_recipient_restrictions": "permit_sasl_authenticated, permit_mynetworks, reject",
            # room for the DATA row's 20 MiB (and a full run's messages) in one instance
            "message_size_limit": 256 * 2**20, "virtual_mailbox_limit": 256 * 2**20,
        }
        self._postconf("-e", *(f"{k} = {v}" for k, v in settings.items()))

    def start(self) -> TlsAuthPostfix:
        reason = postfix_missing()
        if reason:
            raise RuntimeError(reason)
        super().start()
        return self

    def version(self) -> str:
        return subprocess.run([POSTCONF, "-d", "-h", "mail_version"], capture_output=True, text=True,
                              timeout=30).stdout.strip()
