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



def test_every_compiled_module_is_in_the_cache_stamp():
    """numba marks a cached function stale only when its own file changes; the package's locator
    stamps every compiled function with all of jit.COMPILED, so each compiled module must be there."""
    from codesign.evaluators.cost import jit

    compiled = {p.name for p in PACKAGE.glob("*.py") if "@compiled" in p.read_text() and p.name != "jit.py"}
    assert compiled and compiled <= set(jit.COMPILED)
    assert jit.registered()


def test_cache_stamp_changes_with_any_compiled_source(tmp_path):
    from codesign.evaluators.cost import jit

    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text("x = 1\n")
    before = jit.source_stamp(("a.py", "b.py"), tmp_path)
    (tmp_path / "b.py").write_text("x = 2\n")
    assert jit.source_stamp(("a.py", "b.py"), tmp_path) != before
