"""The in-process REPL harness moved to tests/support/repl.py (one harness for every suite);
this name stays so robustness tests written against it keep working."""

from tests.support.repl import Repl, run_repl

__all__ = ["Repl", "run_repl"]
