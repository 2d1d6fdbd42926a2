"""``codesign validate``: the cost model against published reference cases."""

from __future__ import annotations

import argparse
import time
from typing import Any

from codesign.cli.common import print_json

#: Case families beyond the cost model: ``"module:function"`` returning rows ``{family, case, source,
#: status ("ok" | "miss"), detail}``; each family owns its cases and their sources.
FAMILIES = ("codesign.allocation.reference:validation_rows",)


def family_rows() -> dict[str, list[dict[str, Any]]]:
    """The rows of every entry of :data:`FAMILIES`, by family."""
    import importlib

    out: dict[str, list[dict[str, Any]]] = {}
    for ref in FAMILIES:
        module, _, attr = ref.partition(":")
        for row in getattr(importlib.import_module(module), attr)():
            out.setdefault(row["family"], []).append(row)
    return out


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("validate", help="cost model vs published reference cases (Timeloop/Accelergy, ZigZag, SCALE-Sim)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=handler)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:+.3f}%"


def handler(args: argparse.Namespace) -> int:
    from codesign.evaluators.cost.validate import CAUSES, CYCLES_TOL, ENERGY_TOL, run_all

    t0 = time.perf_counter()
    rows = run_all()
    families = family_rows()
    every = rows + [r for fam in families.values() for r in fam]
    count = {k: sum(r["status"] == k for r in every) for k in ("ok", "explained", "miss")}
    doc = {"goal": {"cycles_tol": CYCLES_TOL, "energy_tol": ENERGY_TOL}, "causes": CAUSES, "cases": rows,
           "families": families, "passed": count["ok"], "explained": count["explained"], "unexplained": count["miss"],
           "total": len(every), "seconds": time.perf_counter() - t0}
    if args.json:
        print_json(doc)
    else:
        width = max(len(r["case"]) for r in rows)
        print(f"{'case':{width}s} {'cycles':>10s} {'ref':>10s} {'err':>9s} {'energy_pj':>13s} {'ref':>13s} {'err':>9s}  status")
        for r in rows:
            e = "-" if r["energy_pj"] is None else f"{r['energy_pj']:.2f}"
            er = "-" if r["energy_pj_ref"] is None else f"{r['energy_pj_ref']:.2f}"
            print(f"{r['case']:{width}s} {r['cycles']:10.0f} {r['cycles_ref']:10.0f} {_pct(r['cycles_err']):>9s} "
                  f"{e:>13s} {er:>13s} {_pct(r['energy_err']):>9s}  {r['status'].upper() if r['status'] == 'miss' else r['status']}")
            for what, why in r["explained"].items():
                print(f"    {what}: {why}")
        used = sorted({why.split(":")[0] for r in rows for why in r["explained"].values()})
        if used:
            print("known model differences:")
            for cause in used:
                print(f"  {cause}: {CAUSES[cause]}")
        for fam, frows in families.items():
            print(f"{fam} cases:")
            for r in frows:
                print(f"  {r['case']:{width}s} {r['detail']}  {r['status'].upper() if r['status'] == 'miss' else r['status']}")
            print(f"  source: {'; '.join(sorted({r['source'] for r in frows}))}")
        print(f"{count['ok']}/{len(every)} within goal (cycles {CYCLES_TOL:.0%}, energy {ENERGY_TOL:.0%}); "
              f"{count['explained']} misses explained by a known model difference; {count['miss']} unexplained")
    return 0 if count["miss"] == 0 else 1
