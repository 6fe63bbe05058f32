"""Recording in the shell: the `:record` command, the `--record FILE` hook, and `replay --against`.

Why this exists: the transcript layer knows how to write and read sessions but not the shell
(imports only go downward). This module is the seam: it attaches a `Recorder` to a running
session as a listener, shows it in the toolbar, and gives `replay --against` a real
`SessionDriver` so the re-run is the same client code a student uses.

`:record` without a file name writes `transcripts/session-YYYYmmdd-HHMMSS.jsonl` under the
current folder (where students find it to hand in). An existing file is never overwritten
unless `--force` is given. AUTH secrets are never recorded; there is no option to record them.
"""

from __future__ import annotations

import atexit
import datetime as _dt
import os
import shlex
import sys
from pathlib import Path

from smtp_shell.shell.meta import meta
from smtp_shell.status import log_error
from smtp_shell.transcript.format import TranscriptError
from smtp_shell.transcript.recorder import Recorder


def default_path(now: _dt.datetime | None = None) -> Path:
    now = now or _dt.datetime.now()
    return Path("transcripts") / f"session-{now:%Y%m%d-%H%M%S}.jsonl"


def toolbar_label(recorder: Recorder) -> str:
    return f"● rec {recorder.path.name}"


def start_recording(path: Path, target: str | None, force: bool = False, lesson: str | None = None) -> Recorder:
    """Open a transcript for a session. Raises TranscriptError (one sentence) when it cannot."""
    return Recorder(Path(path), target=target, lesson=lesson, force=force)


def show_in_toolbar(recorder: Recorder):
    """An `on_ready(shell)` hook for the REPL: put the recording in the toolbar."""
    def on_ready(shell) -> None:
        shell.recording = toolbar_label(recorder)
    return on_ready


def current_recorder(shell) -> Recorder | None:
    return next((x for x in shell.driver.listeners if isinstance(x, Recorder) and not x.is_closed), None)


@meta("record", ":record [FILE] [--force] | :record stop", "record this session as a transcript (never the passwords)",
      ":record lab1.jsonl")
async def _record(shell, args: str) -> None:
    words = shlex.split(args)
    current = current_recorder(shell)
    if words == ["stop"]:
        if current is None:
            raise ValueError("Nothing is being recorded; start with :record [FILE]")
        current.close()
        shell.driver.listeners.remove(current)
        atexit.unregister(current.close)
        shell.recording = None
        shell.driver.renderer.note(f"recording stopped; the transcript is {current.path}")
        return
    force = "--force" in words
    words = [w for w in words if w != "--force"]
    if len(words) > 1:
        raise ValueError("Give one file name (quote it if it has spaces), e.g. :record lab1.jsonl")
    if current is not None:
        raise ValueError(f"Already recording to {current.path}; type :record stop first")
    path = Path(words[0]) if words else default_path()
    try:
        recorder = start_recording(path, shell.driver.target, force)
    except TranscriptError as exc:
        raise ValueError(str(exc)) from None
    atexit.register(recorder.close)  # a normal exit writes the end event even without :record stop
    shell.driver.listeners.append(recorder)
    shell.recording = toolbar_label(recorder)
    shell.driver.renderer.note(f"recording to {path.resolve()} (AUTH secrets are never recorded); :record stop ends it")


# ---- replay --against ------------------------------------------------------------------------

def _password_source(args, lab: bool, target: str = "the server", ask=None):
    """The password for the transcript's AUTH lines, fetched on first use. At a terminal it asks
    first (naming the server), even with --password-env: the transcript is a student's file."""
    cache: list[str] = []
    ask = ask or input

    def password() -> str:
        if cache:
            return cache[0]
        if not lab and sys.stdin.isatty():
            answer = ask(f"The transcript logs in. Send your password to {target} (under TLS, in its AUTH "
                         "lines only)? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                raise TranscriptError("the password was not sent (you answered no); the replay stopped at the "
                                      "transcript's first AUTH line")
        if args.password_env:
            value = os.environ.get(args.password_env)
            if value is None:
                raise TranscriptError(f"the environment variable {args.password_env} is not set; "
                                      f"set it to the password, e.g. export {args.password_env}=...")
        elif lab:
            from smtp_shell.lab.accounts import DEFAULT_PASSWORD
            value = DEFAULT_PASSWORD
        elif sys.stdin.isatty():
            import getpass
            value = getpass.getpass("Password for the AUTH steps of the transcript (not shown): ")
        else:
            raise TranscriptError("the transcript logs in, so replay needs the password; "
                                  "give --password-env VAR with the password in that environment variable")
        cache.append(value)
        return value
    return password


def run_against(transcript, args) -> int:
    """`replay FILE --against HOST[:PORT]|lab`: re-send the client side, report what differs."""
    import asyncio

    from smtp_shell.address import parse_hostport
    from smtp_shell.render import Renderer, make_console
    from smtp_shell.shell.driver import SessionDriver
    from smtp_shell.shell.options import SessionOptions
    from smtp_shell.status import ExitStatus
    from smtp_shell.transcript.against import run_against as compare

    lab = args.against.strip().lower() == "lab"
    server = None
    try:
        if lab:
            from smtp_shell.lab import LabConfig, LabServer
            server = LabServer(LabConfig(host="127.0.0.1", port=0))
            server.start()
            options = SessionOptions(host=server.host, port=server.port, lab_cafile=server.cert_path,
                                     timeout=args.timeout, no_color=args.no_color)
        else:
            host, port = parse_hostport(args.against)
            options = SessionOptions(host=host, port=port, cafile=args.cafile, insecure=args.insecure,
                                     timeout=args.timeout, no_color=args.no_color)
        user = args.user
        if user is None and lab and not any(e.get("user") for e in transcript.events):
            from smtp_shell.lab.accounts import DEFAULT_USER
            user = DEFAULT_USER
        driver = SessionDriver(options, Renderer(make_console(args.no_color), gloss=args.gloss))
        driver.note(f"replaying the client side of {args.file} against {options.target}")
        result = asyncio.run(compare(transcript, driver, user=user, password=_password_source(args, lab, options.target)))
    except ValueError as exc:  # a bad HOST:PORT
        log_error(str(exc))
        return int(ExitStatus.ERROR)
    except TranscriptError as exc:
        log_error(str(exc))
        return int(ExitStatus.ERROR)
    except Exception as exc:  # the lab server explains its own failures in one sentence
        if server is not None and type(exc).__name__ == "LabError":
            log_error(f"could not start the lab server: {exc}")
            return int(ExitStatus.ERROR)
        raise
    finally:
        if server is not None:
            server.stop()
    if driver.exit_status in (ExitStatus.CONNECTION_FAILED, ExitStatus.TLS_FAILED) and result.compared == 0:
        return int(driver.exit_status)
    return int(ExitStatus.OK if result.matched else ExitStatus.ERROR)


def cmd_replay(args) -> int:
    from smtp_shell.transcript.commands import cmd_replay as replay

    return replay(args, run_against=run_against)
