"""Shared mechanism of the real quantized-accuracy probes on torch models.

A probe subclass supplies a float torch model, its quantizable layers (as workload
:class:`~codesign.workloads.layer.Layer` s named by the modules' qualified names, with MoE expert
tags where relevant), calibration inputs and a metric on real held-out data. This base:

- calibrates every quantizable layer's **input range** on the calibration split (never the
  evaluation split) through forward pre-hooks, and keeps a row subsample of the inputs (for
  the proxy, :mod:`codesign.evaluators.accuracy.proxy`);
- applies a design's per-layer / per-expert / per-linear-block ``(w_bits, a_bits)``
  (:func:`codesign.spaces.builders.layer_bits`) as **fake quantization**: the weight is replaced
  by its round-to-nearest quantized value (:class:`QuantScheme`: symmetric or asymmetric, per
  output channel or per group of 32/64/128 along the reduction dim) and the input by its
  per-tensor quantized value (asymmetric by default, range from calibration);
- optionally computes quantized layers **hardware-exactly** (:mod:`codesign.evaluators.accuracy.hwexact`);
- memoizes metrics in memory and on disk (``<cache>/probes/<sha>.json``, written atomically)
  under the key ``(probe name, version, eval size, quantizer scheme, bit configuration)``.

Layers without bits stay float. Biases, norms, embeddings and attention matmuls stay float.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from codesign.errors import ConfigError
from codesign.evaluators.accuracy.quantizers import QParams, qparams_from_data, qparams_from_range
from codesign.evaluators.base import BaseEvaluator
from codesign.evaluators.params import ParamUse, bits_use
from codesign.spaces.builders import layer_bits
from codesign.types import Design, Metrics
from codesign.workloads.layer import Layer

__all__ = ["BitConfig", "QuantScheme", "TorchProbe", "default_cache_dir", "atomic_write"]

BitConfig = tuple[tuple[int, int] | None, ...]
GROUPS = (None, 32, 64, 128)


def default_cache_dir() -> Path:
    """``$CODESIGN_CACHE`` if set, else ``~/.cache/codesign``."""
    env = os.environ.get("CODESIGN_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "codesign"


def atomic_write(path: Path, write: Any) -> None:
    """Call ``write(file)`` on a temp file beside ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class QuantScheme:
    """How bits become quantizers (uniform integer, round to nearest).

    Attributes:
        w_symmetric: signed ``z = 0`` weight codes (else unsigned with a zero point).
        w_group: None for per-output-channel weight scales, else the group size (32/64/128)
            along the reduction dim.
        w_mse: choose each weight scale's clipping ratio by minimum squared error.
        a_symmetric: signed activation codes (else unsigned with a zero point, the default).
        a_calibration: ``"minmax"`` or ``"percentile"`` activation ranges on the calibration split.
    """

    w_symmetric: bool = True
    w_group: int | None = None
    w_mse: bool = False
    a_symmetric: bool = False
    a_calibration: str = "minmax"

    def __post_init__(self) -> None:
        if self.w_group not in GROUPS:
            raise ConfigError(f"`group` must be one of 32, 64, 128 or None (per channel), but got {self.w_group!r}")
        if self.a_calibration not in ("minmax", "percentile"):
            raise ConfigError(f"`a_calibration` must be 'minmax' or 'percentile', but got {self.a_calibration!r}")

    @property
    def key(self) -> str:
        w = ("sym" if self.w_symmetric else "asym") + (f"-g{self.w_group}" if self.w_group else "-ch")
        a = ("sym" if self.a_symmetric else "asym") + f"-{self.a_calibration}"
        return f"w:{w}{'-mse' * self.w_mse},a:{a}-tensor"

    def weight_qparams(self, w2d: np.ndarray, bits: int, what: str) -> QParams:
        """Quantizer of a ``[N, K]`` weight (rows = output channels)."""
        if self.w_group is not None:
            return qparams_from_data(w2d, bits, self.w_symmetric, group_size=self.w_group, group_axis=1, what=what,
                                     mse=self.w_mse)
        return qparams_from_data(w2d, bits, self.w_symmetric, axis=0, what=what, mse=self.w_mse)


