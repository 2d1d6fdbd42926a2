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

    def __init__(self, fail_on: str | None = None, nan_on: str | None = None, delay: float = 0.0,
                 exit_on: str | None = None, crash_on: str | None = None, slow_on: str | None = None,
                 noisy: bool = False) -> None:
        self.fail_on = fail_on
        self.nan_on = nan_on
        self.delay = delay
        self.exit_on = exit_on  # raise SystemExit (an evaluator that calls sys.exit)
        self.crash_on = crash_on  # kill the evaluating process with SIGSEGV (a crashing native library)
        self.slow_on = slow_on  # sleep 30 s (a stuck evaluation)
        self.noisy = noisy  # print to stdout while evaluating

    def evaluate(self, design):  # type: ignore[no-untyped-def]
        if self.delay:
            import time

            time.sleep(self.delay)
        if self.noisy:
            print("evaluating", dict(design))
        if design["pe_type"] == self.fail_on:
            raise RuntimeError(f"simulated failure for {self.fail_on}")
        if design["pe_type"] == self.exit_on:
            raise SystemExit(5)
        if design["pe_type"] == self.slow_on:
            import time

            time.sleep(30)
        if design["pe_type"] == self.crash_on:
            import os
            import signal

            os.kill(os.getpid(), signal.SIGSEGV)
        m = synthetic_metrics(design)
        if design["pe_type"] == self.nan_on:
            m.values["cost"] = float("nan")
        return m


@codesign.register_problem("synth-test", overwrite=True)
def synth_problem(fail_on: str | None = None, nan_on: str | None = None, delay: float = 0.0,
                  exit_on: str | None = None, crash_on: str | None = None, slow_on: str | None = None,
                  noisy: bool = False) -> Problem:
    """Synthetic test problem over the conformance space (``delay`` seconds per evaluation)."""
    return Problem("synth-test", conformance_space(), [SynthEvaluator(fail_on, nan_on, delay, exit_on, crash_on, slow_on, noisy)],
                   OBJECTIVES)


@codesign.register_space("synth-space", overwrite=True)
def synth_space():  # type: ignore[no-untyped-def]
    """The conformance space without the lut PE."""
    from codesign.spaces.params import Categorical
    from codesign.spaces.space import Space

    base = conformance_space()
    params = [Categorical("pe_type", "hw", ("bit_parallel", "bit_serial")) if p.name == "pe_type" else p
              for p in base.params]
    return Space(params, base.constraints, name="synth-space")
