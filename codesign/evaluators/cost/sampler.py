"""Random mapping candidates, compiled: random splits and bottom-up filling (ZigZag's LOMA allocation).

Both samplers build candidates directly as mapping arrays (the
:func:`codesign.evaluators.cost.mapping.to_arrays` layout) one row at a time in numba-compiled
loops, seeded from the caller's NumPy generator (deterministic for a seed):

- :func:`sample` — per fanout axis (x/y of a level, or an array dim) up to two problem dims
  unrolled by a divisor of what is left that fits the axis (the largest with probability 0.7);
  each dim's remaining size split over the temporal slots by random divisors (innermost level
  first, the outermost takes the rest); a random loop order per level.
- :func:`sample_greedy` — the same random spatial factors, then the prime factors of what is
  left, in a random order, each placed at the innermost level at or above the current one whose
  tile still fits its buffer (the current level rises when one does not fit, or at random with
  probability ``climb``). A level's loop order is the placement order (first placed =
  innermost), so each level holds as much as fits and loops irrelevant to a level's operands
  collect where they cost no refetches.

:func:`local_moves` mutates candidates in place for the heuristic mapper's refinement rounds
(:mod:`codesign.evaluators.cost.mapper`), from uniforms the caller draws.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from codesign.evaluators.cost.jit import compiled
from codesign.evaluators.cost.kernel import footprint, smallest_prime, spatial
from codesign.evaluators.cost.model import arch_arrays, level_words, problem_arrays


@compiled(inline="always")
def _divisor(rem, cap, largest):
    """A divisor of ``rem`` that is at most ``cap``: the largest one, or one at random."""
    top = 1.0
    count = 0
    r = int(rem)
    c = int(min(cap, rem))
    for d in range(1, c + 1):
        if r % d == 0:
            top = float(d)
            count += 1
    if largest or count <= 1:
        return top
    pick = np.random.randint(0, count)
    for d in range(1, c + 1):
        if r % d == 0:
            if pick == 0:
                return float(d)
            pick -= 1
    return top


@compiled
def _spatial_row(sizes, slot_kind, slot_index, slot_cap, sx, sy, s, rem):
    """Random spatial factors of one row into ``sx/sy`` (x/y slots: kind 0/1 at a level) or ``s``
    (array-dim slots: kind 2), and what is left of every dim into ``rem``."""
    nd = sizes.shape[0]
    big = np.empty(nd, dtype=np.int64)
    nb = 0
    for x in range(nd):
        rem[x] = sizes[x]
        if sizes[x] > 1:
            big[nb] = x
            nb += 1
    for k in range(slot_kind.shape[0]):
        cap = slot_cap[k]
        if cap <= 1 or nb == 0:
            continue
        for _ in range(2):  # up to two dims per axis
            d = big[np.random.randint(0, nb)]
            f = _divisor(rem[d], cap, np.random.random() < 0.7)
            if slot_kind[k] == 0:
                sx[slot_index[k], d] *= f
            elif slot_kind[k] == 1:
                sy[slot_index[k], d] *= f
            else:
                s[slot_index[k], d] *= f
            rem[d] /= f
            cap = np.floor(cap / f)


@compiled
def random_rows(seed, sizes, slot_kind, slot_index, slot_cap, t, sx, sy, s, rank):
    """:func:`sample`'s candidates into the given arrays (``t`` and ``rank`` all ones / zeros)."""
    np.random.seed(seed)
    n, nl, nd = t.shape
    rem = np.empty(nd)
    keys = np.empty(nd)
    for i in range(n):
        _spatial_row(sizes, slot_kind, slot_index, slot_cap, sx[i], sy[i], s[i], rem)
        for x in range(nd):
            if sizes[x] <= 1:
                continue
            for li in range(nl - 1, 0, -1):
                f = _divisor(rem[x], rem[x], False)
                t[i, li, x] = f
                rem[x] /= f
            t[i, 0, x] = rem[x]
        for li in range(nl):
            for x in range(nd):
                keys[x] = np.random.random()
            order = np.argsort(keys)
            for x in range(nd):
                rank[i, li, order[x]] = x


