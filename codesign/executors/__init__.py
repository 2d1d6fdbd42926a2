"""Executors: where evaluations run — ``inline`` (this process), ``process`` (a local pool of
worker processes, the default when more than one worker is asked for) and ``ray`` (Ray core
tasks on a local Ray or an existing cluster).

``evaluate(problem, designs, sink=None, numbers=None, suspect=False)`` returns one
:class:`Result` per design: its :class:`~codesign.types.Metrics` or the exception evaluating
it raised, its seconds, and whether the worker already wrote its record through ``sink``
(a :class:`~codesign.results.store.RecordSink`: workers are store writers themselves).

Isolation (issue 14): every ``BaseException`` of an evaluator but the user's Ctrl-C is a
failed evaluation, never the end of the driver. Workers rebuild the problem once per process
from a JSON-able spec (:mod:`codesign.config`); designs go to a worker in chunks through
``evaluate_many``. A worker process that dies (segfault, ``os._exit``, OOM kill) fails nothing
at once: the designs of its chunk are retried one per task, and a design that kills its worker
``max_crashes`` times is failed with that reason; the good designs beside it are unaffected.
A per-evaluation timeout is enforced inside the worker (SIGALRM) from the moment the design
starts (a queued design cannot time out) and, as a backstop for code that ignores signals, by
killing the worker. Worker processes die with the driver (``PR_SET_PDEATHSIG``), ignore the
terminal's Ctrl-C (the driver handles it) and are reaped on exit, so no process outlives a run.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codesign.errors import ConfigError, EvaluationError
from codesign.results.records import describe
from codesign.types import Design, Metrics

Outcome = Metrics | BaseException
EXECUTORS = ("inline", "process", "ray")
MIN_TIMEOUT_S, MAX_TIMEOUT_S = 1e-3, 1e7
MAX_CRASHES = 2


@dataclass
class Result:
    """One evaluation's outcome, its seconds, and whether a worker already wrote its record."""

    outcome: Outcome
    seconds: float
    written: bool = False


class EvaluationTimeout(EvaluationError):
    """An evaluation ran past the per-evaluation timeout."""


class WorkerCrashed(EvaluationError):
    """Evaluating a design killed the worker process evaluating it, ``max_crashes`` times."""


def _evaluate_isolated(problem: Any, designs: Sequence[Design]) -> list[Outcome]:
    """Evaluate a batch; if the batch raises, evaluate one by one to isolate the failure."""
    try:
        return list(problem.evaluate_many(list(designs)))
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - SystemExit etc. of an evaluator: failed evaluations
        if len(designs) == 1:
            return [exc]
    out: list[Outcome] = []
    for d in designs:
        try:
            out.append(problem.evaluate_many([d])[0])
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001
            out.append(exc)
    return out


def _timed_one(problem: Any, design: Design, timeout_s: float) -> Outcome:
    """One evaluation under a SIGALRM timeout (main thread only)."""
    def _alarm(signum: int, frame: Any) -> None:
        raise EvaluationTimeout(f"evaluation exceeded the timeout of {timeout_s:g} s")

    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        try:  # the alarm may fire at once (a tiny timeout): arm it inside the try
            signal.setitimer(signal.ITIMER_REAL, float(timeout_s))
            return _evaluate_isolated(problem, [design])[0]
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except EvaluationTimeout as exc:
        return exc
    finally:
        signal.signal(signal.SIGALRM, previous)


def evaluate_local(problem: Any, designs: Sequence[Design], timeout_s: float | None) -> list[tuple[Outcome, float]]:
    """Evaluate in this process: batched through ``evaluate_many``, or one by one under a timeout."""
    if not timeout_s or threading.current_thread() is not threading.main_thread():
        t0 = time.perf_counter()
        outs = _evaluate_isolated(problem, designs)
        per = (time.perf_counter() - t0) / max(1, len(designs))
        return [(o, per) for o in outs]
    out = []
    for d in designs:
        t0 = time.perf_counter()
        out.append((_timed_one(problem, d, timeout_s), time.perf_counter() - t0))
    return out


_WORKER_PROBLEMS: dict[str, Any] = {}


