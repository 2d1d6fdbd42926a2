"""Per-problem objective bounds: the fixed normalization behind normalized hypervolume.

A hypervolume compares across runs and stores only when every run is measured in the same
box. :func:`objective_bounds` gives each objective of a Problem an ``ideal`` (best corner), a
``nadir`` (the reference point) and a ``scale`` (``"linear"`` or ``"log"``), taken from:

1. the problem's declared ``bounds`` (``Problem(..., bounds={"accuracy": {"ideal": 1,
   "nadir": 0}})``), objective by objective; otherwise
2. a rule over a fixed sample of the problem's own designs, so the bounds depend only on the
   space and the evaluators (the problem version), never on a store's records:

   - the sample: ``space.default()`` and ``samples`` designs drawn with
     ``space.sample(default_rng([SAMPLE_SEED, i]))``, evaluated by the problem; the feasible
     ones are used (all of them if fewer than 2 are feasible);
   - ``scale = "log"`` when every sampled value is > 0 and the largest is at least
     ``LOG_SPAN`` (10) times the smallest (latency, area: positive metrics spanning decades,
     where a linear box gives the fast end no weight); else ``"linear"``;
   - on that scale, with ``b`` / ``w`` the best / worst sampled values and ``r = |w − b|``:
     ``nadir = w + NADIR_MARGIN·r`` (10% beyond the worst, the usual reference-point margin,
     so the sample's extreme points still count) and ``ideal = b − IDEAL_MARGIN·r`` (half a
     range beyond the best: room for what search finds beyond random samples; a point past
     the ideal counts as the ideal); a positive metric to minimize on a linear scale keeps
     ``ideal >= 0``.

Derived bounds are cached on disk under ``<cache>/bounds/`` (``$CODESIGN_CACHE``, default
``~/.cache/codesign``) keyed by problem name and version, so they are computed once per
problem version. The result is a plain dict (``{"problem", "version", "rule", "samples",
"objectives": [{"name", "direction", "ideal", "nadir", "scale", "source"}]}``) that
:class:`codesign.results.pareto.Normalization` reads.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from codesign.errors import ConfigError
from codesign.types import Objective

if TYPE_CHECKING:  # pragma: no cover
    from codesign.evaluators.composite import Problem

SAMPLES = 64
SAMPLE_SEED = 0xB0D5
LOG_SPAN = 10.0
NADIR_MARGIN = 0.1
IDEAL_MARGIN = 0.5
RULE = (f"default + {SAMPLES} seeded samples; log scale if positive and max/min >= {LOG_SPAN:g}; "
        f"nadir = worst + {NADIR_MARGIN:g}·range, ideal = best − {IDEAL_MARGIN:g}·range (>= 0 for positive costs)")


def check_declared(objectives: tuple[Objective, ...], bounds: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Validate declared bounds ``{objective: {"ideal", "nadir", "scale"?}}`` (raw units)."""
    names = [o.name for o in objectives]
    out: dict[str, dict[str, Any]] = {}
    if bounds is None:
        return out
    if not isinstance(bounds, Mapping):
        raise ConfigError(f"bounds must map objective names to {{'ideal', 'nadir'}}, but got {bounds!r}")
    unknown = sorted(set(bounds) - set(names))
    if unknown:
        raise ConfigError(f"bounds must name objectives among {names}, but got unknown {unknown}")
    for o in objectives:
        if o.name not in bounds:
            continue
        b = bounds[o.name]
        try:
            ideal, nadir = float(b["ideal"]), float(b["nadir"])
            scale = str(b.get("scale", "linear"))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ConfigError(f"bounds[{o.name!r}] must be {{'ideal': x, 'nadir': y, 'scale': 'linear'|'log'}}, "
                              f"but got {b!r}") from None
        if scale not in ("linear", "log") or not (math.isfinite(ideal) and math.isfinite(nadir)) \
                or not o.sign * nadir > o.sign * ideal or (scale == "log" and min(ideal, nadir) <= 0):
            raise ConfigError(f"bounds[{o.name!r}] must have finite ideal better than nadir ({o.direction.value}), "
                              f"positive on a log scale, but got {b!r}")
        out[o.name] = {"ideal": ideal, "nadir": nadir, "scale": scale}
    return out


