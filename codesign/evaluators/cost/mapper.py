"""Mappers: find a good mapping of a loop problem onto an architecture.

Candidates are built directly as mapping arrays (:func:`codesign.evaluators.cost.mapping.to_arrays`
layout) and scored thousands at a time by :func:`codesign.evaluators.cost.model.evaluate_arrays`.

- :func:`~codesign.evaluators.cost.sampler.sample` / :func:`~codesign.evaluators.cost.sampler.sample_greedy`
  — random valid candidates and bottom-up filling (ZigZag's LOMA allocation), compiled.
- :func:`heuristic` — the fast mapper: score random and bottom-up candidates, then rounds of
  local moves around the ``keep`` best (move the smallest prime factor of a temporal loop to
  another level; with probability 1/2 swap two loops of a level); :func:`heuristic_many`
  searches several problems at once, each with its own random stream. A mapping is scored once
  per search: repeats among the bottom-up candidates and children equal to a mapping scored in
  an earlier round (:func:`row_keys`) are dropped before scoring. Scoring has two phases
  (:func:`~codesign.evaluators.cost.model.count_arrays`): every candidate is counted, and
  ZigZag's latency model runs only for those whose lower bound can still enter the elite, so
  the result is the one full scoring gives. Local moves are compiled
  (:func:`~codesign.evaluators.cost.sampler.local_moves`).
- :func:`exhaustive` — every factorization of every dim over the temporal slots (spatial
  factors enumerated too) × every loop order of the dims that vary; for small cases.
- :func:`codesign.evaluators.cost.qmapper.qlearning` — HASCO-style Q-learning.
- Objectives, scores and the choice of the result: :mod:`codesign.evaluators.cost.candidates`.
- Every mapper's candidate set includes the canonical weight-, output- and input-stationary
  mappings (:mod:`codesign.evaluators.cost.canonical`), so its result is never worse than
  they are; ``mixed_canonical`` adds each array unrolling paired with the other stationarities.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from codesign.errors import ConfigError
from codesign.evaluators.cost.arch import Architecture
from codesign.evaluators.cost.candidates import (OBJECTIVES, MapperResult, best, canonical, concat, divisors,
                                                 objective_value, overflow, pick, score, take, with_canonical)
from codesign.evaluators.cost.model import Counted, count_arrays, evaluate_arrays, problem_arrays
from codesign.evaluators.cost.problem import LoopProblem
from codesign.evaluators.cost.qmapper import qlearning
from codesign.evaluators.cost.sampler import local_moves, sample, sample_greedy


def _uniforms(rngs: Sequence[np.random.Generator], counts: Sequence[int], nl: int, nd: int) -> np.ndarray:
    """The uniforms one round of :func:`~codesign.evaluators.cost.sampler.local_moves` needs, drawn
    per problem from its own stream (so a problem's search does not depend on the others
    searched with it): ``nl·nd + 5`` per row, rows grouped by problem."""
    return np.concatenate([r.random((c, nl * nd + 5)) for r, c in zip(rngs, counts)])


def _mutate(out: dict[str, np.ndarray], u: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`~codesign.evaluators.cost.sampler.local_moves` of candidate arrays, in place."""
    local_moves(out["T"], out["rank"], u)
    return out


_HASH_MIX = np.random.default_rng(0x5EED).random(4096) + 0.5


def row_keys(arr: dict[str, np.ndarray], seg: np.ndarray) -> np.ndarray:
    """One key per candidate row and segment: equal mappings give equal keys (the loop order
    counts only for loops of factor > 1, the only ones :func:`~codesign.evaluators.cost.kernel.sequence`
    orders). The key is a random linear form of the factors, ranks and segment, summed row by
    row in one fixed order (a BLAS product rounds equal rows at different positions of a batch
    differently); two distinct mappings share one only by an exact rounding coincidence, and
    a shared key only spares scoring one candidate."""
    t = arr["T"]
    n = len(t)
    keys = seg * _HASH_MIX[0]
    at = 1
    for part in (t, np.where(t > 1, arr["rank"], 0.0), *(arr[k] for k in ("SX", "SY", "S") if k in arr)):
        flat = part.reshape(n, -1)
        keys += (flat * _HASH_MIX[at:at + flat.shape[1]]).sum(axis=1)
        at += flat.shape[1]
    return keys


