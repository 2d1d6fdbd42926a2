"""Agents that own their loop (RL through an env), usable both ways the runner drives agents.

- ``drive(recorder)``: the runner hands over its recorder; the agent builds its env with
  ``evaluate`` = the recorder's :meth:`~codesign.runner.Recorder.evaluate_metrics` (every
  evaluation recorded once, the same way as ask/tell) and learns until ``recorder.remaining``
  reaches 0 — an evaluation that would exceed the budget stops the loop instead.
  **Repeats are free** when driven: a design this run already recorded is answered from its
  record without a new record and without spending budget (evaluators are pure, so a repeat is
  not an evaluation; the learner still gets its step and reward), up to as many repeats as the
  run's budget, so a policy that has collapsed onto known designs still ends. Policies over
  small discrete spaces repeat often (HAQ's action wall maps many actions to one design: 138 of
  200 designs were new on ``digits-accel-small``); measured there (200 evaluations, 5 seeds,
  median normalized HV, random 0.2319): sb3-ppo 0.2460 → 0.2498, sb3-dqn 0.2395 → 0.2458,
  sb3-sac 0.2348 → 0.2384, haq 0.2147 → 0.2188. ``free_repeats = False`` on a subclass restores
  one budget unit per proposal.
- ``ask`` / ``tell`` (conformance suite, or any caller that owns the loop): the same learning
  loop runs in a worker thread whose env ``evaluate`` hands its designs to ``ask`` and waits
  for ``tell`` to bring their records. Only one side runs at a time, so a seeded agent is
  reproducible. ``ask(n)`` returns the design(s) the policy is waiting on; when ``n`` exceeds
  them, the rest are seeded random designs (exploration the learner is not told about). Records
  of other designs (replayed history) are kept in :attr:`history` but not learned from.

Subclasses implement :meth:`LoopAgent._learn` (``evaluate -> never returns``).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from codesign.agents.base import Agent
from codesign.envs.common import env_safe
from codesign.spaces.space import Space
from codesign.types import Design, EvalRecord, EvalState, Metrics, Objective

EvaluateFn = Callable[[list[Design]], list[Metrics]]


class BudgetSpent(Exception):
    """Raised inside the learning loop when the run's budget is spent (ends ``drive``)."""


class _Stop(Exception):
    """Ends a worker thread's learning loop (agent closed)."""


class SpaceProblem:
    """A Problem stand-in built from a space and objectives, for envs in ask/tell mode (the
    env's ``evaluate`` is always given, so nothing is evaluated through it)."""

    def __init__(self, space: Space, objectives: Sequence[Objective]) -> None:
        self.space, self.objectives, self.name, self.workload = space, tuple(objectives), space.name, None

    def evaluate_many(self, designs: Sequence[Design]) -> list[Metrics]:  # pragma: no cover - never used
        raise RuntimeError("SpaceProblem cannot evaluate; pass evaluate= to the env")


def record_metrics(record: EvalRecord) -> Metrics:
    """What an env sees for a record (the runner's convention: failed -> a violation)."""
    return record.metrics if record.state is not EvalState.FAILED else Metrics(violations={"failed": 1.0})


class LoopAgent(Agent):
    """Base of agents that learn inside an env loop (module docstring).

    Args:
        problem: the Problem (the runner passes it); ``None`` builds a :class:`SpaceProblem`.
    """

    name = "loop"
    free_repeats = True

    def __init__(self, space: Space, objectives: Sequence[Objective | str], seed: int = 0, problem: Any = None) -> None:
        super().__init__(space, objectives, seed)
        self.problem = problem if problem is not None else SpaceProblem(space, self.objectives)
        self.expected_evaluations: int | None = None
        self.repeats_answered = self.repeats_budget = 0  # repeats answered from the run's records (free)
        self._thread: threading.Thread | None = None
        self._requests: queue.Queue[Any] = queue.Queue()
        self._responses: queue.Queue[Any] = queue.Queue()
        self._pending: list[Design] | None = None
        self._told: dict[str, Metrics] = {}
        self._error: BaseException | None = None
        self._extra_rng = np.random.default_rng([self.seed, 0xE7])

    # --- for subclasses ------------------------------------------------------------------
    def _learn(self, evaluate: EvaluateFn) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # --- runner-driven -------------------------------------------------------------------
    def drive(self, recorder: Any) -> None:
        """Learn on an env whose evaluations are the recorder's, until the budget is spent."""

        known = {r.design.key: env_safe(record_metrics(r), self.objectives) for r in recorder.records}
        free = [recorder.remaining if self.free_repeats else 0]  # repeats still answered from `known`

        def evaluate(designs: list[Design]) -> list[Metrics]:
            out: list[Metrics | None] = [None] * len(designs)
            todo: list[int] = []
            for i, d in enumerate(designs):
                if d.key in known and free[0] > 0:
                    out[i], free[0] = known[d.key], free[0] - 1
                else:
                    todo.append(i)
            if recorder.remaining < len(todo):
                raise BudgetSpent
            for i, m in zip(todo, recorder.evaluate_metrics([designs[i] for i in todo])):
                out[i] = known[designs[i].key] = env_safe(m, self.objectives)
            self.repeats_answered = self.repeats_budget - free[0]
            return out  # type: ignore[return-value]

        self.repeats_budget = free[0]
        self.expected_evaluations = recorder.remaining
        if recorder.remaining <= 0:
            return
        try:
            self._learn(evaluate)
        except BudgetSpent:
            pass

    # --- ask / tell through a worker thread ---------------------------------------------
    def _bridge(self, designs: list[Design]) -> list[Metrics]:
        self._requests.put(list(designs))
        out = self._responses.get()
        if out is _Stop:
            raise _Stop
        return out

    def _worker(self) -> None:
        try:
            self._learn(self._bridge)
        except _Stop:
            return
        except BaseException as exc:  # surfaced by the next ask
            self._requests.put(exc)
        else:
            self._requests.put(RuntimeError(f"{self.name}: the learning loop ended"))

    def _next_request(self) -> None:
        """Wait until the learner is blocked again on its next evaluation (or has stopped), so
        it never runs while the caller does (seeded reproducibility, no races on torch's RNG)."""
        item = self._requests.get()
        if isinstance(item, BaseException):
            self._error = item
        else:
            self._pending = item

    def _ask(self, n: int) -> list[Design]:
        if self._thread is None:
            self._thread = threading.Thread(target=self._worker, name=f"codesign-{self.name}", daemon=True)
            self._thread.start()
            self._next_request()
        if self._error is not None:
            raise self._error
        designs = list(self._pending or [])[:n]
        while len(designs) < n:
            designs.append(self.space.sample(self._extra_rng))
        return designs

    def _tell(self, records: list[EvalRecord]) -> None:
        for rec in records:
            self._told[rec.design.key] = env_safe(record_metrics(rec), self.objectives)
        if self._pending is not None and all(d.key in self._told for d in self._pending):
            self._responses.put([self._told.pop(d.key) for d in self._pending])
            self._pending = None
            self._next_request()

    def close(self) -> None:
        """End the worker thread (if one waits on a tell)."""
        if self._thread is not None and self._thread.is_alive() and self._pending is not None:
            self._responses.put(_Stop)
            self._pending = None
