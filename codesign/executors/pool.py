"""The ``process`` executor: a local pool of spawned worker processes, one pipe each.

Not :class:`concurrent.futures.ProcessPoolExecutor`: there one worker that dies breaks the
whole pool and fails every design in flight beside it (``BrokenProcessPool``), the dead
worker's design cannot be told apart, a queued design's timeout runs while it waits, and the
workers outlive a SIGKILLed driver. Here the driver knows which chunk each worker holds:

- a worker that dies: its chunk is split and retried one design per task; a design that kills
  its worker ``max_crashes`` times fails (:class:`~codesign.executors.WorkerCrashed`), alone;
- timeouts run inside the worker from the design's start (SIGALRM), with the driver killing
  the worker at ``timeout + grace`` if the evaluator ignores the signal;
- workers set ``PR_SET_PDEATHSIG`` (SIGKILL when the driver dies, however it dies), ignore
  SIGINT (a terminal's Ctrl-C reaches the whole process group; the driver handles it) and are
  daemonic (reaped at the driver's exit); :meth:`ProcessExecutor.close` kills and joins them.
"""

from __future__ import annotations

import collections
import os
import signal
import time
from collections.abc import Mapping, Sequence
from typing import Any

from codesign.executors.worker import MAX_CRASHES, EvaluationTimeout, Result, WorkerCrashed, check_timeout, chunks, to_result, worker_task
from codesign.types import Design

GRACE_S = 2.0


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux; elsewhere a no-op)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return


def _serve(conn: Any, parent: int) -> None:
    """A worker's loop: receive a task, evaluate it, send the results; exit on EOF or None."""
    die_with_parent()
    if os.getppid() != parent:  # the driver died before the line above took effect
        os._exit(0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.dup2(2, 1)  # an evaluator's prints go to stderr: the driver's stdout may carry one JSON document
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        task_id, spec, designs, numbers, sink, timeout_s = msg
        conn.send((task_id, worker_task(spec, designs, numbers, sink, timeout_s)))


class _Worker:
    def __init__(self, ctx: Any) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, os.getpid()), daemon=True, name="codesign-worker")
        self.proc.start()
        child.close()
        self.task: tuple[int, list[int]] | None = None
        self.deadline = float("inf")

    def kill(self) -> None:
        try:
            self.proc.kill()
        except (OSError, ValueError):
            pass
        self.proc.join(timeout=5)
        self.conn.close()


def _signal_name(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


class ProcessExecutor:
    """A local pool of ``workers`` processes (spawned: safe with threads and torch)."""

    name = "process"
    accepts_sink = True
    remote_writes = True
    isolates = True

    def __init__(self, workers: int, spec: Mapping[str, Any], timeout_s: float | None = None,
                 max_crashes: int = MAX_CRASHES) -> None:
        import multiprocessing

        check_timeout(timeout_s)
        self.workers = workers
        self.spec = dict(spec)
        self.timeout_s = timeout_s
        self.max_crashes = max_crashes
        self._ctx = multiprocessing.get_context("spawn")
        self._pool: list[_Worker] = []
        self._next_task = 0

    def _idle(self) -> _Worker | None:
        for w in self._pool:
            if w.task is None:
                return w
        if len(self._pool) < self.workers:
            self._pool.append(_Worker(self._ctx))
            return self._pool[-1]
        return None

    def evaluate(self, problem: Any, designs: Sequence[Design], sink: Any = None, numbers: Sequence[int] | None = None,
                 suspect: bool = False) -> list[Result]:
        from multiprocessing.connection import wait

        for w in [w for w in self._pool if w.task is not None]:
            self._replace(w)  # left busy by an interrupted call: its answer would be stale
        n = len(designs)
        results: list[Result | None] = [None] * n
        crashes = [0] * n
        queue = collections.deque(chunks(n, self.workers, bool(self.timeout_s) or suspect))
        while queue or any(w.task is not None for w in self._pool):
            while queue and (worker := self._idle()) is not None:
                idx = queue.popleft()
                self._next_task += 1
                worker.task = (self._next_task, idx)
                worker.deadline = (time.monotonic() + (self.timeout_s * len(idx) + max(GRACE_S, self.timeout_s))
                                   if self.timeout_s else float("inf"))
                nums = [numbers[i] for i in idx] if numbers is not None and sink is not None else None
                worker.conn.send((self._next_task, self.spec, [designs[i].to_dict() for i in idx], nums, sink,
                                  self.timeout_s))
            busy = [w for w in self._pool if w.task is not None]
            wait_s = max(0.0, min(w.deadline for w in busy) - time.monotonic()) if busy else 0.0
            ready = set(wait([x for w in busy for x in (w.conn, w.proc.sentinel)], timeout=min(wait_s, 3600.0)))
            for w in busy:
                if w.conn in ready:
                    try:
                        task_id, items = w.conn.recv()
                    except (EOFError, OSError):
                        self._died(w, designs, queue, results, crashes)
                        continue
                    if task_id != w.task[0]:  # type: ignore[index]
                        continue
                    for i, item in zip(w.task[1], items):  # type: ignore[index]
                        results[i] = to_result(item)
                    w.task = None
                elif w.proc.sentinel in ready:
                    self._died(w, designs, queue, results, crashes)
                elif time.monotonic() >= w.deadline:
                    for i in w.task[1]:  # type: ignore[index]
                        results[i] = Result(EvaluationTimeout(
                            f"evaluation exceeded the timeout of {self.timeout_s:g} s (its worker was killed)"),
                            float(self.timeout_s or 0))
                    self._replace(w)
        return [r for r in results if r is not None]

    def _died(self, w: _Worker, designs: Sequence[Design], queue: collections.deque[list[int]],
              results: list[Result | None], crashes: list[int]) -> None:
        """A worker died holding a chunk: retry it one design per task; fail a repeat offender."""
        w.proc.join(timeout=5)
        how = _signal_name(w.proc.exitcode)
        idx = w.task[1]  # type: ignore[index]
        self._replace(w)
        if len(idx) > 1:
            queue.extendleft([[i] for i in reversed(idx)])
            return
        i = idx[0]
        crashes[i] += 1
        if crashes[i] >= self.max_crashes:
            results[i] = Result(WorkerCrashed(f"evaluating this design killed its worker process {crashes[i]} times "
                                              f"(last: {how}); not retried"), 0.0)
        else:
            queue.appendleft([i])

    def _replace(self, w: _Worker) -> None:
        w.kill()
        self._pool.remove(w)

    def close(self) -> None:
        for w in self._pool:
            try:
                w.conn.send(None)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + 2.0
        for w in self._pool:
            w.proc.join(timeout=max(0.0, deadline - time.monotonic()))
            if w.proc.is_alive():
                w.kill()
        self._pool = []

    def __del__(self) -> None:  # a forgotten close(): still no stray processes
        try:
            for w in self._pool:
                w.proc.kill()
        except Exception:  # noqa: BLE001
            pass