def _sample_values(problem: Problem, samples: int) -> np.ndarray:
    """Objective values of the fixed sample (feasible rows, or all if < 2 are feasible)."""
    space = problem.space
    designs = [space.default()] + [space.sample(np.random.default_rng([SAMPLE_SEED, i])) for i in range(samples)]
    try:
        metrics = list(problem.evaluate_many(designs))
    except Exception:  # one failing design must not hide the rest: score them one by one
        metrics = []
        for d in designs:
            try:
                metrics.append(problem.evaluate(d))
            except Exception:
                continue
    rows = [(m.objective_values(problem.objectives), m.feasible) for m in metrics]
    if not rows:
        raise ConfigError(f"problem {problem.name!r}: no design of the bounds sample could be evaluated; "
                          f"declare bounds for its objectives")
    feas = [v for v, ok in rows if ok]
    return np.array(feas if len(feas) >= 2 else [v for v, _ in rows], dtype=float)


def derive(objective: Objective, values: np.ndarray) -> dict[str, Any]:
    """The rule of the module docstring for one objective's sampled values."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise ConfigError(f"objective {objective.name!r}: no finite value in the bounds sample")
    log = bool(v.min() > 0 and v.max() >= LOG_SPAN * v.min())
    t = objective.sign * (np.log10(v) if log else v)  # minimization on the chosen scale
    best, worst = float(t.min()), float(t.max())
    span = worst - best if worst > best else max(abs(worst), 1.0) * 0.1
    lo, hi = objective.sign * (best - IDEAL_MARGIN * span), objective.sign * (worst + NADIR_MARGIN * span)
    if not log and objective.sign > 0 and v.min() > 0:
        lo = max(lo, 0.0)  # a positive cost's ideal is never below 0
    ideal, nadir = (10.0 ** lo, 10.0 ** hi) if log else (lo, hi)
    return {"ideal": float(ideal), "nadir": float(nadir), "scale": "log" if log else "linear"}


def _cache_path(problem: Problem, samples: int) -> Any:
    from codesign.evaluators.accuracy.probe import default_cache_dir

    key = hashlib.sha1(f"{problem.name}|{problem.version}|{samples}|{RULE}".encode()).hexdigest()[:16]
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in problem.name)[:60]
    return default_cache_dir() / "bounds" / f"{safe}-{key}.json"


def objective_bounds(problem: Problem, samples: int = SAMPLES, cache: bool = True) -> dict[str, Any]:
    """Ideal, nadir and scale of every objective of ``problem`` (module docstring)."""
    declared = check_declared(problem.objectives, getattr(problem, "bounds", None))
    missing = [o for o in problem.objectives if o.name not in declared]
    derived: dict[str, dict[str, Any]] = {}
    if missing:
        path = _cache_path(problem, samples)
        if cache and path.is_file():
            try:
                derived = json.loads(path.read_text())["derived"]
            except (OSError, ValueError, KeyError):
                derived = {}
        if any(o.name not in derived for o in missing):
            values = _sample_values(problem, samples)
            idx = {o.name: i for i, o in enumerate(problem.objectives)}
            derived = {o.name: derive(o, values[:, idx[o.name]]) for o in missing}
            if cache:
                from codesign.evaluators.accuracy.probe import atomic_write

                text = json.dumps({"problem": problem.name, "version": problem.version, "derived": derived}, indent=1)
                try:
                    atomic_write(path, lambda f: f.write(text.encode()))
                except OSError:
                    pass  # a read-only cache directory: derive again next time
    objs = []
    for o in problem.objectives:
        b = declared.get(o.name) or derived[o.name]
        objs.append({"name": o.name, "direction": o.direction.value, **b,
                     "source": "declared" if o.name in declared else "derived"})
    return {"problem": problem.name, "version": problem.version, "rule": RULE if missing else "declared",
            "samples": samples if missing else 0, "objectives": objs}
