"""Executors: where evaluations run. ``inline`` (this process) and ``process`` (a local pool).

An executor maps ``problem.evaluate_many`` over chunks of designs and returns, per design,
either its :class:`~codesign.types.Metrics` or the exception that evaluating it raised, so
that one failing design never loses the others. Process workers rebuild the problem from
its registry spec (name + kwargs), since evaluators may hold unpicklable state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from codesign.errors import ConfigError
from codesign.types import Design, Metrics

Outcome = Metrics | BaseException


def _evaluate_isolated(problem: Any, designs: Sequence[Design]) -> list[Outcome]:
    """Evaluate a batch; if the batch raises, evaluate one by one to isolate the failure."""
    try:
        return list(problem.evaluate_many(list(designs)))
    except Exception:
        if len(designs) == 1:
            import sys

            return [sys.exc_info()[1]]  # type: ignore[list-item]
    out: list[Outcome] = []
    for d in designs:
        try:
            out.append(problem.evaluate_many([d])[0])
        except Exception as exc:  # noqa: BLE001 - recorded as a failed evaluation
            out.append(exc)
    return out


class InlineExecutor:
    """Evaluate in the calling process."""

    name = "inline"
    workers = 1

    def evaluate(self, problem: Any, designs: Sequence[Design]) -> list[Outcome]:
        return _evaluate_isolated(problem, designs)

    def close(self) -> None:
        pass


_WORKER_PROBLEM: dict[str, Any] = {}


def _worker_evaluate(spec: tuple[str, dict[str, Any], tuple[str, ...]], designs: list[dict[str, Any]]) -> list[Any]:
    from codesign.registry import load_plugin, make_problem

    name, kwargs, plugins = spec
    key = repr(spec)
    if key not in _WORKER_PROBLEM:
        for p in plugins:
            load_plugin(p)
        _WORKER_PROBLEM[key] = make_problem(name, **kwargs)
    outcomes = _evaluate_isolated(_WORKER_PROBLEM[key], [Design(d) for d in designs])
    return [o.to_dict() if isinstance(o, Metrics) else f"{type(o).__name__}: {o}" for o in outcomes]


class ProcessExecutor:
    """A local process pool; needs a problem built from the registry (``problem_spec``)."""

    name = "process"

    def __init__(self, workers: int, problem_spec: tuple[str, dict[str, Any], tuple[str, ...]] | None) -> None:
        if problem_spec is None:
            raise ConfigError("--executor process needs a registered problem (name + kwargs), not an inline config")
        from concurrent.futures import ProcessPoolExecutor
        import multiprocessing

        self.workers = workers
        self.spec = problem_spec
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))

    def evaluate(self, problem: Any, designs: Sequence[Design]) -> list[Outcome]:
        from codesign.errors import EvaluationError

        chunks = [list(designs[i :: self.workers]) for i in range(self.workers)]
        futures = [self._pool.submit(_worker_evaluate, self.spec, [d.to_dict() for d in c]) for c in chunks if c]
        results: dict[int, Outcome] = {}
        for w, fut in enumerate(futures):
            for j, out in enumerate(fut.result()):
                idx = w + j * self.workers
                results[idx] = Metrics.from_dict(out) if isinstance(out, dict) else EvaluationError(out)
        return [results[i] for i in range(len(designs))]

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


def make_executor(name: str = "inline", workers: int = 1,
                  problem_spec: tuple[str, dict[str, Any], tuple[str, ...]] | None = None) -> Any:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"--workers must be an integer >= 1, but got {workers!r}")
    if name == "inline":
        return InlineExecutor()
    if name == "process":
        return ProcessExecutor(workers, problem_spec)
    raise ConfigError(f"--executor must be one of ['inline', 'process'], but got {name!r}")


ProgressCallback = Callable[[Any, int, int], None]