def worker_task(spec: Mapping[str, Any], designs: list[dict[str, Any]], numbers: list[int] | None, sink: Any,
                timeout_s: float | None) -> list[tuple[Any, float, bool]]:
    """Run in a worker process: rebuild the problem once per spec, evaluate a chunk of designs,
    write each record through ``sink`` if given; returns ``(metrics dict | reason, seconds, written)``."""
    import json

    from codesign.config import build_problem

    key = json.dumps(spec, sort_keys=True, default=str)
    ds = [Design(d) for d in designs]
    try:
        if key not in _WORKER_PROBLEMS:
            import warnings

            from codesign.errors import ParameterWarning

            with warnings.catch_warnings():  # the parent already reported the parameter check
                warnings.simplefilter("ignore", ParameterWarning)
                _WORKER_PROBLEMS[key] = build_problem(spec)
        outs = evaluate_local(_WORKER_PROBLEMS[key], ds, timeout_s)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - the problem itself cannot be built here
        outs = [(EvaluationError(f"the worker could not build the problem: {describe(exc)}"), 0.0)] * len(ds)
    out = []
    for i, (outcome, seconds) in enumerate(outs):
        written = False
        if sink is not None and numbers is not None:
            try:
                written = bool(sink(numbers[i], ds[i], outcome, seconds))
            except Exception:  # noqa: BLE001 - the driver writes it (and reports what is wrong)
                written = False
        payload = outcome.to_dict() if isinstance(outcome, Metrics) else ("error", type(outcome).__name__, describe(outcome))
        out.append((payload, seconds, written))
    return out


def to_result(item: tuple[Any, float, bool]) -> Result:
    """A worker's answer as a :class:`Result`; a failure keeps its reason (and a timeout its type)."""
    payload, seconds, written = item
    if isinstance(payload, dict):
        return Result(Metrics.from_dict(payload), float(seconds), bool(written))
    _, type_name, text = payload
    exc = (EvaluationTimeout if type_name == "EvaluationTimeout" else EvaluationError)(text)
    exc.remote_reason = text  # type: ignore[attr-defined]  # recorded as the worker stated it
    return Result(exc, float(seconds), bool(written))


def chunks(n: int, workers: int, single: bool) -> list[list[int]]:
    """Indices ``0..n-1`` split into one chunk per worker (or one index per chunk)."""
    if single:
        return [[i] for i in range(n)]
    size = max(1, math.ceil(n / workers))
    return [list(range(i, min(n, i + size))) for i in range(0, n, size)]


class InlineExecutor:
    """Evaluate in the calling process; the timeout uses SIGALRM (main thread only).

    With a problem ``spec``, designs the runner suspects (in flight when a process died) are
    evaluated in a one-worker process pool, so a design that crashes its process is caught and
    failed instead of ending every resumed run.
    """

    name = "inline"
    workers = 1
    accepts_sink = True
    remote_writes = False

    def __init__(self, timeout_s: float | None = None, spec: Mapping[str, Any] | None = None,
                 max_crashes: int = MAX_CRASHES) -> None:
        check_timeout(timeout_s)
        self.timeout_s = timeout_s
        self.spec = dict(spec) if spec is not None else None
        self.max_crashes = max_crashes
        self.isolates = spec is not None

    def evaluate(self, problem: Any, designs: Sequence[Design], sink: Any = None, numbers: Sequence[int] | None = None,
                 suspect: bool = False) -> list[Result]:
        if suspect and self.spec is not None:
            from codesign.executors.pool import ProcessExecutor

            pool = ProcessExecutor(1, self.spec, self.timeout_s, self.max_crashes)
            try:
                return pool.evaluate(problem, designs, suspect=True)
            finally:
                pool.close()
        return [Result(o, s) for o, s in evaluate_local(problem, designs, self.timeout_s)]

    def close(self) -> None:
        pass


def check_timeout(timeout_s: Any) -> None:
    """A per-evaluation timeout is ``None`` or a finite number of seconds in [1 ms, 1e7 s]."""
    if timeout_s is None:
        return
    if (isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or not math.isfinite(timeout_s)
            or not MIN_TIMEOUT_S <= timeout_s <= MAX_TIMEOUT_S):
        raise ConfigError(f"--eval-timeout must be a finite number of seconds in [{MIN_TIMEOUT_S:g}, {MAX_TIMEOUT_S:g}], "
                          f"but got {timeout_s!r}")


def make_executor(name: str | None = None, workers: int = 1, spec: Mapping[str, Any] | None = None,
                  timeout_s: float | None = None, address: str | None = None) -> Any:
    """Build an executor; ``name=None`` picks ``process`` when ``workers > 1``, else ``inline``."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"--workers must be an integer >= 1, but got {workers!r}")
    check_timeout(timeout_s)
    if name is None:
        name = "process" if workers > 1 else "inline"
    if name not in EXECUTORS:
        raise ConfigError(f"--executor must be one of {list(EXECUTORS)}, but got {name!r}")
    if name == "inline":
        return InlineExecutor(timeout_s, spec)
    if spec is None:
        raise ConfigError(f"--executor {name} needs a problem spec (the CLI passes one; in Python use codesign.config.problem_spec)")
    if name == "process":
        from codesign.executors.pool import ProcessExecutor

        return ProcessExecutor(workers, spec, timeout_s)
    from codesign.executors.ray_tasks import RayExecutor

    return RayExecutor(workers, spec, timeout_s, address)