def _fresh(keys: np.ndarray, seen: set[float]) -> np.ndarray:
    """Indices (ascending) of the rows whose key is not in ``seen`` and not taken by an earlier
    row; their keys join ``seen``."""
    out = []
    for i, k in enumerate(keys.tolist()):
        if k not in seen:
            seen.add(k)
            out.append(i)
    return np.array(out, dtype=np.int64)


def _best_per_segment(scores: np.ndarray, seg: np.ndarray, keep: int) -> np.ndarray:
    """Indices of the ``keep`` best rows of every segment (stable: earlier rows win ties), by segment."""
    order = np.lexsort((np.arange(len(scores)), scores, seg))
    first = np.searchsorted(seg[order], seg[order], side="left")
    return order[np.arange(len(order)) - first < keep]


def _bound(counted: Counted, objective: str) -> np.ndarray:
    """A lower bound of every row's :func:`~codesign.evaluators.cost.candidates.score` from the
    counts phase alone (the score itself where that phase is the whole evaluation)."""
    energy, cycles = counted.lower_bounds()
    value = objective_value({"energy_pj": energy, "cycles": cycles}, objective)
    return np.where(overflow({"capacity_over": counted.capacity_over()}) <= 1e-9, value, np.inf)


def _bar(scores: np.ndarray, seg: np.ndarray, segments: int, keep: int) -> np.ndarray:
    """Per segment, the score a new row must not exceed to enter the ``keep`` best: the
    ``keep``-th best score among ``scores`` (``inf`` while fewer are finite), with a relative
    margin of 1e-9 so that rounding in the bound never drops a row that could tie."""
    bar = np.full(segments, np.inf)
    order = np.lexsort((scores, seg))
    first = np.searchsorted(seg[order], np.arange(segments))
    counts = np.bincount(seg, minlength=segments)
    full = counts >= keep
    bar[full] = scores[order][first[full] + keep - 1]
    return bar * (1 + 1e-9)


def heuristic(problem: LoopProblem, arch: Architecture, objective: str = "edp", samples: int = 1500,
              rounds: int = 4, keep: int = 32, seed: int = 0, greedy: int | None = None, children: int = 8,
              mixed_canonical: bool = False) -> MapperResult:
    """Random and bottom-up-filled samples + local refinement (see the module docstring);
    deterministic for a seed. ``greedy`` bottom-up candidates (default ``samples // 3``); each
    round keeps the ``keep`` best and scores ``children`` local moves of each; ``mixed_canonical``
    seeds the mixed canonical mappings too (:func:`~codesign.evaluators.cost.canonical.canonical`)."""
    return heuristic_many([problem], arch, objective, samples, rounds, keep, seed, greedy, children,
                          mixed_canonical)[0]


