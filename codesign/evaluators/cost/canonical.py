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
move keeps every level's tile within its size, :func:`model.capacity_words`):

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
from codesign.evaluators.cost.model import capacity_words, tiles
from codesign.evaluators.cost.problem import LoopProblem

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
    """One candidate under construction (arrays of shape ``(1, L, D)``)."""

    def __init__(self, problem: LoopProblem, arch: Architecture) -> None:
        self.problem, self.arch = problem, arch
        nl, nd = len(arch.levels), len(problem.dims)
        self.arr = {k: np.ones((1, nl, nd)) for k in ("T", "SX", "SY")}
        self.arr["T"][0, 0] = [float(v) for v in problem.dims.values()]
        self.limit = np.array([np.inf if lv.size_words is None else float(lv.size_words) for lv in arch.levels])

    def fits(self) -> bool:
        used = capacity_words(self.problem, self.arch, tiles(self.arr))[0]
        return bool(np.all(used <= self.limit * (1 + 1e-9)))

    def move(self, key: str, li: int, j: int, f: int) -> bool:
        """Move factor ``f`` of dim ``j`` from the outermost temporal slot to ``key[li]``; undo if it overflows."""
        self.arr["T"][0, 0, j] /= f
        self.arr[key][0, li, j] *= f
        if self.fits():
            return True
        self.arr["T"][0, 0, j] *= f
        self.arr[key][0, li, j] /= f
        return False

    def spatial(self, li: int, axis_dims: tuple[list[int], list[int]]) -> None:
        for key, cap, dims in zip(("SY", "SX"), self.arch.fanout(li)[::-1], axis_dims):
            for j in dims:
                rem = int(self.arr["T"][0, 0, j])
                for f in (d for d in range(min(rem, cap), 1, -1) if rem % d == 0):
                    if self.move(key, li, j, f):
                        cap //= f
                        break

    def grow(self, li: int, dims: list[int]) -> None:
        live = [j for j in dims if self.arr["T"][0, 0, j] > 1]
        while live:
            live = [j for j in live if self.move("T", li, j, _smallest_prime(int(self.arr["T"][0, 0, j])))
                    and self.arr["T"][0, 0, j] > 1]


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
            rows.append({**{k: v[0] for k, v in b.arr.items()}, "rank": np.tile(rank, (nl, 1))})
    return {k: np.stack([r[k] for r in rows]) for k in ("T", "SX", "SY", "rank")}
