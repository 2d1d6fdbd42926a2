"""Shared mechanism of the real quantized-accuracy probes on torch models.

A probe subclass supplies a float torch model, its quantizable layers (as workload
:class:`~codesign.workloads.layer.Layer` s named by the modules' qualified names, with MoE expert
tags where relevant), calibration inputs and a metric on real held-out data. This base:

- answers from its caches **before anything is built**: a design's bit configuration is read
  through the layer manifest (``<cache>/probes/<probe>-layers-<version>.json``: each layer's
  bit-parameter keys, written at the first build), so a metric memoized in memory or on disk
  (``<cache>/probes/<probe>-<sha>.json``, written atomically) under the key ``(probe name,
  version, eval size, quantizer scheme, bit configuration)`` costs a file read, no torch;
- builds the model, data and calibration only on the first miss (:meth:`load`) and keeps them
  resident for the life of the object; :func:`shared_probe` keeps one object per settings and
  process, so every problem (and every pool / Ray worker process) reuses a loaded model;
- calibrates every quantizable layer's **input range** on the calibration split (never the
  evaluation split), once per (model and data version, calibration split, row budget), and
  persists it (:mod:`codesign.evaluators.accuracy.calibration`), with a row sample of the
  inputs for the proxy (:mod:`codesign.evaluators.accuracy.proxy`);
- applies a design's per-layer / per-expert / per-linear-block ``(w_bits, a_bits)``
  (:func:`codesign.spaces.builders.layer_bits`) as **fake quantization**: the weight is replaced
  by its round-to-nearest quantized value (:class:`QuantScheme`: symmetric or asymmetric, per
  output channel or per group of 32/64/128 along the reduction dim) and the input by its
  per-tensor quantized value (asymmetric by default, range from calibration);
- optionally computes quantized layers **hardware-exactly** (:mod:`codesign.evaluators.accuracy.hwexact`);
- optionally **measures on a GPU** (``device="cuda"`` or ``$CODESIGN_PROBE_DEVICE``, for probes
  whose :attr:`TorchProbe.devices` allow it): calibration, quantizer parameters and the memo stay
  on the CPU; only the evaluation pass runs on the device, in float32 with TF32 off, so a GPU
  answer equals the CPU's up to float summation order (an activation code can flip where a value
  sits on a rounding boundary). The answer is memoized under the same key as the CPU's.

Layers without bits stay float. Biases, norms, embeddings and attention matmuls stay float.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from codesign.errors import ConfigError
from codesign.evaluators.accuracy.calibration import atomic_write, collect, load_stats, save_stats, stats_path
from codesign.evaluators.accuracy.hwexact import act_fake_quant_hook, hw_exact_hook
from codesign.evaluators.accuracy.quantizers import QParams, qparams_from_data, qparams_from_range
from codesign.evaluators.base import BaseEvaluator
from codesign.evaluators.params import ParamUse, bits_use_keys
from codesign.spaces.builders import bit_keys, bits_at
from codesign.types import Design, Metrics
from codesign.workloads.layer import Layer

__all__ = ["DEVICE_ENV", "DEVICE_PATTERN", "RESULTS_ENV", "BitConfig", "QuantScheme", "TorchProbe", "atomic_write",
           "default_cache_dir", "results_dir", "shared_probe"]

BitConfig = tuple[tuple[int, int] | None, ...]
GROUPS = (None, 32, 64, 128)


def default_cache_dir() -> Path:
    """``$CODESIGN_CACHE`` if set, else ``~/.cache/codesign``."""
    env = os.environ.get("CODESIGN_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "codesign"


RESULTS_ENV = "CODESIGN_PROBE_RESULTS"
DEVICE_ENV = "CODESIGN_PROBE_DEVICE"
DEVICE_PATTERN = r"cpu|cuda(:[0-9]+)?"  # the devices a probe may name (re.fullmatch)


def results_dir(cache_dir: Path) -> Path:
    """Where memoized probe answers live: ``$CODESIGN_PROBE_RESULTS`` if set (``codesign bench
    scale`` gives each configuration its own, so none answers from another's measurements),
    else ``cache_dir/probes`` beside the models, manifests and calibration statistics."""
    env = os.environ.get(RESULTS_ENV)
    return Path(env).expanduser() if env else cache_dir / "probes"


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
    implement :meth:`build` (load model, layers), :meth:`calib_batches` and :meth:`measure`;
    :meth:`base_version` must change whenever the model, data or metric change, and must be
    cheap (it is read before anything is built).

    Args:
        scheme: the quantizer scheme.
        eval_size: evaluation-set size (images, tokens, examples; subclass-defined), None = all.
        cache_dir: model / data / result cache (default :func:`default_cache_dir`).
        disk_cache: memoize metrics, the layer manifest and the calibration statistics on disk.
        hw_exact: compute quantized layers through the rtl_sim PE model (``pe`` family).
        pe: PE family name for ``hw_exact`` (a design's ``pe_type`` overrides it).
        threads: torch intra-op threads while measuring (default ``$CODESIGN_PROBE_THREADS`` or 1:
            on a shared machine one thread per probe beats oversubscribed ones, and pool workers
            each run their own probe).
        device: where the evaluation pass runs: ``"cpu"`` or ``"cuda[:N]"`` (default
            ``$CODESIGN_PROBE_DEVICE`` or ``"cpu"``); a GPU only for probes whose :attr:`devices`
            name ``"cuda"`` and not with ``hw_exact``.
    """

    name = "torch-probe"
    primary = "metric"
    higher_is_better = True
    unit = ""
    default_eval_size: int | None = None
    calib_rows = 512  # input rows kept per layer for the proxy
    opposes_bits = "real probe"  # what makes lowering bits cost something (problems' degenerate-dimension check)
    devices: tuple[str, ...] = ("cpu",)  # where measure() can run (it moves its inputs with to_device)

    def __init__(self, scheme: QuantScheme | None = None, eval_size: int | None = None,
                 cache_dir: str | os.PathLike[str] | None = None, disk_cache: bool = True,
                 hw_exact: bool = False, pe: str = "bit_parallel", threads: int | None = None,
                 device: str | None = None) -> None:
        if threads is None:
            env = os.environ.get("CODESIGN_PROBE_THREADS", "1")
            threads = int(env) if env.isdigit() else env  # type: ignore[assignment]
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ConfigError(f"`threads` must be an integer >= 1, but got {threads!r}")
        self.threads = threads
        device = device if device is not None else (os.environ.get(DEVICE_ENV) or "cpu")
        if not isinstance(device, str) or not re.fullmatch(DEVICE_PATTERN, device):
            raise ConfigError(f"`device` must be 'cpu', 'cuda' or 'cuda:N', but got {device!r}")
        if device.split(":")[0] not in self.devices:
            raise ConfigError(f"{self.name} measures on {' or '.join(self.devices)} only, but `device` is {device!r}")
        if hw_exact and device != "cpu":
            raise ConfigError(f"hardware-exact mode runs on the CPU only, but `device` is {device!r}")
        self.device = device
        if eval_size is not None and (isinstance(eval_size, bool) or not isinstance(eval_size, int) or eval_size < 1):
            raise ConfigError(f"`eval_size` must be an integer >= 1 or None, but got {eval_size!r}")
        self.scheme = scheme or QuantScheme()
        self.eval_size = eval_size if eval_size is not None else self.default_eval_size
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        self.disk_cache, self.hw_exact, self.pe = disk_cache, hw_exact, pe
        self.version = self.base_version() + f"+{self.scheme.key}" + (f",eval={self.eval_size}" if self.eval_size else "")
        self._memo: dict[BitConfig, dict[str, Any]] = {}
        self._keys: tuple[tuple[str, ...], ...] | None = None
        self._loaded = False
        self.load_seconds = 0.0

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

    # -- loading -------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._loaded

    @property
    def layers(self) -> tuple[Layer, ...]:
        self.load()
        return self._layers

    def load(self) -> TorchProbe:
        """Build model, data and calibration (once; a no-op when loaded). Returns ``self``."""
        if self._loaded:
            return self
        import torch

        t0 = time.perf_counter()
        with torch.no_grad():
            self.model, layers = self.build()
        self.model.eval()
        self._layers: tuple[Layer, ...] = tuple(layers)
        self.modules = dict(self.model.named_modules())
        missing = [l.name for l in self._layers if l.name not in self.modules]
        if missing:
            raise ConfigError(f"{self.name}: layers {missing[:3]} are not modules of the model")
        self.orig_weights = {l.name: self.modules[l.name].weight.detach().clone() for l in self._layers}
        self._wq: dict[tuple[str, int], Any] = {}
        self._calibrate()
        keys = tuple(bit_keys(l) for l in self._layers)
        if self._keys is not None and self._keys != keys:
            raise ConfigError(f"{self.name}: the layer manifest in {self._manifest_path()} does not match the model; "
                              "delete it")
        self._keys = keys
        if self.disk_cache and not self._manifest_path().is_file():
            atomic_write(self._manifest_path(), lambda f: f.write(json.dumps([list(k) for k in keys]).encode()))
        self._loaded = True
        self.load_seconds += time.perf_counter() - t0
        return self

    def _manifest_path(self) -> Path:
        return self.cache_dir / "probes" / f"{self.name}-layers-{_digest(self.base_version())}.json"

    def layer_keys(self) -> tuple[tuple[str, ...], ...]:
        """Per layer, the bit-parameter keys it reads (manifest on disk, else from the build)."""
        if self._keys is None and self.disk_cache:
            try:
                self._keys = tuple(tuple(k) for k in json.loads(self._manifest_path().read_text()))
            except (OSError, ValueError, TypeError):
                self._keys = None
        if self._keys is None:
            self.load()
        assert self._keys is not None
        return self._keys

    # -- calibration ---------------------------------------------------------------------
    def _calibrate(self) -> None:
        names = [l.name for l in self._layers]
        path = stats_path(self.cache_dir, self.name, self.base_version(), self.calib_rows)
        stats = load_stats(path, names) if self.disk_cache else None
        if stats is None:
            feats = {n: int(self.orig_weights[n][0].numel()) for n in names}
            stats = collect(self.model, self.modules, self.calib_batches(), feats, self.calib_rows)
            if self.disk_cache:
                save_stats(path, stats)
        self.act_ranges: dict[str, tuple[float, float]] = stats.ranges
        self.calib_inputs: dict[str, np.ndarray] = stats.rows
        self.calib_tokens: dict[str, int] = stats.tokens

    # -- quantization ----------------------------------------------------------------------
    def param_use(self) -> ParamUse:
        """Optional bits of the model's layers (float where absent); ``pe_type`` when hardware-exact.
        Reads the layer manifest (:meth:`layer_keys`), so it loads the model only when there is none."""
        use = bits_use_keys(self.layer_keys())
        return use | ParamUse(optional=frozenset({"pe_type"}), summary=("pe_type",)) if self.hw_exact else use

    def bit_config(self, design: Mapping[str, Any]) -> BitConfig:
        """Per layer ``(w_bits, a_bits)`` or None (float), in layer order (no model needed)."""
        return tuple(bits_at(design, keys) for keys in self.layer_keys())

    def weight_q(self, name: str, bits: int) -> QParams:
        w = self.orig_weights[name]
        return self.scheme.weight_qparams(w.reshape(w.shape[0], -1).double().numpy(), bits, f"w_bits.{name}")

    def act_q(self, name: str, bits: int) -> QParams:
        lo, hi = self.act_ranges[name]
        return qparams_from_range(lo, hi, bits, symmetric=self.scheme.a_symmetric, what=f"a_bits.{name}")

    def _fq_weight(self, name: str, bits: int) -> Any:
        import torch

        key = (name, bits)
        if key not in self._wq:
            w = self.orig_weights[name]
            fq = self.weight_q(name, bits).fake_quant(w.reshape(w.shape[0], -1).double().numpy())
            self._wq[key] = torch.from_numpy(fq.astype(np.float32)).reshape(w.shape)
        return self._wq[key]

    def apply(self, config: BitConfig) -> list[Any]:
        """Quantize the model in place for ``config``; returns hook handles (see :meth:`restore`)."""
        self.load()
        handles = []
        for layer, bits in zip(self._layers, config):
            mod = self.modules[layer.name]
            if bits is None:
                mod.weight.data = self.orig_weights[layer.name]
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
        for layer in self._layers:
            self.modules[layer.name].weight.data = self.orig_weights[layer.name]

    # -- evaluation ------------------------------------------------------------------------
    def _disk_path(self, config: BitConfig) -> Path:
        text = json.dumps([self.name, self.version, self.hw_exact and self.pe, config], separators=(",", ":"))
        return results_dir(self.cache_dir) / f"{self.name}-{hashlib.sha1(text.encode()).hexdigest()[:20]}.json"

    def measure_items(self, config: BitConfig) -> tuple[dict[str, float], np.ndarray]:
        """Metrics and per-item values of ``config`` (not memoized): quantize, measure, restore."""
        import torch

        handles = self.apply(config)
        threads = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            with torch.no_grad(), self._on_device():
                values, items = self.measure()
        finally:
            torch.set_num_threads(threads)
            self.restore(handles)
        return values, np.asarray(items, dtype=np.float64)

    def to_device(self, x: Any) -> Any:
        """A tensor moved to where :meth:`measure` runs (``self.device``; a no-op on the CPU)."""
        return x if self.device == "cpu" else x.to(self.device, non_blocking=True)

    @contextlib.contextmanager
    def _on_device(self) -> Any:
        """The quantized model (weights and hooks as applied) on ``self.device`` for one
        measurement, back on the CPU afterwards (calibration, proxies and the cached quantized
        weights stay there)."""
        if self.device == "cpu":
            yield
            return
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(f"{self.name}: `device` is {self.device!r}, but torch sees no CUDA device")
        torch.backends.cuda.matmul.allow_tf32 = False  # float32 as on the CPU
        torch.backends.cudnn.allow_tf32 = False
        self.model.to(self.device)
        try:
            yield
        finally:
            self.model.to("cpu")

    def cached_result(self, config: BitConfig) -> dict[str, Any] | None:
        """The memoized result of ``config`` (memory, then disk), or None; builds nothing."""
        if config in self._memo:
            return {**self._memo[config], "cached": True}
        path = self._disk_path(config)
        if self.disk_cache and path.is_file():
            try:
                res = json.loads(path.read_text())
            except (OSError, ValueError):
                return None
            self._memo[config] = res
            return {**res, "cached": True}
        return None

    def measure_config(self, config: BitConfig) -> dict[str, Any]:
        """``{"values": {...}, "stderr": float, "n": int, "seconds": float, "cached": bool}`` (memoized)."""
        hit = self.cached_result(config)
        if hit is not None:
            return hit
        t0 = time.perf_counter()
        values, items = self.measure_items(config)
        stderr = float(items.std(ddof=1) / np.sqrt(len(items))) if len(items) > 1 else 0.0
        res = {"values": {k: float(v) for k, v in values.items()}, "stderr": stderr, "n": int(len(items)),
               "seconds": time.perf_counter() - t0}
        self._memo[config] = res
        if self.disk_cache:
            atomic_write(self._disk_path(config), lambda f: f.write(json.dumps(res).encode()))
        return {**res, "cached": False}

    @property
    def float_result(self) -> dict[str, Any]:
        """The result with every layer in float (memoized like any configuration)."""
        return self.measure_config((None,) * len(self.layer_keys()))

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
        names = [keys[0] for keys in self.layer_keys()]
        bits = {n: {"w_bits": b[0], "a_bits": b[1]} if b else None for n, b in zip(names, config)}
        return Metrics(values, {"float": self.float_result["values"], "stderr": res["stderr"], "n_eval": res["n"],
                                "seconds": res["seconds"], "cached": res["cached"], "scheme": asdict(self.scheme),
                                "bits": bits})

    def evaluate_many(self, designs: Sequence[Design]) -> list[Metrics]:
        return [self.evaluate(d) for d in designs]


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:12]


_SHARED: dict[tuple[Any, ...], TorchProbe] = {}


def shared_probe(cls: type[TorchProbe], **kwargs: Any) -> TorchProbe:
    """One probe object per (class, settings) in this process: a model loaded for one problem
    (or one evaluation in a pool / Ray worker process) stays resident for the next."""
    key = (cls, tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
    if key not in _SHARED:
        _SHARED[key] = cls(**kwargs)
    return _SHARED[key]
