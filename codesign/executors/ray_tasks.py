"""The ``ray`` executor: ``workers`` Ray actors on a local Ray or a cluster.

Each actor evaluates one chunk of designs at a time (so a call starts when it is made and its
timeout backstop is honest) through :func:`codesign.executors.worker_task`: ``evaluate_many``,
the records written through the run's sink. A chunk whose actor died is split and retried one
design per call; a design that kills its actor ``max_crashes`` times fails, alone. A local Ray started here is
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
from codesign.executors.worker import MAX_CRASHES, EvaluationTimeout, Result, WorkerCrashed, check_timeout, chunks, to_result, worker_task
from codesign.types import Design

GRACE_S = 5.0


class EvaluatorActor:
    """A Ray actor: one long-lived worker process that keeps the problem (and its models) built."""

    def run(self, spec: Mapping[str, Any], designs: list[dict[str, Any]], numbers: list[int] | None, sink: Any,
            timeout_s: float | None) -> list[tuple[Any, float, bool]]:
        return worker_task(spec, designs, numbers, sink, timeout_s)


class RayExecutor:
    """``workers`` Ray actors, each evaluating a chunk of designs at a time, on a local Ray
    (``address=None``) or a cluster.

    Actors rather than tasks: a task is scheduled by the raylet each time (on a 2-core machine,
    32 one-second tasks took 2.8-3.1 s per round, against 1.04-1.09 s for 32 actor calls:
    ``python`` measurement in the store helper's report), and an actor keeps the problem built.
    ``processes < workers`` runs ``workers`` concurrent calls in fewer actor processes (threads;
    for simulations whose evaluations sleep: crash isolation is then per process). A dead actor is replaced by a fresh one (not restarted by Ray: a call to a restarting actor
    fails as "unavailable" whether or not its design killed it); its chunk is handled as the
    process pool handles a dead worker.
    """

    name = "ray"
    accepts_sink = True
    remote_writes = True
    isolates = True

    def __init__(self, workers: int, spec: Mapping[str, Any], timeout_s: float | None = None,
                 address: str | None = None, max_crashes: int = MAX_CRASHES, processes: int | None = None) -> None:
        check_timeout(timeout_s)
        processes = workers if processes is None else processes
        if isinstance(processes, bool) or not isinstance(processes, int) or not 1 <= processes <= workers:
            raise ConfigError(f"Ray processes must be an integer in [1, {workers}] (the workers), but got {processes!r}")
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
            if not address:
                from codesign.executors.reaper import Reaper

                self._reaper = Reaper.for_children()
            try:
                ray.init(**kwargs)
            except Exception as exc:
                self._stop_reaper()
                raise ConfigError(f"cannot start or reach Ray at {address or 'a local instance'}: {exc}") from None
        per = -(-workers // processes)  # concurrent calls per actor process (threads)
        self._actor_cls = ray.remote(num_cpus=1 if per == 1 else 0, max_restarts=0, max_task_retries=0,
                                     max_concurrency=per)(EvaluatorActor)
        self._actors = [self._actor_cls.remote() for _ in range(processes)]

    def _actor(self, slot: int) -> Any:
        return self._actors[slot % len(self._actors)]

    def _replace(self, slot: int, dead: Any) -> None:
        """A fresh actor in place of ``dead`` (calls to it wait until it is up); once per death."""
        k = slot % len(self._actors)
        if self._actors[k] is not dead:
            return  # another slot of the same process replaced it already
        try:
            self._ray.kill(dead, no_restart=True)
        except Exception:  # noqa: BLE001 - already dead
            pass
        self._actors[k] = self._actor_cls.remote()

    def evaluate(self, problem: Any, designs: Sequence[Design], sink: Any = None, numbers: Sequence[int] | None = None,
                 suspect: bool = False) -> list[Result]:
        ray = self._ray
        n = len(designs)
        results: list[Result | None] = [None] * n
        crashes = [0] * n
        queue = collections.deque(chunks(n, self.workers, bool(self.timeout_s) or suspect))
        idle = list(range(self.workers))
        inflight: dict[Any, tuple[int, list[int], float, Any]] = {}
        while queue or inflight:
            while queue and idle:
                slot, idx = idle.pop(), queue.popleft()
                nums = [numbers[i] for i in idx] if numbers is not None and sink is not None else None
                actor = self._actor(slot)
                ref = actor.run.remote(self.spec, [designs[i].to_dict() for i in idx], nums, sink, self.timeout_s)
                deadline = (time.monotonic() + self.timeout_s * len(idx) + max(GRACE_S, self.timeout_s)
                            if self.timeout_s else float("inf"))
                inflight[ref] = (slot, idx, deadline, actor)
            wait_s = max(0.0, min(v[2] for v in inflight.values()) - time.monotonic())
            ready, _ = ray.wait(list(inflight), num_returns=1, timeout=min(wait_s, 3600.0))
            if ready:
                ready, _ = ray.wait(list(inflight), num_returns=len(inflight), timeout=0)
            for ref in ready:
                slot, idx, _, actor = inflight.pop(ref)
                idle.append(slot)
                if not self._collect(ref, idx, queue, results, crashes):
                    self._replace(slot, actor)
            now = time.monotonic()
            for ref in [r for r, v in inflight.items() if v[2] <= now]:
                slot, idx, _, actor = inflight.pop(ref)
                self._replace(slot, actor)  # a stuck evaluator: a fresh process in its place
                idle.append(slot)
                for i in idx:
                    results[i] = Result(EvaluationTimeout(f"evaluation exceeded the timeout of {self.timeout_s:g} s "
                                                          "(its Ray worker was restarted)"), float(self.timeout_s or 0))
        return [r for r in results if r is not None]

    def _collect(self, ref: Any, idx: list[int], queue: collections.deque[list[int]], results: list[Result | None],
                 crashes: list[int]) -> bool:
        """Take a call's answer; False if its actor died (actors are not restarted by Ray, so a
        died call is exactly one whose evaluation killed the process)."""
        ray = self._ray
        try:
            items = ray.get(ref)
        except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError) as exc:
            if len(idx) > 1:  # which design of the chunk? retry them one per call
                queue.extendleft([[i] for i in reversed(idx)])
                return False
            i = idx[0]
            crashes[i] += 1
            if crashes[i] < self.max_crashes:
                queue.appendleft([i])
            else:
                results[i] = Result(WorkerCrashed(f"evaluating this design killed its Ray worker {crashes[i]} times; "
                                                  f"not retried ({type(exc).__name__})"), 0.0)
            return False
        except Exception as exc:  # noqa: BLE001 - object lost, ...
            for i in idx:
                results[i] = Result(EvaluationError(f"ray task failed: {type(exc).__name__}: "
                                                    f"{' '.join(str(exc).split())[:300]}"), 0.0)
            return True
        for i, item in zip(idx, items):
            results[i] = to_result(item)
        return True

    def _stop_reaper(self) -> None:
        if self._reaper is not None:
            self._reaper.stop()
            self._reaper = None

    def close(self) -> None:
        for actor in getattr(self, "_actors", []):
            try:
                self._ray.kill(actor, no_restart=True)
            except Exception:  # noqa: BLE001 - Ray already down
                pass
        self._actors = []
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()
        self._stop_reaper()
