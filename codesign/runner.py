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
from codesign.executors import InlineExecutor, Result
from codesign.registry import REGISTRIES
from codesign.results.records import outcome_record, reason
from codesign.results.store import RecordSink, Run, Store
from codesign.types import Design, EvalRecord, EvalState, Metrics

OnRecord = Callable[[EvalRecord, int, int], None]
DIED = "its process died"
INTERRUPTED = "interrupted"
#: In-flight in this many dead processes, a design the executor cannot isolate is failed.
MAX_ORPHANINGS = 3


class Recorder:
    """Evaluates designs through an executor, with a cache by design key, and records each
    evaluation once in the run's store.

    Per batch: one store transaction reserves the designs to evaluate as in-flight records
    (and stores cache hits finished), the executor evaluates them (``evaluate_many`` where it
    can), and one transaction finishes them — or the executor's workers finish their own
    records through a :class:`~codesign.results.store.RecordSink`, so the driver is not the
    only writer. A process killed mid-batch leaves in-flight records; the next process holding
    this worker's lease marks them ``orphaned`` and evaluates those designs again, once
    (:meth:`recover`). The budget counts this worker's finished, non-orphaned records.

    Evaluators cannot end the driver: every exception but the user's Ctrl-C is a failed record;
    on Ctrl-C / SIGTERM the batch in flight is closed as orphaned ("interrupted") and redone on
    resume. A design that keeps killing its worker process fails after the executor's
    ``max_crashes`` tries; where the executor cannot isolate a design (inline, no problem spec),
    a design left in flight by :data:`MAX_ORPHANINGS` dead processes is failed, not retried.
    """

    def __init__(self, problem: Problem, run: Run, agent: str, seed: int, executor: Any = None,
                 on_record: OnRecord | None = None, budget: int = 0, worker: str = "main",
                 cache: dict[str, Metrics] | None = None, sink: Any = None, lease: Any = None) -> None:
        self.problem = problem
        self.run = run
        self.agent = agent
        self.seed = seed
        self.executor = executor or InlineExecutor()
        self.on_record = on_record
        self.budget = budget
        self.worker = worker
        self.sink = sink
        self.lease = lease
        everything = run.records()
        self.records: list[EvalRecord] = [r for r in everything if not r.orphaned]
        self._deaths: dict[str, int] = {}
        for r in everything:
            if r.orphaned and r.worker == worker and DIED in (r.error or ""):
                self._deaths[r.design.key] = self._deaths.get(r.design.key, 0) + 1
        self.cache: dict[str, Metrics] = dict(cache or {})
        self.cache.update({r.design.key: r.metrics for r in self.records if r.state is not EvalState.FAILED})
        self.done = sum(1 for r in self.records if r.worker == self.worker)  # this worker's finished records

    @property
    def remaining(self) -> int:
        return max(0, self.budget - self.done)

    def recover(self) -> list[EvalRecord]:
        """Redo the evaluations this worker had in flight when its last process died."""
        orphans = [o for o in self.run.in_flight(self.worker) if o[1] != self.run.owner]
        if not orphans:
            return []
        self.run.mark_orphaned(orphans, DIED)
        designs: dict[str, Design] = {}
        for _, _, rec in orphans:
            designs.setdefault(rec.design.key, rec.design)
            self._deaths[rec.design.key] = self._deaths.get(rec.design.key, 0) + 1
        todo = list(designs.values())[: self.remaining]
        if getattr(self.executor, "isolates", False):
            return self.evaluate(todo, suspect=True)
        hopeless = [d for d in todo if self._deaths[d.key] >= MAX_ORPHANINGS]
        out = [self._store_failure(d, f"EvaluationError: in flight in {self._deaths[d.key]} processes that died "
                                      "(killed or crashed); failed instead of retried") for d in hopeless]
        return out + self.evaluate([d for d in todo if d not in hopeless])

    def _store_failure(self, design: Design, error: str) -> EvalRecord:
        rec = EvalRecord(design, Metrics(), EvalState.FAILED, self.agent, self.seed, error=error, worker=self.worker)
        self.run.reserve_many([rec])
        self._done([rec])
        return rec

    def evaluate(self, designs: Sequence[Design], suspect: bool = False) -> list[EvalRecord]:
        """Evaluate and record ``designs`` (in order); returns their records."""
        if self.lease is not None:
            self.lease.check()
        recs: list[EvalRecord] = []
        first: dict[str, int] = {}  # design key -> index of its record to evaluate
        for i, d in enumerate(designs):
            if d.key in self.cache:
                recs.append(outcome_record(d, self.cache[d.key], self.agent, self.seed, 0.0, self.worker, cached=True))
            else:
                first.setdefault(d.key, i)
                recs.append(EvalRecord(d, Metrics(), EvalState.RUNNING, self.agent, self.seed, worker=self.worker))
        numbers = self.run.reserve_many(recs)
        todo = [i for i in first.values()]
        try:
            results = self._execute([designs[i] for i in todo], [numbers[i] for i in todo], suspect)
        except BaseException:  # Ctrl-C, SIGTERM: close this batch cleanly, it is redone on resume
            pending = [(numbers[i], self.run.owner, recs[i]) for i, r in enumerate(recs) if r.state is EvalState.RUNNING]
            try:
                self.run.mark_orphaned(pending, INTERRUPTED)
            except Exception:  # noqa: BLE001 - the store itself failed: the next run recovers
                pass
            raise
        by_key = {designs[i].key: (i, res) for i, res in zip(todo, results)}
        finish: list[tuple[int, EvalRecord]] = []
        for i, d in enumerate(designs):
            if recs[i].state is not EvalState.RUNNING:
                continue
            j, res = by_key[d.key]
            dup = j != i
            rec = outcome_record(d, res.outcome, self.agent, self.seed, 0.0 if dup else res.seconds, self.worker, dup)
            rec.number = numbers[i]
            recs[i] = rec
            if isinstance(res.outcome, Metrics):
                self.cache[d.key] = res.outcome
            if dup or not res.written:
                finish.append((numbers[i], rec))
        self.run.finish_many(finish)
        self._done(recs)
        return recs

    def _execute(self, designs: list[Design], numbers: list[int], suspect: bool) -> list[Result]:
        if not designs:
            return []
        kwargs: dict[str, Any] = {}
        if getattr(self.executor, "accepts_sink", False):
            kwargs = {"sink": self.sink, "numbers": numbers, "suspect": suspect}
        t0 = time.perf_counter()
        raw = list(self.executor.evaluate(self.problem, designs, **kwargs))
        per = (time.perf_counter() - t0) / len(designs)
        return [r if isinstance(r, Result) else Result(r, per) for r in raw]  # a user's executor: bare outcomes

    def _done(self, recs: list[EvalRecord]) -> None:
        for rec in recs:
            self.records.append(rec)
            self.done += 1
            if self.on_record:
                self.on_record(rec, self.done, self.budget)

    def evaluate_metrics(self, designs: Sequence[Design]) -> list[Metrics]:
        """Env hook: evaluate and record, return the metrics (failed -> violations)."""
        return [r.metrics if r.state is not EvalState.FAILED else Metrics(violations={"failed": 1.0})
                for r in self.evaluate(designs)]


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
    store_seconds: float = 0.0  # of it, in store transactions of this process

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


