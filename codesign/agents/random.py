"""Uniform random search over the valid designs of a space."""

from __future__ import annotations

import numpy as np

from codesign.agents.base import Agent
from codesign.types import Design, EvalRecord


class RandomAgent(Agent):
    """Draws valid designs uniformly at random (rejection sampling on the constraints).

    Design ``i`` of a run is drawn from ``default_rng([seed, i])``, so a seeded run is
    reproducible and a resumed run (whose history is told first) continues the sequence.
    """

    name = "random"

    def __init__(self, space, objectives, seed: int = 0) -> None:  # type: ignore[no-untyped-def]
        super().__init__(space, objectives, seed)
        self._drawn = 0

    def _ask(self, n: int) -> list[Design]:
        out = []
        for _ in range(n):
            out.append(self.space.sample(np.random.default_rng([self.seed, self._drawn])))
            self._drawn += 1
        return out

    def _tell(self, records: list[EvalRecord]) -> None:
        # replayed history (records never asked in this process) advances the sequence
        told = len(self.history)
        if told > self._drawn:
            self._drawn = told
