"""``codesign validate``: the cost model against published reference cases, and other case families.

The cost model's families (Timeloop/Accelergy, SCALE-Sim, ports, ZigZag under each latency
model) come from :data:`codesign.evaluators.cost.validate.FAMILIES`; families of other areas
are listed in :data:`EXTERNAL` (``"module:function"`` returning rows ``{family, case, source,
status ("ok" | "miss"), detail}``; each family owns its cases and their sources).
``--family NAME`` (repeatable) runs only those families; ``--list-families`` names them all.
"""

from __future__ import annotations

import argparse
import importlib
import time
from typing import Any

from codesign.cli.common import print_json
from codesign.errors import ConfigError

#: Case families beyond the cost model, each ``"module:function"``.
EXTERNAL = ("codesign.allocation.reference:validation_rows",)
EXTERNAL_DESCRIPTIONS = {"allocation": "published mixed-precision allocations (HAWQ-V3 ResNet-18/50 ILPs) via codesign.allocate"}


def family_rows(names: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """The rows of every :data:`EXTERNAL` family (or of those named), by family."""
    out: dict[str, list[dict[str, Any]]] = {}
    for ref in EXTERNAL:
        module, _, attr = ref.partition(":")
        for row in getattr(importlib.import_module(module), attr)():
            if names is None or row["family"] in names:
                out.setdefault(row["family"], []).append(row)
    return out


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("validate", help="cost model vs published reference cases (Timeloop/Accelergy, ZigZag, "
                                               "SCALE-Sim) and other case families")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--family", action="append", default=None,
                   help="only this family of cases (repeatable; default: all; see --list-families)")
    p.add_argument("--list-families", action="store_true", help="list the case families and exit")
    p.set_defaults(handler=handler)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:+.3f}%"


def _status(r: dict[str, Any]) -> str:
    return r["status"].upper() if r["status"] == "miss" else r["status"]


def handler(args: argparse.Namespace) -> int:
    from codesign.evaluators.cost.validate import CAUSES, CYCLES_TOL, ENERGY_TOL, FAMILIES, run_all

    if args.list_families:
        for f in FAMILIES.values():
            print(f"{f.name:16s} {f.description}")
        for name, text in EXTERNAL_DESCRIPTIONS.items():
            print(f"{name:16s} {text}")
        return 0
    wanted = args.family
    known = set(FAMILIES) | set(EXTERNAL_DESCRIPTIONS)
    if wanted and set(wanted) - known:
        raise ConfigError(f"--family must be among {sorted(known)}, but got {sorted(set(wanted) - known)}")
    t0 = time.perf_counter()
    rows = run_all([f for f in FAMILIES if not wanted or f in wanted]) if not wanted or set(wanted) & set(FAMILIES) else []
    external = family_rows(wanted) if not wanted or set(wanted) - set(FAMILIES) else {}
    every = rows + [r for fam in external.values() for r in fam]
    count = {k: sum(r["status"] == k for r in every) for k in ("ok", "explained", "miss")}
    summary = {f: {k: sum(r["status"] == k for r in every if r["family"] == f) for k in ("ok", "explained", "miss")}
               for f in dict.fromkeys(r["family"] for r in every)}
    doc = {"goal": {"cycles_tol": CYCLES_TOL, "energy_tol": ENERGY_TOL}, "causes": CAUSES, "cases": rows,
           "families": external, "summary": summary, "passed": count["ok"], "explained": count["explained"],
           "unexplained": count["miss"], "total": len(every), "seconds": time.perf_counter() - t0}
    if args.json:
        print_json(doc)
        return 0 if count["miss"] == 0 else 1
    width = max((len(r["case"]) for r in every), default=4)
    if rows:
        print(f"{'case':{width}s} {'cycles':>10s} {'ref':>10s} {'err':>9s} {'energy_pj':>13s} {'ref':>13s} {'err':>9s}  status")
    for r in rows:
        e = "-" if r["energy_pj"] is None else f"{r['energy_pj']:.2f}"
        er = "-" if r["energy_pj_ref"] is None else f"{r['energy_pj_ref']:.2f}"
        print(f"{r['case']:{width}s} {r['cycles']:10.0f} {r['cycles_ref']:10.0f} {_pct(r['cycles_err']):>9s} "
              f"{e:>13s} {er:>13s} {_pct(r['energy_err']):>9s}  {_status(r)}")
        for what, why in r["explained"].items():
            print(f"    {what}: {why}")
    used = sorted({why.split(":")[0] for r in rows for why in r["explained"].values()})
    if used:
        print("known model differences:")
        for cause in used:
            print(f"  {cause}: {CAUSES[cause]}")
    for fam, frows in external.items():
        print(f"{fam} cases:")
        for r in frows:
            print(f"  {r['case']:{width}s} {r['detail']}  {_status(r)}")
        print(f"  source: {'; '.join(sorted({r['source'] for r in frows}))}")
    for f, c in summary.items():
        print(f"  {f}: {c['ok']}/{sum(c.values())} within goal, {c['explained']} explained, {c['miss']} unexplained")
    print(f"{count['ok']}/{len(every)} within goal (cycles {CYCLES_TOL:.0%}, energy {ENERGY_TOL:.0%}); "
          f"{count['explained']} misses explained by a known model difference; {count['miss']} unexplained")
    return 0 if count["miss"] == 0 else 1
