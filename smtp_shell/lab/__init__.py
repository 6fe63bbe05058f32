"""The embedded lab SMTP server (aiosmtpd): certificate, accounts, mailbox, scripted faults.

It knows nothing of the shell. The public names are imported lazily so that commands which
only read the mailbox do not pay for importing aiosmtpd:

    from smtp_shell.lab import LabConfig, LabServer, Faults
"""

from __future__ import annotations

__all__ = ["Faults", "FaultsError", "LabConfig", "LabError", "LabServer"]


def __getattr__(name: str):
    if name in ("Faults", "FaultsError"):
        from smtp_shell.lab import faults

        return getattr(faults, name)
    if name in ("LabConfig", "LabError", "LabServer"):
        from smtp_shell.lab import server

        return getattr(server, name)
    raise AttributeError(f"module 'smtp_shell.lab' has no attribute {name!r}")
