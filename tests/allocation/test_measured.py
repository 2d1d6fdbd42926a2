"""Measured inputs of the allocator: probe sensitivities (cached) and model cost tables."""

from __future__ import annotations

import pytest

import codesign
from codesign.allocation import make_groups, workload_groups
from codesign.errors import ConfigError
from codesign.evaluators.allocation_inputs import cost_table
from codesign.registry import make_workload

HW = {"pe_type": "bit_serial", "array_rows": 16, "array_cols": 16, "glb_kb": 256, "pe_buf_bytes": 64,
      "dram_gbps": 25.6, "clock_mhz": 1000}


@pytest.fixture(scope="module")
def moe_probe():
    from codesign.evaluators.accuracy.moe import MoEProbe

    return MoEProbe(eval_size=1024)


def test_cost_table_is_the_models_per_layer_cost() -> None:
    from codesign.evaluators.roofline import RooflineEvaluator

    wl = make_workload("moe-shakespeare")
    groups = workload_groups(wl, ["w2a8", "w8a8"], "expert")
    table = cost_table(wl, groups, "latency_cycles", "roofline", HW)
    e0 = "layers.0.mlp.e0"
    assert table[e0]["w2a8"] < table[e0]["w8a8"]  # a weight-bit-serial PE is faster at 2 bits
    layers = RooflineEvaluator(wl).evaluate({**HW, **{f"w_bits.{e0}": 2, f"a_bits.{e0}": 8}}).breakdown["layers"]
    assert table[e0]["w2a8"] == pytest.approx(sum(layers[f"{e0}.{b}"]["latency_cycles"] for b in ("w1", "w3", "w2")))
    assert cost_table(wl, groups, "latency_cycles", RooflineEvaluator(wl), HW) == table  # a problem's own evaluator
    with pytest.raises(ConfigError, match="misses"):
        cost_table(wl, groups, "latency_ms", "cost-model", {"pe_type": "bit_serial"})


@pytest.mark.slow
def test_default_loss_is_the_fisher_sensitivity_and_is_cached(moe_probe) -> None:
    import time

    kw = dict(workload="moe-shakespeare", granularity="expert", options=["w2a8", "w8a8"], costs=["size_bytes"],
              budgets={"size_bytes": {"fraction": 0.5}}, probe=moe_probe,
              constraints=["count(layers.{i}.mlp.e*, w2*) >= 2"])
    t0 = time.perf_counter()
    a = codesign.allocate(**kw)
    first = time.perf_counter() - t0
    assert list((moe_probe.cache_dir / "sensitivity").glob("moe-probe-fisher-*.json"))
    t0 = time.perf_counter()
    b = codesign.allocate(**kw)
    assert b.choice == a.choice and time.perf_counter() - t0 < first
    assert a.totals["size_bytes"] <= a.budgets["size_bytes"]
    for i in range(4):
        assert sum(a.choice[f"layers.{i}.mlp.e{e}"] == "w2a8" for e in range(8)) >= 2
    assert a.choice["layers.0.mlp.gate"] == "w8a8"  # the router is the most sensitive per byte


@pytest.mark.slow
def test_probe_and_hessian_sensitivities(moe_probe) -> None:
    from codesign.evaluators.accuracy.sensitivity import group_losses

    groups = make_groups(groups={"e0": [f"layers.0.mlp.e0.{b}" for b in ("w1", "w3", "w2")], "head": ["lm_head"]},
                         options=["w2a8", "w8a8"])
    real = group_losses(moe_probe, groups, "probe")
    assert real["e0"]["w2a8"] > real["e0"]["w8a8"] and real["head"]["w2a8"] > 0.05
    hess = group_losses(moe_probe, groups, "hessian", samples=1, batches=1)
    assert all(hess[g]["w2a8"] > 10 * hess[g]["w8a8"] > 0 for g in hess)
    with pytest.raises(ConfigError, match="not layers of its model"):
        group_losses(moe_probe, make_groups(groups=["nosuch"], options=["w2a8"]), "fisher")


def test_measured_loss_needs_a_probe_workload() -> None:
    with pytest.raises(ConfigError, match="needs a workload with a probe"):
        codesign.allocate(workload="resnet18", options=["w4a4", "w8a8"], loss="hessian", costs=["bops"],
                          budgets={"bops": {"fraction": 0.5}})
    a = codesign.allocate(workload="resnet18", options=["w4a4", "w8a8"], objective="bops", costs=["bops"],
                          constraints=["count(*, w8a8) >= 3"])
    assert sum(v == "w8a8" for v in a.choice.values()) == 3


def test_hutchinson_trace_of_a_known_hessian() -> None:
    """Linear layer, L = ½·mean_b ||W x_b − t_b||²: H = I_N ⊗ (1/n)·Σ_b x_b x_bᵀ, so tr H = N·mean_b ||x_b||².
    With one-hot inputs H is diagonal and one Rademacher sample is exact."""
    import types

    import torch

    from codesign.evaluators.accuracy.sensitivity import hutchinson_traces

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3, bias=False))
    x = 2.0 * torch.eye(4)[[0, 1, 2, 3, 1]]  # 5 rows, ||x_b||² = 4
    t = torch.randn(5, 3)
    probe = types.SimpleNamespace(layers=[types.SimpleNamespace(name="0")], modules=dict(model.named_modules()), model=model,
                                  loss_batches=lambda: iter([(x, lambda out: 0.5 * ((out - t) ** 2).sum())]), name="toy")
    assert hutchinson_traces(probe, samples=1, batches=1)["0"] == pytest.approx(3 * 4.0)
