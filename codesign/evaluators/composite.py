"""Problem = workload + space + evaluators + objectives (+ metric constraints).

A Problem is what agents, environments and the runner see. It validates designs against its
space, runs every evaluator, merges their metrics, checks that every objective metric is
present and finite, and turns metric constraints (``"area_mm2 <= 4"``) into named violations.

Problems are registered by name (``codesign.make_problem("digits-accel")``) or described in
YAML (:func:`problem_from_config`).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from codesign.errors import ConfigError, EvaluationError, SpaceError
from codesign.evaluators.base import Evaluator
from codesign.evaluators.params import check_params
from codesign.spaces.expr import Expr
from codesign.spaces.space import Space
from codesign.types import Design, Metrics, Objective
from codesign.workloads.layer import Workload


class Problem:
    """A co-design problem.

    Args:
        name: problem name (recorded with every run).
        space: the design space searched.
        evaluators: evaluators whose merged metrics score a design.
        objectives: objectives (metric name + direction); at least one.
        constraints: expressions over metric names that feasible designs satisfy.
        workload: the workload being co-designed (informational; evaluators hold their own).
        bounds: optional ``{objective: {"ideal", "nadir", "scale"}}`` of the fixed normalization
            behind normalized hypervolume; objectives not named derive theirs
            (:func:`codesign.evaluators.bounds.objective_bounds`).
    """

    def __init__(
        self,
        name: str,
        space: Space,
        evaluators: Sequence[Evaluator],
        objectives: Iterable[Objective | str | Mapping[str, Any]],
        constraints: Iterable[str] = (),
        workload: Workload | None = None,
        description: str = "",
        bounds: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.space = space
        self.evaluators = tuple(evaluators)
        self.objectives = tuple(Objective.parse(o) for o in objectives)
        self.constraints = tuple(Expr(c) for c in constraints)
        self.workload = workload
        self.description = description
        if not self.objectives:
            raise ConfigError(f"problem {name!r} must have at least one objective")
        from codesign.evaluators.bounds import check_declared

        self.bounds = check_declared(self.objectives, bounds) or None
        names = [o.name for o in self.objectives]
        if len(set(names)) != len(names):
            raise ConfigError(f"problem {name!r}: objective names must be unique, but got {names}")
        if not self.evaluators:
            raise ConfigError(f"problem {name!r} must have at least one evaluator")
        provided = {m for e in self.evaluators for m in e.metrics}
        missing = [n for n in names if n not in provided]
        if missing:
            raise ConfigError(
                f"problem {name!r}: objectives {missing} are not reported by its evaluators "
                f"(they report {sorted(provided)})"
            )
        for c in self.constraints:
            unknown = sorted(c.names - provided)
            if unknown:
                raise ConfigError(
                    f"problem {name!r}: constraint {c.source!r} reads {unknown}, which no evaluator reports"
                )
        # the space sets every parameter the evaluators need; unused ones -> ParameterWarning
        check_params(self.space, self.evaluators, name)

    @property
    def version(self) -> str:
        """Cache key part: every evaluator's name and version, plus a digest of what else
        changes results: the constraints (space and metric, which decide the recorded
        violations), the workload, and each evaluator's optional ``cache_key`` (its settings)."""
        import hashlib

        cons = [c.to_dict() for c in self.space.constraints] + [c.source for c in self.constraints]
        config = [getattr(e, "cache_key", "") for e in self.evaluators]
        workload = self.workload.to_dict() if self.workload is not None else None
        digest = hashlib.sha1(repr((cons, config, workload)).encode()).hexdigest()[:10]
        return ";".join(f"{e.name}@{e.version}" for e in self.evaluators) + f";config@{digest}"

    @property
    def directions(self) -> list[str]:
        return [o.direction.value for o in self.objectives]

    def evaluate(self, design: Mapping[str, Any]) -> Metrics:
        return self.evaluate_many([design])[0]

    def evaluate_many(self, designs: Sequence[Mapping[str, Any]]) -> list[Metrics]:
        """Score designs. A design outside the space's domain raises SpaceError; one that
        breaks a space constraint is scored and reported infeasible."""
        checked: list[Design] = []
        space_viol: list[list[str]] = []
        for d in designs:
            design = d if isinstance(d, Design) else Design(d)
            missing = [n for n in self.space.names if n not in design]
            if missing:
                raise SpaceError(f"design must set every parameter of {self.space.name!r}; missing {missing[:5]}")
            for p in self.space.params:
                p.index(design[p.name])
            checked.append(design)
            space_viol.append(self.space.violations(design))
        results = [Metrics() for _ in checked]
        for ev in self.evaluators:
            out = ev.evaluate_many(checked)
            if len(out) != len(checked):
                raise EvaluationError(f"evaluator {ev.name!r} returned {len(out)} results for {len(checked)} designs")
            results = [r.merge(o) for r, o in zip(results, out)]
        return [self._finish(m, v) for m, v in zip(results, space_viol)]

    def _finish(self, metrics: Metrics, space_violations: list[str]) -> Metrics:
        for o in self.objectives:
            v = metrics.values.get(o.name)
            if v is None or not math.isfinite(float(v)):
                raise EvaluationError(f"objective {o.name!r} must be a finite number, but evaluators gave {v!r}")
        for name in space_violations:
            metrics.violations[f"space:{name}"] = 1.0
        for c in self.constraints:
            slack = c.slack(metrics.values)
            if slack > 0:
                metrics.violations[c.source] = float(slack)
        return metrics

    def objective_bounds(self) -> dict[str, Any]:
        """Ideal, nadir and scale per objective: the fixed normalization of normalized
        hypervolume (declared, or derived once from the space and evaluators; see
        :mod:`codesign.evaluators.bounds`)."""
        from codesign.evaluators.bounds import objective_bounds

        return objective_bounds(self)

    def objective_values(self, metrics: Metrics) -> list[float]:
        return metrics.objective_values(self.objectives)

    def with_space(self, space: Space, name: str | None = None) -> Problem:
        """The same evaluators and objectives over another space (e.g. a user's registered one)."""
        return Problem(name or f"{self.name}[{space.name}]", space, self.evaluators, self.objectives,
                       [c.source for c in self.constraints], self.workload, self.description, self.bounds)

    def with_constraints(self, constraints: Iterable[str]) -> Problem:
        """The same problem with more metric constraints (``"accuracy_degradation <= 0.01"``)."""
        return Problem(self.name, self.space, self.evaluators, self.objectives,
                       [c.source for c in self.constraints] + list(constraints), self.workload, self.description,
                       self.bounds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "workload": self.workload.name if self.workload else None,
            "space": self.space.to_dict(),
            "evaluators": [{"name": e.name, "version": e.version} for e in self.evaluators],
            "objectives": [o.to_dict() for o in self.objectives],
            "constraints": [c.source for c in self.constraints],
        }

    def __repr__(self) -> str:
        objs = ", ".join(f"{o.name}:{o.direction.value}" for o in self.objectives)
        return f"Problem({self.name!r}, {self.space!r}, objectives=[{objs}])"


