"""The runner: the one place that joins agent, problem, executor and store.

    ask -> evaluate (executor, cache) -> record (store) -> tell

Every evaluation of every agent goes through :class:`Recorder`, which writes each one
exactly once. Agents that own their loop (RL through an env) get the recorder's
:meth:`Recorder.evaluate_metrics` as their env's ``evaluate`` function, so they record the
same way. A run whose store already holds records resumes: the agent is told the history
first and the budget counts what is already there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from codesign.errors import ConfigError, SpaceError
from codesign.evaluators.composite import Problem
from codesign.executors import InlineExecutor, Outcome
from codesign.registry import REGISTRIES
from codesign.results.store import Run, Store
from codesign.types import Design, EvalRecord, EvalState, Metrics

OnRecord = Callable[[EvalRecord, int, int], None]


class Recorder:
    """Evaluates designs through an executor, with a cache by design key, and records each
    evaluation once in the run's store."""

    def __init__(self, problem: Problem, run: Run, agent: str, seed: int,
                 executor: Any = None, on_record: OnRecord | None = None, budget: int = 0) -> None:
        self.problem = problem
        self.run = run
        self.agent = agent
        self.seed = seed
        self.executor = executor or InlineExecutor()
        self.on_record = on_record
        self.budget = budget
        self.records: list[EvalRecord] = run.records()
        self.cache: dict[str, Metrics] = {
            r.design.key: r.metrics for r in self.records if r.state is not EvalState.FAILED
        }

    @property
    def done(self) -> int:
        return len(self.records)

    @property
    def remaining(self) -> int:
        return max(0, self.budget - self.done)

    def evaluate(self, designs: Sequence[Design]) -> list[EvalRecord]:
        """Evaluate and record ``designs`` (in order); returns their records."""
        todo = [d for d in designs if d.key not in self.cache]
        unique: dict[str, Design] = {d.key: d for d in todo}
        t0 = time.perf_counter()
        outcomes: dict[str, Outcome] = {}
        if unique:
            results = self.executor.evaluate(self.problem, list(unique.values()))
            outcomes = dict(zip(unique, results))
        per_design = (time.perf_counter() - t0) / max(1, len(unique))
        out = []
        seen_now: set[str] = set()
        for d in designs:
            if d.key in outcomes and d.key not in seen_now:
                seen_now.add(d.key)
                rec = self._record(d, outcomes[d.key], per_design, cached=False)
            else:
                rec = self._record(d, self.cache[d.key], 0.0, cached=True)
            out.append(rec)
        return out

    def evaluate_metrics(self, designs: Sequence[Design]) -> list[Metrics]:
        """Env hook: evaluate and record, return the metrics (failed -> violations)."""
        return [r.metrics if r.state is not EvalState.FAILED else Metrics(violations={"failed": 1.0})
                for r in self.evaluate(designs)]

    def _record(self, design: Design, outcome: Outcome, seconds: float, cached: bool) -> EvalRecord:
        if isinstance(outcome, Metrics):
            state = EvalState.COMPLETE if outcome.feasible else EvalState.INFEASIBLE
            rec = EvalRecord(design, outcome, state, self.agent, self.seed, seconds, cached=cached)
            self.cache[design.key] = outcome
        else:
            msg = str(outcome).splitlines()[0] if str(outcome) else type(outcome).__name__
            rec = EvalRecord(design, Metrics(), EvalState.FAILED, self.agent, self.seed, seconds,
                             error=f"{type(outcome).__name__}: {msg}")
        rec = self.run.append(rec)
        self.records.append(rec)
        if self.on_record:
            self.on_record(rec, self.done, self.budget)
        return rec


@dataclass
class RunResult:
    """What a run produced (all records of the run, including resumed ones)."""

    name: str
    store: str
    problem: Problem
    records: list[EvalRecord]
    resumed: int
    seconds: float
    agent: dict[str, Any] = field(default_factory=dict)

    def pareto(self) -> list[EvalRecord]:
        from codesign.results.summary import pareto_records

        return pareto_records(self.records, self.problem.objectives)


def run_name(problem: Problem, agent: str, seed: int) -> str:
    return f"{problem.name}/{agent}/seed{seed}"


def run(
    problem: Problem | str,
    agent: str = "random",
    budget: int = 100,
    seed: int = 0,
    store: str | Store = "runs/default",
    *,
    batch_size: int = 1,
    agent_kwargs: Mapping[str, Any] | None = None,
    name: str | None = None,
    executor: Any = None,
    on_record: OnRecord | None = None,
    meta: Mapping[str, Any] | None = None,
) -> RunResult:
    """Search ``problem`` with ``agent`` for ``budget`` evaluations, recording into ``store``.

    Args:
        problem: a Problem or a registered problem name.
        agent: registered agent name.
        budget: total evaluations of the run (existing records of a resumed run count).
        seed: seed of the agent (and of anything random in the run).
        store: store directory / URL, or an open :class:`Store`.
        batch_size: designs per ``ask``.
        agent_kwargs: agent hyper-parameters.
        name: run name (default ``<problem>/<agent>/seed<seed>``); an existing run resumes.
        executor: an executor (default inline).
        on_record: callback ``(record, done, budget)`` after each record (progress bars).
    """
    if isinstance(problem, str):
        problem = REGISTRIES["problem"].make(problem)
    for label, value, low in (("budget", budget, 1), ("seed", seed, 0), ("batch_size", batch_size, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"{label} must be an integer >= {low}, but got {value!r}")
    kwargs = dict(agent_kwargs or {})
    the_agent = REGISTRIES["agent"].make(agent, space=problem.space, objectives=list(problem.objectives), seed=seed, **kwargs)
    the_store = store if isinstance(store, Store) else Store(store)
    name = name or run_name(problem, agent, seed)
    run_meta = {
        "problem": problem.name, "agent": agent, "seed": seed, "budget": budget,
        "agent_kwargs": kwargs, "space": problem.space.to_dict(),
        "objectives": [o.to_dict() for o in problem.objectives], "problem_detail": problem.to_dict(),
        **dict(meta or {}),
    }
    the_run, _ = the_store.create_run(name, run_meta)
    recorder = Recorder(problem, the_run, agent, seed, executor, on_record, budget)
    resumed = recorder.done
    t0 = time.perf_counter()
    if recorder.records:
        the_agent.tell(list(recorder.records))
    if hasattr(the_agent, "drive"):
        the_agent.drive(recorder)  # agents that own their loop (RL through an env)
    while recorder.remaining > 0:
        n = min(batch_size, recorder.remaining)
        designs = the_agent.ask(n)
        for d in designs:
            if not isinstance(d, Design):
                raise SpaceError(f"agent {agent!r} must return Design objects, but returned {type(d).__name__}")
        the_agent.tell(recorder.evaluate(designs))
    return RunResult(name, the_store.location, problem, recorder.records, resumed,
                     time.perf_counter() - t0, the_agent.describe())
