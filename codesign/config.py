"""Problem specs: a JSON-able description from which any process can rebuild a Problem.

A spec is ``{"problem": NAME | {"name", "kwargs"} | full problem mapping, "space": None |
NAME | {"name", "kwargs"}, "plugins": [FILE.py, ...]}``. The CLI builds its problem from one,
and process / Ray workers rebuild the same problem from the same spec (evaluators may hold
state that does not pickle).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from codesign.errors import ConfigError


def problem_spec(problem: Any = "digits-accel", space: Any = None, plugins: list[str] | tuple[str, ...] = (),
                 constraints: list[str] | tuple[str, ...] = (), max_accuracy_drop: float | None = None) -> dict[str, Any]:
    """A spec; ``constraints`` (metric expressions) and ``max_accuracy_drop`` add metric
    constraints to the problem (see :func:`metric_constraints`)."""
    spec: dict[str, Any] = {"problem": problem, "space": space, "plugins": list(plugins)}
    if constraints:
        spec["constraints"] = list(constraints)
    if max_accuracy_drop is not None:
        spec["max_accuracy_drop"] = max_accuracy_drop
    return spec


def metric_constraints(problem: Any, constraints: Any = (), max_accuracy_drop: Any = None) -> list[str]:
    """Metric constraint expressions for ``problem``.

    ``constraints``: expressions over metric names (``"accuracy >= 0.85"``, ``"area_mm2 <= 2"``).
    ``max_accuracy_drop``: at most this much worse than full precision on the problem's probe
    metric, i.e. ``<metric>_degradation <= X`` (accuracy: absolute fraction, bits/byte: bits,
    perplexity: points), for the one objective whose evaluator reports its degradation.
    """
    if isinstance(constraints, str) or not isinstance(constraints, (list, tuple)) or not all(
            isinstance(c, str) for c in constraints):
        raise ConfigError(f"constraints must be a list of expressions over metric names, but got {constraints!r}")
    out = list(constraints)
    if max_accuracy_drop is not None:
        if isinstance(max_accuracy_drop, bool) or not isinstance(max_accuracy_drop, (int, float)) or not (
                max_accuracy_drop >= 0):
            raise ConfigError(f"--max-accuracy-drop must be a number >= 0, but got {max_accuracy_drop!r}")
        reported = {m for e in problem.evaluators for m in e.metrics}
        drops = [f"{o.name}{suffix}" for o in problem.objectives for suffix in ("_degradation", "_drop")
                 if f"{o.name}{suffix}" in reported]
        if len(drops) != 1:
            raise ConfigError(f"--max-accuracy-drop needs a problem with one accuracy probe objective; "
                              f"{problem.name!r} reports {drops or 'no'} degradation metric(s)")
        out.append(f"{drops[0]} <= {float(max_accuracy_drop)!r}")
    return out


def build_problem(spec: Mapping[str, Any], load_plugins: bool = True) -> Any:
    """Build the Problem a spec describes (loading its plugins first if asked)."""
    from codesign.evaluators.composite import build, problem_from_config
    from codesign.registry import REGISTRIES, load_plugin
    from codesign.spaces.space import Space

    if load_plugins:
        for plugin in spec.get("plugins") or []:
            load_plugin(plugin)
    entry = spec.get("problem", "digits-accel")
    if isinstance(entry, str):
        problem = REGISTRIES["problem"].make(entry)
    elif isinstance(entry, Mapping) and "name" in entry and set(entry) <= {"name", "kwargs"}:
        kwargs = entry.get("kwargs") or {}
        if not isinstance(kwargs, Mapping):
            raise ConfigError(f"problem kwargs must be a mapping, but got {kwargs!r}")
        problem = REGISTRIES["problem"].make(str(entry["name"]), **dict(kwargs))
    elif isinstance(entry, Mapping):
        problem = problem_from_config(entry)
    else:
        raise ConfigError(f"problem must be a name or a mapping, but got {entry!r}")
    extra = metric_constraints(problem, spec.get("constraints") or [], spec.get("max_accuracy_drop"))
    if extra:
        problem = problem.with_constraints(extra)
    if spec.get("space"):
        try:
            space = build("space", spec["space"], problem.workload)
        except TypeError as exc:  # e.g. a workload-based space for a problem without a workload
            wl = problem.workload.name if problem.workload is not None else "none"
            raise ConfigError(f"space {spec['space']!r} cannot be built for problem {problem.name!r} "
                              f"(its workload: {wl}): {exc}") from None
        if not isinstance(space, Space):
            raise ConfigError(f"space {spec['space']!r} must build a Space, but built {type(space).__name__}")
        problem = problem.with_space(space)
    return problem
