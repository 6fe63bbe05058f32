"""`python -m tests.fuzz [--budget SECONDS] [--batch N] [--only NAME]`: the long fuzz run.

Runs every property of tests/robustness/properties.py with hypothesis, in batches of N examples
with fresh random seeds, until each property has used its share of the time budget; prints how
many inputs each property tried and any failure (hypothesis shrinks it to a minimal example).
Exit status 1 if any property failed.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.robustness.properties import PROPERTIES


def run_property(name, strategies, check, budget: float, batch: int) -> tuple[int, list[str]]:
    tried = 0
    failures: list[str] = []

    def counted(args):
        nonlocal tried
        tried += 1
        check(*args)

    deadline = time.monotonic() + budget
    seed = 0
    while time.monotonic() < deadline and not failures:
        seed += 1
        test = settings(max_examples=batch, deadline=None, database=None, derandomize=False,
                        phases=[Phase.generate, Phase.shrink],
                        suppress_health_check=list(HealthCheck))(given(st.tuples(*strategies))(counted))
        try:
            test()
        except Exception:  # a property failed: keep hypothesis's minimal example
            failures.append(traceback.format_exc(limit=3))
    return tried, failures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=300, help="total seconds for all properties (default 300)")
    parser.add_argument("--batch", type=int, default=2000, help="examples per hypothesis run (default 2000)")
    parser.add_argument("--only", default=None, help="run only properties whose name contains this")
    args = parser.parse_args(argv)
    chosen = [p for p in PROPERTIES if args.only is None or args.only in p[0]]
    share = args.budget / max(len(chosen), 1)
    total, failed = 0, 0
    started = time.monotonic()
    for name, strategies, check in chosen:
        t0 = time.monotonic()
        tried, failures = run_property(name, strategies, check, share, args.batch)
        total += tried
        status = "FAILED" if failures else "ok"
        print(f"{name:40} {tried:>9} inputs  {time.monotonic() - t0:6.1f} s  {status}", flush=True)
        for failure in failures:
            failed += 1
            print(failure, file=sys.stderr)
    from tests.robustness.properties import KNOWN_HITS
    for defect, hits in KNOWN_HITS.items():
        print(f"known defect (xfail elsewhere) hit {hits} times: {defect}")
    print(f"{'total':40} {total:>9} inputs  {time.monotonic() - started:6.1f} s  "
          f"{failed} failing propert{'y' if failed == 1 else 'ies'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
