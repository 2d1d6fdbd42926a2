"""``codesign show`` (runs, Pareto front, hypervolume) and ``codesign export`` (CSV / JSON)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from codesign.errors import ConfigError


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("show", help="runs, Pareto front and hypervolume of a store")
    p.add_argument("--store", required=True, help="store directory or database URL")
    p.add_argument("--run", action="append", default=[], help="only this run (repeatable)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=handle_show)
    e = subparsers.add_parser("export", help="export every evaluation of a store as CSV or JSON")
    e.add_argument("--store", required=True, help="store directory or database URL")
    e.add_argument("--format", required=True, choices=("csv", "json", "optuna"),
                   help="csv / json (one row per evaluation), or optuna: an optuna journal file (-o)")
    e.add_argument("-o", "--output", help="output file (default stdout)")
    e.set_defaults(handler=handle_export)


def front_document(store: Any, runs: list[str] | None = None) -> dict[str, Any]:
    """Summary of the runs of a store: per run counts and hypervolume; per problem the front."""
    from codesign.results.summary import hv_basis, pareto_records, run_summary

    selected = [store.open_run(n) for n in runs] if runs else store.runs()
    by_problem: dict[str, list[Any]] = {}
    for r in selected:
        by_problem.setdefault(r.meta.get("problem", "?"), []).append(r)
    doc: dict[str, Any] = {"store": store.location, "problems": []}
    for problem, prs in by_problem.items():
        objectives = prs[0].objectives
        recs = {r.name: r.records() for r in prs}
        basis = hv_basis(list(recs.values()), objectives, [r.meta.get("normalization") for r in prs])
        all_recs = [x for rs in recs.values() for x in rs]
        front = pareto_records(all_recs, objectives)
        run_of = {id(x): name for name, rs in recs.items() for x in rs}
        doc["problems"].append({
            "problem": problem,
            "objectives": [o.to_dict() for o in objectives],
            "reference_point": basis.reference_point,
            "hypervolume_kind": basis.kind,
            "hypervolume_basis": basis.describe(),
            "normalization": basis.normalization.to_dict() if basis.normalization else None,
            "runs": [{"name": r.name, "agent": r.meta.get("agent"), "seed": r.meta.get("seed"),
                      "budget": r.meta.get("budget"), **run_summary(recs[r.name], objectives, basis.ref, basis),
                      "agent_fallbacks": agent_fallbacks(r.meta)} for r in prs],
            "pareto_front": [{"run": run_of[id(x)], "number": x.number, "design": x.design.to_dict(),
                              "objectives": {o.name: x.metrics.values[o.name] for o in objectives},
                              "metrics": x.metrics.values}
                             for x in sorted(front, key=lambda x: x.metrics.values[objectives[0].name] * objectives[0].sign)],
        })
    return doc


def agent_fallbacks(meta: dict[str, Any]) -> dict[str, int]:
    """Fallbacks the run's agent recorded (``describe()["fallbacks"]``), summed over its workers."""
    out: dict[str, int] = {}
    for state in (meta.get("agent_state") or {}).values():
        for reason, count in ((state or {}).get("fallbacks") or {}).items():
            out[reason] = out.get(reason, 0) + int(count)
    return out


