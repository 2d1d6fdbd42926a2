"""``codesign allocate``: exact mixed-precision bit allocation from a YAML file.

Examples::

    codesign allocate codesign/allocation/references/hawq_v3_resnet18.yaml     # HAWQ-V3's nine ILPs
    codesign allocate alloc.yaml --budget size_bytes=fraction:0.5 --json
    codesign allocate alloc.yaml --pareto bops --points 8

The YAML keys are those of :mod:`codesign.allocation.config`; workloads, measured losses
(``fisher``, ``hessian``, ``probe``) and model costs (``latency_ms``, ``energy_uj``) by name go
through :mod:`codesign.evaluators.allocation_inputs`.
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from codesign.cli.common import load_yaml, print_json
from codesign.errors import ConfigError

__all__ = ["add_parser"]


def add_parser(subparsers: Any) -> None:
    """Add the ``allocate`` subcommand."""
    p = subparsers.add_parser("allocate", help="exact mixed-precision bit allocation (multiple-choice knapsack MILP)")
    p.add_argument("config", help="YAML file: groups or workload, options, loss, costs, budgets, constraints")
    p.add_argument("--budget", action="append", default=[], metavar="TABLE=VALUE",
                   help="budget on a table: an absolute value or fraction:F (repeatable; replaces the file's)")
    p.add_argument("--pareto", metavar="TABLE", help="sweep budgets on TABLE and print the front")
    p.add_argument("--points", type=int, default=None, help="budgets of --pareto (default: the exact front)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=run)


def _budget(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    try:
        if not sep or not name:
            raise ValueError
        if value.startswith("fraction:"):
            return name, {"fraction": float(value[len("fraction:"):])}
        return name, float(value)
    except ValueError:
        raise ConfigError(f"--budget must be TABLE=VALUE or TABLE=fraction:F, but got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    from codesign.evaluators.allocation_inputs import run as solve

    config = load_yaml(args.config)
    if args.budget:
        config["budgets"] = {**dict(config.get("budgets") or {}), **dict(_budget(b) for b in args.budget)}
        config.pop("cases", None)
    if args.pareto:
        config["pareto"] = {"over": args.pareto, "points": args.points}
    elif args.points is not None:
        raise ConfigError("--points needs --pareto TABLE")
    doc = solve(config)
    if args.json:
        print_json(doc)
        return 0
    print(f"{doc['name']}: {len(doc['groups'])} groups" + (f"  ({doc['source']})" if doc.get("source") else ""))
    if "allocation" in doc:
        _print_allocation(doc["allocation"], doc["groups"])
    for case in doc.get("cases", []):
        budgets = ", ".join(f"{k} <= {v:.6g}" for k, v in case["budgets"].items())
        match = "" if "match" not in case else (" as published" if case["match"] else
                                                 f" DIFFERS from published at {case['mismatches']}" + _published(case))
        print(f"  {case['name']:<22s} {budgets:<32s} {_totals(case['totals'])}  "
              f"[{_histogram(case['choice'])}] {1e3 * case['solve_seconds']:.1f} ms{match}")
    if "compared" in doc:
        print(f"{doc['matched']}/{doc['compared']} published allocations reproduced")
    if "pareto" in doc:
        over = doc["pareto"]["over"]
        print(f"Pareto front over {over} ({len(doc['pareto']['points'])} points):")
        for pt in doc["pareto"]["points"]:
            print(f"  {over} {pt['totals'][over]:<14.6g} objective {pt['objective']:<12.6g} [{_histogram(pt['choice'])}]")
    print(f"total {doc['seconds']:.2f} s")
    return 0


def _published(case: dict[str, Any]) -> str:
    pub = case.get("expected_score")
    if pub is None:
        return " (the published allocation splits tied layers)"
    fits = "meets the budgets" if pub["feasible"] else f"violates {', '.join(pub['violated'])}"
    return f" (published: objective {pub['objective']:.6g}, {fits}; ours {case['objective']:.6g})"


def _totals(totals: dict[str, float]) -> str:
    return "  ".join(f"{k} {v:.6g}" for k, v in totals.items())


def _histogram(choice: dict[str, str]) -> str:
    return ", ".join(f"{o}×{n}" for o, n in sorted(Counter(choice.values()).items()))


def _print_allocation(alloc: dict[str, Any], groups: list[dict[str, Any]]) -> None:
    width = max(len(g["name"]) for g in groups)
    for g in groups:
        print(f"  {g['name']:<{width}s}  {alloc['choice'][g['name']]}")
    budgets = ", ".join(f"{k} <= {v:.6g}" for k, v in alloc["budgets"].items()) or "none"
    print(f"totals: {_totals(alloc['totals'])}; budgets: {budgets}; [{_histogram(alloc['choice'])}]; "
          f"solved in {1e3 * alloc['solve_seconds']:.1f} ms")
