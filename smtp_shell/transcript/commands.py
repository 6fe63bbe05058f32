"""The `replay`, `export` and `report` sub-commands: arguments in, an exit status out.

Why this exists: the CLI only parses arguments; what each transcript command does with them
lives here, next to the code it drives, and every failure is one sentence on stderr.
`replay --against` needs a live session driver, which belongs to the shell layer above this
one, so the caller passes a function that runs it (see `smtp_shell.shell.recording`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from smtp_shell.status import ExitStatus, fail, log_error
from smtp_shell.transcript.format import TranscriptError


def _read(path: Path):
    from smtp_shell.transcript.reader import read_transcript

    transcript = read_transcript(path)
    if not transcript.complete:
        log_error(f"note: {path} is incomplete ({transcript.problem}); showing what it holds.")
    return transcript


def cmd_replay(args, run_against=None, stdin=None, stdout=None) -> int:
    from smtp_shell.render import Renderer, make_console
    from smtp_shell.transcript.replay import play, screen_events

    if args.speed <= 0:
        return fail(f"--speed {args.speed:g} is not a speed; give a number above 0, e.g. --speed 2")
    if args.idle_limit is not None and args.idle_limit < 0:
        return fail("--idle-limit must be 0 seconds or more, e.g. --idle-limit 2")
    try:
        transcript = _read(args.file)
    except TranscriptError as exc:
        return fail(str(exc))
    if args.against:
        if run_against is None:
            return fail("--against is not available here; run it as `smtp-shell replay FILE --against lab`")
        return int(run_against(transcript, args))
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    interactive = stdin.isatty() and stdout.isatty()
    if args.step and not interactive:
        return fail("--step needs a terminal to press keys in; use --no-timing to print the whole session at once")
    console = make_console(args.no_color, file=stdout)
    renderer = Renderer(console, gloss=args.gloss)
    events = screen_events(transcript.events)
    if interactive and (args.step or not args.no_timing):
        import asyncio

        from smtp_shell.transcript.player import Player

        asyncio.run(Player(events, renderer, speed=args.speed, idle_limit=args.idle_limit, step=args.step).run())
        return int(ExitStatus.OK)
    timing = not args.no_timing and stdout.isatty()
    play(events, renderer, timing=timing, speed=args.speed, idle_limit=args.idle_limit)
    return int(ExitStatus.OK)


def _write(text: str, out: Path | None) -> int:
    if out is None or str(out) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return int(ExitStatus.OK)
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        return fail(f"cannot write {out} ({exc.strerror or exc}); choose a file in a folder you can write to")
    print(f"wrote {out}", file=sys.stderr)
    return int(ExitStatus.OK)


def cmd_export(args) -> int:
    from smtp_shell.transcript.export import export

    try:
        transcript = _read(args.file)
    except TranscriptError as exc:
        return fail(str(exc))
    return _write(export(transcript, args.format, gloss=args.gloss), args.output)


def cmd_report(args) -> int:
    from smtp_shell.render import make_console
    from smtp_shell.transcript.report import collect, to_csv, to_json, to_table

    folder = Path(args.folder)
    if not folder.is_dir():
        return fail(f"{folder} is not a folder; give the folder that holds the transcripts (.jsonl files)")
    summaries = collect(folder)
    if args.format == "csv":
        return _write(to_csv(summaries), args.output)
    if args.format == "json":
        return _write(to_json(summaries), args.output)
    if not summaries:
        log_error(f"{folder} holds no transcripts (.jsonl files); record one with --record FILE")
        return int(ExitStatus.OK)
    console = make_console(args.no_color)
    if not console.is_terminal:
        console.width = 220  # a file or a pipe: do not squeeze the table into 80 columns
    console.print(to_table(summaries, folder), crop=False, overflow="fold", soft_wrap=False)
    return int(ExitStatus.OK)