class TorchProbe(BaseEvaluator):
    """Base of the torch probes (see the module docstring).

    Subclasses set ``name``, ``primary`` (the metric), ``higher_is_better``, ``metrics`` and
    implement :meth:`build` (load model, layers), :meth:`calib_batches` and :meth:`measure`.

    Args:
        scheme: the quantizer scheme.
        eval_size: evaluation-set size (images, tokens, examples; subclass-defined), None = all.
        cache_dir: model / data / result cache (default :func:`default_cache_dir`).
        disk_cache: memoize metrics on disk as well as in memory.
        hw_exact: compute quantized layers through the rtl_sim PE model (``pe`` family).
        pe: PE family name for ``hw_exact`` (a design's ``pe_type`` overrides it).
    """

    name = "torch-probe"
    primary = "metric"
    higher_is_better = True
    unit = ""
    default_eval_size: int | None = None
    calib_rows = 512  # input rows kept per layer for the proxy

    def __init__(self, scheme: QuantScheme | None = None, eval_size: int | None = None,
                 cache_dir: str | os.PathLike[str] | None = None, disk_cache: bool = True,
                 hw_exact: bool = False, pe: str = "bit_parallel") -> None:
        import torch

        if eval_size is not None and (isinstance(eval_size, bool) or not isinstance(eval_size, int) or eval_size < 1):
            raise ConfigError(f"`eval_size` must be an integer >= 1 or None, but got {eval_size!r}")
        self.scheme = scheme or QuantScheme()
        self.eval_size = eval_size if eval_size is not None else self.default_eval_size
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        self.disk_cache, self.hw_exact, self.pe = disk_cache, hw_exact, pe
        self._threads = torch.get_num_threads()
        t0 = time.perf_counter()
        with torch.no_grad():
            self.model, layers = self.build()
        self.model.eval()
        self.layers: tuple[Layer, ...] = tuple(layers)
        self.modules = dict(self.model.named_modules())
        missing = [l.name for l in self.layers if l.name not in self.modules]
        if missing:
            raise ConfigError(f"{self.name}: layers {missing[:3]} are not modules of the model")
        self._orig = {l.name: self.modules[l.name].weight.detach().clone() for l in self.layers}
        self.act_ranges: dict[str, tuple[float, float]] = {}
        self.calib_inputs: dict[str, np.ndarray] = {}
        self.calib_tokens: dict[str, int] = {}
        self._calibrate()
        self.version = self.base_version() + f"+{self.scheme.key}" + (f",eval={self.eval_size}" if self.eval_size else "")
        self._wq: dict[tuple[str, int], Any] = {}
        self._memo: dict[BitConfig, dict[str, Any]] = {}
        self.float_result = self.measure_config((None,) * len(self.layers))
        self.load_seconds = time.perf_counter() - t0

    # -- subclass API ------------------------------------------------------------------
    def build(self) -> tuple[Any, Sequence[Layer]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def calib_batches(self) -> Iterable[Any]:  # pragma: no cover - abstract
        """Model inputs of the calibration split (each passed to ``self.model``)."""
        raise NotImplementedError

    def measure(self) -> tuple[dict[str, float], np.ndarray]:  # pragma: no cover - abstract
        """Metrics of ``self.model`` as currently quantized on the evaluation split, and the
        per-item values of the primary metric (its mean is the metric; used for the stderr)."""
        raise NotImplementedError

    def base_version(self) -> str:
        return "1"

    def loss_batches(self) -> Iterable[Any]:  # pragma: no cover - optional, for the Fisher proxy
        """``(inputs, loss_fn)`` pairs of the calibration split: ``loss_fn(model_output)``."""
        raise NotImplementedError

    # -- calibration ---------------------------------------------------------------------
    def _calibrate(self) -> None:
        import torch

        lo = {l.name: np.inf for l in self.layers}
        hi = {l.name: -np.inf for l in self.layers}
        rows: dict[str, list[np.ndarray]] = {l.name: [] for l in self.layers}
        kept = dict.fromkeys(lo, 0)
        tokens = dict.fromkeys(lo, 0)
        rng = np.random.default_rng(0)

        def hook_for(name: str) -> Any:
            def hook(mod: Any, args: tuple[Any, ...]) -> None:
                x = _as_rows(mod, args[0])
                if x.shape[0] == 0:
                    return
                lo[name] = min(lo[name], float(x.min()))
                hi[name] = max(hi[name], float(x.max()))
                tokens[name] += x.shape[0]
                if kept[name] < self.calib_rows:
                    take = min(self.calib_rows - kept[name], max(1, self.calib_rows // 8), x.shape[0])
                    idx = rng.choice(x.shape[0], take, replace=False)
                    rows[name].append(x[idx].numpy().astype(np.float32))
                    kept[name] += take
            return hook

        handles = [self.modules[n].register_forward_pre_hook(hook_for(n)) for n in lo]
        try:
            with torch.no_grad():
                for batch in self.calib_batches():
                    self.model(*batch) if isinstance(batch, tuple) else self.model(batch)
        finally:
            for h in handles:
                h.remove()
        for n in lo:
            if not np.isfinite(lo[n]):
                lo[n], hi[n] = 0.0, 0.0  # never called on the calibration split (an unused expert)
            self.act_ranges[n] = (lo[n], hi[n])
            self.calib_inputs[n] = np.concatenate(rows[n]) if rows[n] else np.zeros((0, self._in_features(n)), np.float32)
            self.calib_tokens[n] = tokens[n]

    def _in_features(self, name: str) -> int:
        w = self._orig[name]
        return int(w[0].numel())

    # -- quantization ----------------------------------------------------------------------
    def param_use(self) -> ParamUse:
        """Optional bits of the model's layers (float where absent); ``pe_type`` when hardware-exact."""
        use = bits_use(self.layers)
        return use | ParamUse(optional=frozenset({"pe_type"}), summary=("pe_type",)) if self.hw_exact else use

    def bit_config(self, design: Mapping[str, Any]) -> BitConfig:
        """Per layer ``(w_bits, a_bits)`` or None (float), in ``self.layers`` order."""
        return tuple(layer_bits(design, layer) for layer in self.layers)

    def weight_q(self, name: str, bits: int) -> QParams:
        w = self._orig[name]
        return self.scheme.weight_qparams(w.reshape(w.shape[0], -1).double().numpy(), bits, f"w_bits.{name}")

    def act_q(self, name: str, bits: int) -> QParams:
        lo, hi = self.act_ranges[name]
        return qparams_from_range(lo, hi, bits, symmetric=self.scheme.a_symmetric, what=f"a_bits.{name}")

    def _fq_weight(self, name: str, bits: int) -> Any:
        import torch

        key = (name, bits)
        if key not in self._wq:
            w = self._orig[name]
            fq = self.weight_q(name, bits).fake_quant(w.reshape(w.shape[0], -1).double().numpy())
            self._wq[key] = torch.from_numpy(fq.astype(np.float32)).reshape(w.shape)
        return self._wq[key]

    def apply(self, config: BitConfig) -> list[Any]:
        """Quantize the model in place for ``config``; returns hook handles (see :meth:`restore`)."""
        from codesign.evaluators.accuracy.hwexact import act_fake_quant_hook, hw_exact_hook

        handles = []
        for layer, bits in zip(self.layers, config):
            mod = self.modules[layer.name]
            if bits is None:
                mod.weight.data = self._orig[layer.name]
                continue
            w_bits, a_bits = bits
            mod.weight.data = self._fq_weight(layer.name, w_bits)
            if self.hw_exact:
                handles.append(mod.register_forward_hook(hw_exact_hook(self, layer.name, w_bits, a_bits)))
            else:
                handles.append(mod.register_forward_pre_hook(act_fake_quant_hook(self.act_q(layer.name, a_bits))))
        return handles

    def restore(self, handles: list[Any]) -> None:
        for h in handles:
            h.remove()
        for layer in self.layers:
            self.modules[layer.name].weight.data = self._orig[layer.name]

    # -- evaluation ------------------------------------------------------------------------
    def _disk_path(self, config: BitConfig) -> Path:
        text = json.dumps([self.name, self.version, self.hw_exact and self.pe, config], separators=(",", ":"))
        return self.cache_dir / "probes" / f"{self.name}-{hashlib.sha1(text.encode()).hexdigest()[:20]}.json"

    def measure_items(self, config: BitConfig) -> tuple[dict[str, float], np.ndarray]:
        """Metrics and per-item values of ``config`` (not memoized): quantize, measure, restore."""
        import torch

        handles = self.apply(config)
        try:
            with torch.no_grad():
                values, items = self.measure()
        finally:
            self.restore(handles)
        return values, np.asarray(items, dtype=np.float64)

    def measure_config(self, config: BitConfig) -> dict[str, Any]:
        """``{"values": {...}, "stderr": float, "n": int, "seconds": float, "cached": bool}`` (memoized)."""
        if config in self._memo:
            return {**self._memo[config], "cached": True}
        path = self._disk_path(config)
        if self.disk_cache and path.is_file():
            try:
                res = json.loads(path.read_text())
                self._memo[config] = res
                return {**res, "cached": True}
            except (OSError, ValueError):
                pass
        t0 = time.perf_counter()
        values, items = self.measure_items(config)
        stderr = float(items.std(ddof=1) / np.sqrt(len(items))) if len(items) > 1 else 0.0
        res = {"values": {k: float(v) for k, v in values.items()}, "stderr": stderr, "n": int(len(items)),
               "seconds": time.perf_counter() - t0}
        self._memo[config] = res
        if self.disk_cache:
            atomic_write(path, lambda f: f.write(json.dumps(res).encode()))
        return {**res, "cached": False}

    def degradation(self, value: float) -> float:
        """How much worse ``value`` is than full precision (> 0 is worse)."""
        fp = self.float_result["values"][self.primary]
        return fp - value if self.higher_is_better else value - fp

    def evaluate(self, design: Design) -> Metrics:
        config = self.bit_config(design)
        if self.hw_exact and "pe_type" in design and design["pe_type"] != self.pe:
            self.pe = str(design["pe_type"])
        res = self.measure_config(config)
        value = res["values"][self.primary]
        values = dict(res["values"])
        values[f"{self.primary}_degradation"] = self.degradation(value)
        bits = {l.name: {"w_bits": b[0], "a_bits": b[1]} if b else None for l, b in zip(self.layers, config)}
        return Metrics(values, {"float": self.float_result["values"], "stderr": res["stderr"], "n_eval": res["n"],
                                "seconds": res["seconds"], "cached": res["cached"], "scheme": asdict(self.scheme),
                                "bits": bits})

    def evaluate_many(self, designs: Sequence[Design]) -> list[Metrics]:
        return [self.evaluate(d) for d in designs]


def _as_rows(mod: Any, x: Any) -> Any:
    """A layer input as GEMM rows ``[M, K]`` (im2col patches for a conv)."""
    import torch

    if isinstance(mod, torch.nn.Conv2d):
        cols = torch.nn.functional.unfold(x, mod.kernel_size, mod.dilation, mod.padding, mod.stride)
        return cols.transpose(1, 2).reshape(-1, cols.shape[1])
    return x.reshape(-1, x.shape[-1])
