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
    e.add_argument("--format", required=True, choices=("csv", "json"))
    e.add_argument("-o", "--output", help="output file (default stdout)")
    e.set_defaults(handler=handle_export)


def front_document(store: Any, runs: list[str] | None = None) -> dict[str, Any]:
    """Summary of the runs of a store: per run counts and hypervolume; per problem the front."""
    from codesign.results.summary import pareto_records, run_summary, shared_reference

    selected = [store.open_run(n) for n in runs] if runs else store.runs()
    by_problem: dict[str, list[Any]] = {}
    for r in selected:
        by_problem.setdefault(r.meta.get("problem", "?"), []).append(r)
    doc: dict[str, Any] = {"store": store.location, "problems": []}
    for problem, prs in by_problem.items():
        objectives = prs[0].objectives
        recs = {r.name: r.records() for r in prs}
        ref = shared_reference(list(recs.values()), objectives)
        all_recs = [x for rs in recs.values() for x in rs]
        front = pareto_records(all_recs, objectives)
        run_of = {id(x): name for name, rs in recs.items() for x in rs}
        doc["problems"].append({
            "problem": problem,
            "objectives": [o.to_dict() for o in objectives],
            "reference_point": ref,
            "runs": [{"name": r.name, "agent": r.meta.get("agent"), "seed": r.meta.get("seed"),
                      "budget": r.meta.get("budget"), **run_summary(recs[r.name], objectives, ref),
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


def print_front(doc: dict[str, Any], con: Any, max_rows: int = 30) -> None:
    from rich.table import Table

    from codesign.cli.common import fmt

    for prob in doc["problems"]:
        objs = [o["name"] for o in prob["objectives"]]
        runs = Table(title=f"runs of {prob['problem']}", title_justify="left")
        for col in ("run", "evaluations", "complete", "infeasible", "failed", "orphaned", "pareto", "hypervolume"):
            runs.add_column(col, justify="right" if col != "run" else "left")
        for r in prob["runs"]:
            runs.add_row(r["name"], str(r["evaluations"]), str(r["complete"]), str(r["infeasible"]), str(r["failed"]),
                         str(r["orphaned"]), str(r["pareto_size"]),
                         fmt(r["hypervolume"]) if r["hypervolume"] is not None else "-")
        con.print(runs)
        for r in prob["runs"]:  # degraded agent steps, by reason (no silent fallbacks)
            for reason, count in r.get("agent_fallbacks", {}).items():
                con.print(f"agent fallback in {r['name']}: {count} × {reason}", markup=False)
        ref = prob["reference_point"]
        if ref:
            con.print("hypervolume reference point: " + ", ".join(f"{n}={fmt(v)}" for n, v in zip(objs, ref)))
        front = prob["pareto_front"]
        table = Table(title=f"Pareto front ({len(front)} designs)", title_justify="left")
        hw_cols = [c for c in ("pe_type", "array_rows", "array_cols", "glb_kb") if front and c in front[0]["design"]]
        headers = {"array_rows": "rows", "array_cols": "cols", "pe_type": "pe"}
        for col in ["#"] + objs + hw_cols + ["w bits", "a bits"]:
            table.add_column(headers.get(col, col), no_wrap=True,
                             justify="left" if col in ("pe_type", "w bits", "a bits") else "right")
        for p in front[:max_rows]:
            d = p["design"]
            w = [str(d[k]) for k in d if k.startswith("w_bits.")]
            a = [str(d[k]) for k in d if k.startswith("a_bits.")]
            table.add_row(str(p["number"]), *(fmt(p["objectives"][o]) for o in objs), *(fmt(d[c]) for c in hw_cols),
                          _bits(w), _bits(a))
        con.print(table)
        if len(front) > max_rows:
            con.print(f"... {len(front) - max_rows} more (use --json or `codesign export`)")


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

    if args.output:
        check_output_path(args.output)
    store = Store(args.store, create=False, read_only=True)
    text = to_csv(export_rows(store)) if args.format == "csv" else to_json(store) + "\n"
    if args.output:
        write_file(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def check_output_path(path: str) -> None:
    """An output file must be a new or a regular file in an existing directory: never a
    directory, a device, a FIFO or a symbolic link (writing would replace or follow it)."""
    import stat

    if os.path.islink(path):
        raise ConfigError(f"-o must be a regular file, but {path!r} is a symbolic link (give its target instead)")
    if os.path.exists(path):
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise ConfigError(f"-o must be a file, but {path!r} is a directory")
        if not stat.S_ISREG(mode):
            raise ConfigError(f"-o must be a regular file, but {path!r} is a device, FIFO or socket")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise ConfigError(f"-o must be in an existing directory, but {parent!r} does not exist")


def write_file(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a fresh temporary file in the same directory, renamed)."""
    import tempfile

    check_output_path(path)
    parent = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise ConfigError(f"-o {path!r} cannot be written: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
