"""Published bit allocations, reproduced through the public API (a case family of ``codesign validate``).

Every YAML file in ``references/`` is a ``codesign allocate`` config whose ``cases`` carry the
published allocation (``expect``) and a ``source`` naming the repository and commit the numbers
come from. Today: HAWQ-V3's ResNet-18 INT4/INT8 ILP allocations under model-size, BOPs and
latency budgets (``hawq_v3_resnet18.yaml``). A case passes when every layer gets the published
option.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codesign.allocation.config import run

__all__ = ["REFERENCES", "load_reference", "validation_rows"]

REFERENCES = Path(__file__).with_name("references")


def load_reference(name: str) -> dict[str, Any]:
    """The config mapping of ``references/<name>.yaml``."""
    import yaml

    return yaml.safe_load((REFERENCES / f"{name}.yaml").read_text(encoding="utf-8"))


def validation_rows(directory: Path = REFERENCES) -> list[dict[str, Any]]:
    """One row per published allocation: ``{family, case, source, status, detail, match,
    mismatches, solve_seconds}`` (``status`` is ``ok`` or ``miss``)."""
    import yaml

    rows = []
    for path in sorted(directory.glob("*.yaml")):
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        doc = run(config)
        for case in doc.get("cases", []):
            if "match" not in case:
                continue
            n = len(case["expected"])
            rows.append({
                "family": "allocation", "case": f"{doc['name']}-{case['name']}", "source": doc["source"],
                "status": "ok" if case["match"] else "miss", "match": case["match"],
                "mismatches": case["mismatches"], "solve_seconds": case["solve_seconds"],
                "detail": f"{n - len(case['mismatches'])}/{n} layers as published, "
                          f"solved in {1e3 * case['solve_seconds']:.1f} ms",
            })
    return rows
