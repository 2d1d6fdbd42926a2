"""Q-learning mapper in the style of HASCO's software-mapping agent (Xiao et al., ISCA 2021).

An episode builds one mapping by a sequence of decisions:

1. for every dim with size > 1, for every slot (the spatial x / y slots of the levels with a
   fanout, then the temporal slots from the innermost level outward; the outermost level
   takes the rest): pick a divisor of the dim's remaining size (spatial ones capped by the
   axis' remaining fanout);
2. per level, pick a loop order among ``orders`` fixed random permutations.

State = (step, remaining size) (or (step,) for order steps); tabular Q over the divisor /
order index; ε-greedy actions; after the batch of episodes is scored (vectorized), every
visited (state, action) moves toward the episode's reward ``−log(score / reference)``
(Monte Carlo, γ = 1); infeasible mappings get ``infeasible_reward``. The best mapping seen
is returned; the canonical stationary mappings compete with it (:func:`candidates.with_canonical`).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from codesign.evaluators.cost.arch import Architecture
from codesign.evaluators.cost.candidates import MapperResult, best, divisors, score, with_canonical
from codesign.evaluators.cost.model import evaluate_arrays
from codesign.evaluators.cost.problem import LoopProblem


def qlearning(problem: LoopProblem, arch: Architecture, objective: str = "edp", episodes: int = 3000,
              batch: int = 100, alpha: float = 0.2, epsilon: tuple[float, float] = (0.9, 0.05),
              orders: int = 6, infeasible_reward: float = -5.0, seed: int = 0) -> MapperResult:
    """Train for ``episodes`` episodes (in batches of ``batch``) and return the best mapping seen."""
    rng = np.random.default_rng(seed)
    sizes = [int(v) for v in problem.dims.values()]
    nl, nd = len(arch.levels), len(sizes)
    spatial_slots = [(li, ax) for li in range(nl) for ax in (0, 1) if arch.fanout(li)[ax] > 1]
    temporal_slots = list(range(nl - 1, 0, -1))
    perms = [rng.permutation(nd) for _ in range(orders)]
    q: dict[tuple, np.ndarray] = defaultdict(lambda: np.zeros(0))
    best_arr, best_s, ref = None, np.inf, None
    n_batches = max(1, episodes // batch)
    for b in range(n_batches):
        eps = epsilon[0] + (epsilon[1] - epsilon[0]) * b / max(1, n_batches - 1)
        arr = {k: np.ones((batch, nl, nd)) for k in ("T", "SX", "SY")}
        arr["rank"] = np.tile(np.arange(nd, dtype=float), (batch, nl, 1))
        visits: list[list[tuple[tuple, int]]] = [[] for _ in range(batch)]
        for e in range(batch):
            cap = {s: arch.fanout(s[0])[s[1]] for s in spatial_slots}
            for j, size in enumerate(sizes):
                if size == 1:
                    continue
                rem = size
                divs = divisors(size).astype(int)
                for si, slot in enumerate([*spatial_slots, *temporal_slots]):
                    limit = cap[slot] if isinstance(slot, tuple) else rem
                    valid = np.nonzero((rem % divs == 0) & (divs <= limit))[0]
                    key = (j, si, rem)
                    if q[key].size == 0:
                        q[key] = np.zeros(len(divs))
                    a = int(rng.choice(valid)) if rng.random() < eps else int(valid[np.argmax(q[key][valid])])
                    visits[e].append((key, a))
                    f = int(divs[a])
                    if isinstance(slot, tuple):
                        (arr["SX"] if slot[1] == 0 else arr["SY"])[e, slot[0], j] = f
                        cap[slot] //= f
                    else:
                        arr["T"][e, slot, j] = f
                    rem //= f
                arr["T"][e, 0, j] = rem
            for li in range(nl):
                key = ("order", li)
                if q[key].size == 0:
                    q[key] = np.zeros(orders)
                a = int(rng.integers(orders)) if rng.random() < eps else int(np.argmax(q[key]))
                visits[e].append((key, a))
                arr["rank"][e, li, perms[a]] = np.arange(nd)
        s = score(evaluate_arrays(problem, arch, arr), objective)
        finite = s[np.isfinite(s)]
        if ref is None and finite.size:
            ref = float(np.median(finite))
        if s.min() < best_s:
            best_s = float(s.min())
            best_arr = {k: v[[int(np.argmin(s))]] for k, v in arr.items()}
        for e in range(batch):
            r = infeasible_reward if not np.isfinite(s[e]) or ref is None else -float(np.log(s[e] / ref))
            for key, a in visits[e]:
                q[key][a] += alpha * (r - q[key][a])
    if best_arr is None:  # nothing feasible: the last batch competes with the canonical mappings
        best_arr = arr
    return best(problem, arch, with_canonical(problem, arch, best_arr), objective, n_batches * batch)
