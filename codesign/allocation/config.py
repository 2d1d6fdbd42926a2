"""Allocation problems from a mapping (a YAML file of ``codesign allocate``), and their solution.

Keys (all optional except the groups and ``options``)::

    name, source            labels, copied to the result
    layers: [..]            one group per layer ...
    ties: [[a, b], ..]      ... tied layers share one choice
    groups: ..              or explicit groups ({name: members} or [{name, members, options}])
    workload: W             or the groups of a Workload (``granularity``: layer | expert | uniform, ``skip``)
    options: [w4a8, ..]     the options of every group (see :mod:`codesign.allocation.options`)
    loss: TABLE             per-option loss (forms of :func:`~codesign.allocation.problem.table_values`)
    costs: {name: TABLE}    cost tables; with a workload, ``size_bytes`` and ``bops`` by name
    objective: loss         a table name or {table: weight}
    budgets: {table: B}     upper bounds: a number or {fraction: f}
    constraints: [..]       side constraints (:mod:`codesign.allocation.expr`)
    cases: [..]             several solves: {name, budgets, expect} (expect: the option per layer,
                            as a list in layer order or a mapping, to compare with)
    pareto: {over, points}  a Pareto sweep over budgets on table ``over`` (points: None = exact)
    time_limit: seconds     per MILP

Table entries that are strings (e.g. ``loss: fisher``, ``costs: {latency_ms: cost-model}``) name
measurements this package cannot make; a caller passes ``resolve(what, spec, groups, config)``
returning a table for them (:mod:`codesign.evaluators.allocation_inputs` does, for the project's
probes and cost model).
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from codesign.allocation.problem import AllocationProblem, Group, make_groups
from codesign.allocation.solver import Allocation, pareto, score, solve
from codesign.allocation.workload import SHAPE_TABLES, shape_table, workload_groups
from codesign.errors import ConfigError

__all__ = ["KEYS", "allocate", "build", "run"]

KEYS = ("name", "source", "layers", "ties", "groups", "workload", "granularity", "skip", "options", "loss", "costs",
        "objective", "budgets", "constraints", "cases", "pareto", "time_limit", "facts", "notes", "accelerator",
        "probe", "cost_model")
Resolver = Callable[[str, Any, Sequence[Group], Mapping[str, Any]], Any]


def _check_keys(config: Mapping[str, Any]) -> None:
    for key in config:
        if key not in KEYS:
            close = difflib.get_close_matches(str(key), KEYS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"unknown allocation key {key!r}{hint} (known: {', '.join(KEYS)})")


def build(config: Mapping[str, Any], resolve: Resolver | None = None) -> AllocationProblem:
    """The :class:`AllocationProblem` of ``config`` (``workload`` may be a Workload object)."""
    _check_keys(config)
    options = config.get("options")
    if not options and not config.get("groups"):
        raise ConfigError("an allocation needs `options` (e.g. [w4a8, w8a8])")
    wl = config.get("workload")
    if wl is not None and not hasattr(wl, "layers"):
        raise ConfigError(f"`workload` must be a Workload here (a name needs codesign.allocate), but got {wl!r}")
    if wl is not None:
        groups = workload_groups(wl, options, config.get("granularity", "layer"), config.get("skip", ()),
                                 config.get("ties", ()))
    else:
        groups = make_groups(config.get("layers"), config.get("ties", ()), config.get("groups"), options or ())
    layer_order = [str(n) for n in config["layers"]] if config.get("layers") is not None else None

    def table(what: str, spec: Any) -> Any:
        if isinstance(spec, str):
            if wl is not None and spec in SHAPE_TABLES:
                return shape_table(wl, spec)
            if resolve is None:
                known = f" (with a workload: {', '.join(SHAPE_TABLES)})"
                raise ConfigError(f"`{what}: {spec}` names a measurement; give a table, or a workload for{known}"
                                  if wl is None else f"`{what}: {spec}` must be one of {list(SHAPE_TABLES)} here")
            return resolve(what, spec, groups, config)
        return spec

    tables: dict[str, Any] = {}
    if config.get("loss") is not None:
        tables["loss"] = table("loss", config["loss"])
    costs = config.get("costs") or {}
    if isinstance(costs, (list, tuple)):
        costs = {str(c): str(c) for c in costs}
    if not isinstance(costs, Mapping):
        raise ConfigError(f"`costs` must be a mapping name -> table or a list of names, but got {costs!r}")
    for name, spec in costs.items():
        tables[str(name)] = table(f"costs.{name}", spec)
    objective = config.get("objective", "loss")
    if objective == "loss" and "loss" not in tables:
        raise ConfigError("an allocation needs `loss` (a table, or with a workload and its probe a method name) "
                          "or another `objective`")
    return AllocationProblem(groups, tables, objective, config.get("budgets"), config.get("constraints") or (),
                             layer_order)


def allocate(config: Mapping[str, Any] | None = None, resolve: Resolver | None = None, **kwargs: Any) -> Allocation:
    """Solve one allocation given as a config mapping and/or keyword arguments (the keys of the
    module docstring; tables as arrays, mappings or callables ``f(group, option)``)."""
    merged = {**dict(config or {}), **kwargs}
    return solve(build(merged, resolve), _time_limit(merged))


def _time_limit(config: Mapping[str, Any]) -> float | None:
    t = config.get("time_limit")
    if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float)) or t <= 0):
        raise ConfigError(f"`time_limit` must be a number of seconds > 0, but got {t!r}")
    return None if t is None else float(t)


def _expected(expect: Any, problem: AllocationProblem, layer_order: Sequence[str]) -> dict[str, str]:
    if isinstance(expect, Mapping):
        return {str(k): str(v) for k, v in expect.items()}
    vals = list(expect)
    if len(vals) != len(layer_order):
        raise ConfigError(f"`expect` must list one option per layer ({len(layer_order)}), but got {len(vals)}")
    return dict(zip(layer_order, (str(v) for v in vals)))


def _score_expected(problem: AllocationProblem, want: Mapping[str, str]) -> dict[str, Any] | None:
    """:func:`score` of an expected per-layer allocation (None when tied layers disagree in it)."""
    choice = {}
    for g in problem.groups:
        picks = {want.get(m) for m in g.members}
        if len(picks) != 1:
            return None
        choice[g.name] = picks.pop()
    return score(problem, choice)


def run(config: Mapping[str, Any], resolve: Resolver | None = None) -> dict[str, Any]:
    """Solve ``config``: its budgets, each of its ``cases``, and its ``pareto`` sweep. Returns a
    JSON-able document ``{name, source, groups, allocation | cases, pareto, matched, ...}``."""
    t0 = time.perf_counter()
    problem = build(config, resolve)
    limit = _time_limit(config)
    layer_order = ([str(n) for n in config["layers"]] if config.get("layers") is not None
                   else [m for g in problem.groups for m in g.members])
    doc: dict[str, Any] = {"name": config.get("name", "allocation"), "source": config.get("source"),
                           "groups": [{"name": g.name, "members": list(g.members), "options": [o.name for o in g.options]}
                                      for g in problem.groups]}
    cases = config.get("cases")
    if cases:
        if not isinstance(cases, list):
            raise ConfigError(f"`cases` must be a list of {{name, budgets, expect}}, but got {cases!r}")
        rows = []
        for i, case in enumerate(cases):
            if not isinstance(case, Mapping) or set(case) - {"name", "budgets", "expect", "notes"}:
                raise ConfigError(f"cases[{i}] must be a mapping of name, budgets, expect, but got {case!r}")
            case_problem = problem.with_budgets(case.get("budgets") or {})
            alloc = solve(case_problem, limit)
            row = {"name": case.get("name", f"case-{i}"), **alloc.to_dict(), "per_layer": alloc.per_layer()}
            if case.get("expect") is not None:
                want = _expected(case["expect"], problem, layer_order)
                row["expected"] = want
                row["mismatches"] = sorted(m for m, o in want.items() if row["per_layer"].get(m) != o)
                row["match"] = not row["mismatches"]
                row["expected_score"] = _score_expected(case_problem, want)
            rows.append(row)
        doc["cases"] = rows
        checked = [r for r in rows if "match" in r]
        doc["matched"], doc["compared"] = sum(r["match"] for r in checked), len(checked)
    else:
        alloc = solve(problem, limit)
        doc["allocation"] = {**alloc.to_dict(), "per_layer": alloc.per_layer()}
    sweep = config.get("pareto")
    if sweep:
        if not isinstance(sweep, Mapping) or "over" not in sweep or set(sweep) - {"over", "points"}:
            raise ConfigError(f"`pareto` must be {{over: TABLE, points: N}}, but got {sweep!r}")
        front = pareto(problem, str(sweep["over"]), sweep.get("points"), time_limit=limit)
        doc["pareto"] = {"over": sweep["over"], "points": [a.to_dict() for a in front]}
    doc["seconds"] = time.perf_counter() - t0
    return doc
