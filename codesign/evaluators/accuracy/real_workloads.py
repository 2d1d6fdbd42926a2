"""Workloads of the real models behind the accuracy probes, traced from the real torch modules.

- :func:`fmnist_cnn` — the Fashion-MNIST CNN (:mod:`codesign.evaluators.accuracy.fmnist`).
- :func:`moe_shakespeare` — the project's byte-level MoE transformer (8 experts, top-2;
  :mod:`codesign.evaluators.accuracy.moe_model`) with the per-layer expert routing
  frequencies measured on held-out text and stored beside its committed weights.
- :func:`minilm_l6` — all-MiniLM-L6-v2 (BERT encoder, 6 layers, hidden 384), from its config.
- :func:`gemma3_270m` — Gemma-3-270M (dense decoder, 18 layers, hidden 640, FFN 2048), from its
  config (optional extra ``codesign[gemma]``).

Layer names are the modules' qualified names, so a probe's design keys and the cost model's
workload agree. Expert layers follow :mod:`codesign.workloads.zoo`: ``layers.<i>.mlp.e<e>.<w1|w3|w2>``
with ``expert=e``, ``block``, ``tokens = T·k·f_e`` and GEMM ``M = max(1, round(T·k·f_e))``.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from codesign.workloads.from_torch import from_torch
from codesign.workloads.layer import Layer, Workload, gemm

__all__ = ["fmnist_cnn", "gemma3_270m", "minilm_l6", "moe_routing", "moe_shakespeare"]

MOE_META = Path(__file__).resolve().parent / "data" / "moe_shakespeare.json"
_EXPERT = re.compile(r"^layers\.(\d+)\.mlp\.e(\d+)\.(w[123])$")


def fmnist_cnn(batch: int = 1) -> Workload:
    """Fashion-MNIST CNN (28x28 grey images), traced with ``from_torch``."""
    import torch

    from codesign.evaluators.accuracy.fmnist import build_cnn

    wl = from_torch(build_cnn(), torch.zeros(batch, 1, 28, 28), name="fmnist-cnn")
    return Workload("fmnist-cnn", list(wl.layers), {**wl.meta, "model": "codesign fmnist-cnn/1"})


def moe_routing() -> list[list[float]]:
    """Measured per-layer routing frequencies of the MoE (rows sum to 1)."""
    meta = json.loads(MOE_META.read_text())
    return [[f / sum(row) for f in row] for row in meta["routing"]]


def moe_shakespeare(tokens: int = 256) -> Workload:
    """The byte-level MoE transformer over ``tokens`` bytes, with the measured routing."""
    import torch

    from codesign.evaluators.accuracy.moe_model import MoEConfig, MoETransformer

    meta = json.loads(MOE_META.read_text())
    cfg = MoEConfig(**meta["config"])
    T = int(tokens)
    with torch.device("meta"):
        model = MoETransformer(cfg)
    routing = moe_routing()
    layers: list[Layer] = []
    for name, mod in model.named_modules():
        if not isinstance(mod, torch.nn.Linear):
            continue
        m = _EXPERT.match(name)
        if m:
            i, e, block = int(m.group(1)), int(m.group(2)), m.group(3)
            m_e = T * cfg.top_k * routing[i][e]
            layers.append(gemm(name, M=max(1, round(m_e)), N=mod.out_features, K=mod.in_features,
                               expert=e, block=block, tokens=m_e))
        else:
            layers.append(gemm(name, M=T, N=mod.out_features, K=mod.in_features))
    return Workload("moe-shakespeare", layers, {
        "source": "codesign MoE transformer trained on shakespeare 0.6 (experiments/train_moe.py)",
        "config": cfg.to_dict(), "tokens": T, "experts": cfg.experts, "top_k": cfg.top_k,
        "moe_layers": cfg.layers, "routing": routing, "routing_measured_on": meta["routing_measured_on"]})


def minilm_l6(tokens: int = 128) -> Workload:
    """all-MiniLM-L6-v2 encoder over ``tokens`` tokens, traced from ``transformers`` on the meta device."""
    import torch

    from codesign.evaluators.accuracy.minilm import bert_model

    with torch.device("meta"):
        model = bert_model(meta=True)
    ids = torch.zeros(1, int(tokens), dtype=torch.long, device="meta")
    wl = from_torch(model, (ids,), name="minilm-l6")
    return Workload("minilm-l6", list(wl.layers), {**wl.meta, "model": "sentence-transformers/all-MiniLM-L6-v2",
                                                   "tokens": int(tokens)})


def gemma3_270m(tokens: int = 128, cache_dir: Any = None) -> Workload:
    """Gemma-3-270M over ``tokens`` tokens, traced from ``transformers`` on the meta device.

    ``lm_head`` (tied to the embedding table) is traced as a GEMM; the Gemma probe keeps it float.
    """
    import torch
    from transformers import AutoModelForCausalLM

    from codesign.evaluators.accuracy.gemma import gemma_config

    cfg = gemma_config(cache_dir)
    cfg.use_cache = False
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager")
    ids = torch.zeros(1, int(tokens), dtype=torch.long, device="meta")
    # masks cannot be built on meta tensors; shapes (all that is traced) do not depend on them
    model.forward = functools.partial(model.forward, attention_mask={"full_attention": None, "sliding_attention": None})
    wl = from_torch(model, (ids,), name="gemma3-270m")
    return Workload("gemma3-270m", list(wl.layers), {**wl.meta, "model": "google/gemma-3-270m (Q4_K_M GGUF, dequantized)",
                                                     "tokens": int(tokens), "float_layers": ["lm_head"]})
