"""Bounded property tests (hypothesis, at most 200 examples each) over the reply parser, the
session core, the command classifier, the transcript reader and the lesson loader. The same
properties run with many more examples in the long fuzz run (tests/fuzz/README.md)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.robustness.properties import PROPERTIES

pytestmark = pytest.mark.timeout(120)

MAX_EXAMPLES = 150


def _make(check, strategies):
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.tuples(*strategies))
    def test(args):
        check(*args)
    return test


for _name, _strategies, _check in PROPERTIES:
    globals()[f"test_{_name}"] = _make(_check, _strategies)
