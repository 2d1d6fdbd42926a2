"""The cost model's modules import each other without cycles (also counting imports inside
functions) and import no other module's ``_private`` names."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "codesign" / "evaluators" / "cost"
MODULES = {f"codesign.evaluators.cost.{p.stem}": p for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
MODULES["codesign.evaluators.cost.evaluator"] = PACKAGE / "evaluator.py"


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [a.name for a in node.names]
            if node.module == "codesign.evaluators.cost":  # from codesign.evaluators.cost import arch
                out.extend((f"{node.module}.{n}", []) for n in names)
            else:
                out.append((node.module, names))
        elif isinstance(node, ast.Import):
            out.extend((a.name, []) for a in node.names)
    return out


def test_no_import_cycles_among_the_cost_model_modules():
    graph = {m: {dep for dep, _ in _imports(p) if dep in MODULES and dep != m} for m, p in MODULES.items()}
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for dep in sorted(graph[m]):
            assert state.get(dep) != 1, f"import cycle: {' -> '.join(path + [dep])}"
            if dep not in state:
                visit(dep, path + [dep])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])


def test_no_private_names_imported_across_modules():
    files = [*PACKAGE.glob("*.py"), ROOT / "codesign" / "evaluators" / "roofline.py",
             ROOT / "codesign" / "evaluators" / "hardware.py", ROOT / "codesign" / "cli" / "cost.py"]
    bad = [(f.name, dep, n) for f in files for dep, names in _imports(f) if dep.startswith("codesign")
           for n in names if n.startswith("_")]
    assert not bad


def test_compiled_modules_call_no_compiled_code_of_another_module():
    """numba's cache is invalidated only by a change of the function's own file, so compiled code
    that called another module's compiled code would go stale (and crash) when that module
    changes: modules with ``@njit`` functions import no other such module."""
    compiled = {m for m, p in MODULES.items() if "@njit" in p.read_text()}
    assert "codesign.evaluators.cost.kernel" in compiled
    for m in compiled:
        deps = {dep for dep, _ in _imports(MODULES[m])}
        assert not (deps & compiled) - {m}, (m, deps & compiled)
