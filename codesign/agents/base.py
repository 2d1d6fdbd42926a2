"""The ask/tell contract every search agent implements.

    agent = make_agent("tpe", space=problem.space, objectives=problem.objectives, seed=0)
    designs = agent.ask(4)            # list[Design], each valid in the space's domain
    agent.tell(records)               # list[EvalRecord] for (some of) those designs

Rules (checked by :mod:`codesign.testing`):

- ``ask(n)`` returns exactly ``n`` designs in the space's domain (constraints may be broken:
  the problem reports such designs infeasible); the same seed gives the same designs.
- ``tell`` accepts records in any order, of any state (complete, infeasible, failed), and
  records of designs the agent never asked (replayed history when a run resumes).
- Agents never import evaluators: they see only the space, the objectives and records.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from codesign.errors import ConfigError
from codesign.spaces.space import Space
from codesign.types import Design, EvalRecord, EvalState, Objective


class Agent:
    """Base class of ask/tell agents.

    Args:
        space: the design space.
        objectives: objectives with directions (metric names the records will carry).
        seed: random seed; same seed, same sequence of asks for the same tells.
    """

    name = "agent"

    def __init__(self, space: Space, objectives: Sequence[Objective | str], seed: int = 0) -> None:
        if not isinstance(space, Space):
            raise ConfigError(f"agent needs a Space, but got {type(space).__name__}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ConfigError(f"seed must be an integer >= 0, but got {seed!r}")
        self.space = space
        self.objectives = tuple(Objective.parse(o) for o in objectives)
        if not self.objectives:
            raise ConfigError("agent needs at least one objective")
        self.seed = int(seed)
        self.history: list[EvalRecord] = []

    def ask(self, n: int = 1) -> list[Design]:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError(f"ask(n) needs an integer n >= 1, but got {n!r}")
        designs = self._ask(int(n))
        if len(designs) != n:  # pragma: no cover - guards subclasses
            raise RuntimeError(f"{self.name} returned {len(designs)} designs for ask({n})")
        return designs

    def tell(self, records: Sequence[EvalRecord]) -> None:
        records = list(records)
        self.history.extend(records)
        self._tell(records)

    # --- for subclasses ---------------------------------------------------------------
    def _ask(self, n: int) -> list[Design]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _tell(self, records: list[EvalRecord]) -> None:
        """Default: nothing beyond keeping :attr:`history`."""

    # --- helpers ------------------------------------------------------------------------
    def minimization_values(self, record: EvalRecord) -> np.ndarray | None:
        """Objective values as minimization values (sign-flipped maxima), or None if failed."""
        if record.state is EvalState.FAILED:
            return None
        try:
            return np.array([o.sign * float(record.metrics[o.name]) for o in self.objectives])
        except KeyError:
            return None

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "seed": self.seed}
