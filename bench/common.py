"""Shared pieces of the benchmarks: timing and statistics, the result row, and the servers.

Every figure the runner reports is a ratio against a baseline measured in the same run, on the
same server, with the same repetitions: absolute times on shared machines are noise. A sample
set is summarised as its median and its spread (min..max around the median).

Executables are resolved to the real files (the interpreter running the bench, and the
`smtp-shell` console script installed next to it), never through a shell or a version-manager
shim, so neither side pays for a wrapper the other does not.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

PY = sys.executable
REPO = Path(__file__).resolve().parent.parent
LAB_USER, LAB_PASSWORD = "student", "lab-password"
DRIVER_VAR = "SMTP_SHELL_DRIVER"  # sync|async: which batch driver `smtp-shell connect --batch` uses


def smtp_shell_cmd() -> list[str]:
    """The installed `smtp-shell` console script (the real file, not a shim), else `python -m`."""
    script = Path(sysconfig.get_path("scripts")) / "smtp-shell"
    if script.is_file():
        return [str(script)]
    return [PY, "-m", "smtp_shell"]


def bench_env(home: Path) -> dict:
    """The environment for every child: an isolated SMTP_SHELL_HOME, plain output, the repo importable."""
    env = dict(os.environ)
    env.update({"SMTP_SHELL_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200", "TERM": "xterm",
                "PROMPT_TOOLKIT_NO_CPR": "1"})
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: byte code cached, not compiled at every start
    env.pop("PYTHONUNBUFFERED", None)         # as in a user's shell: stdout buffered (servers set it themselves)
    env.pop(DRIVER_VAR, None)  # "ours" is the default batch driver; rows ask for the other one by name
    return env


def driver_env(env: dict, driver: str) -> dict:
    """`env` with the batch driver chosen explicitly (ignored by versions with only one driver)."""
    return {**env, DRIVER_VAR: driver}


# ---- statistics -----------------------------------------------------------------------------

@dataclass
class Sample:
    """Repeated measurements of one thing (seconds, bytes, ...)."""
    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def spread(self) -> tuple[float, float]:
        return min(self.values), max(self.values)

    def as_dict(self) -> dict:
        return {"median": self.median, "min": min(self.values), "max": max(self.values), "n": len(self.values),
                "values": self.values}


def timed_run(cmd: list[str], env: dict, stdin: bytes | None = None, cwd: Path | None = None,
              timeout: float = 120, check=None) -> float:
    """Wall time of one fresh process from spawn to exit (stdout kept for `check`)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, input=stdin, capture_output=True, env=env,
                          cwd=cwd, timeout=timeout)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0 or (check is not None and not check(proc.stdout)):
        raise BenchError(f"{' '.join(map(str, cmd))[:120]} failed (exit {proc.returncode}): "
                         f"{(proc.stderr or proc.stdout)[-600:].decode('utf-8', 'replace')}")
    return elapsed


def interleaved(reps: int, warmup: bool = True, **runs) -> dict[str, Sample]:
    """Run each named callable once per round, alternating, `reps` rounds (after one warm-up round
    unless `warmup` is false: --quick), so a change in machine load hits both sides alike."""
    for fn in runs.values() if warmup else ():
        fn()
    out: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(reps):
        for name, fn in runs.items():
            out[name].append(fn())
    return {name: Sample(v) for name, v in out.items()}


class BenchError(Exception):
    """A benchmark could not run (the message says why)."""


# ---- a result row -----------------------------------------------------------------------------

@dataclass
class Row:
    name: str
    ours: str              # what was measured for smtp-shell
    baseline: str          # what it is compared with, same run
    metric: str            # what the ratio is, e.g. "time ratio ours/baseline"
    ratio: float | None    # the headline figure compared with the target
    target: str            # e.g. "<= 0.8"
    met: bool | None       # None: not evaluated (skipped)
    ours_value: str = ""   # median [min..max] with unit
    base_value: str = ""
    note: str = ""
    data: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def fmt_ms(sample: Sample) -> str:
    lo, hi = sample.spread
    return f"{sample.median * 1000:.1f} ms [{lo * 1000:.1f}-{hi * 1000:.1f}]"


def skipped(name: str, ours: str, baseline: str, target: str, why: str) -> Row:
    return Row(name, ours, baseline, "", None, target, None, note=f"SKIPPED: {why}")


# ---- servers -------------------------------------------------------------------------------

