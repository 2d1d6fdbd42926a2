"""Mappers: find a good mapping of a loop problem onto an architecture.

Candidates are built directly as mapping arrays (:func:`codesign.evaluators.cost.mapping.to_arrays`
layout) and scored thousands at a time by :func:`codesign.evaluators.cost.model.evaluate_arrays`.

- :func:`sample` — random valid candidates: per fanout axis one dim unrolled by a divisor that
  fits; each dim's remaining size split over the temporal slots by random divisors (innermost
  level first, the outermost takes the rest); a random loop order per level.
- :func:`sample_greedy` — bottom-up filling (ZigZag's LOMA allocation): random spatial
  factors, then the prime factors in a random order, each placed at the innermost level where
  it still fits, so buffers fill up and loops irrelevant to a level's operands collect there.
- :func:`heuristic` — the fast mapper: score random and bottom-up candidates, then rounds of
  local moves (move a prime factor between two temporal slots, swap two loops) around the best.
- :func:`exhaustive` — every factorization of every dim over the temporal slots (spatial
  factors enumerated too) × every loop order of the dims that vary; for small cases.
- :func:`codesign.evaluators.cost.qmapper.qlearning` — HASCO-style Q-learning.
- Objectives, scores and the choice of the result: :mod:`codesign.evaluators.cost.candidates`.
- Every mapper's candidate set includes the canonical weight-, output- and input-stationary
  mappings (:mod:`codesign.evaluators.cost.canonical`), so its result is never worse than
  they are.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from codesign.errors import ConfigError
from codesign.evaluators.cost.arch import Architecture
from codesign.evaluators.cost.candidates import (OBJECTIVES, MapperResult, prime_factors, best, canonical, concat,
                                                 divisors, objective_value, overflow, score, take, with_canonical)
from codesign.evaluators.cost.model import evaluate_arrays, level_words, spatial_terms
from codesign.evaluators.cost.problem import OPERANDS, LoopProblem
from codesign.evaluators.cost.qmapper import qlearning


def _random_divisor(rem: np.ndarray, divs: np.ndarray, rng: np.random.Generator, cap: np.ndarray | None = None,
                    greedy: np.ndarray | None = None) -> np.ndarray:
    """Per row, a random divisor of ``rem`` (≤ ``cap``); the largest one where ``greedy``."""
    ok = (np.mod(rem[:, None], divs[None, :]) == 0)
    if cap is not None:
        ok &= divs[None, :] <= cap[:, None]
    keys = np.where(ok, rng.random(ok.shape), -1.0)
    if greedy is not None:
        keys = np.where(greedy[:, None] & ok, divs[None, :], keys)
    return divs[np.argmax(keys, axis=1)]


def _spatial(problem: LoopProblem, arch: Architecture, n: int,
             rng: np.random.Generator) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Random spatial factors and the sizes left per dim ``(n, D)``: per fanout axis of a level
    (``SX, SY (n, L, D)``), or per array dim in the array-dims form (``S (n, A, D)``), up to two
    problem dims, each by a divisor that fits (the largest with probability 0.7)."""
    sizes = np.array([float(v) for v in problem.dims.values()])
    nl, nd = len(arch.levels), len(sizes)
    out = {"SX": np.ones((n, nl, nd)), "SY": np.ones((n, nl, nd))}
    slots: list[tuple[np.ndarray, int, int]] = []  # (target array, index along its axis 1, capacity)
    if arch.array_dims is not None:
        out["S"] = np.ones((n, len(arch.array_dims), nd))
        slots = [(out["S"], k, size) for k, (_, size) in enumerate(arch.array_dims)]
    else:
        slots = [(target, li, ax) for li in range(nl) for ax, target in zip(arch.fanout(li), (out["SX"], out["SY"]))]
    rem = np.tile(sizes, (n, 1))
    rows = np.arange(n)
    big = np.nonzero(sizes > 1)[0]
    for target, idx, ax in slots:
        if ax <= 1 or big.size == 0:
            continue
        cap = np.full(n, float(ax))
        for _ in range(2):  # up to two dims per axis
            d = rng.choice(big, size=n)
            f = np.ones(n)
            for j in big:
                m = d == j
                if m.any():
                    f[m] = _random_divisor(rem[m, j], divisors(int(sizes[j])), rng, cap[m], rng.random(m.sum()) < 0.7)
            target[rows, idx, d] *= f
            rem[rows, d] /= f
            cap = np.floor(cap / f)
    return out, rem


