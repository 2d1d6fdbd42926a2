"""A small, fast, real Problem for the environment tests.

Workload: a conv, a depthwise conv and a linear layer. Space: per-layer W/A bits x a small
accelerator (with the constraint ``array_rows * array_cols <= 128``) x the mapping of ``fc``,
so it has the three subsystems ``quant``, ``hw``, ``mapping``. Evaluator: an analytic model
defined here (MACs x bit-cycles / PEs for latency, PE and buffer counts for area, a
quantization-error proxy ``Σ 2^-w + 2^-a``), with a metric constraint on area.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from codesign.evaluators.base import BaseEvaluator
from codesign.evaluators.composite import Problem
from codesign.spaces.builders import joint_space, layer_bits
from codesign.types import Design, Metrics
from codesign.workloads.layer import Workload, conv, gemm


def tiny_workload() -> Workload:
    return Workload(
        "tiny",
        [
            conv("conv1", C=3, M=16, R=3, P=8),
            conv("dw2", C=16, M=16, R=3, P=4, stride=2, groups=16),
            gemm("fc", M=4, N=10, K=256),
        ],
    )


class AnalyticEvaluator(BaseEvaluator):
    """latency_cycles, area_mm2 and quant_error of a design, in closed form."""

    name = "analytic-test"
    version = "1"
    metrics = ("latency_cycles", "area_mm2", "quant_error")

    def __init__(self, workload: Workload) -> None:
        self.workload = workload

    def evaluate(self, design: Design) -> Metrics:
        pes = int(design["array_rows"]) * int(design["array_cols"])
        serial = design["pe_type"] == "bit_serial"
        cycles, error = 0.0, 0.0
        for layer in self.workload.layers:
            w, a = layer_bits(design, layer) or (8, 8)
            bit_cycles = w if serial else max(w * a / 16, 1.0)
            cycles += layer.macs * bit_cycles / pes
            error += 2.0**-w + 2.0**-a
        area = pes * (0.002 if serial else 0.01) + int(design["glb_kb"]) * 0.005
        return Metrics({"latency_cycles": cycles, "area_mm2": area, "quant_error": error})


def make_tiny_problem() -> Problem:
    wl = tiny_workload()
    space = joint_space(
        wl,
        quant={"w_bits": (2, 8), "a_bits": (4, 8)},
        hw={
            "pe_types": ("bit_parallel", "bit_serial"), "rows": (4, 16), "cols": (4, 16),
            "glb_kb": (16, 64), "pe_buf_bytes": (16, 32), "dram_gbps": (12.8,), "clock_mhz": (500,),
            "max_pes": 128,
        },
        mapping={"layers": ["fc"], "max_tile_choices": 3},
        name="tiny",
    )
    return Problem(
        "tiny", space, [AnalyticEvaluator(wl)], ["latency_cycles", "area_mm2", "quant_error"],
        constraints=["area_mm2 <= 1.5"], workload=wl,
    )


class CountingEvaluate:
    """An ``evaluate`` hook that records every design it is asked to score."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.calls: list[list[Design]] = []

    def __call__(self, designs: Sequence[Design]) -> list[Metrics]:
        self.calls.append(list(designs))
        return self.problem.evaluate_many(designs)

    @property
    def designs(self) -> list[Design]:
        return [d for call in self.calls for d in call]