def print_front(doc: dict[str, Any], con: Any, max_rows: int = 30, max_reasons: int = 5) -> None:
    from rich.table import Table

    from codesign.cli.common import fmt

    for prob in doc["problems"]:
        objs = [o["name"] for o in prob["objectives"]]
        runs = Table(title=f"runs of {prob['problem']}", title_justify="left")
        hv_col = "HV (norm.)" if prob.get("hypervolume_kind") == "normalized" else "HV (raw)"
        for col in ("run", "evals", "complete", "infeasible", "failed", "orphaned", "front", hv_col):
            # numbers keep their width; a long run name folds onto more lines (never cut: --run takes it)
            runs.add_column(col, justify="right", no_wrap=True) if col != "run" else \
                runs.add_column(col, overflow="fold", ratio=1)
        for r in prob["runs"]:
            runs.add_row(r["name"], str(r["evaluations"]), str(r["complete"]), str(r["infeasible"]), str(r["failed"]),
                         str(r["orphaned"]), str(r["pareto_size"]),
                         fmt(r["hypervolume"]) if r["hypervolume"] is not None else "-")
        con.print(runs)
        for r in prob["runs"]:  # degraded agent steps, by reason (no silent fallbacks)
            for reason, count in r.get("agent_fallbacks", {}).items():
                con.print(f"agent fallback in {r['name']}: {count} × {reason}", markup=False)
        for r in prob["runs"]:
            reasons = r.get("failure_reasons") or []
            if reasons:
                con.print(f"failed evaluations of {r['name']}, by reason:")
                for item in reasons[:max_reasons]:
                    con.print(f"  {item['count']:>6} x {item['reason']}")
                if len(reasons) > max_reasons:
                    con.print(f"  ... {len(reasons) - max_reasons} more reasons (codesign export --format json)")
        if prob.get("hypervolume_kind"):
            con.print(prob["hypervolume_basis"])
        front = prob["pareto_front"]
        hw_cols = [c for c in ("pe_type", "array_rows", "array_cols", "glb_kb") if front and c in front[0]["design"]]
        headers = {"array_rows": "rows", "array_cols": "cols", "pe_type": "pe"}
        cols = ["#"] + objs + hw_cols + ["w bits", "a bits"]
        cells = []
        for p in front[:max_rows]:
            d = p["design"]
            w = [str(d[k]) for k in d if k.startswith("w_bits.")]
            a = [str(d[k]) for k in d if k.startswith("a_bits.")]
            cells.append([str(p["number"]), *(fmt(p["objectives"][o]) for o in objs), *(fmt(d[c]) for c in hw_cols),
                          _bits(w), _bits(a)])
        keep = _fit_columns([headers.get(c, c) for c in cols], cells, con.width,
                            drop_order=[cols.index(c) for c in ("a bits", "w bits", "glb_kb", "array_cols", "array_rows",
                                                                "#") if c in cols])
        table = Table(title=f"Pareto front ({len(front)} designs)", title_justify="left")
        for i in keep:
            table.add_column(headers.get(cols[i], cols[i]), no_wrap=True,
                             justify="left" if cols[i] in ("pe_type", "w bits", "a bits") else "right")
        for row in cells:
            table.add_row(*(row[i] for i in keep))
        if len(keep) < len(cols):
            hidden = [headers.get(cols[i], cols[i]) for i in range(len(cols)) if i not in keep]
            table.caption = f"hidden to fit {con.width} columns: {', '.join(hidden)} (see --json)"
        con.print(table)
        if len(front) > max_rows:
            con.print(f"... {len(front) - max_rows} more (use --json or `codesign export`)")


def _fit_columns(headers: list[str], rows: list[list[str]], width: int, drop_order: list[int]) -> list[int]:
    """Indices of the columns to show so that the table fits ``width`` characters, dropping
    columns in ``drop_order`` first (a rich table cell takes its text plus 3 characters)."""
    need = [max([len(h)] + [len(r[i]) for r in rows]) + 3 for i, h in enumerate(headers)]
    keep = list(range(len(headers)))
    for i in drop_order:
        if sum(need[j] for j in keep) + 1 <= width:
            break
        keep.remove(i)
    return keep


def _bits(values: list[str], limit: int = 12) -> str:
    """Per-layer bits compactly: ``5.7.5.6`` (first ``limit`` layers)."""
    text = ".".join(values[:limit])
    return text + ("..." if len(values) > limit else "")


def handle_show(args: argparse.Namespace) -> int:
    from codesign.cli.common import console, print_json
    from codesign.results.store import Store

    store = Store(args.store, create=False, read_only=True)
    doc = front_document(store, args.run or None)
    if args.json:
        print_json(doc)
    else:
        if not doc["problems"]:
            console().print(f"store {args.store} has no runs")
        print_front(doc, console())
    return 0


def handle_export(args: argparse.Namespace) -> int:
    from codesign.results.export import export_rows, to_csv, to_json
    from codesign.results.store import Store

    from codesign.cli.common import check_output_path, write_file

    if args.output:
        check_output_path(args.output)
    store = Store(args.store, create=False, read_only=True)
    if args.format == "optuna":
        if not args.output:
            raise ConfigError("--format optuna writes an optuna journal file: give it with -o FILE")
        import tempfile

        from codesign.results.optuna_export import to_journal

        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(args.output) + ".", suffix=".tmp",
                                   dir=os.path.dirname(os.path.abspath(args.output)))
        os.close(fd)
        try:
            n = to_journal(store, tmp)
            check_output_path(args.output)
            os.replace(tmp, args.output)  # a fresh journal, never appended to an existing file
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        sys.stderr.write(f"{n} records written to the optuna journal {args.output} "
                         f"(optuna-dashboard {args.output}, or codesign optuna-dashboard --store {args.store})\n")
        return 0
    text = to_csv(export_rows(store)) if args.format == "csv" else to_json(store) + "\n"
    if args.output:
        write_file(args.output, text)
    else:
        sys.stdout.write(text)
    return 0
