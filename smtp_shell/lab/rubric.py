"""The rubric `check-client` grades with: items, their weights, and how an analysis scores.

Each item passes when the session reached what the item needs and no finding of its rules
was reported; it is "not applicable" (a dash) when the session never got where the item applies
(no UTF-8 anywhere: the extra-credit item does not apply). The default rubric follows the course lab:
a raw-socket client with STARTTLS, EHLO again, AUTH LOGIN, From/To/Subject/Date, a Message-ID
and UTF-8 as extra credit. An instructor picks items and weights in a TOML file:

    [items.date]          # only the items listed are graded, in this order
    weight = 3
    [items.utf8]
    required = true       # make the extra credit compulsory
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from smtp_shell.lab.analyser import Analysis
from smtp_shell.lab.findings import Finding

PASS, FAIL, NA = "pass", "fail", "na"
MARKS = {PASS: "✓", FAIL: "✗", NA: "\u2013"}  # an en dash, as on a paper rubric

CONDITIONS: dict[str, tuple[Callable[[Analysis], bool], str]] = {
    # name: (test, what to say when it is false)
    "greeted": (lambda a: "greeted" in a.stages, "the server never greeted the client"),
    "said-ehlo": (lambda a: a.ehlo is not None, "the client never sent EHLO"),
    "tls": (lambda a: a.tls, "the client never started TLS (no STARTTLS and handshake)"),
    "ehlo-under-tls": (lambda a: a.ehlo_under_tls, "the client never sent EHLO under TLS"),
    "auth": (lambda a: "AUTH" in a.stages, "the client never logged in (no 235 reply)"),
    "envelope": (lambda a: "RCPT" in a.stages, "no MAIL FROM and RCPT TO were accepted"),
    "accepted": (lambda a: "accepted" in a.stages, "no message was accepted (no 250 after the final dot)"),
    "message": (lambda a: bool(a.messages), "the client sent no message"),
    "non-ascii": (lambda a: any(m.non_ascii for m in a.messages), "the message is plain ASCII"),
}


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    rules: tuple[str, ...]
    needs: str | None = None     # a CONDITIONS name that must hold to pass
    applies: str | None = None   # a CONDITIONS name; when false the item is not applicable
    required: bool = True
    weight: int = 1


DEFAULT_ITEMS: tuple[Item, ...] = (
    Item("line-ends", "Every line ends in CRLF", ("bare-lf", "bare-cr", "no-line-end", "data-unfinished"), weight=2),
    Item("greeting", "Waits for the 220 greeting", ("early-talker",), needs="greeted"),
    Item("ehlo", "Opens with EHLO and a valid name", ("ehlo-syntax", "helo-not-ehlo"), needs="said-ehlo"),
    Item("starttls", "Upgrades the connection with STARTTLS", ("starttls-injection", "tls-not-completed"),
         needs="tls", weight=2),
    Item("ehlo-again", "Sends EHLO again under TLS", ("no-ehlo-after-tls",), needs="ehlo-under-tls", applies="tls"),
    Item("auth", "Logs in with AUTH, under TLS, in exact base64",
         ("auth-before-tls", "auth-bad-base64", "auth-newline", "auth-failed"), needs="auth", weight=2),
    Item("waits", "Waits for each reply before sending on",
         ("pipelining-not-offered", "no-wait", "data-before-354", "command-too-long")),
    Item("envelope", "MAIL FROM:<…> and RCPT TO:<…> are well formed", ("mail-syntax", "rcpt-syntax"),
         needs="envelope"),
    Item("accepted", "The message is accepted (250 after the final dot)",
         ("dot-not-stuffed", "message-ended-early", "line-too-long"), needs="accepted", weight=2),
    Item("from-to", "From and To headers with valid addresses",
         ("from-missing", "from-invalid", "to-missing", "to-invalid", "header-syntax"), applies="message"),
    Item("subject", "A Subject header", ("subject-missing",), applies="message"),
    Item("date", "A Date header in RFC 5322 form with a numeric zone", ("date-missing", "date-invalid"),
         applies="message"),
    Item("message-id", "A unique, well-formed Message-ID",
         ("message-id-missing", "message-id-syntax", "message-id-duplicate"), applies="message", required=False),
    Item("mime", "MIME structure and transfer encodings match the content",
         ("mime-version-missing", "mime-boundary", "cte-mismatch", "charset-missing"), applies="message"),
    Item("utf8", "UTF-8 sent by the standards (extra credit)",
         ("header-8bit", "header-encoding-bad", "body-8bit-undeclared", "smtputf8-missing"),
         applies="non-ascii", required=False),
    Item("quit", "Ends the session with QUIT", ("no-quit",), required=False),
)


class RubricError(ValueError):
    """A rubric file that cannot be used (the message is one sentence)."""


@dataclass
class ItemResult:
    item: Item
    status: str
    findings: list[Finding] = field(default_factory=list)
    reason: str = ""

    def as_dict(self) -> dict:
        return {"id": self.item.id, "title": self.item.title, "status": self.status,
                "required": self.item.required, "weight": self.item.weight, "reason": self.reason,
                "findings": [f.as_dict() for f in self.findings]}


@dataclass
class Grade:
    results: list[ItemResult]

    @property
    def passed(self) -> bool:
        return all(r.status != FAIL for r in self.results if r.item.required)

    @property
    def score(self) -> int:
        return sum(r.item.weight for r in self.results if r.status == PASS)

    @property
    def out_of(self) -> int:
        return sum(r.item.weight for r in self.results if r.status != NA)


def grade(analysis: Analysis, items: tuple[Item, ...] = DEFAULT_ITEMS) -> Grade:
    results = []
    for item in items:
        if item.applies and not CONDITIONS[item.applies][0](analysis):
            results.append(ItemResult(item, NA, reason=CONDITIONS[item.applies][1]))
            continue
        found = [f for f in analysis.findings if f.rule in item.rules]
        if found:
            results.append(ItemResult(item, FAIL, found))
        elif item.needs and not CONDITIONS[item.needs][0](analysis):
            results.append(ItemResult(item, FAIL, reason=CONDITIONS[item.needs][1]))
        else:
            results.append(ItemResult(item, PASS))
    return Grade(results)


def load_rubric(path: Path) -> tuple[Item, ...]:
    """The items a rubric file chooses, with its weights; RubricError names what is wrong."""
    import tomllib

    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RubricError(f"the rubric file {path} does not exist; check the path given to --rubric") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RubricError(f"the rubric file {path} cannot be read ({exc}); check the path given to --rubric") from None
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(f"the rubric file {path} is not valid TOML ({exc}); see docs/check-client.md") from None
    chosen = data.get("items")
    known = {item.id: item for item in DEFAULT_ITEMS}
    if not isinstance(chosen, dict) or not chosen:
        raise RubricError(f"the rubric file {path} has no [items.NAME] tables; the items are {', '.join(known)}")
    items = []
    for name, settings in chosen.items():
        if name not in known:
            raise RubricError(f"the rubric file {path}: {name!r} is not an item; the items are {', '.join(known)}")
        if not isinstance(settings, dict) or set(settings) - {"required", "weight", "title"}:
            raise RubricError(f"the rubric file {path}: [items.{name}] may set required, weight and title only")
        item = known[name]
        required = settings.get("required", item.required)
        weight = settings.get("weight", item.weight)
        title = settings.get("title", item.title)
        if not isinstance(required, bool):
            raise RubricError(f"the rubric file {path}: items.{name}.required must be true or false")
        if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
            raise RubricError(f"the rubric file {path}: items.{name}.weight must be a whole number from 0 to 100")
        if not isinstance(title, str) or not title.strip():
            raise RubricError(f"the rubric file {path}: items.{name}.title must be text")
        items.append(replace(item, required=required, weight=weight, title=title))
    return tuple(items)
