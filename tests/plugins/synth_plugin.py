"""A user-style plugin: registers a fast synthetic evaluator and problem (used by the tests)."""

from __future__ import annotations

import codesign
from codesign.evaluators.base import BaseEvaluator
from codesign.evaluators.composite import Problem
from codesign.testing.agents import OBJECTIVES, conformance_space, synthetic_metrics


class SynthEvaluator(BaseEvaluator):
    """Deterministic two-objective trade-off; fails on purpose for one PE type if asked."""

    name = "synth"
    metrics = ("quality", "cost")

    def __init__(self, fail_on: str | None = None, nan_on: str | None = None, delay: float = 0.0) -> None:
        self.fail_on = fail_on
        self.nan_on = nan_on
        self.delay = delay

    def evaluate(self, design):  # type: ignore[no-untyped-def]
        if self.delay:
            import time

            time.sleep(self.delay)
        if design["pe_type"] == self.fail_on:
            raise RuntimeError(f"simulated failure for {self.fail_on}")
        m = synthetic_metrics(design)
        if design["pe_type"] == self.nan_on:
            m.values["cost"] = float("nan")
        return m


@codesign.register_problem("synth-test", overwrite=True)
def synth_problem(fail_on: str | None = None, nan_on: str | None = None, delay: float = 0.0) -> Problem:
    """Synthetic test problem over the conformance space (``delay`` seconds per evaluation)."""
    return Problem("synth-test", conformance_space(), [SynthEvaluator(fail_on, nan_on, delay)], OBJECTIVES)


@codesign.register_space("synth-space", overwrite=True)
def synth_space():  # type: ignore[no-untyped-def]
    """The conformance space without the lut PE."""
    from codesign.spaces.params import Categorical
    from codesign.spaces.space import Space

    base = conformance_space()
    params = [Categorical("pe_type", "hw", ("bit_parallel", "bit_serial")) if p.name == "pe_type" else p
              for p in base.params]
    return Space(params, base.constraints, name="synth-space")
