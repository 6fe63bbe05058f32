"""Tab completion that knows where the session is: the verbs the state table says make sense
now, refined by what the server advertised (STARTTLS, AUTH mechanisms, CHUNKING), plus the
shell's `:commands` from their one registry."""

from __future__ import annotations

from prompt_toolkit.completion import Completer, Completion

from smtp_shell.protocol.commands import VERBS
from smtp_shell.protocol.states import State, sensible_verbs
from smtp_shell.shell.meta import registry

TEMPLATES = {"MAIL": "MAIL FROM:<", "RCPT": "RCPT TO:<"}


def suggested_verbs(core) -> list[str]:
    """The verbs worth offering now, best first."""
    caps = core.capabilities
    verbs = []
    for verb in sensible_verbs(core.state):
        if verb == "STARTTLS" and (core.tls or (caps is not None and not caps.has("STARTTLS"))):
            continue
        if verb == "BDAT" and (caps is None or not caps.has("CHUNKING")):
            continue
        if verb == "DATA" and core.bdat_used:
            continue
        if verb == "AUTH" and (caps is None or not caps.auth_mechanisms or core.authenticated_user):
            continue
        verbs.append(verb)
    if core.state in (State.MAIL, State.RCPT) and "RCPT" not in verbs:
        verbs.append("RCPT")
    return verbs


class SmtpCompleter(Completer):
    def __init__(self, driver, helo_name: str = "localhost") -> None:
        self.driver = driver
        self.helo_name = helo_name

    def get_completions(self, document, complete_event):
        core = self.driver.core
        if core.mode != "command":
            return
        text = document.text_before_cursor
        if text.startswith(":"):
            for name, cmd in registry().items():
                if (":" + name).startswith(text.lower()):
                    yield Completion(":" + name, start_position=-len(text), display_meta=cmd.summary)
            return
        word = text.lstrip()
        if " " not in word:
            upper = word.upper()
            for verb in suggested_verbs(core):
                if verb.startswith(upper):
                    full = TEMPLATES.get(verb, verb)
                    if verb in ("EHLO", "HELO"):
                        full = f"{verb} {self.helo_name}"
                    yield Completion(full, start_position=-len(word), display=verb, display_meta=VERBS[verb][1])
            return
        verb, _, rest = word.partition(" ")
        if verb.upper() == "AUTH" and " " not in rest and core.capabilities is not None:
            for mech in core.capabilities.auth_mechanisms:
                if mech.startswith(rest.upper()):
                    yield Completion(mech, start_position=-len(rest))
