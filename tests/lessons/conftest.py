"""One lab certificate for all lesson tests (made once, not per test)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def cert_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("lab-cert")
