"""The package's shape holds: no import cycles, and the contracts in pyproject.toml are kept.

.ci/run's gate runs `lint-imports` too; this test makes `pytest` alone catch a layering slip, and
checks what a layers contract cannot see: a cycle inside one package.
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest
from importlinter.cli import EXIT_STATUS_SUCCESS, lint_imports  # what `lint-imports` runs


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every set of modules that import each other, directly or through others (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in graph.find_modules_directly_imported_by(module):
            if other not in graph.modules:
                continue
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_through_others():
    graph = grimp.build_graph("smtp_shell")
    assert _cycles(graph) == []


def test_parse_hostport_no_longer_pulls_the_cli_into_the_shell():
    graph = grimp.build_graph("smtp_shell")
    for low in ("smtp_shell.shell", "smtp_shell.lessons"):
        assert not graph.find_shortest_chains(low, "smtp_shell.cli"), f"{low} imports the CLI"
    assert not graph.chain_exists("smtp_shell.protocol.hints", "smtp_shell.protocol.advisor")


def test_import_contracts_are_kept(monkeypatch):
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)  # where pyproject.toml is
    if lint_imports(no_cache=True, no_logo=True) != EXIT_STATUS_SUCCESS:
        pytest.fail("an import contract in pyproject.toml is broken; run lint-imports to see which")
