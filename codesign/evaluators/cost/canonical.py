"""Canonical mappings: weight-, output- and input-stationary dataflows with tiles that fit.

Every mapper seeds its candidate set with these, so it never returns a mapping worse than
(or, where one fits, less feasible than) a plain stationary dataflow. Dims are classed by the
operands that index them (:meth:`LoopProblem.relevant`): *reduction* ``W∧I∧¬O`` (gemm ``K``;
conv ``C, R, S``), *weight-output* ``W∧O∧¬I`` (``N``; ``M``) and *input-output* ``I∧O∧¬W``
(``M``; ``B, P, Q``). Per dataflow (the stationary operand ``s``):

=========  ===  ======================  ===========================  ==========================
dataflow   s    spatial y (rows)        spatial x (cols)             stationary dims (``¬s``)
=========  ===  ======================  ===========================  ==========================
ws         W    reduction               weight-output                input-output
os         O    input-output            weight-output                reduction
is         I    reduction               input-output                 weight-output
=========  ===  ======================  ===========================  ==========================

Construction (all factors start at the outermost level, which is unbounded or as given; every
move keeps every level's tile within its size, :func:`model.capacity_words`, :func:`model.level_words`):

1. spatial: per level with a fanout, each axis unrolls its dims in turn by the largest divisor
   of the remaining size that fits the axis' remaining fanout and the buffers;
2. innermost level: only the stationary dims grow, so the stationary operand stays put;
3. the levels between, inner → outer, grow every dim; ``variant`` 0 grows the stationary dims
   first, 1 the others first. Growth is round-robin by one smallest prime factor at a time
   (balanced tiles), until no move fits.

Loop order at every level: dims relevant to ``s`` outer, stationary dims inner (so the operand
is not refetched across them, see :mod:`codesign.evaluators.cost.model`). If even the all-ones
tiles overflow a buffer, the candidates are returned anyway and score infeasible.
"""

from __future__ import annotations

import numpy as np

from codesign.evaluators.cost.arch import Architecture
from codesign.evaluators.cost.model import level_words
from codesign.evaluators.cost.problem import OPERANDS, LoopProblem

DATAFLOWS = {"ws": "W", "os": "O", "is": "I"}
VARIANTS = (0, 1)


def _smallest_prime(n: int) -> int:
    p = 2
    while p * p <= n:
        if n % p == 0:
            return p
        p += 1
    return n


def _classes(problem: LoopProblem) -> dict[str, list[int]]:
    w, i, o = (problem.relevant(op) for op in ("W", "I", "O"))
    idx = lambda mask: [int(j) for j in np.nonzero(mask)[0]]  # noqa: E731
    return {"red": idx(w & i & ~o), "wo": idx(w & o & ~i), "io": idx(i & o & ~w)}


_ROLES = {"ws": ("red", "wo"), "os": ("io", "wo"), "is": ("red", "io")}  # (spatial y, spatial x)


class _Builder:
    """One candidate under construction, as plain lists ``[level][dim]`` (scalar arithmetic: the
    construction makes thousands of tiny capacity checks, where numpy's per-call cost dominates)."""

    def __init__(self, problem: LoopProblem, arch: Architecture) -> None:
        self.problem, self.arch = problem, arch
        nl, nd = len(arch.levels), len(problem.dims)
        self.f = {k: [[1.0] * nd for _ in range(nl)] for k in ("T", "SX", "SY")}
        self.f["T"][0] = [float(v) for v in problem.dims.values()]
        self.limit = [np.inf if lv.size_words is None else float(lv.size_words) * (1 + 1e-9) for lv in arch.levels]
        words = level_words(problem, arch)
        self.words = [[float(words[li, k]) for k, op in enumerate(OPERANDS) if op in lv.keeps]
                      for li, lv in enumerate(arch.levels)]
        self.plans = [[problem.axis_plan[op] for op in OPERANDS if op in lv.keeps] for lv in arch.levels]

    @staticmethod
    def _footprint(plan: tuple[tuple[object, ...], ...], ext: list[float]) -> float:
        out = 1.0
        for ax in plan:
            if len(ax) == 1:
                out *= ext[ax[0]]  # type: ignore[index]
            else:
                p, r = ext[ax[0]], ext[ax[1]]  # type: ignore[index]
                out *= min(p * r, ax[2] * (p - 1) + r, ax[3])  # type: ignore[operator]
        return out

    def fits(self) -> bool:
        t, sx, sy = self.f["T"], self.f["SX"], self.f["SY"]
        tile = [1.0] * len(t[0])
        for li in range(len(t) - 1, -1, -1):
            tile = [x * a * b * c for x, a, b, c in zip(tile, t[li], sx[li], sy[li])]
            used = sum(self._footprint(plan, tile) * w for plan, w in zip(self.plans[li], self.words[li]))
            if used > self.limit[li]:
                return False
        return True

    def move(self, key: str, li: int, j: int, f: int) -> bool:
        """Move factor ``f`` of dim ``j`` from the outermost temporal slot to ``key[li]``; undo if it overflows."""
        self.f["T"][0][j] /= f
        self.f[key][li][j] *= f
        if self.fits():
            return True
        self.f["T"][0][j] *= f
        self.f[key][li][j] /= f
        return False

    def spatial(self, li: int, axis_dims: tuple[list[int], list[int]]) -> None:
        for key, cap, dims in zip(("SY", "SX"), self.arch.fanout(li)[::-1], axis_dims):
            for j in dims:
                rem = int(self.f["T"][0][j])
                for f in (d for d in range(min(rem, cap), 1, -1) if rem % d == 0):
                    if self.move(key, li, j, f):
                        cap //= f
                        break

    def grow(self, li: int, dims: list[int]) -> None:
        live = [j for j in dims if self.f["T"][0][j] > 1]
        while live:
            live = [j for j in live if self.move("T", li, j, _smallest_prime(int(self.f["T"][0][j])))
                    and self.f["T"][0][j] > 1]


def canonical(problem: LoopProblem, arch: Architecture) -> dict[str, np.ndarray]:
    """The canonical candidates (``len(DATAFLOWS)·len(VARIANTS)`` rows) as mapping arrays."""
    cls = _classes(problem)
    nl, nd = len(arch.levels), len(problem.dims)
    rows = []
    for df, op in DATAFLOWS.items():
        y_role, x_role = _ROLES[df]
        stationary = [j for j in range(nd) if not problem.relevant(op)[j]]
        others = [j for j in range(nd) if problem.relevant(op)[j]]
        rank = np.array([float(others.index(j)) if j in others else len(others) + stationary.index(j)
                         for j in range(nd)])
        for variant in VARIANTS:
            b = _Builder(problem, arch)
            for li in range(nl):
                if max(arch.fanout(li)) > 1:
                    b.spatial(li, (cls[y_role], cls[x_role]))
            if nl > 1:
                b.grow(nl - 1, stationary)
            for li in range(nl - 2, 0, -1):
                b.grow(li, stationary + others if variant == 0 else others + stationary)
            rows.append({**{k: np.array(v) for k, v in b.f.items()}, "rank": np.tile(rank, (nl, 1))})
    out = {k: np.stack([r[k] for r in rows]) for k in ("T", "SX", "SY", "rank")}
    if arch.array_dims is not None:  # array-dims form: no x/y fanout, so these unroll nothing
        out["S"] = np.ones((len(rows), len(arch.array_dims), nd))
    return out
