"""The runner: the one place that joins agent, problem, executor and store.

    ask -> evaluate (executor, cache) -> record (store) -> tell

Every evaluation of every agent goes through :class:`Recorder`, which writes each one
exactly once. Agents that own their loop (RL through an env) get the recorder's
:meth:`Recorder.evaluate_metrics` as their env's ``evaluate`` function, so they record the
same way. A run whose store already holds records resumes: the agent is told the history
first and the budget counts what is already there.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from codesign.errors import AgentError, CodesignError, ConfigError, SpaceError
from codesign.evaluators.composite import Problem
from codesign.executors import InlineExecutor, Outcome
from codesign.registry import REGISTRIES
from codesign.results.records import outcome_record, reason
from codesign.results.store import Run, Store
from codesign.types import Design, EvalRecord, EvalState, Metrics

OnRecord = Callable[[EvalRecord, int, int], None]


class Recorder:
    """Evaluates designs through an executor, with a cache by design key, and records each
    evaluation once in the run's store.

    Each evaluation is first written as an in-flight (RUNNING) record, then completed, so a
    process killed mid-batch leaves its in-flight records behind; when the same worker
    resumes, they are marked ``orphaned`` and their designs are evaluated again, once
    (:meth:`recover`). The budget counts this worker's finished, non-orphaned records.
    """

    def __init__(self, problem: Problem, run: Run, agent: str, seed: int, executor: Any = None,
                 on_record: OnRecord | None = None, budget: int = 0, worker: str = "main",
                 cache: dict[str, Metrics] | None = None) -> None:
        self.problem = problem
        self.run = run
        self.agent = agent
        self.seed = seed
        self.executor = executor or InlineExecutor()
        self.on_record = on_record
        self.budget = budget
        self.worker = worker
        self.records: list[EvalRecord] = [r for r in run.records() if not r.orphaned]
        self.cache: dict[str, Metrics] = dict(cache or {})
        self.cache.update({r.design.key: r.metrics for r in self.records if r.state is not EvalState.FAILED})
        self.done = sum(1 for r in self.records if r.worker == self.worker)  # this worker's finished records

    @property
    def remaining(self) -> int:
        return max(0, self.budget - self.done)

    def recover(self) -> list[EvalRecord]:
        """Redo the evaluations this worker had in flight when it last stopped."""
        orphans = self.run.in_flight(self.worker)
        for trial_id, rec in orphans:
            self.run.mark_orphaned(trial_id, rec)
        designs = [rec.design for _, rec in orphans][: self.remaining]
        return self.evaluate(designs) if designs else []

    def evaluate(self, designs: Sequence[Design]) -> list[EvalRecord]:
        """Evaluate and record ``designs`` (in order); returns their records."""
        reserved: list[tuple[Design, int | None]] = []
        unique: dict[str, Design] = {}
        for d in designs:
            if d.key in self.cache or d.key in unique:
                reserved.append((d, None))
            else:
                unique[d.key] = d
                rec = EvalRecord(d, Metrics(), EvalState.RUNNING, self.agent, self.seed, worker=self.worker)
                reserved.append((d, self.run.reserve(rec)))
        t0 = time.perf_counter()
        outcomes: dict[str, Outcome] = {}
        if unique:
            results = self.executor.evaluate(self.problem, list(unique.values()))
            outcomes = dict(zip(unique, results))
        per_design = (time.perf_counter() - t0) / max(1, len(unique))
        return [self._record(d, trial_id, outcomes.get(d.key), per_design) for d, trial_id in reserved]

    def evaluate_metrics(self, designs: Sequence[Design]) -> list[Metrics]:
        """Env hook: evaluate and record, return the metrics (failed -> violations)."""
        return [r.metrics if r.state is not EvalState.FAILED else Metrics(violations={"failed": 1.0})
                for r in self.evaluate(designs)]

    def _record(self, design: Design, trial_id: int | None, outcome: Outcome | None, seconds: float) -> EvalRecord:
        cached = trial_id is None
        if cached:
            outcome, seconds = self.cache[design.key], 0.0
        rec = outcome_record(design, outcome, self.agent, self.seed, seconds, self.worker, cached)  # type: ignore[arg-type]
        if isinstance(outcome, Metrics):
            self.cache[design.key] = outcome
        rec = self.run.append(rec) if cached else self.run.finish(trial_id, rec)  # type: ignore[arg-type]
        self.records.append(rec)
        self.done += 1
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

    def dataframe(self) -> Any:
        """Every record of the run as a pandas DataFrame, one row per evaluation
        (columns ``param.<name>``, ``metric.<name>``, state, ...; :mod:`codesign.results.frames`)."""
        from codesign.results.frames import records_frame

        return records_frame(self.records, self.name)

    def front(self) -> Any:
        """The Pareto front as a pandas DataFrame, best first by the first objective."""
        from codesign.results.frames import front_frame

        return front_frame(self.records, self.problem.objectives, self.name)


def _takes_problem(factory: Any) -> bool:
    """Whether an agent factory has a ``problem`` parameter (it then receives the Problem)."""
    try:
        return "problem" in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False


def worker_seed(seed: int, worker: str) -> int:
    """The agent seed of a worker: the run's seed for ``main``, a stable derivation otherwise,
    so that the workers of one shared run explore different designs."""
    if worker == "main":
        return seed
    import zlib

    return (seed * 1_000_003 + zlib.crc32(worker.encode())) % (2**31)


def _guarded(agent: str, options: Mapping[str, Any], doing: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call an agent; its own failure (bad options, a bug) becomes one :class:`AgentError` line.
    Every record written so far stays in the store, so the run resumes once the cause is fixed."""
    try:
        return fn(*args, **kwargs)
    except CodesignError:
        raise
    except Exception as exc:
        opts = f" with options {dict(options)}" if options else ""
        raise AgentError(f"agent {agent!r}{opts} failed when {doing}: {reason(exc)}") from exc


