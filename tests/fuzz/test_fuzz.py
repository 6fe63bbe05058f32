"""The long fuzz run under pytest, skipped unless SMTP_SHELL_FUZZ_EXAMPLES is set:

    SMTP_SHELL_FUZZ_EXAMPLES=20000 python -m pytest tests/fuzz -q

(`python -m tests.fuzz --budget 300` is the time-bounded runner that also counts inputs.)"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.robustness.properties import PROPERTIES

EXAMPLES = int(os.environ.get("SMTP_SHELL_FUZZ_EXAMPLES", "0") or 0)

pytestmark = [
    pytest.mark.skipif(EXAMPLES <= 0, reason="the long fuzz run: set SMTP_SHELL_FUZZ_EXAMPLES=N (see tests/fuzz/README.md)"),
    pytest.mark.timeout(0),
]


@pytest.mark.parametrize("name, strategies, check", PROPERTIES, ids=[p[0] for p in PROPERTIES])
def test_fuzz(name, strategies, check):
    @settings(max_examples=max(EXAMPLES, 1), deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.tuples(*strategies))
    def run(args):
        check(*args)

    run()
