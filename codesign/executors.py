"""Executors: where evaluations run — ``inline`` (this process), ``process`` (a local process
pool, the default when more than one worker is asked for) and ``ray`` (Ray core tasks on a
local Ray or an existing cluster).

An executor returns, per design, its :class:`~codesign.types.Metrics` or the exception that
evaluating it raised, so one failing (or timed-out) design never loses the others. Pool and
Ray workers rebuild the problem once per process from a JSON-able problem spec
(:mod:`codesign.config`), since evaluators may hold state that does not pickle; each design
is one task, so a per-evaluation timeout applies to exactly one design.
"""

from __future__ import annotations

import math
import signal
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from codesign.errors import ConfigError, EvaluationError
from codesign.types import Design, Metrics

Outcome = Metrics | BaseException
EXECUTORS = ("inline", "process", "ray")


class EvaluationTimeout(EvaluationError):
    """An evaluation ran past the per-evaluation timeout."""


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


class InlineExecutor:
    """Evaluate in the calling process; the timeout uses SIGALRM (main thread only)."""

    name = "inline"
    workers = 1

    def __init__(self, timeout_s: float | None = None) -> None:
        self.timeout_s = timeout_s

    def evaluate(self, problem: Any, designs: Sequence[Design]) -> list[Outcome]:
        if not self.timeout_s or threading.current_thread() is not threading.main_thread():
            return _evaluate_isolated(problem, designs)
        return [self._one(problem, d) for d in designs]

    def _one(self, problem: Any, design: Design) -> Outcome:
        def _alarm(signum: int, frame: Any) -> None:
            raise EvaluationTimeout(f"evaluation exceeded the timeout of {self.timeout_s:g} s")

        previous = signal.signal(signal.SIGALRM, _alarm)
        try:
            try:  # the alarm may fire at once (a tiny timeout): arm it inside the try
                signal.setitimer(signal.ITIMER_REAL, float(self.timeout_s))  # type: ignore[arg-type]
                return _evaluate_isolated(problem, [design])[0]
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except EvaluationTimeout as exc:
            return exc
        finally:
            signal.signal(signal.SIGALRM, previous)

    def close(self) -> None:
        pass


_WORKER_PROBLEMS: dict[str, Any] = {}


def _worker_evaluate(spec: Mapping[str, Any], design: dict[str, Any]) -> Any:
    """Run in a worker process: rebuild the problem once per spec, evaluate one design."""
    import json

    from codesign.config import build_problem

    key = json.dumps(spec, sort_keys=True, default=str)
    if key not in _WORKER_PROBLEMS:
        import warnings

        from codesign.errors import ParameterWarning

        with warnings.catch_warnings():  # the parent already reported the parameter check
            warnings.simplefilter("ignore", ParameterWarning)
            _WORKER_PROBLEMS[key] = build_problem(spec)
    out = _evaluate_isolated(_WORKER_PROBLEMS[key], [Design(design)])[0]
    return out.to_dict() if isinstance(out, Metrics) else f"{type(out).__name__}: {out}"


def _outcome(result: Any) -> Outcome:
    return Metrics.from_dict(result) if isinstance(result, dict) else EvaluationError(str(result))


class ProcessExecutor:
    """A local pool of ``workers`` processes (spawned, so it is safe with threads and torch)."""

    name = "process"

    def __init__(self, workers: int, spec: Mapping[str, Any], timeout_s: float | None = None) -> None:
        self.workers = workers
        self.spec = dict(spec)
        self.timeout_s = timeout_s
        self._pool = self._new_pool()

    def _new_pool(self) -> Any:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))

    def evaluate(self, problem: Any, designs: Sequence[Design]) -> list[Outcome]:
        from concurrent.futures import TimeoutError as FutureTimeout

        futures = [self._pool.submit(_worker_evaluate, self.spec, d.to_dict()) for d in designs]
        out: list[Outcome] = []
        broken = False
        for fut in futures:
            try:
                out.append(_outcome(fut.result(timeout=self.timeout_s)))
            except FutureTimeout:
                out.append(EvaluationTimeout(f"evaluation exceeded the timeout of {self.timeout_s:g} s"))
                broken = True
            except Exception as exc:  # a worker died (e.g. killed): a failed evaluation
                out.append(EvaluationError(f"worker failed: {type(exc).__name__}: {exc}"))
                broken = True
        if broken:  # a stuck or dead worker cannot be reused: start a fresh pool
            self._kill()
            self._pool = self._new_pool()
        return out

    def _kill(self) -> None:
        for proc in list(getattr(self._pool, "_processes", {}).values()):
            proc.kill()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


class RayExecutor:
    """Ray core tasks, one per design, on a local Ray (``address=None``) or a cluster."""

    name = "ray"

    def __init__(self, workers: int, spec: Mapping[str, Any], timeout_s: float | None = None,
                 address: str | None = None) -> None:
        import os

        os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # local test clusters only
        import ray

        self.workers = workers
        self.spec = dict(spec)
        self.timeout_s = timeout_s
        self._ray = ray
        self._owns = not ray.is_initialized()
        if self._owns:
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
            if address:
                kwargs["address"] = address
            else:
                kwargs["num_cpus"] = workers
            try:
                ray.init(**kwargs)
            except Exception as exc:
                raise ConfigError(f"cannot start or reach Ray at {address or 'a local instance'}: {exc}") from None
        self._task = ray.remote(num_cpus=1)(_worker_evaluate)

    def evaluate(self, problem: Any, designs: Sequence[Design]) -> list[Outcome]:
        ray = self._ray
        refs = [self._task.remote(self.spec, d.to_dict()) for d in designs]
        out: list[Outcome] = []
        for ref in refs:
            try:
                out.append(_outcome(ray.get(ref, timeout=self.timeout_s)))
            except ray.exceptions.GetTimeoutError:
                ray.cancel(ref, force=True)
                out.append(EvaluationTimeout(f"evaluation exceeded the timeout of {self.timeout_s:g} s"))
            except Exception as exc:  # noqa: BLE001 - worker crash etc.
                out.append(EvaluationError(f"ray task failed: {type(exc).__name__}: {exc}"))
        return out

    def close(self) -> None:
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()


MIN_TIMEOUT_S, MAX_TIMEOUT_S = 1e-3, 1e7


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
        return InlineExecutor(timeout_s)
    if spec is None:
        raise ConfigError(f"--executor {name} needs a problem spec (the CLI passes one; in Python use codesign.config.problem_spec)")
    if name == "process":
        return ProcessExecutor(workers, spec, timeout_s)
    return RayExecutor(workers, spec, timeout_s, address)