def sample(problem: LoopProblem, arch: Architecture, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``n`` random valid mapping candidates as arrays (see the module docstring)."""
    sizes = np.array([float(v) for v in problem.dims.values()])
    nl, nd = len(arch.levels), len(sizes)
    spatial, rem = _spatial(problem, arch, n, rng)
    t = np.ones((n, nl, nd))
    for j in np.nonzero(sizes > 1)[0]:
        divs = divisors(int(sizes[j]))
        for li in range(nl - 1, 0, -1):
            f = _random_divisor(rem[:, j], divs, rng)
            t[:, li, j] = f
            rem[:, j] /= f
        t[:, 0, j] = rem[:, j]
    rank = np.argsort(rng.random((n, nl, nd)), axis=2).astype(float)
    return {"T": t, **spatial, "rank": rank}


def sample_greedy(problem: LoopProblem, arch: Architecture, n: int, rng: np.random.Generator,
                  climb: float = 0.1) -> dict[str, np.ndarray]:
    """``n`` candidates by bottom-up filling (the memory allocation of ZigZag's LOMA): random
    spatial factors as in :func:`sample`, then the prime factors of what is left, in a random
    order, each go to the innermost level at or above the current one whose tile still fits
    its buffer (the current level rises when one does not fit, or at random with probability
    ``climb``). A level's loop order is the placement order (first placed = innermost), so
    each level holds as much as fits and loops irrelevant to a level's operands collect where
    they cost no refetches."""
    sizes = [int(v) for v in problem.dims.values()]
    nl, nd = len(arch.levels), len(sizes)
    spatial, rem = _spatial(problem, arch, n, rng)
    slot_d, slot_p, slot_q = [], [], []
    for j, size in enumerate(sizes):
        seen: dict[int, int] = {}
        for p in prime_factors(size):
            slot_d.append(j)
            slot_p.append(p)
            slot_q.append(seen.get(p, 0))
            seen[p] = seen.get(p, 0) + 1
    t, rank = np.ones((n, nl, nd)), np.zeros((n, nl, nd))
    if not slot_d:
        return {"T": t, **spatial, "rank": rank}
    sd, sp, sq = np.array(slot_d), np.array(slot_p, dtype=float), np.array(slot_q)
    mult = np.zeros((n, len(sd)))  # multiplicity of each slot's prime in what is left of its dim
    for j, p in {(int(a), float(b)) for a, b in zip(sd, sp)}:
        r, m = rem[:, j].copy(), np.zeros(n)
        while True:
            div = np.mod(r, p) == 0
            if not div.any():
                break
            m += div
            r = np.where(div, r / p, r)
        mult[:, (sd == j) & (sp == p)] = m[:, None]
    active = sq[None, :] < mult
    order = np.argsort(np.where(active, rng.random(active.shape), 2.0), axis=1)
    words = level_words(problem, arch)
    size = np.array([np.inf if lv.size_words is None else float(lv.size_words) for lv in arch.levels])
    rows = np.arange(n)
    cur = np.full(n, nl - 1)
    inside, _ = spatial_terms(arch, {"T": t, **spatial})  # spatial factors inside each level's tile
    ttile = np.ones((n, nd))  # temporal part of the current level's tile
    for step in range(len(sd)):
        s = order[:, step]
        pending = active[rows, s]
        j, p = sd[s], sp[s]
        lift = pending & (cur > 0) & (rng.random(n) < climb)
        while pending.any():
            ext = ttile * inside[rows, cur]
            ext[rows, j] *= p
            need = sum(problem.footprint(op, ext) * words[cur, k] for k, op in enumerate(OPERANDS))
            fits = (need <= size[cur] * (1 + 1e-9)) | (cur == 0)
            fits &= ~lift
            put = pending & fits
            r = rows[put]
            first = t[r, cur[r], j[r]] == 1
            t[r, cur[r], j[r]] *= p[r]
            rank[r[first], cur[r[first]], j[r[first]]] = -step
            ttile[r, j[r]] *= p[r]
            up = pending & ~fits
            cur = np.where(up, cur - 1, cur)
            pending, lift = up, np.zeros(n, dtype=bool)
    return {"T": t, **spatial, "rank": rank}


def _mutate(arr: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Local moves: move one prime factor of a dim between two temporal slots, or swap two loops."""
    out = {k: v.copy() for k, v in arr.items()}
    n, nl, nd = out["T"].shape
    rows = np.arange(n)
    d = rng.integers(0, nd, n)
    src, dst = rng.integers(0, nl, n), rng.integers(0, nl, n)
    ft = out["T"][rows, src, d]
    primes = np.array([min(prime_factors(int(x)) or [1]) for x in ft])
    out["T"][rows, src, d] = ft / primes
    out["T"][rows, dst, d] *= primes
    lv = rng.integers(0, nl, n)
    a, b = rng.integers(0, nd, n), rng.integers(0, nd, n)
    swap = rng.random(n) < 0.5
    ra, rb = out["rank"][rows, lv, a].copy(), out["rank"][rows, lv, b].copy()
    out["rank"][rows[swap], lv[swap], a[swap]] = rb[swap]
    out["rank"][rows[swap], lv[swap], b[swap]] = ra[swap]
    return out


def heuristic(problem: LoopProblem, arch: Architecture, objective: str = "edp", samples: int = 1500,
              rounds: int = 4, keep: int = 32, seed: int = 0, greedy: int | None = None) -> MapperResult:
    """Random and bottom-up-filled samples + local refinement (see the module docstring);
    deterministic for a seed. ``greedy`` bottom-up candidates (default ``samples // 3``)."""
    rng = np.random.default_rng(seed)
    parts = [sample(problem, arch, samples, rng)] if samples > 0 else []
    n_greedy = samples // 3 if greedy is None else greedy
    if n_greedy > 0:
        parts.append(sample_greedy(problem, arch, n_greedy, rng))
    pool = with_canonical(problem, arch, concat(parts)) if parts else canonical(problem, arch)
    evaluated = len(pool["T"])
    for _ in range(rounds):
        s = score(evaluate_arrays(problem, arch, pool), objective)
        elite = take(pool, np.argsort(s, kind="stable")[:keep])
        children = _mutate(take(elite, np.repeat(np.arange(len(elite["T"])), 8)), rng)
        pool = concat([elite, children])
        evaluated += len(children["T"])
    return best(problem, arch, pool, objective, evaluated)


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
