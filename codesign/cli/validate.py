"""``codesign validate``: the cost model against published reference cases."""

from __future__ import annotations

import argparse
import time
from typing import Any

from codesign.cli.common import print_json


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("validate", help="cost model vs published reference cases (Timeloop/Accelergy, SCALE-Sim)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=handler)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:+.3f}%"


def handler(args: argparse.Namespace) -> int:
    from codesign.evaluators.cost.validate import CYCLES_TOL, ENERGY_TOL, run_all

    t0 = time.perf_counter()
    rows = run_all()
    doc = {"goal": {"cycles_tol": CYCLES_TOL, "energy_tol": ENERGY_TOL}, "cases": rows,
           "passed": sum(r["ok"] for r in rows), "total": len(rows), "seconds": time.perf_counter() - t0}
    if args.json:
        print_json(doc)
    else:
        print(f"{'case':34s} {'cycles':>10s} {'ref':>10s} {'err':>9s} {'energy_pj':>13s} {'ref':>13s} {'err':>9s}  ok")
        for r in rows:
            e = "-" if r["energy_pj"] is None else f"{r['energy_pj']:.2f}"
            er = "-" if r["energy_pj_ref"] is None else f"{r['energy_pj_ref']:.2f}"
            print(f"{r['case']:34s} {r['cycles']:10.0f} {r['cycles_ref']:10.0f} {_pct(r['cycles_err']):>9s} "
                  f"{e:>13s} {er:>13s} {_pct(r['energy_err']):>9s}  {'yes' if r['ok'] else 'NO'}")
        print(f"{doc['passed']}/{doc['total']} within goal (cycles {CYCLES_TOL:.0%}, energy {ENERGY_TOL:.0%})")
    return 0 if doc["passed"] == doc["total"] else 1
