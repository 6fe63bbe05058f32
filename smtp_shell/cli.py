"""Command-line entry point: argument parsing, exit statuses, and the wiring of the parts.

This is the one module that knows every layer. Each sub-command imports what it needs lazily,
so `smtp-shell explain 550` or batch mode never pays for prompt_toolkit's import.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from smtp_shell import __version__
from smtp_shell.address import format_hostport, parse_hostport
from smtp_shell.environment import Environment
from smtp_shell.status import ExitStatus, fail

EPILOG = """\
examples:
  smtp-shell                              practise against the built-in lab server
  smtp-shell connect 127.0.0.1:8025       talk to any SMTP server
  smtp-shell connect smtp.example.org:465 --tls
  printf 'EHLO me\\r\\nQUIT\\r\\n' | smtp-shell connect 127.0.0.1:8025 --batch
  smtp-shell lab --user alice:secret      run a lab server for a classroom
  smtp-shell mailbox                      what the lab server received
  smtp-shell explain 5.7.8                what a reply code means

exit status: 0 session ran to the end (batch: every message accepted), 1 error, 2 usage,
3 connection failed, 4 TLS failed, 5 timeout; batch mode also: 6 a command refused,
7/8 a message refused at its final dot (4xx/5xx), 9 MAIL/RCPT/DATA/BDAT refused,
10 421 or connection lost mid-transaction, 11 message abandoned, 130 Ctrl-C,
141 stdout closed (docs/batch.md)
"""

PROFILES = ("lab", "postfix", "strict", "minimal")  # as smtp_shell.lab.profiles.NAMES (not imported at start-up)


def _add_session_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tls", action="store_true", help="implicit TLS from the first byte (port 465)")
    p.add_argument("--insecure", action="store_true", help="do not verify the server's certificate (announced loudly)")
    p.add_argument("--cafile", type=Path, help="trust this PEM certificate file instead of the system store")
    p.add_argument("--timeout", type=float, default=30.0, metavar="S", help="connect and reply timeout in seconds (default 30)")
    p.add_argument("--helo-name", default=None, metavar="NAME", help="the name completion suggests after EHLO/HELO")
    p.add_argument("--record", type=Path, metavar="FILE", help="record the session as a transcript (never the passwords)")
    p.add_argument("--force", action="store_true", help="let --record overwrite an existing file")
    p.add_argument("--student", default=None, metavar="NAME",
                   help="your name, kept in the --record transcript (else SMTP_SHELL_STUDENT or the saved one)")
    p.add_argument("--batch", action="store_true", help="read lines from stdin, no prompt (automatic when stdin is not a terminal)")
    p.add_argument("--no-color", action="store_true", help="plain output (also: NO_COLOR=1)")
    p.add_argument("--keep-going", action="store_true",
                   help="batch: go on after a failed transaction (default: stop after the first, with QUIT)")
    p.add_argument("--no-pipeline", action="store_true",
                   help="wait for each reply even when the server advertises PIPELINING")
    p.add_argument("--theme", choices=("dark", "light"), default=None,
                   help="colours for a dark (default) or light background (also: SMTP_SHELL_THEME)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smtp-shell",
        description="Type SMTP by hand over a socket the shell manages; see and understand every reply.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"smtp-shell {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("connect", help="open the shell against any SMTP server",
                       description="Open the shell against HOST[:PORT] (default port 25).",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("server", metavar="HOST[:PORT]")
    _add_session_options(p)

    p = sub.add_parser("lab", help="run the lab server on its own (a classroom server)")
    p.add_argument("--listen", default="127.0.0.1:8025", metavar="HOST:PORT", help="address to listen on (default 127.0.0.1:8025)")
    p.add_argument("--tls-port", type=int, default=None, metavar="PORT", help="also serve implicit TLS on this port")
    p.add_argument("--mailbox", type=Path, default=None, metavar="DIR", help="where received mail is saved")
    p.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD",
                   help="a lab account (repeatable); NAME alone takes the password from $SMTP_SHELL_LAB_PASSWORD, "
                        "which (unlike the command line) other users cannot see in ps")
    p.add_argument("--user-file", type=Path, default=None, metavar="FILE",
                   help="lab accounts from a file of NAME:PASSWORD lines (keeps passwords out of ps)")
    p.add_argument("--allow-plain-auth", action="store_true", help="allow AUTH before STARTTLS (to show why it is dangerous)")
    p.add_argument("--faults", type=Path, default=None, metavar="FILE", help="scripted faults (TOML)")
    p.add_argument("--profile", choices=PROFILES, default="lab",
                   help="how the lab answers: its own words, Postfix's, strict RFC 5321, or no ESMTP (minimal)")
    _add_classroom_options(p)

    p = sub.add_parser("mailbox", help="list what the lab server received, or show one message")
    p.add_argument("args", nargs="*", metavar="[DIR] | show ID", help="a mailbox folder, or `show ID`")
    p.add_argument("--mailbox", type=Path, default=None, metavar="DIR", help="the mailbox folder (default: the lab's)")

    p = sub.add_parser("explain", help="what a reply code or enhanced status code means")
    p.add_argument("code", metavar="CODE", help="e.g. 550 or 5.7.8")

    _add_transcript_parsers(sub)
    _add_lesson_parser(sub)
    _add_check_client_parser(sub)

    # The default command (no sub-command): the embedded lab server + the REPL.
    _add_session_options(parser)
    parser.add_argument("--web", default=None, metavar="HOST:PORT",
                        help="also serve the lab's web view here (e.g. 127.0.0.1:0) and print its URL")
    return parser


def _add_classroom_options(p: argparse.ArgumentParser) -> None:
    """--web, --roster, --stuck-minutes (see docs/classroom.md)."""
    p.add_argument("--web", default=None, metavar="HOST:PORT",
                   help="serve the web view (inbox, live sessions, class board) here, e.g. 127.0.0.1:8080")
    p.add_argument("--roster", type=Path, default=None, metavar="FILE",
                   help="CSV of students (name[,password]): one account and one mailbox each")
    p.add_argument("--stuck-minutes", type=float, default=5.0, metavar="M",
                   help="on the class board, rows without progress for M minutes stand out (default 5)")
    p.add_argument("--max-sessions", type=int, default=100, metavar="N",
                   help="concurrent SMTP sessions before new ones get 421 (default 100)")
    p.add_argument("--max-per-address", type=int, default=None, metavar="N",
                   help="concurrent sessions from one client address before it gets 421 (default 50; "
                        "raise it for a class behind one NAT address or a load generator)")


def _add_check_client_parser(sub) -> None:
    """`check-client` (runs in smtp_shell.lab.checkclient, imported only for that command)."""
    p = sub.add_parser("check-client", help="grade your own SMTP client: a lab server that prints a rubric",
                       description="Start a lab server, wait for your own client program to send a message, "
                                   "and print what it did right and wrong, with the exact bytes as evidence.")
    p.add_argument("--listen", default="127.0.0.1:8025", metavar="HOST:PORT",
                   help="address to listen on (default 127.0.0.1:8025; port 0 picks a free one)")
    p.add_argument("--tls-port", type=int, default=None, metavar="PORT", help="also serve implicit TLS on this port")
    p.add_argument("--mailbox", type=Path, default=None, metavar="DIR", help="where received mail is saved")
    p.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD", help="a lab account (repeatable)")
    p.add_argument("--allow-plain-auth", action="store_true", help="allow AUTH before STARTTLS")
    p.add_argument("--faults", type=Path, default=None, metavar="FILE", help="scripted faults (TOML)")
    p.add_argument("--rubric", type=Path, default=None, metavar="FILE",
                   help="the rubric: which items count and their weights (TOML; default: the course lab's)")
    p.add_argument("--json", action="store_true", help="print the result as JSON (for autograders)")
    p.add_argument("--sessions", type=int, default=1, metavar="N", help="judge the next N sessions (default 1)")
    p.add_argument("--wait", type=float, default=None, metavar="S",
                   help="give up after S seconds without enough sessions (exit status 5)")
    p.add_argument("--idle-timeout", type=float, default=30.0, metavar="S",
                   help="close a session that stays silent this long (default 30)")
    p.add_argument("--no-color", action="store_true", help="plain output (also: NO_COLOR=1)")


def _add_lesson_parser(sub) -> None:
    """`lesson [NAME]`: list the guided lessons, or run one (see docs/lessons.md)."""
    p = sub.add_parser("lesson", help="list the guided lessons, or run one",
                       description="Without NAME: list the lessons. With NAME (an id, a number or a unique prefix): "
                                   "start the lab server the lesson needs and open the shell with the lesson beside it.")
    p.add_argument("name", nargs="?", default=None, metavar="NAME", help="the lesson to run, e.g. 2 or first-message")
    p.add_argument("--lessons-dir", type=Path, default=None, metavar="DIR", help="also offer the lessons (.toml) in DIR")
    p.add_argument("--server", default=None, metavar="HOST:PORT", help="use this server instead of starting a lab server")
    p.add_argument("--profile", choices=PROFILES, default="lab",
                   help="how the lesson's lab answers: lab (default), postfix (Postfix's wording), strict, minimal")
    p.add_argument("--theme", choices=("dark", "light"), default=None,
                   help="colours for a dark (default) or light background (also: SMTP_SHELL_THEME)")
    p.add_argument("--mailbox", type=Path, default=None, metavar="DIR",
                   help="the lab mailbox folder (with --server: where to look for saved mail)")
    p.add_argument("--record-dir", type=Path, default=None, metavar="DIR",
                   help="where the transcript goes (default: transcripts/ in the smtp-shell data folder)")
    p.add_argument("--student", default=None, metavar="NAME",
                   help="your name, recorded in the transcript (else SMTP_SHELL_STUDENT, else asked once and kept)")
    p.add_argument("--no-record", action="store_true", help="do not record a transcript")
    p.add_argument("--cafile", type=Path, default=None, help="with --server: trust this PEM certificate file")
    p.add_argument("--insecure", action="store_true", help="with --server: do not verify the server's certificate")
    p.add_argument("--timeout", type=float, default=30.0, metavar="S", help="connect and reply timeout in seconds (default 30)")
    p.add_argument("--batch", action="store_true", help="read lines from stdin, no prompt (automatic when stdin is not a terminal)")
    p.add_argument("--no-color", action="store_true", help="plain output (also: NO_COLOR=1)")


def _add_transcript_parsers(sub) -> None:
    """`replay`, `export`, `report` (the transcript tools)."""
    p = sub.add_parser("replay", help="play a transcript back as it looked live",
                       description="Play a transcript back through the live shell's rendering. On a terminal: "
                                   "space pause/resume, right/left one event, ] [ next/previous marker, / search, q quit.")
    p.add_argument("file", type=Path, metavar="FILE", help="a transcript (.jsonl) recorded with --record or :record")
    p.add_argument("--speed", type=float, default=1.0, metavar="X", help="play X times as fast (default 1)")
    p.add_argument("--idle-limit", type=float, default=None, metavar="S", help="never wait more than S seconds between events")
    p.add_argument("--no-timing", action="store_true", help="print everything at once (the default when not on a terminal)")
    p.add_argument("--step", action="store_true", help="one exchange per key press (needs a terminal)")
    p.add_argument("--gloss", action="store_true", help="show a one-line meaning under every reply")
    p.add_argument("--no-color", action="store_true", help="plain output (also: NO_COLOR=1)")
    p.add_argument("--against", metavar="HOST[:PORT]|lab", default=None,
                   help="re-send the client side to a live server (lab: a fresh embedded lab server) and compare replies; "
                        "exit status 1 if any reply code differs")
    p.add_argument("--user", default=None, metavar="NAME", help="the AUTH user name for --against (default: the recorded one)")
    p.add_argument("--password-env", default=None, metavar="VAR",
                   help="for --against: the AUTH password is in this environment variable (else asked for, masked)")
    p.add_argument("--cafile", type=Path, default=None, help="for --against: trust this PEM certificate file")
    p.add_argument("--insecure", action="store_true", help="for --against: do not verify the server's certificate")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S", help="for --against: reply timeout (default 10)")

    p = sub.add_parser("export", help="turn a transcript into text, Markdown, HTML, SVG, Mermaid or asciinema")
    p.add_argument("file", type=Path, metavar="FILE", help="a transcript (.jsonl)")
    p.add_argument("--format", choices=("text", "md", "html", "svg", "mermaid", "cast"), default="text",
                   help="text (plain conversation), md, html (one self-contained page with a sequence diagram), "
                        "svg (a still image), mermaid (a sequenceDiagram), cast (asciinema v2); default text")
    p.add_argument("-o", "--output", type=Path, default=None, metavar="OUT", help="write here instead of stdout")
    p.add_argument("--gloss", action="store_true", help="a one-line meaning under every reply")

    p = sub.add_parser("report", help="the class view for grading: one row per student and lesson",
                       description="One row per student x lesson over a folder of transcripts (see docs/grading.md).")
    p.add_argument("folder", type=Path, metavar="DIR", help="the folder with the transcripts (searched recursively)")
    p.add_argument("--format", choices=("table", "csv", "json", "html"), default="table",
                   help="table (default, 80 columns in a file), csv (a gradebook: one row per student, a column per "
                        "lesson), json (every row and file), html (one class page; needs -o)")
    p.add_argument("-o", "--output", type=Path, default=None, metavar="OUT", help="write here instead of stdout")
    p.add_argument("--verify", type=Path, default=None, metavar="LABDIR",
                   help="check each transcript against the lab server's own session logs in LABDIR (its mailbox)")
    p.add_argument("--no-color", action="store_true", help="plain output (also: NO_COLOR=1)")


    p = sub.add_parser("diff", help="a student's transcript beside a model solution, step by step",
                       description="Align two transcripts at the protocol level (commands, reply codes, lesson "
                                   "steps) and show what is the same, different, missing or extra. Exit status 0 "
                                   "when they match, 1 when they differ.")
    p.add_argument("model", type=Path, metavar="MODEL", help="the model solution's transcript (.jsonl)")
    p.add_argument("student", type=Path, metavar="STUDENT", help="the student's transcript (.jsonl)")
    p.add_argument("--format", choices=("text", "html"), default="text", help="text (default) or html (one page)")
    p.add_argument("-o", "--output", type=Path, default=None, metavar="OUT", help="write here instead of stdout")


def _transcript_command(module: str, name: str):
    def run(args) -> int:
        import importlib

        return getattr(importlib.import_module(module), name)(args)
    return run


TRANSCRIPT_COMMANDS: dict = {  # name -> handler(args) -> int, filled by the transcript tools
    "replay": _transcript_command("smtp_shell.lessons.transcripts", "cmd_replay"),
    "export": _transcript_command("smtp_shell.transcript.commands", "cmd_export"),
    "report": _transcript_command("smtp_shell.lessons.transcripts", "cmd_report"),
    "diff": _transcript_command("smtp_shell.transcript.commands", "cmd_diff"),
}


def _tolerant_streams() -> None:
    """Any stdout encoding works: what it cannot show is escaped (\\xe9), never a crash."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except ValueError:
                pass


