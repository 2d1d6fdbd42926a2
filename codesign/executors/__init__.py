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

from collections.abc import Mapping, Sequence
from typing import Any

from codesign.errors import ConfigError
from codesign.executors.worker import (EXECUTORS, MAX_CRASHES, EvaluationTimeout, Outcome, Result, WorkerCrashed,
                                       check_timeout, chunks, evaluate_local, to_result, worker_task)
from codesign.types import Design

__all__ = ["EXECUTORS", "MAX_CRASHES", "EvaluationTimeout", "InlineExecutor", "Outcome", "Result", "WorkerCrashed",
           "check_timeout", "chunks", "evaluate_local", "make_executor", "to_result", "worker_task"]


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


def make_executor(name: str | None = None, workers: int = 1, spec: Mapping[str, Any] | None = None,
                  timeout_s: float | None = None, address: str | None = None, processes: int | None = None) -> Any:
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

    return RayExecutor(workers, spec, timeout_s, address, processes=processes)