class ServerProcess:
    """A server in its own process; `stop()` returns the JSON report it prints on SIGTERM."""

    def __init__(self, cmd: list[str], env: dict, ready_prefix: str, stdout_path: Path) -> None:
        self.cmd, self.env, self.ready_prefix, self.stdout_path = cmd, env, ready_prefix, stdout_path
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def start(self, timeout: float = 30) -> ServerProcess:
        self._out = open(self.stdout_path, "w+b")  # noqa: SIM115 (kept open while the server runs)
        env = {**self.env, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(self.cmd, stdout=self._out, stderr=subprocess.STDOUT, env=env,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.stdout_path.read_text("utf-8", "replace")
            for line in text.splitlines():
                if line.startswith(self.ready_prefix):
                    self.port = self._port_from(line)
                    return self
            if self.proc.poll() is not None:
                raise BenchError(f"{self.cmd[:3]} exited: {text[-500:]}")
            time.sleep(0.02)
        self.stop()
        raise BenchError(f"{self.cmd[:3]} did not start within {timeout} s")

    def _port_from(self, line: str) -> int:
        return int(line.split()[1])

    def stop(self) -> dict:
        report: dict = {}
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if hasattr(self, "_out"):
            self._out.close()
            for line in self.stdout_path.read_text("utf-8", "replace").splitlines():
                if line.startswith("{"):
                    try:
                        report = json.loads(line)
                    except ValueError:
                        pass
        return report

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def fast_sink(work: Path, env: dict, cert: Path | None = None) -> ServerProcess:
    """The fast sink; with `cert` (the lab's, its key beside it) it offers STARTTLS."""
    tls = ["--cert", str(cert), "--key", str(cert.with_name("lab-key.pem"))] if cert else []
    return ServerProcess([PY, "-m", "bench.servers", "fast", *tls], env, "READY",
                         work / ("fast-sink-tls.out" if cert else "fast-sink.out"))


def aiosmtpd_sink(work: Path, env: dict) -> ServerProcess:
    return ServerProcess([PY, "-m", "bench.servers", "sink"], env, "READY", work / "aiosmtpd-sink.out")


class LabProcess(ServerProcess):
    """The real `smtp-shell lab` command (STARTTLS, AUTH, mailbox on disk)."""

    def __init__(self, work: Path, env: dict, mailbox: Path, port: int) -> None:
        super().__init__([*smtp_shell_cmd(), "lab", "--listen", f"127.0.0.1:{port}", "--mailbox", str(mailbox),
                          "--max-per-address", "1000"],
                         env, "smtp-shell lab server listening on", work / f"lab-{port}.out")
        self.mailbox = mailbox
        self.cert = Path(env["SMTP_SHELL_HOME"]) / "lab" / "lab-cert.pem"

    def _port_from(self, line: str) -> int:
        return int(line.split()[5].rsplit(":", 1)[1])

    def saved(self) -> int:
        return sum(1 for p in self.mailbox.rglob("*.eml") if not p.name.startswith("."))


@dataclass
class SessionServer:
    """The server of the session rows (STARTTLS with a certificate verified against `cafile`, AUTH
    with LAB_USER/LAB_PASSWORD): Postfix's smtpd when it can run here, else the lab."""
    name: str          # said in the row's note
    port: int
    cafile: Path
    accepted: bytes    # in the client's output once the message was accepted


class SessionServers:
    """Started on first use, shared by the rows, stopped by `close()`. `choice`: auto|postfix|lab."""

    def __init__(self, work: Path, env: dict, choice: str = "auto") -> None:
        self.work, self.env, self.choice = work, env, choice
        self.server: SessionServer | None = None
        self.why_not_postfix = ""
        self._running: list = []

    def get(self) -> SessionServer:
        if self.server is None:
            self.server = self._start()
        return self.server

    def _start(self) -> SessionServer:
        cert = Path(self.env["SMTP_SHELL_HOME"]) / "lab" / "lab-cert.pem"
        if not cert.exists():  # the lab makes its certificate on first start; Postfix uses the same pair
            with LabProcess(self.work, self.env, self.work / "cert-mailbox", free_port()):
                pass
        if self.choice != "lab":
            try:
                from bench.postfix import TlsAuthPostfix, postfix_missing
            except ImportError as exc:  # tests/support (and pytest) come with a checkout and '.[test]'
                reason: str | None = f"bench.postfix cannot be imported ({exc})"
            else:
                reason = postfix_missing()
            if reason is None:
                mta = TlsAuthPostfix(cert, cert.with_name("lab-key.pem"), LAB_USER, LAB_PASSWORD)
                try:
                    mta.start()
                except Exception as exc:  # any failure: say why, fall back to the lab
                    mta.stop()
                    reason = f"Postfix did not start: {exc}"[:200]
                else:
                    self._running.append(mta)
                    return SessionServer(f"Postfix smtpd {mta.version()} (STARTTLS, AUTH via Cyrus sasldb)",
                                         mta.port, cert, b"250 2.0.0 Ok: queued")
            if self.choice == "postfix":
                raise BenchError(f"--session-server postfix: {reason}")
            self.why_not_postfix = reason
        lab = LabProcess(self.work, self.env, self.work / "session-mailbox", free_port()).start()
        self._running.append(lab)
        return SessionServer("the lab server (smtp-shell lab)" + (
            f"; not Postfix: {self.why_not_postfix}" if self.why_not_postfix else ""),
            lab.port, lab.cert, b"250 2.6.0")

    def close(self) -> None:
        for server in self._running:
            server.stop()
        self._running = []


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def which(name: str) -> str | None:
    return shutil.which(name)


def make_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="smtp-shell-bench-"))
