"""The cost-model evaluator's caches and batching: distinct layers mapped once, batched mapping
equal to one-by-one, batched designs equal to single designs, cached re-evaluations identical."""

from __future__ import annotations

import numpy as np
import pytest

from codesign.evaluators.cost import mapper as MP
from codesign.evaluators.cost import problem as P
from codesign.evaluators.cost.bench import load_arch
from codesign.evaluators.cost.evaluator import CostModelEvaluator, problem_key
from codesign.workloads.zoo import resnet18

KW = {"samples": 40, "greedy": 20, "rounds": 1, "keep": 8, "children": 3}
HW = {"pe_type": "bit_parallel", "array_rows": 8, "array_cols": 8, "glb_kb": 64, "pe_buf_bytes": 32,
      "dram_gbps": 12.8, "clock_mhz": 500, "w_bits.all": 8, "a_bits.all": 8}


def test_heuristic_many_equals_one_problem_at_a_time():
    arch = load_arch("zigzag")
    problems = [P.from_dict({"op": "conv", "dims": {"B": 1, "C": c, "M": m, "R": 3, "S": 3, "P": 8, "Q": 8}})
                for c, m in ((16, 32), (32, 32))] + [P.from_dict({"op": "gemm", "dims": {"M": 4, "N": 64, "K": 32}})]
    many = MP.heuristic_many(problems, arch, "edp", **KW)
    for p, r in zip(problems, many):
        one = MP.heuristic(p, arch, "edp", **KW)
        assert one.mapping == r.mapping and one.energy_pj == r.energy_pj and one.cycles == r.cycles


def test_distinct_layers_are_mapped_once_and_cached(monkeypatch):
    calls = []
    real = MP.heuristic_many

    def spy(problems, *args, **kwargs):
        calls.append(len(problems))
        return real(problems, *args, **kwargs)

    monkeypatch.setattr("codesign.evaluators.cost.evaluator.heuristic_many", spy)
    wl = resnet18()
    distinct = {problem_key(P.from_layer(layer, 8, 8)) for layer in wl.layers}
    assert len(wl.layers) == 21 and len(distinct) == 12
    ev = CostModelEvaluator(wl, mapper_kwargs=KW)
    first = ev.evaluate(HW)
    assert calls == [12]  # every distinct (shape, bits) once, in one batched search
    again = ev.evaluate(dict(HW))
    assert calls == [12] and again.values == first.values and again.breakdown == first.breakdown
    jobs = ev.layer_jobs(HW)
    assert [j[0] for j in jobs] == [layer.name for layer in wl.layers]
    assert all(j[3].to_list() == first.breakdown["layers"][j[0]]["mapping"] for j in jobs)


@pytest.mark.parametrize("latency", ["timeloop", "zigzag"])
def test_batched_designs_equal_single_designs(latency):
    wl = resnet18()
    other = {**HW, "array_rows": 16, "glb_kb": 128, "w_bits.all": 4}
    batched = CostModelEvaluator(wl, mapper_kwargs=KW, latency=latency).evaluate_many([HW, other, HW])
    singles = [CostModelEvaluator(wl, mapper_kwargs=KW, latency=latency).evaluate(d) for d in (HW, other)]
    assert batched[0].values == batched[2].values == singles[0].values
    assert batched[1].values == singles[1].values
    assert batched[0].values != batched[1].values and np.isfinite(batched[1].values["energy_uj"])


def test_unknown_latency_model_is_one_line():
    from codesign.errors import ConfigError

    with pytest.raises(ConfigError, match="latency must be one of"):
        CostModelEvaluator(resnet18(), latency="fast")
