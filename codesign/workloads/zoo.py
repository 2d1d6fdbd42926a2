"""Real models as workloads, with published shapes (no weights needed for cost).

CNNs (batch ``B`` images): every convolution (including 1×1 downsample and depthwise convs)
and the classifier, named like the PyTorch reference modules, so that
:func:`codesign.workloads.from_torch` of the same network gives the same layers.

LLMs (prefill of ``T = tokens`` tokens). Per decoder block, with hidden size ``d``, ``h`` query
heads, ``h_kv`` key/value heads of size ``d_h``:

- projections ``q: [T,d]·[d,h·d_h]``, ``k, v: [T,d]·[d,h_kv·d_h]`` (GQA when ``h_kv < h``),
  ``o: [T,h·d_h]·[h·d_h,d]``;
- attention matmuls per query head: ``QKᵀ: [T,d_h]·[d_h,T]`` and ``A·V: [T,T]·[T,d_h]``
  (the full ``T×T`` square; causal masking is not exploited);
- SwiGLU FFN with intermediate size ``f``: ``gate, up: [T,d]·[d,f]``, ``down: [T,f]·[f,d]``.

MoE blocks replace the FFN by a router ``[T,d]·[d,E]``, optional shared experts (always on) and
``E`` routed experts. Routed expert ``e`` sees ``M_e = T·k·f_e`` tokens (REFERENCES §5: top-k
routing, per-expert frequency ``f_e``, ``Σ f_e = 1``); it is one layer per linear block
(``w1`` = gate, ``w3`` = up, ``w2`` = down, the Mixtral/MxMoE names) named
``f"{prefix}.e{e}.{block}"`` with ``expert=e``, ``tokens=M_e`` and GEMM ``M = max(1, round(M_e))``.
Identical blocks share one entry with ``count = L``; per-layer routing unrolls the routed experts.

Parameter bookkeeping in ``meta``: layer weights cover every linear layer (lm_head included);
the input embedding (a lookup, no MACs) is ``meta["embedding_params"]``; norms and biases are
not counted. Published totals are in ``meta["params_published"]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from codesign.errors import WorkloadError
from codesign.workloads.layer import Layer, Workload, attn, conv, gemm

# Routing frequencies: one sequence (all MoE layers) or one sequence per MoE layer.
Routing = Sequence[float] | Sequence[Sequence[float]] | None


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise WorkloadError(f"{what} must be an integer >= 1, but got {value!r}")
    return value


def _conv_out(size: int, kernel: int, stride: int, pad: int) -> int:
    """Output size of a convolution: ``floor((size + 2·pad − kernel) / stride) + 1``."""
    return (size + 2 * pad - kernel) // stride + 1


# ----------------------------------------------------------------------------------- CNNs
def _inp(size: int) -> dict[str, Any]:
    """Conv ``tags``: the input's extent (``P`` pairs with ``R``, ``Q`` with ``S``), so a cost model
    fetches no zero padding (see :func:`codesign.evaluators.cost.problem.from_layer`)."""
    return {"input_size": {"P": size, "Q": size}}


def digits_cnn(batch: int = 1) -> Workload:
    """The 4-layer CNN of the digits accuracy probe (scikit-learn 8×8 digits, 10 classes).

    ``1×8×8 → conv1 (16, 3×3, pad 1) → 16×8×8 → conv2 (32, 3×3, pad 1, stride 2) → 32×4×4
    → flatten 512 → fc1 (64) → fc2 (10)``.

    Args:
        batch: images per inference ``B`` (conv ``B``, fc ``M``).
    """
    b = _positive_int(batch, "batch")
    layers = [
        conv("conv1", C=1, M=16, R=3, P=8, stride=1, B=b, tags=_inp(8)),
        conv("conv2", C=16, M=32, R=3, P=4, stride=2, B=b, tags=_inp(8)),
        gemm("fc1", M=b, N=64, K=32 * 4 * 4),
        gemm("fc2", M=b, N=10, K=64),
    ]
    return Workload("digits-cnn", layers, {"source": "codesign digits probe network", "input": [1, 8, 8],
                                           "batch": b, "classes": 10})


def resnet18(batch: int = 1) -> Workload:
    """ResNet-18 for ImageNet 224×224 (He et al., CVPR 2016, Table 1), torchvision names.

    ``conv1`` 7×7/2 (pad 3) → maxpool 3×3/2 → 4 stages of 2 BasicBlocks (two 3×3 convs) with
    64, 128, 256, 512 channels at 56, 28, 14, 7 px; stages 2–4 start with stride 2 and a 1×1/2
    ``downsample.0`` conv; global pool → ``fc`` 512 → 1000. About 1.82 GMAC, 11.69 M params.
    """
    b = _positive_int(batch, "batch")
    size = _conv_out(224, 7, 2, 3)
    layers = [conv("conv1", C=3, M=64, R=7, P=size, stride=2, B=b, tags=_inp(224))]
    size = _conv_out(size, 3, 2, 1)  # maxpool
    c_in = 64
    for stage, width in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            stride = 2 if stage > 1 and block == 0 else 1
            out = _conv_out(size, 3, stride, 1)
            pre = f"layer{stage}.{block}"
            layers.append(conv(f"{pre}.conv1", C=c_in, M=width, R=3, P=out, stride=stride, B=b, tags=_inp(size)))
            layers.append(conv(f"{pre}.conv2", C=width, M=width, R=3, P=out, stride=1, B=b, tags=_inp(out)))
            if stride != 1 or c_in != width:
                layers.append(conv(f"{pre}.downsample.0", C=c_in, M=width, R=1, P=out, stride=stride, B=b,
                                   tags=_inp(size)))
            c_in, size = width, out
    layers.append(gemm("fc", M=b, N=1000, K=512))
    return Workload("resnet18", layers, {
        "source": "He et al., Deep Residual Learning, CVPR 2016; torchvision.models.resnet18",
        "input": [3, 224, 224], "batch": b,
        "params_published": 11_689_512,  # torchvision ResNet18_Weights.IMAGENET1K_V1 num_params (incl. BN)
        "gmacs_published": 1.81,  # torchvision "GFLOPS" column (counts multiply-adds)
    })


# MobileNetV2 inverted-residual settings (expansion t, channels c, repeats n, first stride s),
# Sandler et al., CVPR 2018, Table 2.
_MBV2_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                  (6, 160, 3, 2), (6, 320, 1, 1))


def mobilenetv2(batch: int = 1) -> Workload:
    """MobileNetV2 1.0 for ImageNet 224×224 (Sandler et al., CVPR 2018), torchvision names.

    ``features.0.0`` 3×3/2 conv to 32 ch; 17 inverted residuals ``features.i.conv``: 1×1 expand
    (omitted when ``t = 1``), 3×3 depthwise (``groups = C``, stride of the block), 1×1 linear
    projection; ``features.18.0`` 1×1 to 1280; ``classifier.1`` 1280 → 1000.
    About 300 MMAC and 3.50 M params.
    """
    b = _positive_int(batch, "batch")
    size = _conv_out(224, 3, 2, 1)
    layers = [conv("features.0.0", C=3, M=32, R=3, P=size, stride=2, B=b, tags=_inp(224))]
    c_in, idx = 32, 1
    for t, c, n, s in _MBV2_SETTINGS:
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = c_in * t
            out = _conv_out(size, 3, stride, 1)
            pre, j = f"features.{idx}.conv", 0
            if t != 1:
                layers.append(conv(f"{pre}.0.0", C=c_in, M=hidden, R=1, P=size, B=b, tags=_inp(size)))
                j = 1
            layers.append(conv(f"{pre}.{j}.0", C=hidden, M=hidden, R=3, P=out, stride=stride, groups=hidden, B=b,
                               tags=_inp(size)))
            layers.append(conv(f"{pre}.{j + 1}", C=hidden, M=c, R=1, P=out, B=b, tags=_inp(out)))
            c_in, size, idx = c, out, idx + 1
    layers.append(conv(f"features.{idx}.0", C=c_in, M=1280, R=1, P=size, B=b, tags=_inp(size)))
    layers.append(gemm("classifier.1", M=b, N=1000, K=1280))
    return Workload("mobilenetv2", layers, {
        "source": "Sandler et al., MobileNetV2, CVPR 2018; torchvision.models.mobilenet_v2",
        "input": [3, 224, 224], "batch": b,
        "params_published": 3_504_872,  # torchvision MobileNet_V2_Weights.IMAGENET1K_V1 num_params (incl. BN)
        "gmacs_published": 0.300,  # paper Table 4: 300M multiply-adds
    })


# ----------------------------------------------------------------------------- LLM parts
def _attention(T: int, d: int, heads: int, kv_heads: int, head_dim: int, count: int,
               pre: str = "layers.self_attn") -> list[Layer]:
    """Multi-head / grouped-query attention of one decoder block (see module docstring)."""
    return [
        gemm(f"{pre}.q_proj", M=T, N=heads * head_dim, K=d, count=count),
        gemm(f"{pre}.k_proj", M=T, N=kv_heads * head_dim, K=d, count=count),
        gemm(f"{pre}.v_proj", M=T, N=kv_heads * head_dim, K=d, count=count),
        attn(f"{pre}.qk", M=T, N=T, K=head_dim, heads=heads, count=count),
        attn(f"{pre}.av", M=T, N=head_dim, K=T, heads=heads, count=count),
        gemm(f"{pre}.o_proj", M=T, N=d, K=heads * head_dim, count=count),
    ]


def _mla(T: int, d: int, heads: int, kv_rank: int, nope: int, rope: int, v_dim: int, count: int,
         pre: str = "layers.self_attn") -> list[Layer]:
    """DeepSeek-V2 multi-head latent attention without query compression (``q_lora_rank`` null).

    ``q: [T,d]·[d,h·(nope+rope)]``; ``kv_a: [T,d]·[d,kv_rank+rope]`` (latent + shared rope key);
    ``kv_b: [T,kv_rank]·[kv_rank,h·(nope+v)]``; per head ``QKᵀ`` with ``K = nope+rope`` and
    ``A·V`` with ``N = v``; ``o: [T,h·v]·[h·v,d]`` (the non-absorbed prefill form).
    """
    return [
        gemm(f"{pre}.q_proj", M=T, N=heads * (nope + rope), K=d, count=count),
        gemm(f"{pre}.kv_a_proj_with_mqa", M=T, N=kv_rank + rope, K=d, count=count),
        gemm(f"{pre}.kv_b_proj", M=T, N=heads * (nope + v_dim), K=kv_rank, count=count),
        attn(f"{pre}.qk", M=T, N=T, K=nope + rope, heads=heads, count=count),
        attn(f"{pre}.av", M=T, N=v_dim, K=T, heads=heads, count=count),
        gemm(f"{pre}.o_proj", M=T, N=d, K=heads * v_dim, count=count),
    ]


def _swiglu(pre: str, M: int, d: int, f: int, count: int, names: Sequence[str] = ("gate_proj", "up_proj", "down_proj"),
            expert: int | None = None, tokens: float | None = None) -> list[Layer]:
    """SwiGLU FFN: ``gate, up: [M,d]·[d,f]``, ``down: [M,f]·[f,d]``; ``names`` = (gate, up, down).

    With ``expert`` set, each linear block is tagged ``expert``, ``block = name`` and ``tokens``.
    """
    gate, up, down = names

    def kw(name: str) -> dict[str, Any]:
        return {} if expert is None else {"expert": expert, "block": name, "tokens": tokens}

    return [
        gemm(f"{pre}.{gate}", M=M, N=f, K=d, count=count, **kw(gate)),
        gemm(f"{pre}.{up}", M=M, N=f, K=d, count=count, **kw(up)),
        gemm(f"{pre}.{down}", M=M, N=d, K=f, count=count, **kw(down)),
    ]


def _check_freqs(freqs: Any, experts: int, what: str) -> tuple[float, ...]:
    try:
        out = tuple(float(f) for f in freqs)
    except (TypeError, ValueError):
        raise WorkloadError(f"{what} must be a sequence of {experts} frequencies, but got {freqs!r}") from None
    if len(out) != experts or any(not math.isfinite(f) or f < 0 for f in out) or abs(sum(out) - 1.0) > 1e-6:
        raise WorkloadError(f"{what} must be {experts} non-negative frequencies summing to 1, "
                            f"but got {len(out)} summing to {sum(out):.6g}")
    return out


def _routing(routing: Routing, experts: int, moe_layers: int) -> tuple[list[tuple[float, ...]], bool]:
    """Resolve ``routing`` into rows of frequencies and whether there is one row per MoE layer."""
    if routing is None:
        return [tuple([1.0 / experts] * experts)], False
    if isinstance(routing, (str, bytes)) or not isinstance(routing, Sequence):
        raise WorkloadError(f"routing must be None, {experts} frequencies or {moe_layers} such sequences, "
                            f"but got {type(routing).__name__}")
    if len(routing) and all(isinstance(r, Sequence) and not isinstance(r, str) for r in routing):
        if len(routing) != moe_layers:
            raise WorkloadError(f"per-layer routing must have one sequence per MoE layer ({moe_layers}), "
                                f"but got {len(routing)}")
        return [_check_freqs(r, experts, f"routing[{i}]") for i, r in enumerate(routing)], True
    return [_check_freqs(routing, experts, "routing")], False


def _moe(T: int, d: int, f_expert: int, experts: int, top_k: int, layer_ids: Sequence[int], routing: Routing,
         shared_ffn: int = 0, shared_gate: bool = False) -> tuple[list[Layer], list[list[float]]]:
    """Router, shared experts and routed experts of all MoE blocks (see module docstring).

    Returns:
        The layers and the per-layer frequencies used (one row when shared by all layers).
    """
    L = len(layer_ids)
    pre = "layers.mlp"
    layers = [gemm(f"{pre}.gate", M=T, N=experts, K=d, count=L)]
    if shared_ffn:
        layers += _swiglu(f"{pre}.shared_expert", T, d, shared_ffn, L)
        if shared_gate:
            layers.append(gemm(f"{pre}.shared_expert_gate", M=T, N=1, K=d, count=L))
    freqs, unrolled = _routing(routing, experts, L)
    for row, fs in enumerate(freqs):
        prefix, count = (f"layers.{layer_ids[row]}.mlp", 1) if unrolled else (pre, L)
        for e, f_e in enumerate(fs):
            m_e = T * top_k * f_e  # tokens routed to expert e (REFERENCES §5)
            layers += _swiglu(f"{prefix}.e{e}", max(1, round(m_e)), d, f_expert, count, names=("w1", "w3", "w2"),
                              expert=e, tokens=m_e)
    return layers, [list(fs) for fs in freqs]


def _llm_meta(source: str, config: dict[str, Any], vocab: int, d: int, T: int, published: dict[str, float],
              **extra: Any) -> dict[str, Any]:
    return {"source": source, "config": config, "tokens": T, "embedding_params": vocab * d,
            "params_published": published, "params_excluded": "norms and biases; input embedding counted "
            "separately as embedding_params", **extra}


# ---------------------------------------------------------------------------------- LLMs
def llama2_7b(tokens: int = 512) -> Workload:
    """Llama-2-7B prefill (Touvron et al. 2023; meta-llama/Llama-2-7b-hf config.json).

    32 blocks, ``d = 4096``, 32 heads of 128 (no GQA), SwiGLU ``f = 11008``, vocab 32000,
    untied lm_head. 6.74 B params incl. embeddings.
    """
    T = _positive_int(tokens, "tokens")
    d, L, heads, hd, f, vocab = 4096, 32, 32, 128, 11008, 32000
    layers = _attention(T, d, heads, heads, hd, L) + _swiglu("layers.mlp", T, d, f, L)
    layers.append(gemm("lm_head", M=T, N=vocab, K=d))
    config = {"hidden_size": d, "num_hidden_layers": L, "num_attention_heads": heads, "num_key_value_heads": heads,
              "intermediate_size": f, "vocab_size": vocab}
    return Workload("llama2-7b", layers, _llm_meta(
        "meta-llama/Llama-2-7b-hf config.json; Touvron et al., Llama 2, arXiv:2307.09288", config, vocab, d, T,
        {"total": 6.74e9}))


def mixtral_8x7b(tokens: int = 512, routing: Routing = None) -> Workload:
    """Mixtral-8x7B prefill (Jiang et al. 2024; mistralai/Mixtral-8x7B-v0.1 config.json).

    32 blocks, ``d = 4096``, 32 query heads / 8 KV heads of 128, 8 experts (``f = 14336``),
    top-2, no shared expert, vocab 32000. 46.7 B total / 12.9 B active params.
    """
    T = _positive_int(tokens, "tokens")
    d, L, heads, kv, hd, f, E, k, vocab = 4096, 32, 32, 8, 128, 14336, 8, 2, 32000
    moe, freqs = _moe(T, d, f, E, k, range(L), routing)
    layers = _attention(T, d, heads, kv, hd, L) + moe + [gemm("lm_head", M=T, N=vocab, K=d)]
    config = {"hidden_size": d, "num_hidden_layers": L, "num_attention_heads": heads, "num_key_value_heads": kv,
              "intermediate_size": f, "num_local_experts": E, "num_experts_per_tok": k, "vocab_size": vocab}
    return Workload("mixtral-8x7b", layers, _llm_meta(
        "mistralai/Mixtral-8x7B-v0.1 config.json; Jiang et al., Mixtral of Experts, arXiv:2401.04088",
        config, vocab, d, T, {"total": 46.7e9, "active": 12.9e9}, experts=E, top_k=k, moe_layers=L, routing=freqs))


def deepseek_v2_lite(tokens: int = 512, routing: Routing = None) -> Workload:
    """DeepSeek-V2-Lite prefill (DeepSeek-AI 2024; deepseek-ai/DeepSeek-V2-Lite config.json).

    27 blocks, ``d = 2048``, MLA (16 heads, kv_lora_rank 512, qk_nope 128, qk_rope 64, v 128,
    no query compression); block 0 dense (``f = 10944``), blocks 1–26 MoE: 64 routed experts
    (``f = 1408``), top-6, 2 shared experts (one MLP of ``2·1408``), vocab 102400.
    15.7 B total / 2.4 B active params.
    """
    T = _positive_int(tokens, "tokens")
    d, L, heads, f_dense, f, E, k, n_shared, vocab = 2048, 27, 16, 10944, 1408, 64, 6, 2, 102400
    kv_rank, nope, rope, v_dim = 512, 128, 64, 128
    moe, freqs = _moe(T, d, f, E, k, range(1, L), routing, shared_ffn=n_shared * f)
    layers = (_mla(T, d, heads, kv_rank, nope, rope, v_dim, L) + _swiglu("layers.0.mlp", T, d, f_dense, 1) + moe
              + [gemm("lm_head", M=T, N=vocab, K=d)])
    config = {"hidden_size": d, "num_hidden_layers": L, "num_attention_heads": heads, "q_lora_rank": None,
              "kv_lora_rank": kv_rank, "qk_nope_head_dim": nope, "qk_rope_head_dim": rope, "v_head_dim": v_dim,
              "intermediate_size": f_dense, "moe_intermediate_size": f, "first_k_dense_replace": 1,
              "n_routed_experts": E, "n_shared_experts": n_shared, "num_experts_per_tok": k, "vocab_size": vocab}
    return Workload("deepseek-v2-lite", layers, _llm_meta(
        "deepseek-ai/DeepSeek-V2-Lite config.json; DeepSeek-AI, DeepSeek-V2, arXiv:2405.04434", config, vocab, d, T,
        {"total": 15.7e9, "active": 2.4e9}, experts=E, top_k=k, moe_layers=L - 1, routing=freqs))


def qwen15_moe_a27b(tokens: int = 512, routing: Routing = None) -> Workload:
    """Qwen1.5-MoE-A2.7B prefill (Qwen team 2024; Qwen/Qwen1.5-MoE-A2.7B config.json).

    24 blocks, ``d = 2048``, 16 heads of 128 (no GQA), 60 routed experts (``f = 1408``),
    top-4, one shared expert (``f = 5632``) scaled by a sigmoid ``shared_expert_gate``
    ``[T,d]·[d,1]``, vocab 151936, untied lm_head. 14.3 B total / 2.7 B active params.
    """
    T = _positive_int(tokens, "tokens")
    d, L, heads, hd, f, E, k, f_shared, vocab = 2048, 24, 16, 128, 1408, 60, 4, 5632, 151936
    moe, freqs = _moe(T, d, f, E, k, range(L), routing, shared_ffn=f_shared, shared_gate=True)
    layers = _attention(T, d, heads, heads, hd, L) + moe + [gemm("lm_head", M=T, N=vocab, K=d)]
    config = {"hidden_size": d, "num_hidden_layers": L, "num_attention_heads": heads, "num_key_value_heads": heads,
              "moe_intermediate_size": f, "shared_expert_intermediate_size": f_shared, "num_experts": E,
              "num_experts_per_tok": k, "vocab_size": vocab}
    return Workload("qwen1.5-moe-a2.7b", layers, _llm_meta(
        "Qwen/Qwen1.5-MoE-A2.7B config.json; Qwen blog 'Qwen1.5-MoE' (2024)", config, vocab, d, T,
        {"total": 14.3e9, "active": 2.7e9}, experts=E, top_k=k, moe_layers=L, routing=freqs))


def olmoe_1b_7b(tokens: int = 512, routing: Routing = None) -> Workload:
    """OLMoE-1B-7B prefill (Muennighoff et al. 2024; allenai/OLMoE-1B-7B-0924 config.json).

    16 blocks, ``d = 2048``, 16 heads of 128 (no GQA), 64 experts (``f = 1024``), top-8, no
    shared expert, vocab 50304, untied lm_head. 6.9 B total / 1.3 B active params.
    """
    T = _positive_int(tokens, "tokens")
    d, L, heads, hd, f, E, k, vocab = 2048, 16, 16, 128, 1024, 64, 8, 50304
    moe, freqs = _moe(T, d, f, E, k, range(L), routing)
    layers = _attention(T, d, heads, heads, hd, L) + moe + [gemm("lm_head", M=T, N=vocab, K=d)]
    config = {"hidden_size": d, "num_hidden_layers": L, "num_attention_heads": heads, "num_key_value_heads": heads,
              "intermediate_size": f, "num_experts": E, "num_experts_per_tok": k, "vocab_size": vocab}
    return Workload("olmoe-1b-7b", layers, _llm_meta(
        "allenai/OLMoE-1B-7B-0924 config.json; Muennighoff et al., OLMoE, arXiv:2409.02060", config, vocab, d, T,
        {"total": 6.9e9, "active": 1.3e9}, experts=E, top_k=k, moe_layers=L, routing=freqs))


__all__ = ["digits_cnn", "resnet18", "mobilenetv2", "llama2_7b", "mixtral_8x7b", "deepseek_v2_lite",
           "qwen15_moe_a27b", "olmoe_1b_7b"]
