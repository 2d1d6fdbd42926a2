"""Mapping candidates as arrays, their scores, and the mapper result (shared by every mapper).

Candidates use the :func:`codesign.evaluators.cost.mapping.to_arrays` layout (``T``, ``SX``,
``SY``, ``rank``, and ``S`` in the array-dims form) and are scored thousands at a time by
:func:`codesign.evaluators.cost.model.evaluate_arrays`.

- Objective (:func:`objective_value`): ``score = energy_pj · cycles`` (EDP) by default, or
  ``cycles`` / ``energy`` (the other one breaks ties); :func:`score` is ``inf`` where a tile
  overflows its buffer (:func:`overflow`).
- :func:`best` prefers feasible candidates (lowest score); when none is feasible it returns the
  one of least overflow with ``feasible=False`` and the overflow per level in
  :class:`MapperResult` (an evaluator then reports the capacity violation).
- :func:`with_canonical` adds the canonical stationary mappings
  (:mod:`codesign.evaluators.cost.canonical`) to a candidate set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from codesign.errors import ConfigError
from codesign.evaluators.cost.arch import Architecture
from codesign.evaluators.cost.canonical import canonical
from codesign.evaluators.cost.mapping import LevelLoops, Mapping
from codesign.evaluators.cost.model import evaluate_arrays
from codesign.evaluators.cost.problem import LoopProblem

OBJECTIVES = ("edp", "cycles", "energy")


def divisors(n: int) -> np.ndarray:
    return np.array([d for d in range(1, n + 1) if n % d == 0], dtype=float)


def prime_factors(n: int) -> list[int]:
    out, p = [], 2
    while p * p <= n:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out + ([n] if n > 1 else [])


def objective_value(res: dict[str, Any], objective: str = "edp") -> np.ndarray:
    """The objective of every candidate, feasible or not (lower is better)."""
    if objective not in OBJECTIVES:
        raise ConfigError(f"mapper objective must be one of {OBJECTIVES}, but got {objective!r}")
    return {"edp": res["energy_pj"] * res["cycles"], "cycles": res["cycles"] + 1e-9 * res["energy_pj"],
            "energy": res["energy_pj"] + 1e-9 * res["cycles"]}[objective]


def overflow(res: dict[str, Any]) -> np.ndarray:
    """Worst relative overflow over the levels, ``max_l max(0, used_l/size_l − 1)`` (0 = fits)."""
    return np.maximum(res["capacity_over"], 0.0).max(axis=1)


def score(res: dict[str, Any], objective: str = "edp") -> np.ndarray:
    """Lower is better; ``inf`` where a tile overflows its buffer."""
    return np.where(overflow(res) <= 1e-9, objective_value(res, objective), np.inf)


def concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Stack candidate arrays; array-dims factors ``S`` default to ones where a part has none."""
    with_s = [p["S"] for p in parts if "S" in p]
    if with_s:
        parts = [p if "S" in p else {**p, "S": np.ones((len(p["T"]),) + with_s[0].shape[1:])} for p in parts]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def take(arr: dict[str, np.ndarray], idx: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[idx] for k, v in arr.items()}


@dataclass
class MapperResult:
    """Best mapping found. ``score`` is ``inf`` and ``feasible`` False when no candidate fit its
    buffers; ``capacity_over`` gives ``used/size − 1`` per level of the returned mapping."""

    mapping: Mapping
    score: float
    cycles: float
    energy_pj: float
    evaluated: int
    feasible: bool = True
    capacity_over: dict[str, float] = field(default_factory=dict)


def arrays_to_mapping(arr: dict[str, np.ndarray], i: int, problem: LoopProblem, arch: Architecture) -> Mapping:
    """Row ``i`` of candidate arrays as a :class:`Mapping`."""
    dims = problem.dim_names
    levels = []
    for li, lv in enumerate(arch.levels):
        order = np.argsort(arr["rank"][i, li], kind="stable")
        temporal = tuple((dims[j], int(arr["T"][i, li, j])) for j in order if arr["T"][i, li, j] > 1)
        spatial = tuple((dims[j], int(a[i, li, j]), ax) for ax, a in (("x", arr["SX"]), ("y", arr["SY"]))
                        for j in range(len(dims)) if a[i, li, j] > 1)
        if li == 0 and "S" in arr:  # array-dims form: the unrolling is listed with the outermost level
            spatial += tuple((dims[j], int(arr["S"][i, k, j]), name) for k, (name, _) in enumerate(arch.array_dims or ())
                             for j in range(len(dims)) if arr["S"][i, k, j] > 1)
        levels.append(LevelLoops(lv.name, temporal, spatial))
    return Mapping(tuple(levels))


def best(problem: LoopProblem, arch: Architecture, arr: dict[str, np.ndarray], objective: str,
         evaluated: int) -> MapperResult:
    """The feasible candidate of lowest score, else the one of least overflow (then score)."""
    return pick(problem, arch, arr, evaluate_arrays(problem, arch, arr), 0, len(arr["T"]), objective, evaluated)


def pick(problem: LoopProblem, arch: Architecture, arr: dict[str, np.ndarray], res: dict[str, Any], lo: int, hi: int,
         objective: str, evaluated: int) -> MapperResult:
    """:func:`best` among rows ``lo:hi`` of scored results ``res`` (``arr`` holds those rows only)."""
    over = overflow(res)[lo:hi]
    obj = objective_value(res, objective)[lo:hi]
    i = int(np.lexsort((obj, np.where(over <= 1e-9, 0.0, over)))[0])
    ok = bool(over[i] <= 1e-9)
    r = lo + i
    return MapperResult(arrays_to_mapping(arr, i, problem, arch), float(score(res, objective)[r]),
                        float(res["cycles"][r]), float(res["energy_pj"][r]), evaluated, ok,
                        {lv.name: float(res["capacity_over"][r, li]) for li, lv in enumerate(arch.levels)})


def with_canonical(problem: LoopProblem, arch: Architecture, arr: dict[str, np.ndarray],
                   mixed: bool = False) -> dict[str, np.ndarray]:
    """``arr`` plus the canonical stationary mappings (:func:`canonical.canonical`, ``mixed`` too)."""
    return concat([canonical(problem, arch, mixed), arr])
