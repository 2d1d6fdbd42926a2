"""Export the records of a store as CSV or JSON (one row per evaluation)."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from codesign.types import EvalRecord

if TYPE_CHECKING:  # the store imports this module lazily; the type alone is needed here
    from codesign.results.store import Store


def flat_row(run: str, rec: EvalRecord) -> dict[str, Any]:
    row: dict[str, Any] = {
        "run": run, "number": rec.number, "agent": rec.agent, "seed": rec.seed, "state": rec.state.value,
        "design_key": rec.design.key, "eval_seconds": round(rec.eval_seconds, 6), "cached": rec.cached,
        "orphaned": rec.orphaned, "worker": rec.worker, "error": rec.error or "",
        "violations": ";".join(f"{k}={v:g}" for k, v in rec.metrics.violations.items()),
    }
    row.update({f"param.{k}": v for k, v in rec.design.items()})
    row.update({f"metric.{k}": v for k, v in rec.metrics.values.items()})
    return row


def export_rows(store: Store) -> list[dict[str, Any]]:
    rows = []
    for run in store.runs():
        rows.extend(flat_row(run.name, r) for r in run.records())
    return rows


def to_csv(rows: list[dict[str, Any]]) -> str:
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow(r)
    return buf.getvalue()


def to_json(store: Store) -> str:
    runs = []
    for run in store.runs():
        info = run.info()
        runs.append({
            "name": run.name, "problem": info.problem, "agent": info.agent, "seed": info.seed,
            "objectives": [o.to_dict() for o in info.objectives],
            "records": [r.to_dict() for r in run.records()],
        })
    return json.dumps({"store": store.location, "runs": runs}, indent=1)
