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
move keeps every level's tile within its size, :func:`model.level_words`):

1. spatial: per level with a fanout, each axis unrolls its dims in turn by the largest divisor
   of the remaining size that fits the axis' remaining fanout and the buffers;
2. innermost level: only the stationary dims grow, so the stationary operand stays put;
3. the levels between, inner → outer, grow every dim; ``variant`` 0 grows the stationary dims
   first, 1 the others first. Growth is round-robin by one smallest prime factor at a time
   (balanced tiles), until no move fits.

``mixed=True`` adds each dataflow's spatial dims with the other two stationary operands (six
pairings more, as ZigZag's and Timeloop's mapping files choose the array's unrolling and the
temporal stationarity separately: ZigZag's tpu_like unrolls weight-stationary ``M × C`` under
output-stationary innermost loops).

Loop order at every level: dims relevant to ``s`` outer, stationary dims inner (so the operand
is not refetched across them, see :mod:`codesign.evaluators.cost.model`). If even the all-ones
tiles overflow a buffer, the candidates are returned anyway and score infeasible.
"""

from __future__ import annotations

import numpy as np

from codesign.evaluators.cost.arch import Architecture
from codesign.evaluators.cost.jit import compiled
from codesign.evaluators.cost.kernel import footprint, smallest_prime
from codesign.evaluators.cost.model import level_words, problem_arrays
from codesign.evaluators.cost.problem import LoopProblem

DATAFLOWS = {"ws": "W", "os": "O", "is": "I"}
VARIANTS = (0, 1)


def _classes(problem: LoopProblem) -> dict[str, list[int]]:
    w, i, o = (problem.relevant(op) for op in ("W", "I", "O"))
    idx = lambda mask: [int(j) for j in np.nonzero(mask)[0]]  # noqa: E731
    return {"red": idx(w & i & ~o), "wo": idx(w & o & ~i), "io": idx(i & o & ~w)}


_ROLES = {"ws": ("red", "wo"), "os": ("io", "wo"), "is": ("red", "io")}  # (spatial y, spatial x)


@compiled
def _fits(t, sx, sy, words, limit, kind, pdim, rdim, stride, lim, tile):
    nl, nd = t.shape
    for x in range(nd):
        tile[x] = 1.0
    for li in range(nl - 1, -1, -1):
        for x in range(nd):
            tile[x] = tile[x] * t[li, x] * sx[li, x] * sy[li, x]
        used = 0.0
        for op in range(3):
            if words[li, op] != 0.0:
                used += footprint(kind, pdim, rdim, stride, lim, op, tile) * words[li, op]
        if used > limit[li]:
            return False
    return True


@compiled
def _move(target, li, j, f, t, sx, sy, words, limit, kind, pdim, rdim, stride, lim, tile):
    """Move factor ``f`` of dim ``j`` from the outermost temporal slot to ``target[li]``
    (0: temporal, 1: x, 2: y); undo it if a tile overflows."""
    arr = t if target == 0 else (sx if target == 1 else sy)
    t[0, j] /= f
    arr[li, j] *= f
    if _fits(t, sx, sy, words, limit, kind, pdim, rdim, stride, lim, tile):
        return True
    t[0, j] *= f
    arr[li, j] /= f
    return False


@compiled
def _grow(li, dims, t, sx, sy, words, limit, kind, pdim, rdim, stride, lim, tile):
    """Grow level ``li`` round-robin over ``dims``, one smallest prime factor at a time, until no move fits."""
    live = np.empty(dims.shape[0], dtype=np.int64)
    m = 0
    for j in dims:
        if t[0, j] > 1:
            live[m] = j
            m += 1
    while m > 0:
        k = 0
        for q in range(m):
            j = live[q]
            if _move(0, li, j, float(smallest_prime(int(t[0, j]))), t, sx, sy, words, limit, kind, pdim, rdim, stride,
                     lim, tile) and t[0, j] > 1:
                live[k] = j
                k += 1
        m = k


@compiled
def build(fan, ydims, xdims, inner, mid, words, limit, kind, pdim, rdim, stride, lim, t, sx, sy):
    """One canonical candidate into ``t``/``sx``/``sy`` (``t[0]`` holds the whole problem): spatial
    dims per fanout axis, then the innermost level grows ``inner`` dims, the others ``mid``."""
    nl, nd = t.shape
    tile = np.empty(nd)
    for li in range(nl):
        if max(fan[li, 0], fan[li, 1]) <= 1:
            continue
        for target, cap0, dims in ((2, fan[li, 1], ydims), (1, fan[li, 0], xdims)):
            cap = int(cap0)
            for j in dims:
                rem = int(t[0, j])
                f = min(rem, cap)
                while f > 1:
                    if rem % f == 0 and _move(target, li, j, float(f), t, sx, sy, words, limit, kind, pdim, rdim,
                                              stride, lim, tile):
                        cap //= f
                        break
                    f -= 1
    if nl > 1:
        _grow(nl - 1, inner, t, sx, sy, words, limit, kind, pdim, rdim, stride, lim, tile)
    for li in range(nl - 2, 0, -1):
        _grow(li, mid, t, sx, sy, words, limit, kind, pdim, rdim, stride, lim, tile)


def canonical(problem: LoopProblem, arch: Architecture, mixed: bool = False) -> dict[str, np.ndarray]:
    """The canonical candidates (``len(DATAFLOWS)·len(VARIANTS)`` rows) as mapping arrays; with
    ``mixed`` also each dataflow's spatial dims with the other two's stationary operand (a
    weight-stationary array under output-stationary temporal loops, say: ZigZag's and
    Timeloop's mapping files separate the two choices), three times as many rows."""
    cls = {k: np.array(v, dtype=np.int64) for k, v in _classes(problem).items()}
    nl, nd = len(arch.levels), len(problem.dims)
    fan = np.array([arch.fanout(li) for li in range(nl)], dtype=np.float64).reshape(nl, 2)
    limit = np.array([np.inf if lv.size_words is None else float(lv.size_words) * (1 + 1e-9) for lv in arch.levels])
    words = level_words(problem, arch)
    pa = problem_arrays(problem)
    combos = list(DATAFLOWS.items())
    if mixed:
        combos += [(df, op) for df in DATAFLOWS for op in DATAFLOWS.values() if op != DATAFLOWS[df]]
    rows = len(combos) * len(VARIANTS)
    out = {"T": np.ones((rows, nl, nd)), "SX": np.ones((rows, nl, nd)), "SY": np.ones((rows, nl, nd)),
           "rank": np.empty((rows, nl, nd))}
    out["T"][:, 0] = [float(v) for v in problem.dims.values()]
    k = 0
    for df, op in combos:
        y_role, x_role = _ROLES[df]
        relevant = problem.relevant(op)
        stationary, others = np.nonzero(~relevant)[0], np.nonzero(relevant)[0]
        rank = np.empty(nd)
        rank[others] = np.arange(len(others))  # relevant dims outer, in dim order; the stationary ones inner
        rank[stationary] = len(others) + np.arange(len(stationary))
        for variant in VARIANTS:
            mid = np.concatenate([stationary, others] if variant == 0 else [others, stationary])
            build(fan, cls[y_role], cls[x_role], stationary, mid, words, limit, pa.kind, pa.pdim, pa.rdim, pa.stride,
                  pa.limit, out["T"][k], out["SX"][k], out["SY"][k])
            out["rank"][k] = rank
            k += 1
    if arch.array_dims is not None:  # array-dims form: no x/y fanout, so these unroll nothing
        out["S"] = np.ones((rows, len(arch.array_dims), nd))
    return out