@compiled
def greedy_rows(seed, sizes, slot_kind, slot_index, slot_cap, served, words, size, kind, pdim, rdim, stride, limit,
                climb, t, sx, sy, s, rank):
    """:func:`sample_greedy`'s candidates into the given arrays (``t`` ones, ``rank`` zeros)."""
    np.random.seed(seed)
    n, nl, nd = t.shape
    rem = np.empty(nd)
    inside = np.empty((nl + 1, nd))
    used = np.empty(nl + 1)
    ttile = np.empty(nd)
    ext = np.empty(nd)
    pd = np.empty(64, dtype=np.int64)
    pp = np.empty(64)
    keys = np.empty(64)
    for i in range(n):
        _spatial_row(sizes, slot_kind, slot_index, slot_cap, sx[i], sy[i], s[i], rem)
        spatial(sx[i], sy[i], s[i], served, inside, used)
        m = 0
        for x in range(nd):  # the prime factors left of every dim
            r = int(rem[x])
            p = 2
            while p * p <= r:
                while r % p == 0:
                    pd[m], pp[m] = x, p
                    m += 1
                    r //= p
                p += 1
            if r > 1:
                pd[m], pp[m] = x, r
                m += 1
        for k in range(m):
            keys[k] = np.random.random()
        order = np.argsort(keys[:m])
        cur = nl - 1
        for x in range(nd):
            ttile[x] = 1.0
        for step in range(m):
            x, p = pd[order[step]], pp[order[step]]
            lift = cur > 0 and np.random.random() < climb
            while True:
                for y in range(nd):
                    ext[y] = ttile[y] * inside[cur, y]
                ext[x] *= p
                need = 0.0
                for op in range(3):
                    if words[cur, op] != 0.0:
                        need += footprint(kind, pdim, rdim, stride, limit, op, ext) * words[cur, op]
                fits = (need <= size[cur] * (1 + 1e-9) or cur == 0) and not lift
                lift = False
                if fits:
                    if t[i, cur, x] == 1.0:
                        rank[i, cur, x] = -step
                    t[i, cur, x] *= p
                    ttile[x] *= p
                    break
                cur -= 1


@compiled
def local_moves(t, rank, u):
    """Local moves of every row, in place: move the smallest prime factor of a temporal loop of
    factor > 1 to another level, and with probability 1/2 swap two loops of a level. Row ``i``
    takes its choices from ``u[i]`` (``L·D + 5`` uniforms): the loop is the one of factor > 1 with
    the largest of the first ``L·D`` (the first loop where none has a factor > 1), then the level
    shift, the level whose loops swap, the two loops, and whether they swap."""
    n, nl, nd = t.shape
    w = nl * nd
    m = max(nl, 2) - 1
    for i in range(n):
        best = -2.0
        pick = 0
        for q in range(w):
            v = u[i, q] if t[i, q // nd, q % nd] > 1 else -1.0
            if v > best:
                best = v
                pick = q
        src, d = pick // nd, pick % nd
        dst = (src + 1 + min(int(u[i, w] * m), m - 1)) % nl if nl > 1 else src
        ft = t[i, src, d]
        p = float(smallest_prime(int(ft)))
        t[i, src, d] = ft / p
        t[i, dst, d] *= p
        if u[i, w + 4] < 0.5:
            lv, a, b = int(u[i, w + 1] * nl), int(u[i, w + 2] * nd), int(u[i, w + 3] * nd)
            ra = rank[i, lv, a]
            rank[i, lv, a] = rank[i, lv, b]
            rank[i, lv, b] = ra


def _slots(arch: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fanout slots a spatial loop may use: (kind, index, capacity) per slot."""
    if arch.array_dims is not None:
        return (np.full(len(arch.array_dims), 2, dtype=np.int64), np.arange(len(arch.array_dims), dtype=np.int64),
                np.array([float(v) for _, v in arch.array_dims]))
    kinds, index, cap = [], [], []
    for li in range(len(arch.levels)):
        for k, f in enumerate(arch.fanout(li)):
            kinds.append(k)
            index.append(li)
            cap.append(float(f))
    return np.array(kinds, dtype=np.int64), np.array(index, dtype=np.int64), np.array(cap)


def _arrays(problem: Any, arch: Any, n: int) -> dict[str, np.ndarray]:
    nl, nd = len(arch.levels), len(problem.dims)
    out = {"T": np.ones((n, nl, nd)), "SX": np.ones((n, nl, nd)), "SY": np.ones((n, nl, nd)),
           "rank": np.zeros((n, nl, nd))}
    out["S"] = np.ones((n, len(arch.array_dims or ()), nd))
    return out


def _finish(out: dict[str, np.ndarray], arch: Any) -> dict[str, np.ndarray]:
    if arch.array_dims is None:
        out.pop("S")
    return out


def sample(problem: Any, arch: Any, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``n`` random valid mapping candidates (see the module docstring)."""
    out = _arrays(problem, arch, n)
    sizes = np.array([float(v) for v in problem.dims.values()])
    random_rows(int(rng.integers(2 ** 31)), sizes, *_slots(arch), out["T"], out["SX"], out["SY"], out["S"], out["rank"])
    return _finish(out, arch)


def sample_greedy(problem: Any, arch: Any, n: int, rng: np.random.Generator, climb: float = 0.1) -> dict[str, np.ndarray]:
    """``n`` candidates by bottom-up filling (see the module docstring)."""
    out = _arrays(problem, arch, n)
    sizes = np.array([float(v) for v in problem.dims.values()])
    pa, aa = problem_arrays(problem), arch_arrays(arch)
    size = np.array([np.inf if lv.size_words is None else float(lv.size_words) for lv in arch.levels])
    greedy_rows(int(rng.integers(2 ** 31)), sizes, *_slots(arch), aa.served, level_words(problem, arch), size, pa.kind,
                pa.pdim, pa.rdim, pa.stride, pa.limit, float(climb), out["T"], out["SX"], out["SY"], out["S"], out["rank"])
    return _finish(out, arch)