def make_agent(problem: Problem, agent: str, seed: int, kwargs: Mapping[str, Any]) -> Any:
    """The registered ``agent`` built for ``problem`` with ``kwargs`` (and the Problem itself for
    agents that take one); a failure is one :class:`AgentError` or :class:`ConfigError` line."""
    extra = {"problem": problem} if _takes_problem(REGISTRIES["agent"].spec(agent).load()) else {}
    return _guarded(agent, kwargs, "built", REGISTRIES["agent"].make, agent, space=problem.space,
                    objectives=list(problem.objectives), seed=seed, **extra, **kwargs)


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
    worker_writes: bool = False,
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
        worker_writes: whether executor workers in other processes write their own records
            (concurrent writers) instead of the driver writing each batch in one transaction.
            Off by default: on a 2-core machine, 32 PostgreSQL worker writers reached 0.58 of the
            ideal rate against 0.93 for driver batches (``codesign bench scale --worker-writes
            both``); it pays where the driver, not the store, is the bottleneck.
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
    the_agent = make_agent(problem, agent, agent_seed, kwargs)
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
    store_s0 = the_store.backend.seconds
    the_run, _ = the_store.create_run(name, run_meta)
    lease = the_run.lease(worker)  # one live process per worker name (one line naming the holder)
    try:
        cache = the_store.metrics_cache(problem.version) if share_cache else {}
        recorder = Recorder(problem, the_run, agent, agent_seed, executor, on_record, budget, worker, cache,
                            _sink(the_store, the_run, agent, agent_seed, worker, executor, worker_writes), lease)
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
        state = the_agent.describe()
        the_run.set_agent_state(worker, state)  # fallbacks the agent recorded, for `codesign show`
    finally:
        lease.release()
    return RunResult(name, the_store.location, problem, recorder.records, resumed,
                     time.perf_counter() - t0, state, the_store.backend.seconds - store_s0)


def _sink(store: Store, run: Run, agent: str, seed: int, worker: str, executor: Any,
          worker_writes: bool) -> RecordSink | None:
    """With ``worker_writes``, executors whose workers run in other processes finish their
    records themselves (on an embedded store only workers on the driver's machine do)."""
    if not worker_writes or executor is None or not getattr(executor, "accepts_sink", False) \
            or not getattr(executor, "remote_writes", False):
        return None
    import socket

    return RecordSink(store.location, run.name, run.owner, agent, seed, worker,
                      tuple(o.name for o in run.objectives), socket.gethostname())
