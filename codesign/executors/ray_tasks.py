"""The ``ray`` executor: Ray core tasks (a chunk of designs each) on a local Ray or a cluster.

At most ``workers`` tasks are in flight (so a task starts when it is submitted and its timeout
backstop is honest); a task runs :func:`codesign.executors.worker_task`, which evaluates its
chunk through ``evaluate_many`` and writes the records through the run's sink. A worker that
dies is retried by Ray (``max_retries``); a chunk that still fails is split and retried one
design per task, so only the design that kills its worker fails. A local Ray started here is
shut down by :meth:`RayExecutor.close`, at interpreter exit, and — after a SIGKILL of the
driver, when no exit handler can run — by a reaper process that outlives the driver just long
enough to stop Ray's processes (:mod:`codesign.executors.reaper`).
"""

from __future__ import annotations

import collections
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from codesign.errors import ConfigError, EvaluationError
from codesign.executors import MAX_CRASHES, EvaluationTimeout, Result, WorkerCrashed, check_timeout, chunks, to_result, worker_task
from codesign.types import Design

GRACE_S = 5.0


class RayExecutor:
    """Ray core tasks, a chunk of designs per task, on a local Ray (``address=None``) or a cluster."""

    name = "ray"
    accepts_sink = True
    remote_writes = True
    isolates = True

    def __init__(self, workers: int, spec: Mapping[str, Any], timeout_s: float | None = None,
                 address: str | None = None, max_crashes: int = MAX_CRASHES) -> None:
        check_timeout(timeout_s)
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # local test clusters only
        import ray

        self.workers = workers
        self.spec = dict(spec)
        self.timeout_s = timeout_s
        self.max_crashes = max_crashes
        self._ray = ray
        self._owns = not ray.is_initialized()
        self._reaper: Any = None
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
            if not address:
                from codesign.executors.reaper import Reaper

                self._reaper = Reaper.for_children()
        self._task = ray.remote(num_cpus=1, max_retries=max(0, max_crashes - 1), retry_exceptions=False)(worker_task)

    def evaluate(self, problem: Any, designs: Sequence[Design], sink: Any = None, numbers: Sequence[int] | None = None,
                 suspect: bool = False) -> list[Result]:
        ray = self._ray
        n = len(designs)
        results: list[Result | None] = [None] * n
        queue = collections.deque(chunks(n, self.workers, bool(self.timeout_s) or suspect))
        inflight: dict[Any, tuple[list[int], float]] = {}
        while queue or inflight:
            while queue and len(inflight) < self.workers:
                idx = queue.popleft()
                nums = [numbers[i] for i in idx] if numbers is not None and sink is not None else None
                ref = self._task.remote(self.spec, [designs[i].to_dict() for i in idx], nums, sink, self.timeout_s)
                deadline = (time.monotonic() + self.timeout_s * len(idx) + max(GRACE_S, self.timeout_s)
                            if self.timeout_s else float("inf"))
                inflight[ref] = (idx, deadline)
            wait_s = max(0.0, min(d for _, d in inflight.values()) - time.monotonic())
            ready, _ = ray.wait(list(inflight), num_returns=1, timeout=min(wait_s, 3600.0))
            if ready:
                ready, _ = ray.wait(list(inflight), num_returns=len(inflight), timeout=0)
            for ref in ready:
                idx, _ = inflight.pop(ref)
                self._collect(ref, idx, queue, results)
            now = time.monotonic()
            for ref in [r for r, (_, d) in inflight.items() if d <= now]:
                idx, _ = inflight.pop(ref)
                ray.cancel(ref, force=True)
                for i in idx:
                    results[i] = Result(EvaluationTimeout(f"evaluation exceeded the timeout of {self.timeout_s:g} s "
                                                          "(its Ray task was cancelled)"), float(self.timeout_s or 0))
        return [r for r in results if r is not None]

    def _collect(self, ref: Any, idx: list[int], queue: collections.deque[list[int]], results: list[Result | None]) -> None:
        ray = self._ray
        try:
            items = ray.get(ref)
        except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError) as exc:
            if len(idx) > 1:  # which design of the chunk? retry them one per task
                queue.extendleft([[i] for i in reversed(idx)])
                return
            results[idx[0]] = Result(WorkerCrashed(
                f"evaluating this design killed its Ray worker {self.max_crashes} times; not retried "
                f"({type(exc).__name__})"), 0.0)
            return
        except Exception as exc:  # noqa: BLE001 - task cancelled, object lost, ...
            for i in idx:
                results[i] = Result(EvaluationError(f"ray task failed: {type(exc).__name__}: "
                                                    f"{' '.join(str(exc).split())[:300]}"), 0.0)
            return
        for i, item in zip(idx, items):
            results[i] = to_result(item)

    def close(self) -> None:
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()
        if self._reaper is not None:
            self._reaper.stop()
            self._reaper = None
