"""`smtp-shell diff MODEL STUDENT`: two transcripts aligned at the protocol level.

Why this exists: the quickest way to see what a student missed is to lay their session beside
a model solution. Comparing screens line by line drowns in noise (timestamps, message ids,
EHLO lists); here each transcript becomes a list of protocol steps (a connection, TLS
starting, each command with the code of its reply, a message body, a lesson step passed),
the two lists are aligned on the commands' verbs (difflib), and each step is `same`,
`different` (same verb, other arguments or reply code), `missing` (only in the model) or
`extra` (only the student's). Message bodies are compared by presence only (their dates and
ids always differ). Text and HTML output; every string from a file is escaped at the last
step by escape.py (`terminal` for text, `html_text` for HTML).

Both files are streamed (one event in memory at a time) and at most MAX_DIFF_STEPS steps of
each are aligned (a last row says how many more there were): difflib's time grows with the
product of the lengths, and a handed-in file can be any size.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from smtp_shell.transcript.escape import html_text, terminal
from smtp_shell.transcript.reader import Transcript, TranscriptFile

MAX_DIFF_STEPS = 5000
MAX_TEXT = 1000  # characters of a command or marker kept (compared and shown)


@dataclass(frozen=True)
class Step:
    key: str          # what aligns: "connect", "tls", "EHLO", "body", "marker:step 1 passed: ..."
    text: str         # what is shown: the command, "message body (9 lines)", the marker
    code: int | None  # the reply code it got (None: no reply)

    @property
    def label(self) -> str:
        return f"{self.text} -> {self.code}" if self.code is not None else self.text

    def same_as(self, other: Step) -> bool:
        if self.key in ("body", "connect", "tls", "more") or self.key.startswith("marker:"):
            return self.key == other.key
        return self.text.upper() == other.text.upper() and self.code == other.code


@dataclass(frozen=True)
class Row:
    status: str              # same | different | missing | extra
    model: Step | None
    student: Step | None


def _body(lines: int) -> Step:
    return Step("body", f"message body ({lines} line{'s' if lines != 1 else ''})", None)


def protocol_steps(transcript: Transcript | TranscriptFile, limit: int = MAX_DIFF_STEPS) -> list[Step]:
    steps: list[Step] = []
    more = 0
    waiting: list[int] = []   # steps waiting for their reply
    body = 0
    for event in transcript.events:
        kind = event.kind
        if len(steps) >= limit:
            more += kind in ("c", "connect", "tls", "marker") and event.get("as") != "data"
            continue
        if kind == "c" and event.get("as") == "data":
            body += 1
            continue
        if body and kind in ("c", "connect"):  # the body ends at its dot (or wherever it was cut off)
            steps.append(_body(body))
            body = 0
        if kind == "connect":
            steps.append(Step("connect", "connect", None))
            waiting = []
        elif kind == "tls":
            steps.append(Step("tls", "TLS started", None))
        elif kind == "c":
            text = " ".join(event.text[:MAX_TEXT].split())
            verb = event.get("verb") or (text.split(" ", 1)[0].upper() if text else "")
            if event.get("as") == "auth":
                verb, text = "<auth>", "(AUTH response)"
            elif event.get("as") == "dot":
                verb, text = "<dot>", "."
            steps.append(Step(verb, text, None))
            waiting.append(len(steps) - 1)
        elif kind == "s" and waiting:
            index = waiting.pop(0)
            steps[index] = Step(steps[index].key, steps[index].text, event.get("code"))
        elif kind == "marker":
            steps.append(Step("marker:" + event.text[:MAX_TEXT], event.text[:MAX_TEXT], None))
    if body:
        steps.append(_body(body))
    if more:
        steps.append(Step("more", f"... and {more} more steps, not compared", None))
    return steps


def align(model: list[Step], student: list[Step]) -> list[Row]:
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(a=[s.key for s in model], b=[s.key for s in student], autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            for m, s in zip(model[a0:a1], student[b0:b1]):
                rows.append(Row("same" if m.same_as(s) else "different", m, s))
        else:
            rows.extend(Row("missing", m, None) for m in model[a0:a1])
            rows.extend(Row("extra", None, s) for s in student[b0:b1])
    return rows


def diff(model: Transcript | TranscriptFile, student: Transcript | TranscriptFile) -> list[Row]:
    return align(protocol_steps(model), protocol_steps(student))


_MARK = {"same": "=", "different": "~", "missing": "-", "extra": "+"}


def counts(rows: list[Row]) -> dict[str, int]:
    out = {"same": 0, "different": 0, "missing": 0, "extra": 0}
    for row in rows:
        out[row.status] += 1
    return out


def to_text(rows: list[Row], model_name: str, student_name: str) -> str:
    esc = terminal
    width = max([len(esc(r.model.label)) for r in rows if r.model] + [len("model")])
    width = min(width, 48)
    out = [f"model:   {esc(model_name)}", f"student: {esc(student_name)}",
           "= same  ~ different  - missing (only in the model)  + extra (only the student's)", "",
           f"  {'model':<{width}}  student"]
    for row in rows:
        left = esc(row.model.label) if row.model else ""
        right = esc(row.student.label) if row.student else ""
        if len(left) > width:
            left = left[:width - 1] + "…"
        out.append(f"{_MARK[row.status]} {left:<{width}}  {right}".rstrip())
    c = counts(rows)
    out += ["", f"{c['same']} same, {c['different']} different, {c['missing']} missing, {c['extra']} extra."]
    return "\n".join(out) + "\n"


_CSS = """body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;color:#222;padding:0 1rem}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;
font-family:ui-monospace,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:.9rem;white-space:pre-wrap;
overflow-wrap:anywhere}tr.different td{background:#fff8e1}tr.missing td{background:#ffebee}
tr.extra td{background:#e3f2fd}td.mark{width:1.5rem;text-align:center;font-weight:bold}"""


def to_html(rows: list[Row], model_name: str, student_name: str) -> str:
    esc = html_text
    body = "".join(
        f'<tr class="{row.status}"><td class="mark" title="{row.status}">{_MARK[row.status]}</td>'
        f'<td>{esc(row.model.label) if row.model else ""}</td><td>{esc(row.student.label) if row.student else ""}</td>'
        f'</tr>' for row in rows)
    c = counts(rows)
    title = f"{model_name} vs {student_name}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{esc(title)}</title><style>{_CSS}</style></head>
<body><h1>Model and student, step by step</h1>
<p>Model: <code>{esc(model_name)}</code>. Student: <code>{esc(student_name)}</code>.
= same, ~ different (same command, other arguments or reply), - missing (only in the model), + extra.</p>
<table id="diff"><thead><tr><th></th><th>model</th><th>student</th></tr></thead><tbody>{body}</tbody></table>
<p id="counts">{c['same']} same, {c['different']} different, {c['missing']} missing, {c['extra']} extra.</p>
</body></html>
"""