def heuristic_many(problems: Sequence[LoopProblem], arch: Architecture, objective: str = "edp", samples: int = 1500,
                   rounds: int = 4, keep: int = 32, seed: int = 0, greedy: int | None = None,
                   children: int = 8, mixed_canonical: bool = False) -> list[MapperResult]:
    """:func:`heuristic` for several problems at once: the candidates of problems of one loop
    structure are scored in one call per round (each problem keeps its own random stream, so its
    result equals ``heuristic(problem, ...)``)."""
    groups: dict[Any, list[int]] = {}
    for k, p in enumerate(problems):
        groups.setdefault(problem_arrays(p).key, []).append(k)
    results: list[MapperResult | None] = [None] * len(problems)
    n_greedy = samples // 3 if greedy is None else greedy
    for members in groups.values():
        probs = [problems[k] for k in members]
        rngs = [np.random.default_rng(seed) for _ in probs]
        pools = []
        for p, rng in zip(probs, rngs):
            parts = [sample(p, arch, samples, rng)] if samples > 0 else []
            if n_greedy > 0:
                parts.append(sample_greedy(p, arch, n_greedy, rng))
            pools.append(with_canonical(p, arch, concat(parts), mixed_canonical) if parts
                         else canonical(p, arch, mixed_canonical))
        seg = np.repeat(np.arange(len(pools)), [len(pool["T"]) for pool in pools])
        pool = concat(pools)
        keys = row_keys(pool, seg)
        seen: set[float] = set()
        unique = _fresh(keys, seen)  # bottom-up filling repeats itself; each mapping is scored once
        pool, seg = take(pool, unique), seg[unique]
        evaluated = [int(c) for c in np.bincount(seg, minlength=len(pools))]
        counted = count_arrays(probs[0], arch, pool, problems=probs, rows=seg)
        bound = _bound(counted, objective)
        first = _best_per_segment(bound, seg, keep)  # the best bounds first: they set the bar the others must pass
        first_scores = np.full(len(seg), np.inf)
        first_scores[first] = score(counted.totals(first), objective)
        rest = np.setdiff1d(np.nonzero(bound <= _bar(first_scores, seg, len(probs), keep)[seg])[0], first)
        scored = np.union1d(first, rest)  # in row order: an earlier row wins a tie
        pool, seg, res = take(pool, scored), seg[scored], counted.totals(scored)
        scores = score(res, objective)
        nl, nd = pool["T"].shape[1:]
        for _ in range(rounds):  # the elite keep their scores; only their children are scored
            elite = _best_per_segment(scores, seg, keep)
            pool, res, scores, seg = take(pool, elite), take(res, elite), scores[elite], seg[elite]
            parent = np.repeat(np.arange(len(seg)), children)
            counts = np.bincount(seg[parent], minlength=len(probs))
            kids = _mutate(take(pool, parent), _uniforms(rngs, counts, nl, nd))
            kid_keys = row_keys(kids, seg[parent])
            new = _fresh(kid_keys, seen)  # a mapping scored before (kept or dropped) is not scored again
            kids, kid_seg = take(kids, new), seg[parent][new]
            for j, c in enumerate(np.bincount(kid_seg, minlength=len(probs))):
                evaluated[j] += int(c)
            counted = count_arrays(probs[0], arch, kids, problems=probs, rows=kid_seg)
            entering = np.nonzero(_bound(counted, objective) <= _bar(scores, seg, len(probs), keep)[kid_seg])[0]
            kid_res = counted.totals(entering)  # the others cannot enter the elite
            # the elite before their children (so they win ties); rows of one problem need not be together
            pool, res = concat([pool, take(kids, entering)]), concat([res, kid_res])
            scores, seg = np.concatenate([scores, score(kid_res, objective)]), np.concatenate([seg, kid_seg[entering]])
        if rounds:  # the final choice among each problem's best (all of its rows where none of those fits)
            best_rows = _best_per_segment(scores, seg, keep)
            fits = np.zeros(len(probs), dtype=bool)
            fits[seg[best_rows][np.isfinite(scores[best_rows])]] = True
            chosen = np.unique(np.concatenate([best_rows, np.nonzero(~fits[seg])[0]]))
        else:
            chosen = np.arange(len(seg))
        chosen = chosen[np.argsort(seg[chosen], kind="stable")]  # by problem, in row order
        pool, seg, res = take(pool, chosen), seg[chosen], take(res, chosen)
        bounds = np.searchsorted(seg, np.arange(len(probs) + 1))
        for j, k in enumerate(members):
            rows = np.arange(bounds[j], bounds[j + 1])
            results[k] = pick(probs[j], arch, take(pool, rows), res, bounds[j], bounds[j + 1], objective, evaluated[j])
    return results  # type: ignore[return-value]


