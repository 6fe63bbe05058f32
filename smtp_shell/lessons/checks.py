"""The checks a lesson step can ask for: a small registry of named kinds with typed parameters.

Why this exists: a step must be judged on protocol events (the verb a reply answers, its code,
the session's state), never on the text typed, so `ehlo me` and `EHLO me` pass alike. Each kind
declares its parameters; `parse_check` turns a TOML table such as
`{ kind = "reply", verb = "EHLO", class = 2 }` into a `Check`, or raises `CheckError` with one
sentence. A check answers each `Happening` with PASS, FAIL (a failed attempt, with a reason)
or None (not about this step).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from smtp_shell.lessons import mailcheck
from smtp_shell.lessons.facts import Facts, Happening
from smtp_shell.protocol.states import State

PSEUDO_VERBS = ("<greeting>", "<dot>", "<auth>")


_VERB_LABELS = {"<greeting>": "the session in its greeting", "<dot>": "the message (the final dot)",
                "<auth>": "your answer to its AUTH question"}


def verb_label(verb: str | None) -> str:
    """How a verb reads in a sentence: pseudo-verbs such as <auth> never show raw."""
    if not verb:
        return "the session"
    return _VERB_LABELS.get(verb, verb)


class CheckError(ValueError):
    """A check table that is not valid (one sentence, without the file or step)."""


@dataclass(frozen=True)
class Outcome:
    passed: bool
    reason: str = ""
    code: int | None = None     # the reply code that made it fail, for the explanation
    progress: bool = False      # not passed yet, but this event was expected (part of an `all`)


PASS = Outcome(True)
PROGRESS = Outcome(False, progress=True)


class Check:
    def reset(self) -> None:
        """A step begins: forget what was seen for the previous one."""

    def evaluate(self, happening: Happening, facts: Facts) -> Outcome | None:
        raise NotImplementedError

    def verbs(self) -> set[str] | None:
        """The verbs whose replies this check is about (None: any), so that words written for a
        reply code are used only for a reply to one of them."""
        return None

    def nudge(self, happening: Happening, facts: Facts) -> str | None:
        """Something valid but not what the step asks for: one sentence saying what it wants."""
        return None


# ---- the registry -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    types: tuple[type, ...]
    required: bool = False
    validate: Callable[[Any], str | None] | None = None   # -> a problem, or None


@dataclass(frozen=True)
class Kind:
    name: str
    summary: str
    params: dict[str, Param]
    build: Callable[[dict], Check]


KINDS: dict[str, Kind] = {}


def kind(name: str, summary: str, **params: Param):
    def register(build):
        KINDS[name] = Kind(name, summary, params, build)
        return build
    return register


_TYPE_NAMES = {str: "a string", int: "a whole number", bool: "true or false", list: "a list", dict: "a table"}


def _type_ok(value, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in types
    return any(isinstance(value, t) for t in types if t is not bool)


def parse_check(spec) -> Check:
    """A TOML table -> a Check. Raises CheckError naming the problem."""
    if not isinstance(spec, dict):
        raise CheckError(f"the check must be a table like {{ kind = \"reply\", verb = \"EHLO\", class = 2 }}, not {spec!r}")
    name = spec.get("kind")
    if not isinstance(name, str):
        raise CheckError(f"the check has no kind; give one of {', '.join(KINDS)}")
    entry = KINDS.get(name)
    if entry is None:
        raise CheckError(f"the check kind {name!r} is unknown; the kinds are {', '.join(KINDS)}")
    values = {k: v for k, v in spec.items() if k != "kind"}
    for key, value in values.items():
        param = entry.params.get(key)
        if param is None:
            known = ", ".join(entry.params) or "none"
            raise CheckError(f"the {name} check has no parameter {key!r} (its parameters: {known})")
        if not _type_ok(value, param.types):
            wanted = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in param.types)
            raise CheckError(f"the parameter {key} of the {name} check must be {wanted}, not {value!r}")
        problem = param.validate(value) if param.validate else None
        if problem:
            raise CheckError(f"the parameter {key} of the {name} check {problem}")
    for key, param in entry.params.items():
        if param.required and key not in values:
            raise CheckError(f"the {name} check needs the parameter {key}")
    return entry.build(values)


# ---- validators -----------------------------------------------------------------------------------

def _verbs(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _norm_verb(verb: str) -> str:
    return verb.lower() if verb.startswith("<") else verb.upper()


def _valid_verbs(value) -> str | None:
    verbs = _verbs(value)
    if not verbs or not all(isinstance(v, str) and (v.isalpha() or v.lower() in PSEUDO_VERBS) for v in verbs):
        return f"must be an SMTP verb like \"EHLO\" or one of {', '.join(PSEUDO_VERBS)} (or a list of them), not {value!r}"
    return None


def _code(value) -> str | None:
    return None if 200 <= value <= 599 else f"must be a reply code from 200 to 599, not {value}"


def _klass(value) -> str | None:
    return None if 2 <= value <= 5 else f"must be 2, 3, 4 or 5, not {value}"


def _state(value) -> str | None:
    return None if value.upper() in State.__members__ else f"must be one of {', '.join(State.__members__)}, not {value!r}"


def _keyword(value) -> str | None:
    words = _verbs(value)
    if not words or not all(isinstance(w, str) and w.replace("-", "").isalnum() for w in words):
        return f"must be an EHLO keyword like \"AUTH\" (or a list of them), not {value!r}"
    return None


def _checks(value) -> str | None:
    if not value:
        return "must list at least one check"
    for i, item in enumerate(value, 1):
        try:
            parse_check(item)
        except CheckError as exc:
            return f"has a problem in its check {i}: {exc}"
    return None


def _criterion(name: str):
    types = mailcheck.CRITERIA[name][0]

    def validate(value) -> str | None:
        if isinstance(value, list) and not (value and all(isinstance(v, str) for v in value)):
            return f"must be a non-empty list of header names, not {value!r}"
        if isinstance(value, str) and not value.strip():
            return "must not be empty"
        return None
    return Param(types, False, validate)


# ---- the kinds -------------------------------------------------------------------------------------

def _args_address(command) -> str:
    args = command.args if command is not None else ""
    start, end = args.find("<"), args.find(">")
    return args[start + 1:end].strip().lower() if 0 <= start < end else ""


def _args_params(command) -> set[str]:
    args = command.args if command is not None else ""
    rest = args[args.find(">") + 1:] if ">" in args else ""
    return {word.upper() for word in rest.split()}


def _has_param(command, wanted: str) -> bool:
    """`SIZE` matches SIZE=1200; `BODY=8BITMIME` matches only that value."""
    params = _args_params(command)
    return wanted in params if "=" in wanted else wanted in {p.partition("=")[0] for p in params}


def _bracketed(command) -> bool:
    args = command.args if command is not None else ""
    colon = args.find(":")
    return colon >= 0 and args[colon + 1:].lstrip().startswith("<")


_ALTERNATIVE = {"EHLO": "HELO", "HELO": "EHLO"}
_TRANSACTION_VERBS = {"RCPT", "DATA", "<dot>"}
_GREETINGS = {"HELO": "HELO is the 1982 form and lists no extensions",
              "EHLO": "only EHLO makes the server list its extensions"}


class ReplyCheck(Check):
    def __init__(self, p: dict) -> None:
        self.verbs_ = [_norm_verb(v) for v in _verbs(p["verb"])] if "verb" in p else None
        self.code, self.klass = p.get("code"), p.get("class")
        self.address = p["address"].strip().strip("<>").lower() if "address" in p else None
        self.param = p["param"].upper() if "param" in p else None
        self.tls, self.non_ascii = p.get("tls"), p.get("non_ascii")
        self.text = p["text"].lower() if "text" in p else None

    def _wanted(self) -> str:
        return str(self.code) if self.code else f"a {self.klass}xx reply" if self.klass else "a reply"

    def verbs(self):
        return set(self.verbs_) if self.verbs_ is not None else None

    def nudge(self, happening, facts):
        event = happening.event if happening.kind == "reply" else None
        if event is None or self.verbs_ is None or event.reply.klass != 2:
            return None
        other = _ALTERNATIVE.get(event.verb or "")
        if other in self.verbs_:
            return (f"{event.verb} worked ({event.reply.code}), but this step asks for {other}: "
                    f"send {other} as the instruction says (both greet the server; {_GREETINGS[other]}).")
        return None

    def evaluate(self, happening: Happening, facts: Facts) -> Outcome | None:
        event = happening.event
        if happening.kind != "reply" or event is None:
            return None
        reply, verb = event.reply, event.verb or ""
        if self.verbs_ is not None and verb not in self.verbs_:
            return None
        if self.address is not None and _args_address(event.command) != self.address:
            return None
        code_ok = (self.code is None or reply.code == self.code) and (self.klass is None or reply.klass == self.klass) \
            and (self.text is None or self.text in reply.text.lower())
        if not code_ok:
            if self.verbs_ is None:
                return None
            return Outcome(False, f"the server answered {verb_label(verb)} with {reply.code}; this step needs {self._wanted()}",
                           reply.code)
        if self.param is not None and not _has_param(event.command, self.param):
            return Outcome(False, f"{verb} was sent without the {self.param} parameter")
        if verb in ("MAIL", "RCPT") and reply.klass == 2 and not _bracketed(event.command):
            return Outcome(False, f"the server let {verb} through, but the address was not in angle brackets: "
                                  f"RFC 5321 §4.1.2 requires {verb} {'FROM' if verb == 'MAIL' else 'TO'}:<address>, "
                                  "and strict servers refuse it without them")
        if self.non_ascii is not None and _args_address(event.command).isascii() == self.non_ascii:
            return Outcome(False, f"the address in {verb} is {'plain ASCII' if self.non_ascii else 'not ASCII'}")
        if self.tls is not None and facts.tls != self.tls:
            return Outcome(False, f"this {verb} was sent {'without' if self.tls else 'under'} TLS")
        return PASS


kind("reply", "a reply to a command (by verb), with a code or class",
     verb=Param((str, list), validate=_valid_verbs), code=Param((int,), validate=_code),
     **{"class": Param((int,), validate=_klass)}, address=Param((str,)), param=Param((str,)),
     tls=Param((bool,)), non_ascii=Param((bool,)), text=Param((str,)))(
    lambda p: _need_any(p, ("verb", "code", "class"), "reply") or ReplyCheck(p))


def _need_any(p: dict, names: tuple[str, ...], name: str):
    if not any(n in p for n in names):
        raise CheckError(f"the {name} check needs at least one of {', '.join(names)}")
    return None


class TLSCheck(Check):
    def evaluate(self, happening: Happening, facts: Facts) -> Outcome | None:
        if facts.tls and happening.kind == "enter":
            return Outcome(True, "already done: this session is under TLS")
        return PASS if facts.tls else None

    def verbs(self):
        return {"STARTTLS"}


kind("tls", "the session is under TLS")(lambda p: TLSCheck())


class AuthenticatedCheck(Check):
    def __init__(self, p: dict) -> None:
        self.mechanism = p["mechanism"].upper() if "mechanism" in p else None

    def verbs(self):
        return {"AUTH", "<auth>"}

    def evaluate(self, happening: Happening, facts: Facts) -> Outcome | None:
        if happening.kind == "enter" and facts.authenticated and self.mechanism in (None, facts.auth_mechanism):
            return Outcome(True, "already done: this session is logged in")
        event = happening.event
        if happening.kind != "reply" or event is None or not facts.authenticated:
            return None
        if self.mechanism and facts.auth_mechanism != self.mechanism:
            if event.verb in ("AUTH", "<auth>") and event.reply.klass == 2:
                return Outcome(False, f"you logged in with AUTH {facts.auth_mechanism}; this step wants AUTH {self.mechanism}")
            return None
        return PASS


kind("authenticated", "the session has logged in (optionally with one mechanism)",
     mechanism=Param((str,), validate=lambda v: None if v.upper() in ("LOGIN", "PLAIN") else "must be LOGIN or PLAIN"))(
    AuthenticatedCheck)


class CapabilityCheck(Check):
    def __init__(self, p: dict) -> None:
        self.keywords = [k.upper() for k in _verbs(p["keyword"])]

    def verbs(self):
        return {"EHLO", "HELO"}

    def evaluate(self, happening: Happening, facts: Facts) -> Outcome | None:
        if self.keywords == ["STARTTLS"] and facts.tls and happening.kind in ("tls", "enter", "reply"):
            return Outcome(True, "already done: TLS is on, and a server stops listing STARTTLS once it is")
        if happening.kind == "enter":
            seen = facts.capabilities is not None and all(facts.capabilities.has(k) for k in self.keywords)
            return Outcome(True, f"already done: the last EHLO reply lists {', '.join(self.keywords)}") if seen else None
        event = happening.event
        if happening.kind != "reply" or event is None or event.verb not in ("EHLO", "HELO") or event.reply.klass != 2:
            return None
        code = event.reply.code
        if event.verb == "HELO":
            return Outcome(False, "HELO replies list no extensions; say EHLO to see them", code)
        missing = [k for k in self.keywords if not (facts.capabilities and facts.capabilities.has(k))]
        if missing:
            return Outcome(False, f"this EHLO reply does not list {', '.join(missing)}", code)
        return PASS


kind("capability_seen", "an EHLO reply listed this extension", keyword=Param((str, list), True, _keyword))(CapabilityCheck)


class StateCheck(Check):
    def __init__(self, p: dict) -> None:
        self.state = State[p["state"].upper()]

    def evaluate(self, happening: Happening, facts: Facts) -> Outcome | None:
        return PASS if happening.kind == "reply" and facts.state is self.state else None


kind("state", "the session reached a state of the state table", state=Param((str,), True, _state))(StateCheck)


class MailboxCheck(Check):
    def __init__(self, p: dict) -> None:
        self.criteria = p

    def evaluate(self, happening: Happening, facts: Facts) -> Outcome | None:
        event = happening.event
        if happening.kind != "reply" or event is None or event.verb != "<dot>" or event.reply.klass != 2:
            return None
        if facts.just_saved is None:
            return Outcome(False, "this step reads the lab mailbox, which smtp-shell cannot see; "
                                  "give --mailbox DIR (the lab server's mailbox folder)")
        if not facts.just_saved:
            return Outcome(False, "the server accepted the message but no new file appeared in the lab mailbox")
        problems = [mailcheck.judge(path, self.criteria) for path in facts.just_saved]
        if all(p is not None for p in problems):
            return Outcome(False, problems[0] or "")
        # what the envelope had to announce for these bytes (strict, as the lesson teaches it)
        problem = mailcheck.envelope_problem(facts.just_saved[0], facts.mail_params)
        return Outcome(False, problem) if problem else PASS

    def verbs(self):
        return {"<dot>"}


kind("mailbox", "the message just accepted, as saved in the lab mailbox, meets every criterion",
     **{name: _criterion(name) for name in mailcheck.CRITERIA})(
    lambda p: (None if p else _raise("the mailbox check needs at least one criterion: "
                                     + ", ".join(mailcheck.CRITERIA))) or MailboxCheck(p))


class OwnClientCheck(Check):
    """The student's own program (run with :run) delivered a message the criteria accept, and the
    lab marked nothing wrong on the wire in its session."""

    # judged on another session (the student's program), so a transcript alone cannot re-judge it
    outside_transcript = True

    def __init__(self, p: dict) -> None:
        self.criteria = p

    def verbs(self):
        return set()

    def evaluate(self, happening: Happening, facts: Facts) -> Outcome | None:
        if happening.kind != "client":
            return None
        saved = facts.new_messages()
        if saved is None:
            return Outcome(False, "this step reads the lab mailbox, which smtp-shell cannot see; "
                                  "give --mailbox DIR (the lab server's mailbox folder)")
        logs, marks = mailcheck.client_report(facts.client_sessions(), saved)
        seen = f" The lab saw: {'; '.join(marks[:4])}." if marks else ""
        if not saved:
            where = f" (its session log: {logs[-1]})" if logs else " (the lab saw no new session from it)"
            return Outcome(False, f"no message from your program arrived{where}.{seen}")
        if marks:
            return Outcome(False, f"your program's message arrived, but not cleanly on the wire.{seen}")
        problems = [mailcheck.judge(path, self.criteria) for path in saved] if self.criteria else [None]
        return PASS if any(p is None for p in problems) else Outcome(False, f"your program's message: {problems[0]}")


kind("own_client", "the student's own program, run with :run, delivered a good message cleanly",
     **{name: _criterion(name) for name in mailcheck.CRITERIA})(OwnClientCheck)


def _raise(message: str):
    raise CheckError(message)


class PipelinedCheck(Check):
    def __init__(self, p: dict) -> None:
        self.min = p.get("min", 2)

    def evaluate(self, happening: Happening, facts: Facts) -> Outcome | None:
        event = happening.event
        if happening.kind != "reply" or event is None or event.kind != "response":
            return None
        if facts.step_peak >= self.min:
            return PASS
        if event.verb == "DATA":
            return Outcome(False, f"at most {facts.step_peak} command(s) waited for a reply at once; type the next "
                                  f"commands before the replies arrive ({self.min} or more at once)")
        return None

    def verbs(self):
        return {"MAIL", "RCPT", "DATA"}

    def nudge(self, happening, facts):
        event = happening.event if happening.kind == "reply" else None
        if event is None or event.verb not in ("MAIL", "RCPT") or facts.step_peak >= self.min or facts.in_flight:
            return None
        return (f"{event.verb} went out on its own and waited for its reply; this step wants {self.min} or more "
                "commands in one write: type :pipeline, then one command per line, then an empty line.")


kind("pipelined", "several commands were sent before the first of them got its reply",
     min=Param((int,), validate=lambda v: None if 2 <= v <= 100 else "must be from 2 to 100"))(PipelinedCheck)


class AllCheck(Check):
    def __init__(self, p: dict) -> None:
        self.checks = [parse_check(c) for c in p["checks"]]
        self.done: set[int] = set()

    def reset(self) -> None:
        self.done.clear()
        for check in self.checks:
            check.reset()

    def evaluate(self, happening: Happening, facts: Facts) -> Outcome | None:
        failed, moved = None, False
        event = happening.event if happening.kind == "reply" else None
        if event is not None and event.verb == "MAIL" and event.reply.klass == 2:
            # a new message: what its RCPTs and its dot must show starts again (a 550 from an
            # earlier attempt without pipelining does not count for a pipelined one)
            self.done -= {i for i, c in enumerate(self.checks) if (c.verbs() or {"?"}) <= _TRANSACTION_VERBS}
        for i, check in enumerate(self.checks):
            if i in self.done:
                continue
            outcome = check.evaluate(happening, facts)
            if outcome is not None and outcome.passed:
                self.done.add(i)
                moved = True
            elif outcome is not None and outcome.progress:
                moved = True
            elif outcome is not None and failed is None:
                failed = outcome
        if failed is not None:
            return failed
        if len(self.done) == len(self.checks):
            return PASS
        return PROGRESS if moved else None

    def verbs(self):
        found: set[str] = set()
        for check in self.checks:
            verbs = check.verbs()
            if verbs is None:
                return None
            found |= verbs
        return found

    def nudge(self, happening, facts):
        return next((text for c in self.checks if (text := c.nudge(happening, facts))), None)


class AnyCheck(AllCheck):
    def evaluate(self, happening: Happening, facts: Facts) -> Outcome | None:
        outcomes = [c.evaluate(happening, facts) for c in self.checks]
        if any(o is not None and o.passed for o in outcomes):
            return PASS
        if any(o is not None and o.progress for o in outcomes):
            return PROGRESS
        return next((o for o in outcomes if o is not None), None)


kind("all", "every listed check has passed during the step", checks=Param((list,), True, _checks))(AllCheck)
kind("any", "one of the listed checks passed", checks=Param((list,), True, _checks))(AnyCheck)
