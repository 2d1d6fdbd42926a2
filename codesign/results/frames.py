"""Records as pandas DataFrames, for notebooks: one row per evaluation, and the Pareto front.

Columns are those of ``codesign export --format csv`` (:func:`codesign.results.export.flat_row`):
``run, number, agent, seed, state, design_key, eval_seconds, cached, error, violations``, then
``param.<name>`` per design parameter and ``metric.<name>`` per metric. pandas is an optional
dependency (extra ``notebook``; the dashboard's extra has it too).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from codesign.errors import require
from codesign.types import EvalRecord, Objective


def records_frame(records: Sequence[EvalRecord], run: str = "") -> Any:
    """A DataFrame with one row per record, in record order."""
    from codesign.results.export import flat_row

    pd: Any = require("pandas", "notebook", "a DataFrame of records")
    return pd.DataFrame([flat_row(run, r) for r in records])


def front_frame(records: Sequence[EvalRecord], objectives: Sequence[Objective], run: str = "") -> Any:
    """A DataFrame of the Pareto front of ``records`` (feasible, non-dominated, one row per
    design), sorted by the first objective, best first."""
    from codesign.results.summary import pareto_records

    front = pareto_records(records, objectives)
    first = objectives[0]
    front.sort(key=lambda r: first.sign * float(r.metrics.values[first.name]))
    return records_frame(front, run)
