"""What every executor shares: the outcome of one evaluation (:class:`Result`), the
failures an executor adds to an evaluator's own (:class:`EvaluationTimeout`,
:class:`WorkerCrashed`), evaluation in the current process with failure isolation and a
SIGALRM timeout (:func:`evaluate_local`), and the task a worker process runs
(:func:`worker_task`, answered as plain data and read back by :func:`to_result`).

The executors (:mod:`codesign.executors`, :mod:`~codesign.executors.pool`,
:mod:`~codesign.executors.ray_tasks`) import this module; it imports none of them.
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

__all__ = ["EXECUTORS", "MAX_CRASHES", "EvaluationTimeout", "Outcome", "Result", "WorkerCrashed", "check_timeout",
           "chunks", "evaluate_local", "to_result", "worker_task"]

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


def check_timeout(timeout_s: Any) -> None:
    """A per-evaluation timeout is ``None`` or a finite number of seconds in [1 ms, 1e7 s]."""
    if timeout_s is None:
        return
    if (isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or not math.isfinite(timeout_s)
            or not MIN_TIMEOUT_S <= timeout_s <= MAX_TIMEOUT_S):
        raise ConfigError(f"--eval-timeout must be a finite number of seconds in [{MIN_TIMEOUT_S:g}, {MAX_TIMEOUT_S:g}], "
                          f"but got {timeout_s!r}")
