"""Multi-fidelity accuracy: a small evaluation set screens, the full set measures front candidates.

:class:`MultiFidelity` scores a design with the cost model and a **screening** probe (the same
model and quantizer on the first ``screen`` items of the evaluation split, e.g. 1,000 of 10,000
Fashion-MNIST images) and decides whether the **full** probe must measure it:

1. if the full probe already knows this bit configuration (memory or disk), its value is used
   (free; accuracy depends on the bits only);
2. otherwise the design is re-measured in full when it **could enter the front**: its optimistic
   screened value ``s ± z·stderr_s`` (towards better; ``z`` = 2 by default) together with its
   exact cost objectives is not dominated by any full-fidelity point seen so far (this process's
   archive; the first designs always are);
3. otherwise the screened value stands, labelled as such.

Every result says which fidelity produced it (DESIGN.md "Fidelity is part of a record"):
``fidelity`` = 1.0 for a full measurement, ``screen / full`` evaluation items otherwise, plus
``<metric>_screen`` and a ``breakdown["fidelity"]`` entry; the degradation is taken against the
float model at the same fidelity. :mod:`codesign.results.summary` builds fronts (and their
hypervolume) from full-fidelity records only. Promotion depends on what was seen before, so a
design's fidelity (not its full-fidelity value) depends on the search history.

The screening probe's rank agreement with the full probe is measured per model by
``experiments/flagship_fidelity.py`` over designs that span the metric's range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from codesign.evaluators.base import BaseEvaluator
from codesign.types import Design, Metrics, Objective

__all__ = ["MultiFidelity"]


class MultiFidelity(BaseEvaluator):
    """Cost model + screening probe, promoted to the full probe for front candidates.

    Args:
        cost: the cost evaluator (its metrics pass through).
        screen: the probe at the screening evaluation size.
        full: the same probe at the full evaluation size.
        objectives: the problem's objectives (the archive's dominance test uses them).
        z: optimism of the promotion rule, in screening standard errors.
    """

    opposes_bits = "real probe (multi-fidelity)"

    def __init__(self, cost: Any, screen: Any, full: Any, objectives: Sequence[Objective], z: float = 2.0) -> None:
        self.cost, self.screen, self.full, self.z = cost, screen, full, float(z)
        self.objectives = tuple(objectives)
        self.metric = full.primary
        self.name = f"{full.name}+{cost.name}"
        self.version = f"{full.version};screen={screen.eval_size};z={self.z:g};{cost.name}@{cost.version}"
        self.cache_key = getattr(cost, "cache_key", "")
        self.metrics = tuple(cost.metrics) + tuple(full.metrics) + ("fidelity", f"{self.metric}_screen")
        self._archive: list[np.ndarray] = []  # full-fidelity objective vectors (minimization form)
        self.full_probes = 0  # full measurements this evaluator caused (not answered by a cache)

    def _signs(self) -> np.ndarray:
        return np.array([o.sign for o in self.objectives])

    def _could_enter(self, vec: np.ndarray) -> bool:
        """Not dominated (in minimization form) by any archived full-fidelity point."""
        if not self._archive:
            return True
        arc = np.array(self._archive)
        dominated = np.all(arc <= vec, axis=1) & np.any(arc < vec, axis=1)
        return not bool(dominated.any())

    def _vector(self, values: Mapping[str, float]) -> np.ndarray:
        return self._signs() * np.array([float(values[o.name]) for o in self.objectives])

    def evaluate(self, design: Design) -> Metrics:
        return self.evaluate_many([design])[0]

    def evaluate_many(self, designs: Sequence[Design]) -> list[Metrics]:
        costs = self.cost.evaluate_many(designs)
        return [self._one(d, c) for d, c in zip(designs, costs)]

    def _one(self, design: Design, cost: Metrics) -> Metrics:
        config = self.full.bit_config(design)
        full_hit = self.full.cached_result(config)
        scr = self.screen.evaluate(design)
        s = scr[self.metric]
        sign = 1.0 if self.full.higher_is_better else -1.0
        promoted = False
        if full_hit is None:
            optimistic = dict(cost.values, **{self.metric: s + sign * self.z * float(scr.breakdown["stderr"])})
            promoted = self._could_enter(self._vector(optimistic))
        if full_hit is not None or promoted:
            acc = self.full.evaluate(design)
            self.full_probes += int(not acc.breakdown["cached"])
            fidelity = 1.0
        else:
            acc = scr
            fidelity = float(scr.breakdown["n_eval"]) / float(self.full.float_result["n"])
        values = dict(cost.values)
        values.update(acc.values)
        values.update({"fidelity": fidelity, f"{self.metric}_screen": s})
        if fidelity == 1.0 and not cost.violations:
            self._archive.append(self._vector(values))
        breakdown = dict(cost.breakdown)
        breakdown.update({k: v for k, v in acc.breakdown.items() if k != "layers"})
        breakdown["fidelity"] = {"value": fidelity, "screen_n": scr.breakdown["n_eval"],
                                 "full_n": self.full.float_result["n"], "promoted": promoted,
                                 "full_from_cache": full_hit is not None, "screen_stderr": scr.breakdown["stderr"]}
        return Metrics(values, breakdown, dict(cost.violations))
