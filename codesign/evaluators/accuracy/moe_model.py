"""A small byte-level MoE transformer (8 experts per layer, top-2 routing), in torch.

No pretrained MoE ships in any package registry, so the project trains its own on
public-domain Shakespeare (see :mod:`codesign.evaluators.accuracy.shakespeare` and
``experiments/train_moe.py``). Module names follow the Mixtral / MxMoE convention used by
:mod:`codesign.workloads.zoo`, so the traced workload's expert layers are
``layers.<i>.mlp.e<e>.<w1|w3|w2>`` and :func:`codesign.spaces.builders.expert_group` gives
``layers.<i>.mlp.e<e>``::

    tok_emb [256, d] + pos_emb [ctx, d]                          (float, lookups)
    per layer i:  x += attn(ln1(x))     qkv: [T,d]·[d,3d], o: [T,d]·[d,d], causal SDPA
                  x += moe(ln2(x))      gate: [T,d]·[d,E]; top-2 softmax-renormalized;
                                        expert e: w2(silu(w1 x) * w3 x), SwiGLU with f hidden
    lm_head: [T,d]·[d,256] after ln_f
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MoEConfig", "MoETransformer"]


@dataclass(frozen=True)
class MoEConfig:
    """Architecture of :class:`MoETransformer`."""

    d: int = 128
    layers: int = 4
    heads: int = 4
    experts: int = 8
    top_k: int = 2
    ffn: int = 256
    ctx: int = 256
    vocab: int = 256

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Expert(nn.Module):
    def __init__(self, d: int, f: int) -> None:
        super().__init__()
        self.w1, self.w3, self.w2 = nn.Linear(d, f, bias=False), nn.Linear(d, f, bias=False), nn.Linear(f, d, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class _MoE(nn.Module):
    """Router + ``E`` SwiGLU experts (attributes ``e0`` .. ``e{E-1}``), top-k token routing."""

    def __init__(self, cfg: MoEConfig) -> None:
        super().__init__()
        self.experts, self.top_k = cfg.experts, cfg.top_k
        self.gate = nn.Linear(cfg.d, cfg.experts, bias=False)
        for e in range(cfg.experts):
            self.add_module(f"e{e}", _Expert(cfg.d, cfg.ffn))
        self.last_topk: torch.Tensor | None = None  # [N, k] expert ids of the last call
        self.aux_loss: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x = x.reshape(-1, shape[-1])
        probs = F.softmax(self.gate(x), dim=-1)
        weight, idx = torch.topk(probs, self.top_k, dim=-1)
        weight = weight / weight.sum(dim=-1, keepdim=True)
        self.last_topk = idx.detach()
        if self.training:  # Switch-style load balancing: E · Σ_e (token share)_e · (mean prob)_e
            share = F.one_hot(idx, self.experts).float().sum(dim=1).mean(dim=0) / self.top_k
            self.aux_loss = self.experts * (share * probs.mean(dim=0)).sum()
        out = torch.zeros_like(x)
        for e in range(self.experts):
            rows, slot = torch.nonzero(idx == e, as_tuple=True)
            if rows.numel():
                y = getattr(self, f"e{e}")(x[rows]) * weight[rows, slot].unsqueeze(-1)
                out.index_add_(0, rows, y)
        return out.reshape(shape)


class _Attention(nn.Module):
    def __init__(self, cfg: MoEConfig) -> None:
        super().__init__()
        self.heads = cfg.heads
        self.qkv, self.o = nn.Linear(cfg.d, 3 * cfg.d, bias=False), nn.Linear(cfg.d, cfg.d, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.o(y.transpose(1, 2).reshape(b, t, d))


class _Block(nn.Module):
    def __init__(self, cfg: MoEConfig) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(cfg.d), nn.LayerNorm(cfg.d)
        self.attn, self.mlp = _Attention(cfg), _MoE(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class MoETransformer(nn.Module):
    """Byte-level causal MoE language model; ``forward(bytes [B, T]) -> logits [B, T, 256]``."""

    def __init__(self, cfg: MoEConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or MoEConfig()
        self.tok_emb, self.pos_emb = nn.Embedding(cfg.vocab, cfg.d), nn.Embedding(cfg.ctx, cfg.d)
        self.layers = nn.ModuleList(_Block(cfg) for _ in range(cfg.layers))
        self.ln_f = nn.LayerNorm(cfg.d)
        self.lm_head = nn.Linear(cfg.d, cfg.vocab, bias=False)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02 / (2 * cfg.layers) ** 0.5 if name.endswith(("o.weight", "w2.weight")) else 0.02)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(idx.shape[1], device=idx.device)
        x = self.tok_emb(idx) + self.pos_emb(pos)
        for block in self.layers:
            x = block(x)
        return self.lm_head(self.ln_f(x))

    def aux_loss(self) -> torch.Tensor:
        """Sum of the layers' load-balancing losses of the last training forward."""
        return sum((b.mlp.aux_loss for b in self.layers if b.mlp.aux_loss is not None), torch.zeros(()))
