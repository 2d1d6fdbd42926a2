"""The flagship problems offer the new PE families and score zero-bit skipping on the model's own weights."""

from __future__ import annotations

import pytest

from codesign.builtins import register_builtins
from codesign.registry import REGISTRIES
from codesign.types import Design

pytest.importorskip("torch")
register_builtins()


def test_fmnist_accel_scores_essential_pe_on_its_real_weights() -> None:
    from codesign.evaluators.accuracy.pe_cycles import MeasuredPECycles
    from codesign.evaluators.cost.evaluator import CostModelEvaluator

    problem = REGISTRIES["problem"].make("fmnist-accel")
    offered = set(problem.space["pe_type"].values)
    assert {"serial", "essential", "essential_csd", "bit_fusion", "bit_serial_both"} <= offered
    cost = next(e for e in problem.evaluators if e.name == "cost-model")
    assert isinstance(cost.pe_cycles, MeasuredPECycles)
    d = dict(problem.space.default())
    d.update({k: 4 for k in d if k.startswith("w_bits.")})
    d.update({"array_rows": 8, "array_cols": 16, "glb_kb": 256, "pe_buf_bytes": 64})
    plain = CostModelEvaluator(cost.workload, mapper_kwargs={"samples": 100, "rounds": 1})
    cost.mapper_kwargs = {"samples": 100, "rounds": 1}
    for pe, faster in (("essential", True), ("bit_serial", False)):
        design = Design({**d, "pe_type": pe})
        real, worst = cost.evaluate(design).values["latency_cycles"], plain.evaluate(design).values["latency_cycles"]
        assert (real < worst) if faster else (real == pytest.approx(worst))