def _splits(n: int, slots: int) -> list[tuple[int, ...]]:
    """Every ordered factorization of ``n`` into ``slots`` factors."""
    if slots == 1:
        return [(n,)]
    return [(d, *rest) for d in range(1, n + 1) if n % d == 0 for rest in _splits(n // d, slots - 1)]


def enumerate_all(problem: LoopProblem, arch: Architecture, limit: int = 200_000) -> dict[str, np.ndarray]:
    """Every mapping: factor splits of each dim over (spatial x, spatial y, temporal) slots × loop orders."""
    sizes = [int(v) for v in problem.dims.values()]
    nl, nd = len(arch.levels), len(sizes)
    slots = [(li, k) for li in range(nl) for k in range(3) if k == 0 or arch.fanout(li)[k - 1] > 1]
    per_dim = [_splits(s, len(slots)) for s in sizes]
    vary = [j for j, s in enumerate(sizes) if s > 1]
    perms = list(itertools.permutations(vary))
    total = int(np.prod([len(p) for p in per_dim])) * len(perms) ** nl
    if total > limit:
        raise ConfigError(f"exhaustive mapping space must have <= {limit} points, but has {total}")
    combos = list(itertools.product(*per_dim))
    t, sx, sy = (np.ones((len(combos), nl, nd)) for _ in range(3))
    for i, combo in enumerate(combos):
        for j, split in enumerate(combo):
            for (li, k), f in zip(slots, split):
                (t, sx, sy)[k][i, li, j] = f
    orders = list(itertools.product(range(len(perms)), repeat=nl))
    rank = np.tile(np.arange(nd, dtype=float), (len(orders), nl, 1))
    for o, choice in enumerate(orders):
        for li, p in enumerate(choice):
            for pos, j in enumerate(perms[p]):
                rank[o, li, j] = pos - nd
    arr = {"T": np.repeat(t, len(orders), 0), "SX": np.repeat(sx, len(orders), 0),
           "SY": np.repeat(sy, len(orders), 0), "rank": np.tile(rank, (len(combos), 1, 1))}
    fx = np.array([arch.fanout(li)[0] for li in range(nl)])
    fy = np.array([arch.fanout(li)[1] for li in range(nl)])
    ok = np.all(arr["SX"].prod(axis=2) <= fx, axis=1) & np.all(arr["SY"].prod(axis=2) <= fy, axis=1)
    return take(arr, np.nonzero(ok)[0])


def exhaustive(problem: LoopProblem, arch: Architecture, objective: str = "edp", limit: int = 200_000,
               chunk: int = 20_000) -> MapperResult:
    """The optimum over :func:`enumerate_all` (scored in chunks)."""
    arr = with_canonical(problem, arch, enumerate_all(problem, arch, limit))
    n = len(arr["T"])
    top: tuple[float, float, int] = (np.inf, np.inf, 0)  # (overflow, objective, index)
    for a in range(0, n, chunk):
        res = evaluate_arrays(problem, arch, take(arr, np.arange(a, min(n, a + chunk))))
        over, obj = overflow(res), objective_value(res, objective)
        over = np.where(over <= 1e-9, 0.0, over)
        i = int(np.lexsort((obj, over))[0])
        top = min(top, (float(over[i]), float(obj[i]), a + i))
    return best(problem, arch, take(arr, np.array([top[2]])), objective, n)


MAPPERS = ("heuristic", "qlearning", "exhaustive")


def find_mapping(problem: LoopProblem, arch: Architecture, mapper: str = "heuristic", objective: str = "edp",
                 seed: int = 0, **kw: Any) -> MapperResult:
    """Run the named mapper."""
    if mapper == "heuristic":
        return heuristic(problem, arch, objective, seed=seed, **kw)
    if mapper == "exhaustive":
        return exhaustive(problem, arch, objective, **kw)
    if mapper == "qlearning":
        return qlearning(problem, arch, objective, seed=seed, **kw)
    raise ConfigError(f"mapper must be one of {MAPPERS}, but got {mapper!r}")
