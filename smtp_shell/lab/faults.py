"""Scripted faults: make the lab server misbehave on purpose, the same way every time.

Students only learn what a 451, a 452 or a dropped connection means if they meet one. An
instructor scripts them in a small TOML file (`smtp-shell lab --faults FILE`) or passes a
`Faults` value in code; every fault is deterministic so a lesson or a test can rely on it.
The replies the server sends for each fault are listed in docs/lab.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path

_REPLY = re.compile(r"^[45][0-9][0-9]( .*)?$")


class FaultsError(ValueError):
    """A faults file or value that cannot be used (the message is one sentence)."""


@dataclass
class Faults:
    """Scripted misbehaviour of the lab server (`--faults FILE`); all off by default."""

    reject_recipients: dict[str, str] = field(default_factory=dict)  # address -> exact reply
    greylist: bool = False                     # 451 4.7.1 on the first try, accept on retry
    max_recipients: int | None = None          # 452 4.5.3 after this many recipients
    max_size: int | None = None                # 552 5.3.4 for messages over this many bytes
    disconnect_after_commands: int | None = None  # the next command gets 421 4.7.0, then close
    delay_seconds: float = 0.0                 # wait this long before replying ...
    delay_verbs: list[str] = field(default_factory=list)  # ... to these verbs (empty: all; GREETING)
    drop_during_data: bool = False             # close mid-DATA without a reply
    relay_requires_auth: bool = False          # 554 5.7.1 for a recipient outside lab.test until AUTH

    def __post_init__(self) -> None:
        self.reject_recipients = {k.strip().lower(): v for k, v in dict(self.reject_recipients).items()}
        self.delay_verbs = [v.upper() for v in self.delay_verbs]

    def rejection_for(self, address: str) -> str | None:
        return self.reject_recipients.get(address.strip().lower())

    def delays(self, verb: str) -> bool:
        if self.delay_seconds <= 0:
            return False
        return (not self.delay_verbs and verb != "GREETING") or verb in self.delay_verbs

    def active(self) -> list[str]:
        """One short phrase per fault that is switched on (for the lab's start-up banner)."""
        out = []
        if self.reject_recipients:
            out.append("reject " + ", ".join(self.reject_recipients))
        if self.greylist:
            out.append("greylist")
        for name in ("max_recipients", "max_size", "disconnect_after_commands"):
            if getattr(self, name) is not None:
                out.append(f"{name} = {getattr(self, name)}")
        if self.delay_seconds > 0:
            out.append(f"delay {self.delay_seconds:g}s before " + (" ".join(self.delay_verbs) or "every reply"))
        if self.drop_during_data:
            out.append("drop during DATA")
        if self.relay_requires_auth:
            out.append("relay only after AUTH")
        return out

    @classmethod
    def from_toml(cls, path: Path) -> Faults:
        """Read a faults file; any problem raises FaultsError naming the file."""
        import tomllib  # only a lab started with --faults pays for this import

        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FaultsError(f"the faults file {path} does not exist; check the path given to --faults") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise FaultsError(f"the faults file {path} cannot be read ({exc}); check the path given to --faults") from None
        except tomllib.TOMLDecodeError as exc:
            raise FaultsError(f"the faults file {path} is not valid TOML ({exc}); fix it, see docs/lab.md for an example") from None
        if set(data) == {"faults"} and isinstance(data["faults"], dict):
            data = data["faults"]
        try:
            return cls.from_mapping(data)
        except FaultsError as exc:
            raise FaultsError(f"the faults file {path}: {exc}") from None

    @classmethod
    def from_mapping(cls, data: dict) -> Faults:
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise FaultsError(f"{key!r} is not a fault; the faults are {', '.join(sorted(known))}")
        for key in ("greylist", "drop_during_data", "relay_requires_auth"):
            if key in data and not isinstance(data[key], bool):
                raise FaultsError(f"{key} must be true or false, not {data[key]!r}")
        for key in ("max_recipients", "max_size", "disconnect_after_commands"):
            value = data.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise FaultsError(f"{key} must be a whole number of 0 or more, not {value!r}")
        delay = data.get("delay_seconds", 0.0)
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 <= delay <= 3600:
            raise FaultsError(f"delay_seconds must be a number of seconds from 0 to 3600, not {delay!r}")
        verbs = data.get("delay_verbs", [])
        if not isinstance(verbs, list) or not all(isinstance(v, str) and v.isalpha() for v in verbs):
            raise FaultsError(f'delay_verbs must be a list of SMTP verbs like ["RCPT", "DATA"], not {verbs!r}')
        rejects = data.get("reject_recipients", {})
        if not isinstance(rejects, dict):
            raise FaultsError('reject_recipients must be a table like {"nobody@lab.test" = "550 5.1.1 No such user here"}')
        for address, reply in rejects.items():
            if not isinstance(reply, str) or not _REPLY.match(reply) or any(c in reply for c in "\r\n"):
                raise FaultsError(f"the reply for {address!r} must be one line starting with a 4xx or 5xx code, "
                                  f'e.g. "550 5.1.1 No such user here", not {reply!r}')
        return cls(**data)
