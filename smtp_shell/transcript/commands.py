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


def _fail(message: str) -> int:
    """`status.fail`, escaped: the message may name a student's file or quote from it."""
    from smtp_shell.transcript.escape import terminal

    return fail(terminal(message))


def _note_incomplete(path: Path, transcript) -> None:
    if not transcript.complete:
        from smtp_shell.transcript.escape import terminal

        log_error(terminal(f"note: {path} is incomplete ({transcript.problem}); showing what it holds."))


def _read(path: Path):
    """The whole transcript in memory (the interactive player and --against need to go back)."""
    from smtp_shell.transcript.reader import read_transcript

    transcript = read_transcript(path)
    _note_incomplete(path, transcript)
    return transcript


MAX_PLAYER_EVENTS = 200_000  # the interactive player keeps its events for stepping back


def _stream(path: Path):
    """The transcript as a stream (header checked now; events read as they are used)."""
    from smtp_shell.transcript.reader import open_transcript

    return open_transcript(path)


def cmd_replay(args, run_against=None, stdin=None, stdout=None) -> int:
    from smtp_shell.render import Renderer, make_console
    from smtp_shell.transcript.replay import SCREEN_KINDS, play

    if args.speed <= 0:
        return _fail(f"--speed {args.speed:g} is not a speed; give a number above 0, e.g. --speed 2")
    if args.idle_limit is not None and args.idle_limit < 0:
        return _fail("--idle-limit must be 0 seconds or more, e.g. --idle-limit 2")
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    interactive = stdin.isatty() and stdout.isatty()
    player = interactive and (args.step or not args.no_timing)
    try:
        transcript = _read(args.file) if args.against else _stream(args.file)
    except TranscriptError as exc:
        return _fail(str(exc))
    if args.against:
        if run_against is None:
            return _fail("--against is not available here; run it as `smtp-shell replay FILE --against lab`")
        return int(run_against(transcript, args))
    if args.step and not interactive:
        return _fail("--step needs a terminal to press keys in; use --no-timing to print the whole session at once")
    console = make_console(args.no_color, file=stdout)
    renderer = Renderer(console, gloss=args.gloss)
    if player:
        import asyncio

        from smtp_shell.transcript.player import Player

        # The player steps back, so it holds the events: at most MAX_PLAYER_EVENTS of them.
        events: list = []
        more = 0
        try:
            for event in transcript.events:
                if event.kind not in SCREEN_KINDS:
                    continue
                if len(events) < MAX_PLAYER_EVENTS:
                    events.append(event)
                else:
                    more += 1
        except TranscriptError as exc:
            return _fail(str(exc))
        _note_incomplete(args.file, transcript)
        if more:
            log_error(f"note: the player holds the first {MAX_PLAYER_EVENTS} events; {more} more are not shown "
                      "(replay --no-timing prints them all)")
        asyncio.run(Player(events, renderer, speed=args.speed, idle_limit=args.idle_limit, step=args.step).run())
        return int(ExitStatus.OK)
    timing = not args.no_timing and stdout.isatty()
    try:
        play(transcript.events, renderer, timing=timing, speed=args.speed, idle_limit=args.idle_limit)
    except TranscriptError as exc:  # found while streaming: what came before it has been shown
        return _fail(str(exc))
    _note_incomplete(args.file, transcript)
    return int(ExitStatus.OK)


def _write(text: str, out: Path | None) -> int:
    if out is None or str(out) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return int(ExitStatus.OK)
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        return _fail(f"cannot write {out} ({exc.strerror or exc}); choose a file in a folder you can write to")
    print(f"wrote {out}", file=sys.stderr)
    return int(ExitStatus.OK)


def cmd_export(args) -> int:
    """Streamed: the export is written as the transcript is read, so a huge file never has to
    fit in memory. A problem found half-way removes the half-written output file."""
    from smtp_shell.transcript.export import write_export

    try:
        transcript = _stream(args.file)
    except TranscriptError as exc:
        return _fail(str(exc))
    to_stdout = args.output is None or str(args.output) == "-"
    try:
        out = sys.stdout if to_stdout else open(args.output, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
    except OSError as exc:
        return _fail(f"cannot write {args.output} ({exc.strerror or exc}); choose a file in a folder you can write to")
    try:
        write_export(transcript, args.format, out, gloss=args.gloss)
        out.flush()
    except (TranscriptError, OSError) as exc:
        if not to_stdout:
            out.close()
            Path(args.output).unlink(missing_ok=True)
        return _fail(str(exc) if isinstance(exc, TranscriptError) else
                     f"cannot write {args.output} ({exc.strerror or exc}); check the disk and the folder")
    if not to_stdout:
        out.close()
        print(f"wrote {args.output}", file=sys.stderr)
    _note_incomplete(args.file, transcript)
    return int(ExitStatus.OK)


def cmd_report(args) -> int:
    from smtp_shell.render import make_console
    from smtp_shell.transcript.report import collect, to_csv, to_json, to_table

    folder = Path(args.folder)
    if not folder.is_dir():
        return _fail(f"{folder} is not a folder; give the folder that holds the transcripts (.jsonl files)")
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
