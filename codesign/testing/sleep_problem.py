"""A simulated problem for scale benchmarks: every evaluation sleeps (CPU-free) for a fixed time.

Load it as a plugin (``codesign.registry.load_plugin(PLUGIN)``; process and Ray workers load it
the same way from the problem spec), then build ``{"name": "bench-sleep", "kwargs":
{"sleep_s": 1.0}}``. Its space has 12 integer parameters of 1000 values each (1e36 designs),
so a random search never draws a design twice and every evaluation is a real one. With
``payload_kb`` each record carries a breakdown of that size (large appends for torture runs).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from codesign.evaluators.base import BaseEvaluator
from codesign.evaluators.composite import Problem
from codesign.registry import register_problem
from codesign.spaces.params import Integer
from codesign.spaces.space import Space
from codesign.types import Design, Metrics, Objective

PLUGIN = os.path.abspath(__file__)
NAME = "bench-sleep"


class SleepEvaluator(BaseEvaluator):
    """Sleeps ``sleep_s`` per design; two cheap objectives from the parameters."""

    name = "sleep"
    metrics = ("a", "b")

    def __init__(self, sleep_s: float = 1.0, payload_kb: int = 0) -> None:
        self.sleep_s = float(sleep_s)
        self.payload_kb = int(payload_kb)

    def evaluate(self, design: Design) -> Metrics:
        return self.evaluate_many([design])[0]

    def evaluate_many(self, designs: Sequence[Design]) -> list[Metrics]:
        time.sleep(self.sleep_s * len(designs))
        out = []
        for d in designs:
            x = [d[f"x{i}"] for i in range(12)]
            breakdown = {"blob": "x" * (1024 * self.payload_kb)} if self.payload_kb else {}
            out.append(Metrics({"a": float(sum(x)), "b": float(sum((999 - v) ** 2 for v in x))}, breakdown))
        return out


def sleep_space() -> Space:
    return Space([Integer(f"x{i}", "sim", 0, 999) for i in range(12)], name="sleep")


@register_problem(NAME, overwrite=True)
def sleep_problem(sleep_s: float = 1.0, payload_kb: int = 0) -> Problem:
    """Evaluations that sleep ``sleep_s`` seconds (CPU-free), for scale benchmarks."""
    return Problem(NAME, sleep_space(), [SleepEvaluator(sleep_s, payload_kb)],
                   [Objective("a", "min"), Objective("b", "min")])