def _accepts(factory: Any, name: str) -> bool:
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return False
    return name in sig.parameters or any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())


def _named(entry: Any, what: str) -> tuple[str, dict[str, Any]]:
    """``"name"`` or ``{"name": ..., "kwargs": {...}}`` -> (name, kwargs)."""
    if isinstance(entry, str):
        return entry, {}
    if isinstance(entry, Mapping):
        unknown = sorted(set(entry) - {"name", "kwargs"})
        if "name" not in entry or unknown:
            raise ConfigError(f"{what} must be a name or a mapping with 'name' and optional 'kwargs', but got keys {sorted(entry)}")
        kwargs = entry.get("kwargs") or {}
        if not isinstance(kwargs, Mapping):
            raise ConfigError(f"{what} kwargs must be a mapping, but got {kwargs!r}")
        return str(entry["name"]), dict(kwargs)
    raise ConfigError(f"{what} must be a name or a mapping, but got {entry!r}")


def build(kind: str, entry: Any, workload: Workload | None = None) -> Any:
    """Build a registered object from a config entry, passing ``workload`` if it takes one."""
    from codesign.registry import registry

    name, kwargs = _named(entry, kind)
    reg = registry(kind)
    factory = reg.spec(name).load()
    if workload is not None and "workload" not in kwargs and _accepts(factory, "workload"):
        kwargs["workload"] = workload
    return reg.make(name, **kwargs)


PROBLEM_KEYS = {"name", "description", "workload", "space", "evaluators", "objectives", "constraints"}


def problem_from_config(config: Mapping[str, Any]) -> Problem:
    """Build a Problem from a mapping (the ``problem:`` section of a YAML config).

    Either ``{"name": <registered problem>, "kwargs": {...}}`` or a full description with
    ``workload``, ``space``, ``evaluators``, ``objectives`` and optional ``constraints``.
    """
    if not isinstance(config, Mapping):
        raise ConfigError(f"problem must be a mapping or a registered name, but got {config!r}")
    if set(config) <= {"name", "kwargs"}:
        return build("problem", config)
    unknown = sorted(set(config) - PROBLEM_KEYS)
    if unknown:
        raise ConfigError(f"problem keys must be among {sorted(PROBLEM_KEYS)}, but got unknown {unknown}")
    for key in ("space", "evaluators", "objectives"):
        if key not in config:
            raise ConfigError(f"problem must have {key!r}; given keys {sorted(config)}")
    workload = build("workload", config["workload"]) if config.get("workload") is not None else None
    space = build("space", config["space"], workload)
    if not isinstance(space, Space):
        raise ConfigError(f"space factory must return a Space, but returned {type(space).__name__}")
    evals = config["evaluators"]
    if not isinstance(evals, list) or not evals:
        raise ConfigError(f"evaluators must be a non-empty list, but got {evals!r}")
    evaluators = [build("evaluator", e, workload) for e in evals]
    objectives = config["objectives"]
    if not isinstance(objectives, list) or not objectives:
        raise ConfigError(f"objectives must be a non-empty list, but got {objectives!r}")
    constraints = config.get("constraints") or []
    if not isinstance(constraints, list):
        raise ConfigError(f"constraints must be a list of expressions, but got {constraints!r}")
    return Problem(
        str(config.get("name", "custom")), space, evaluators, objectives, constraints, workload,
        str(config.get("description", "")),
    )
