"""Row 3: the per-command round trip, N NOOPs in one batch session vs a plain socket script.

Both clients are fresh processes talking to the same fast sink (`bench.servers fast`, its own
process), so the server adds the same small latency to both. Start-up is not what this row is
about (row 1 covers it), so each client also runs with 0 NOOPs in the same round and the
per-command time is (time with N - time with 0) / N. smtp-shell pays for what a command costs
it in batch mode: reading the line, the advisor, the state table, rendering both lines.
The other batch driver (`SMTP_SHELL_DRIVER=async`) runs in the same rounds and is shown in the
note; the judged figure is the default driver. The socket script is itself the floor.
"""

from __future__ import annotations

from bench.common import PY, Row, Sample, driver_env, fast_sink, interleaved, smtp_shell_cmd, timed_run

NAME = "per-command round trip (NOOP)"
OURS = "smtp-shell batch, N x NOOP"
BASE = "plain Python socket script, same N"
TARGET = "<= 1.3"


def run(ctx) -> Row:
    n = ctx.noops
    with fast_sink(ctx.work, ctx.env) as server:
        port = server.port
        ours_cmd = [*smtp_shell_cmd(), "connect", f"127.0.0.1:{port}", "--batch"]
        base_cmd = [PY, "-m", "bench.clients", "noop", "--port", str(port)]

        def ours(count, env=ctx.env):
            stdin = ("EHLO bench.client\n" + "NOOP\n" * count + "QUIT\n").encode()
            return lambda: timed_run(ours_cmd, env, stdin, cwd=ctx.repo,
                                     check=lambda out: out.count(b"<-  250 2.0.0 OK") >= count)

        def base(count):
            return lambda: timed_run([*base_cmd, "--count", str(count)], ctx.env, cwd=ctx.repo)

        async_env = driver_env(ctx.env, "async")
        s = interleaved(ctx.reps, warmup=not ctx.quick, ours0=ours(0), oursN=ours(n), base0=base(0), baseN=base(n),
                        async0=ours(0, async_env), asyncN=ours(n, async_env))

    def per_command(name):
        return Sample([(a - b) / n for a, b in zip(s[name + "N"].values, s[name + "0"].values)])
    per_ours, per_base, per_async = per_command("ours"), per_command("base"), per_command("async")
    ratio = per_ours.median / per_base.median if per_base.median > 0 else float("inf")
    async_ratio = per_async.median / per_base.median if per_base.median > 0 else float("inf")

    def us(sample):
        lo, hi = sample.spread
        return f"{sample.median * 1e6:.0f} us/cmd [{lo * 1e6:.0f}-{hi * 1e6:.0f}]"
    return Row(NAME, f"{OURS} (N={n})", BASE, "per-command time ours / socket script", ratio, TARGET,
               ratio <= 1.3, us(per_ours), us(per_base),
               note=f"async driver: {async_ratio:.2f}x ({us(per_async)}); floor: the socket script itself; "
                    "server: bench fast sink (own process)",
               data={k: v.as_dict() for k, v in s.items()})