def main(argv: list[str] | None = None, env: Environment | None = None) -> int:
    """Run one `smtp-shell` command; its exit status. `env` supplies the streams (tests pass StringIOs)."""
    env = env or Environment()
    with env.active():
        _tolerant_streams()
        return _main(argv, env)


def _main(argv: list[str] | None, env: Environment) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) or a usage error (2): argparse has printed why
        return int(exc.code) if isinstance(exc.code, int) else int(ExitStatus.USAGE)
    try:
        from smtp_shell.render import use_theme

        use_theme(getattr(args, "theme", None))
    except ValueError as exc:
        return fail(str(exc), ExitStatus.USAGE)
    try:
        handler = {
            None: _cmd_default,
            "connect": _cmd_connect,
            "lab": _cmd_lab,
            "mailbox": _cmd_mailbox,
            "explain": _cmd_explain,
            **TRANSCRIPT_COMMANDS,
            "lesson": _cmd_lesson,
            "check-client": _cmd_check_client,
        }[args.command]
        return int(handler(args))
    except KeyboardInterrupt:
        print("\ninterrupted", file=env.stderr)
        return ExitStatus.INTERRUPTED


def _session_options(args, host: str, port: int, **extra):
    from smtp_shell.shell.options import SessionOptions

    options = SessionOptions(
        host=host, port=port, implicit_tls=args.tls, insecure=args.insecure,
        cafile=args.cafile, timeout=args.timeout, helo_name=args.helo_name,
        record=args.record, record_force=args.force, no_color=args.no_color,
        keep_going=getattr(args, "keep_going", False), no_pipeline=getattr(args, "no_pipeline", False), **extra,
    )
    return options


