"""DESIGN.md's one-way data flow, enforced on the source tree (AST of every module)."""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2] / "codesign"

# package -> codesign packages it may import (besides itself). Keys are first path components
# (or module stems at the top level).
ALLOWED: dict[str, set[str]] = {
    "types": {"errors"},
    "errors": set(),
    "registry": {"errors"},
    "workloads": {"types", "errors"},
    "rtl_sim": {"types", "errors"},
    "spaces": {"types", "errors", "workloads"},
    # allocation is a solver: probes and cost models feed it tables, it never imports them
    "allocation": {"types", "errors", "workloads", "spaces"},
    "evaluators": {"types", "errors", "registry", "workloads", "spaces", "rtl_sim", "allocation"},
    # the problem catalogue sits above evaluators (DESIGN.md "Growing the house")
    "problems": {"types", "errors", "registry", "workloads", "spaces", "evaluators", "allocation"},
    "envs": {"types", "errors", "registry", "spaces", "workloads", "evaluators.composite", "evaluators.base", "results.pareto"},
    "agents": {"types", "errors", "registry", "spaces", "workloads", "envs", "evaluators.composite", "evaluators.base",
               "results.pareto", "allocation"},
    "results": {"types", "errors", "spaces", "results"},
    "dashboard": {"types", "errors", "results", "spaces"},
}
FORBIDDEN_EVERYWHERE_BUT = {"runner": {"runner", "cli", "executors", "__init__", "testing"}}


def _imports(path: pathlib.Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
    return [m for m in out if m == "codesign" or m.startswith("codesign.")]


def _owner(path: pathlib.Path) -> str:
    rel = path.relative_to(ROOT)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


MODULES = sorted(p for p in ROOT.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_import_rules(path: pathlib.Path) -> None:
    owner = _owner(path)
    if owner not in ALLOWED:
        return  # top-level glue (runner, cli, executors, builtins, __init__) may import anything
    allowed = ALLOWED[owner] | {owner}
    for mod in _imports(path):
        target = mod.split(".", 1)[1] if "." in mod else ""
        if not target:
            pytest.fail(f"{path.relative_to(ROOT)} imports the codesign package root (import the module instead)")
        ok = any(target == a or target.startswith(a + ".") for a in allowed)
        assert ok, f"{path.relative_to(ROOT)} ({owner}) imports {mod}, which DESIGN.md does not allow"


def test_runner_is_the_only_joiner() -> None:
    for path in MODULES:
        owner = _owner(path)
        if owner in FORBIDDEN_EVERYWHERE_BUT["runner"]:
            continue
        for mod in _imports(path):
            assert mod != "codesign.runner", f"{path.relative_to(ROOT)} imports the runner"


def test_rules_cover_the_tree() -> None:
    owners = {_owner(p) for p in MODULES}
    glue = {"__init__", "builtins", "runner", "executors", "config", "cli", "testing"}
    assert owners - set(ALLOWED) - glue == set(), "a new package needs an import rule here"


def _module_name(path: pathlib.Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _runtime_edges(path: pathlib.Path, known: set[str]) -> set[str]:
    """Modules of ``codesign`` that ``path`` imports when it runs (lazy imports in functions
    included, ``if TYPE_CHECKING:`` blocks left out); ``from pkg import sub`` is an edge to the
    submodule ``pkg.sub`` when one exists, else to ``pkg``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                out.add(sub if sub in known else node.module)
    return {m for m in out if m in known}


def test_no_import_cycles() -> None:
    """No module imports itself back through others, not even lazily (a circle is a missing seam)."""
    names = {_module_name(p): p for p in MODULES}
    graph = {name: _runtime_edges(path, set(names)) - {name} for name, path in names.items()}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)
