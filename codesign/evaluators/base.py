"""The Evaluator protocol: ``evaluate(design) -> Metrics`` and a batched ``evaluate_many``.

Evaluators are pure with respect to the design (same design, same metrics), so results are
cached by ``(design.key, evaluator name, evaluator version)``. Infeasibility is a result
(:attr:`Metrics.violations`), not an exception; an exception means the evaluation failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from codesign.types import Design, Metrics


@runtime_checkable
class Evaluator(Protocol):
    """What every evaluator provides.

    Attributes:
        name: registry name (``roofline``, ``digits-probe``, ...).
        version: bumped whenever results for the same design change; part of the cache key.
        metrics: names of the values it reports (units in the names).
        cache_key: (optional attribute) a string of the settings that change results for the
            same design (e.g. an evaluation-set size); part of the problem's cache key.
    """

    name: str
    version: str
    metrics: tuple[str, ...]

    def evaluate(self, design: Design) -> Metrics: ...

    def evaluate_many(self, designs: Sequence[Design]) -> list[Metrics]: ...


class BaseEvaluator:
    """Convenience base: ``evaluate_many`` loops over ``evaluate``; override to vectorize."""

    name: str = "evaluator"
    version: str = "1"
    metrics: tuple[str, ...] = ()

    def evaluate(self, design: Design) -> Metrics:  # pragma: no cover - abstract
        raise NotImplementedError

    def evaluate_many(self, designs: Sequence[Design]) -> list[Metrics]:
        return [self.evaluate(d) for d in designs]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, version={self.version!r})"