def _run_session(options, batch: bool, student: str | None = None) -> int:
    if options.cafile is not None and not options.cafile.is_file():
        return fail(f"the CA file {options.cafile} does not exist; give the path of a PEM certificate")
    recorder = None
    if options.record is not None:
        from smtp_shell.identity import student_name
        from smtp_shell.shell.recording import start_recording
        from smtp_shell.transcript.format import TranscriptError

        try:
            recorder = start_recording(options.record, options.target, force=options.record_force,
                                       student=student_name(student, interactive=False))
        except TranscriptError as exc:
            return fail(str(exc))
    from smtp_shell.shell.runner import run_session

    return run_session(options, batch=batch, listeners=[recorder] if recorder is not None else [], recorder=recorder)


def _cmd_connect(args) -> int:
    try:
        host, port = parse_hostport(args.server, 465 if args.tls else 25)
    except ValueError as exc:
        return fail(str(exc))
    return _run_session(_session_options(args, host, port), args.batch, args.student)


def _cmd_default(args) -> int:
    from smtp_shell.lab import LabConfig, LabServer

    classroom = None
    try:
        server = LabServer(LabConfig(host="127.0.0.1", port=0))
        if getattr(args, "web", None):
            from smtp_shell.lab.classroom import Classroom

            classroom = Classroom(web=args.web)
            classroom.attach(server)
        server.start()
    except Exception as exc:  # the lab server explains its own failures in one sentence
        return fail(f"could not start the lab server: {exc}")
    try:
        if classroom is not None:
            try:
                classroom.start(server)
            except Exception as exc:  # ClassroomError: one sentence
                return fail(str(exc))
            print(f"Lab web view: {classroom.view.url if classroom.view else '(not started)'}")
        print(f"Lab server on {format_hostport(server.host, server.port)}; received mail is saved in {server.mailbox} "
              f"(log in as {server.default_account_hint()}).")
        options = _session_options(args, server.host, server.port, lab_cafile=server.cert_path,
                                   lab_mailbox=server.mailbox)
        return _run_session(options, args.batch, args.student)
    finally:
        if classroom is not None:
            classroom.stop()
        server.stop()


def _cmd_lab(args) -> int:
    from smtp_shell.lab.console import run_lab

    return run_lab(args)


def _cmd_mailbox(args) -> int:
    from smtp_shell.lab.console import run_mailbox

    return run_mailbox(args)


def _cmd_check_client(args) -> int:
    from smtp_shell.lab.checkclient import run

    return run(args)


def _cmd_lesson(args) -> int:
    from smtp_shell.lessons.run import cmd_lesson

    return cmd_lesson(args)


def _cmd_explain(args) -> int:
    from smtp_shell.protocol.catalogue import lookup
    from smtp_shell.render import make_console, render_explanation

    entry = lookup(args.code)
    if entry is None:
        return fail(f"{args.code!r} is not a reply code (like 550) or an enhanced status code (like 5.7.8) that smtp-shell knows")
    render_explanation(make_console(), entry)
    return ExitStatus.OK


if __name__ == "__main__":
    raise SystemExit(main())
