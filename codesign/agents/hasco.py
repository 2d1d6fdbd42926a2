"""``hasco``: nested HW/SW co-design in the style of HASCO (ISCA 2021; REFERENCES.md §6).

Three levels per outer point:

1. **Outer: multi-objective BO** (:class:`~codesign.agents.botorch_agent.BotorchAgent`) over the
   *outer space* = every parameter that is neither a per-layer bit width nor a mapping
   parameter (the ``hw`` sub-space and anything else), plus one ordinal ``bit_budget`` in
   ``budget_levels`` (fractions of the range of the budget table, BOPs by default;
   :mod:`codesign.agents.bits`).
2. **Inner bit allocation, exact**: for the point's ``bit_budget`` the per-layer (w, a) bits are
   the multiple-choice knapsack of :mod:`codesign.allocation` — minimize the loss table (the
   quantization-noise proxy unless ``loss`` gives a measured one) subject to the budget and any
   side ``constraints`` — solved exactly with scipy's ``milp`` (HiGHS), cached per budget.
3. **Inner mapping search** (only when the space has a ``mapping`` subsystem): the ``mapper``
   hook, when given, returns the mapping for a (hardware, bits) partial design — this is where
   the cost model's mapper plugs in (``mapper(partial_design, mapping_space) -> mapping
   values``); otherwise tabular Q-learning over the mapping decisions
   (:class:`~codesign.agents.qlearning.TabularQ`, one table shared across hardware points so
   mapping knowledge transfers), ``inner_evals`` mappings per outer point, each evaluated.

The outer BO is told one record per outer point: the best of its inner evaluations by the
equal-weight Chebyshev scalarization (:mod:`codesign.agents.scalarize`). Records of designs the
agent never asked (replayed history) are projected onto the outer space (``bit_budget`` = the
level nearest the design's BOPs) and told to the outer BO.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from codesign.agents.base import Agent
from codesign.agents.bits import BitModel
from codesign.agents.botorch_agent import BotorchAgent
from codesign.agents.qlearning import TabularQ
from codesign.agents.scalarize import RecordScalarizer, random_weights
from codesign.errors import ConfigError, SpaceError
from codesign.spaces.convert.sequence import to_sequence
from codesign.spaces.params import Ordinal
from codesign.spaces.space import Space
from codesign.types import Design, EvalRecord, Objective

BUDGET = "bit_budget"
MAPPING = "mapping"
Mapper = Callable[[Design, Space], Mapping[str, Any]]


class HASCOAgent(Agent):
    """Nested co-design (module docstring).

    Args:
        problem: the Problem (passed by the runner; its workload weights the bit model).
        budget_levels: BOPs budget fractions the outer BO chooses from (default 0, 0.1, ..., 1).
        inner_evals: mapping evaluations per outer point when searching mappings (default 4).
        mapper: optional ``(partial design, mapping space) -> mapping values`` (the cost
            model's mapper); replaces the inner Q-learning.
        outer_kwargs: hyper-parameters of the outer :class:`BotorchAgent`.
        loss: per-option loss of the bit groups, keyed by group key (any table form of
            :func:`codesign.allocation.problem.table_values`; e.g. measured sensitivities);
            default the quantization-noise proxy.
        costs: extra per-option cost tables of the bit groups (``bops`` is always defined).
        constraints: side constraints of the allocation (:mod:`codesign.allocation.expr`).
        budget_table: the table ``bit_budget`` fractions refer to (default ``bops``).
    """

    name = "hasco"
    conformance_kwargs = {"outer_kwargs": {**BotorchAgent.conformance_kwargs, "enumerate_limit": 0}}

    def __init__(self, space: Space, objectives: Sequence[Objective | str], seed: int = 0, problem: Any = None,
                 budget_levels: Sequence[float] = tuple(i / 10 for i in range(11)), inner_evals: int = 4,
                 mapper: Mapper | None = None, outer_kwargs: Mapping[str, Any] | None = None, loss: Any = None,
                 costs: Mapping[str, Any] | None = None, constraints: Sequence[str] = (),
                 budget_table: str = "bops") -> None:
        super().__init__(space, objectives, seed)
        if isinstance(inner_evals, bool) or not isinstance(inner_evals, int) or inner_evals < 1:
            raise ConfigError(f"inner_evals must be an integer >= 1, but got {inner_evals!r}")
        self.bits = BitModel(space, getattr(problem, "workload", None), loss, costs, constraints, budget_table)
        self.bit_params = {p for g in self.bits.groups for p in (g.w_param, g.a_param) if p}
        self.map_params = {p.name for p in space.params if p.subsystem == MAPPING}
        outer_params = [p for p in space.params if p.name not in self.bit_params | self.map_params]
        self.levels = tuple(sorted({float(f) for f in budget_levels}))
        if self.bits:
            if not self.levels or any(not 0 <= f <= 1 for f in self.levels):
                raise ConfigError(f"budget_levels must be fractions in [0, 1], but got {list(budget_levels)}")
            outer_params.append(Ordinal(BUDGET, "hw", self.levels))
        if not outer_params:
            raise ConfigError(f"hasco needs at least one parameter outside bits and mapping in {space.name!r}")
        names = {p.name for p in outer_params}
        cons = [c for c in space.constraints if c.compiled.names <= names]
        self.outer_space = Space(outer_params, cons, f"{space.name}/outer")
        self.outer = BotorchAgent(self.outer_space, self.objectives, seed, **dict(outer_kwargs or {}))
        self.mapper = mapper
        self.inner_evals = inner_evals if self.map_params and mapper is None else 1
        self.rng = np.random.default_rng([self.seed, 0x4A5C])
        self.map_space = space.subspace(MAPPING) if self.map_params else None
        self.map_form = to_sequence(self.map_space) if self.map_space is not None else None
        self.map_q = TabularQ(self.map_form, self.rng) if self.map_form is not None else None
        self.scalarizer = RecordScalarizer(self.objectives)
        self._knapsack: dict[float, dict[str, Any]] = {}
        self._queue: list[Design] = []
        self._route: dict[str, list[tuple[str, list[int] | None]]] = {}  # full key -> (outer key, mapping indices)
        self._groups: dict[str, dict[str, Any]] = {}  # outer key -> {"design", "left", "records"}
        self.params = {"budget_levels": list(self.levels), "inner_evals": inner_evals,
                       "mapper": getattr(mapper, "__name__", None) if mapper else None,
                       "loss": "given" if loss is not None else "noise-proxy", "budget_table": budget_table,
                       "constraints": list(constraints)}

    # --- inner levels ----------------------------------------------------------------------
    def _bits_for(self, fraction: float) -> dict[str, Any]:
        if fraction not in self._knapsack:
            self._knapsack[fraction] = self.bits.knapsack(self.bits.budget(fraction))
        return self._knapsack[fraction]

    def _partial(self, outer: Design) -> dict[str, Any]:
        values = {k: v for k, v in outer.items() if k != BUDGET}
        if self.bits:
            values.update(self._bits_for(float(outer[BUDGET])))
        return values

    def _mappings(self, partial: dict[str, Any]) -> list[tuple[dict[str, Any], list[int] | None]]:
        if self.map_space is None:
            return [({}, None)]
        if self.mapper is not None:
            return [(dict(self.mapper(Design(partial), self.map_space)), None)]
        out = []
        for _ in range(self.inner_evals):
            idx = self.map_q.episode()  # type: ignore[union-attr]
            values = self.map_form.decode_prefix(idx)  # type: ignore[union-attr]
            out.append((values, idx))
        return out

    def _expand(self, outer: Design) -> list[Design]:
        partial = self._partial(outer)
        designs = []
        for mapping, idx in self._mappings(partial):
            full = {**partial, **mapping}
            design = Design({n: full[n] for n in self.space.names})  # broken cross constraints: infeasible
            designs.append(design)
            self._route.setdefault(design.key, []).append((outer.key, idx))
        self._groups[outer.key] = {"design": outer, "left": len(designs), "records": []}
        return designs

    # --- ask / tell ------------------------------------------------------------------------
    def _ask(self, n: int) -> list[Design]:
        while len(self._queue) < n:
            for outer in self.outer.ask(max(1, -(-(n - len(self._queue)) // self.inner_evals))):
                self._queue.extend(self._expand(outer))
        out, self._queue = self._queue[:n], self._queue[n:]
        return out

    def _tell(self, records: list[EvalRecord]) -> None:
        for rec in records:
            self.scalarizer.observe(rec)
        to_outer: list[EvalRecord] = []
        for rec in records:
            routes = self._route.get(rec.design.key)
            if not routes:
                projected = self._project(rec)
                if projected is not None:
                    to_outer.append(projected)
                continue
            outer_key, idx = routes.pop(0)
            if idx is not None and self.map_q is not None:
                self.map_q.update(idx, self.scalarizer.reward(rec, random_weights(self.rng, len(self.objectives))))
            group = self._groups.get(outer_key)
            if group is None:
                continue
            group["records"].append(rec)
            group["left"] -= 1
            if group["left"] <= 0:
                equal = np.full(len(self.objectives), 1.0 / len(self.objectives))
                best = max(group["records"], key=lambda r: self.scalarizer.reward(r, equal))
                to_outer.append(_with_design(best, group["design"]))
                del self._groups[outer_key]
        if to_outer:
            self.outer.tell(to_outer)

    def _project(self, rec: EvalRecord) -> EvalRecord | None:
        try:
            values = {p.name: rec.design[p.name] for p in self.outer_space.params if p.name != BUDGET}
            if self.bits:
                cost = self.bits.cost(rec.design)
                values[BUDGET] = min(self.levels, key=lambda f: abs(self.bits.budget(f) - cost))
            return _with_design(rec, Design({n: values[n] for n in self.outer_space.names}))
        except (KeyError, SpaceError):
            return None

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "seed": self.seed, **self.params, "outer": self.outer.describe()}


def _with_design(rec: EvalRecord, design: Design) -> EvalRecord:
    import dataclasses

    return dataclasses.replace(rec, design=design)
