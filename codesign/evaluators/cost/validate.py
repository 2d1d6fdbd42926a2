"""Validation of the cost model against published reference cases (``codesign validate``).

Every YAML file in ``references/`` is one case (or a list of formula cases) with a ``source``
line: ``kind: timeloop`` files carry the architecture (levels, per-action energies from the
Accelergy ERT), the mapping and the problem of a Timeloop/Accelergy exercise, plus its
published cycles and energy; ``kind: scalesim`` files carry SCALE-Sim formula cases.
Goal: cycles within 1 %, energy within 5 %.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

REFERENCES = Path(__file__).with_name("references")
CYCLES_TOL, ENERGY_TOL = 0.01, 0.05


def _rel(ours: float, ref: float) -> float:
    return (ours - ref) / ref if ref else 0.0


def run_case(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows ``{case, source, cycles, cycles_ref, cycles_err, energy_pj, energy_pj_ref, energy_err, ok}``."""
    if data.get("kind") == "scalesim":
        from codesign.evaluators.cost.systolic import systolic_cycles

        rows = []
        for c in data["cases"]:
            ours = systolic_cycles(c["dataflow"], c["rows"], c["cols"], c["M"], c["N"], c["K"])
            err = _rel(ours, c["cycles"])
            rows.append({"case": f"scalesim-{c['dataflow']}-{c['rows']}x{c['cols']}-{c['M']}x{c['N']}x{c['K']}",
                         "source": data["source"], "cycles": ours, "cycles_ref": c["cycles"], "cycles_err": err,
                         "energy_pj": None, "energy_pj_ref": None, "energy_err": None, "ok": abs(err) <= CYCLES_TOL})
        return rows
    from codesign.evaluators.cost import arch, mapping, model, problem

    a = arch.from_dict(data["arch"])
    p = problem.from_dict(data["problem"])
    m = mapping.from_list(data["mapping"])
    mapping.check(m, p, a)
    r = model.evaluate(p, a, m)
    ref = data["reference"]
    ce, ee = _rel(r["cycles"], ref["cycles"]), _rel(r["energy_pj"], ref["energy_pj"])
    return [{"case": data["name"], "source": data["source"], "cycles": r["cycles"], "cycles_ref": ref["cycles"],
             "cycles_err": ce, "energy_pj": r["energy_pj"], "energy_pj_ref": ref["energy_pj"], "energy_err": ee,
             "ok": abs(ce) <= CYCLES_TOL and abs(ee) <= ENERGY_TOL}]


def run_all(directory: Path = REFERENCES) -> list[dict[str, Any]]:
    import yaml

    rows: list[dict[str, Any]] = []
    for f in sorted(directory.glob("*.yaml")):
        rows.extend(run_case(yaml.safe_load(f.read_text())))
    return rows