def problem_normalization(problem: Problem) -> dict[str, Any] | None:
    """``problem.objective_bounds()`` (recorded with a run, so that ``show``, the dashboard and
    the report give normalized hypervolumes that compare across stores), or None when the
    problem has none or they cannot be derived (e.g. every sampled design fails)."""
    bounds = getattr(problem, "objective_bounds", None)
    if not callable(bounds):
        return None
    try:
        return bounds()
    except CodesignError:
        return None


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
    worker: str = "main",
    share_cache: bool = True,
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
        worker: name of this process within the run; several workers (processes, machines on
            a server store) may share one run, each evaluating ``budget`` designs.
        share_cache: reuse metrics of identical designs from every run of the same problem
            version in the store (evaluators are pure), so repeated runs do not pay twice.
    """
    if isinstance(problem, str):
        problem = REGISTRIES["problem"].make(problem)
    for label, value, low in (("budget", budget, 1), ("seed", seed, 0), ("batch_size", batch_size, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"{label} must be an integer >= {low}, but got {value!r}")
    kwargs = dict(agent_kwargs or {})
    if not isinstance(worker, str) or not worker.strip():
        raise ConfigError(f"worker must be a non-empty name, but got {worker!r}")
    agent_seed = worker_seed(seed, worker)
    make_kwargs = dict(kwargs)
    if _takes_problem(REGISTRIES["agent"].spec(agent).load()):
        make_kwargs["problem"] = problem  # agents that build an env (RL) or nest searches
    the_agent = _guarded(agent, kwargs, "built", REGISTRIES["agent"].make, agent, space=problem.space,
                         objectives=list(problem.objectives), seed=agent_seed, **make_kwargs)
    the_store = store if isinstance(store, Store) else Store(store)
    name = name or run_name(problem, agent, seed)
    run_meta = {
        "problem": problem.name, "agent": agent, "seed": seed, "budget": budget,
        "agent_kwargs": kwargs, "space": problem.space.to_dict(),
        "objectives": [o.to_dict() for o in problem.objectives], "problem_detail": problem.to_dict(),
        "problem_version": problem.version,
        **dict(meta or {}),
    }
    if "normalization" not in run_meta:  # the fixed per-problem box of normalized hypervolume
        run_meta["normalization"] = problem_normalization(problem)
    the_run, _ = the_store.create_run(name, run_meta)
    cache = the_store.metrics_cache(problem.version) if share_cache else {}
    recorder = Recorder(problem, the_run, agent, agent_seed, executor, on_record, budget, worker, cache)
    resumed = recorder.done
    t0 = time.perf_counter()
    if recorder.records:
        _guarded(agent, kwargs, "told its history", the_agent.tell, list(recorder.records))
    redone = recorder.recover()
    if redone:
        _guarded(agent, kwargs, "told", the_agent.tell, redone)
    if hasattr(the_agent, "drive"):
        the_agent.drive(recorder)  # agents that own their loop (RL through an env)
    while recorder.remaining > 0:
        n = min(batch_size, recorder.remaining)
        designs = _guarded(agent, kwargs, "asked for designs", the_agent.ask, n)
        for d in designs:
            if not isinstance(d, Design):
                raise SpaceError(f"agent {agent!r} must return Design objects, but returned {type(d).__name__}")
        records = recorder.evaluate(designs)
        _guarded(agent, kwargs, "told", the_agent.tell, records)
    return RunResult(name, the_store.location, problem, recorder.records, resumed,
                     time.perf_counter() - t0, the_agent.describe())
