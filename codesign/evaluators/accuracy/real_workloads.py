"""Workloads of the real models behind the accuracy probes, traced from the real torch modules.

- :func:`fmnist_cnn` — the Fashion-MNIST CNN (:mod:`codesign.evaluators.accuracy.fmnist`).
- :func:`moe_shakespeare` — the project's byte-level MoE transformer (8 experts, top-2;
  :mod:`codesign.evaluators.accuracy.moe_model`) with the per-layer expert routing
  frequencies measured on held-out text and stored beside its committed weights.
- :func:`minilm_l6` — all-MiniLM-L6-v2 (BERT encoder, 6 layers, hidden 384), from its config.
- :func:`gemma3_270m` — Gemma-3-270M (dense decoder, 18 layers, hidden 640, FFN 2048), from its
  config (optional extra ``codesign[gemma]``).

The dense models' workloads live beside their probes (the probe modules never import this one);
this module gathers them. Layer names are the modules' qualified names, so a probe's design
keys and the cost model's workload agree. Expert layers follow :mod:`codesign.workloads.zoo`: ``layers.<i>.mlp.e<e>.<w1|w3|w2>``
with ``expert=e``, ``block``, ``tokens = T·k·f_e`` and GEMM ``M = max(1, round(T·k·f_e))``.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from codesign.evaluators.accuracy.fmnist import fmnist_cnn
from codesign.evaluators.accuracy.gemma import gemma3_270m
from codesign.evaluators.accuracy.minilm import minilm_l6
from codesign.workloads.layer import Layer, Workload, gemm

__all__ = ["fmnist_cnn", "gemma3_270m", "minilm_l6", "moe_routing", "moe_shakespeare"]

MOE_META = Path(__file__).resolve().parent / "data" / "moe_shakespeare.json"
_EXPERT = re.compile(r"^layers\.(\d+)\.mlp\.e(\d+)\.(w[123])$")


def moe_routing() -> list[list[float]]:
    """Measured per-layer routing frequencies of the MoE (rows sum to 1)."""
    meta = json.loads(MOE_META.read_text())
    return [[f / math.fsum(row) for f in row] for row in meta["routing"]]  # fsum: one result on every Python


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


