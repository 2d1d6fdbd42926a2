"""Per-group, per-option losses of a real model measured with its probe (inputs of bit allocation).

A *group* is a set of the probe's layers that share one option (a layer, an expert, a linear
block, tied layers); an *option* is anything with ``name``, ``w_bits`` and ``a_bits`` (None = not
quantized, measured as :data:`FLOAT_BITS`). Three methods, each a loss per ``(group, option)``
assumed additive over groups, as HAWQ-V3 and MxMoE assume:

- ``fisher`` — the Fisher-weighted layer-output error of :mod:`codesign.evaluators.accuracy.proxy`
  (weights and activations, calibration split; nats of calibration loss), summed over members.
- ``hessian`` — HAWQ-V3's ``(tr(H_l) / n_l) · ‖W_l − Q_w(W_l)‖²`` per member layer ``l``: the
  Hutchinson estimate ``tr(H_l) ≈ mean_s v_sᵀ H v_s`` (Rademacher ``v``, Hessian-vector products
  by double backward of the mean calibration cross-entropy; ``samples`` × ``batches``), times the
  squared weight perturbation of the probe's own quantizer. Weights only: activation bits do not
  change it (as in HAWQ-V3). A negative trace estimate (a locally non-convex loss, or too few
  samples) is clipped to 0: quantization noise is not credited with lowering the loss.
- ``probe`` — the real probe: the primary metric's degradation with only the group's members
  quantized at the option (everything else float), on the probe's evaluation split (MC-MoE /
  MxMoE style; noisy at the probe's stderr, may be slightly negative).

Results are cached on disk (``<cache>/sensitivity/<probe>-<method>-<sha>.json``, keyed by probe
name and version, method and its parameters) per layer where the method is per layer, so any
grouping of the same layers reuses them.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from codesign.errors import ConfigError
from codesign.evaluators.accuracy.calibration import atomic_write
from codesign.evaluators.accuracy.probe import TorchProbe

__all__ = ["FLOAT_BITS", "METHODS", "SensitivityTable", "group_losses"]

METHODS = ("fisher", "hessian", "probe")
FLOAT_BITS = 16


def _bits(option: Any) -> tuple[int, int]:
    w, a = getattr(option, "w_bits", None), getattr(option, "a_bits", None)
    return int(w if w is not None else FLOAT_BITS), int(a if a is not None else FLOAT_BITS)


class SensitivityTable:
    """Disk-cached measurements of one probe by one method (see the module docstring).

    Args:
        probe: a loaded :class:`TorchProbe`.
        method: ``fisher``, ``hessian`` or ``probe``.
        samples: Hutchinson samples per calibration batch (``hessian``).
        batches: calibration batches of the Hessian trace (``hessian``).
        seed: seed of the Rademacher vectors (``hessian``).
        cache: read / write the disk cache.
    """

    def __init__(self, probe: TorchProbe, method: str = "fisher", samples: int = 16, batches: int = 2, seed: int = 0,
                 cache: bool = True) -> None:
        if method not in METHODS:
            raise ConfigError(f"sensitivity method must be one of {METHODS}, but got {method!r}")
        for what, v in (("samples", samples), ("batches", batches)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"`{what}` must be an integer >= 1, but got {v!r}")
        self.probe, self.method, self.cache = probe, method, cache
        self.params = {"samples": samples, "batches": batches, "seed": seed} if method == "hessian" else {}
        key = json.dumps([probe.name, probe.version, method, self.params], sort_keys=True)
        self.path = probe.cache_dir / "sensitivity" / f"{probe.name}-{method}-{hashlib.sha1(key.encode()).hexdigest()[:16]}.json"
        self.values: dict[str, float] = {}
        if cache and self.path.is_file():
            try:
                self.values = {str(k): float(v) for k, v in json.loads(self.path.read_text())["values"].items()}
            except (OSError, ValueError, KeyError, TypeError):
                self.values = {}
        self._dirty = False
        self.seconds = 0.0
        self._proxy: Any = None

    # -- per-method measurements ------------------------------------------------------------
    def _get(self, key: str, compute: Any) -> float:
        if key not in self.values:
            t0 = time.perf_counter()
            self.values[key] = float(compute())
            self.seconds += time.perf_counter() - t0
            self._dirty = True
        return self.values[key]

    def _fisher(self, layer: str, w: int, a: int) -> float:
        if self._proxy is None:
            from codesign.evaluators.accuracy.proxy import Proxy

            self._proxy = Proxy(self.probe)
        return self._get(f"{layer}|{w}|{a}", lambda: self._proxy.layer_term(layer, w, a))

    def _trace(self, layer: str) -> float:
        if f"trace|{layer}" not in self.values:
            t0 = time.perf_counter()
            for name, tr in hutchinson_traces(self.probe, **self.params).items():
                self.values[f"trace|{name}"] = tr
            self.seconds += time.perf_counter() - t0
            self._dirty = True
        return self.values[f"trace|{layer}"]

    def _perturbation(self, layer: str, w: int) -> float:
        def compute() -> float:
            weight = self.probe.orig_weights[layer]
            w2d = weight.reshape(weight.shape[0], -1).double().numpy()
            return float(((self.probe.weight_q(layer, w).fake_quant(w2d) - w2d) ** 2).sum())

        return self._get(f"pert|{layer}|{w}", compute)

    def _real(self, members: Sequence[str], w: int, a: int) -> float:
        def compute() -> float:
            chosen = set(members)
            config = tuple((w, a) if l.name in chosen else None for l in self.probe.layers)
            value = self.probe.measure_config(config)["values"][self.probe.primary]
            return self.probe.degradation(value)

        return self._get(f"{','.join(members)}|{w}|{a}", compute)

    # -- public ------------------------------------------------------------------------------
    def loss(self, members: Sequence[str], option: Any) -> float:
        """The loss of quantizing ``members`` (layer names of the probe) at ``option``."""
        known = {l.name for l in self.probe.layers}
        unknown = [m for m in members if m not in known]
        if unknown:
            raise ConfigError(f"{self.probe.name}: {unknown[:3]} are not layers of its model")
        if getattr(option, "group_size", None) not in (None, self.probe.scheme.w_group):
            raise ConfigError(f"option {option.name!r}: measured losses need the probe's weight group size "
                              f"({self.probe.scheme.w_group}), but the option has {option.group_size}")
        w, a = _bits(option)
        if self.method == "fisher":
            return sum(self._fisher(m, w, a) for m in members)
        if self.method == "hessian":
            return sum(max(self._trace(m), 0.0) / self.probe.orig_weights[m].numel() * self._perturbation(m, w)
                       for m in members)
        return self._real(list(members), w, a)

    def save(self) -> None:
        if self.cache and self._dirty:
            doc = {"probe": self.probe.name, "version": self.probe.version, "method": self.method,
                   "params": self.params, "values": self.values}
            atomic_write(self.path, lambda f: f.write(json.dumps(doc).encode()))
            self._dirty = False


def hutchinson_traces(probe: TorchProbe, samples: int = 16, batches: int = 2, seed: int = 0) -> dict[str, float]:
    """``tr(∂²L/∂W_l²)`` per quantizable layer ``l`` of ``probe`` (L: mean calibration loss per
    item of the first ``batches`` calibration batches), Hutchinson with ``samples`` Rademacher
    vectors per batch."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel

    names = [l.name for l in probe.layers]
    params = [probe.modules[n].weight for n in names]
    was = [p.requires_grad for p in params]
    gen = torch.Generator().manual_seed(seed)
    sums = np.zeros(len(names))
    used = 0
    try:
        for p in params:
            p.requires_grad_(True)
        with torch.enable_grad(), sdpa_kernel(SDPBackend.MATH):  # double backward needs the math kernel
            for b, (inputs, loss_fn) in enumerate(probe.loss_batches()):
                if b >= batches:
                    break
                out = probe.model(*inputs) if isinstance(inputs, tuple) else probe.model(inputs)
                items = inputs[0].numel() if isinstance(inputs, tuple) else inputs.numel()
                if out.dim() == 2:  # classifier: one item per row
                    items = out.shape[0]
                loss = loss_fn(out) / items
                grads = torch.autograd.grad(loss, params, create_graph=True)
                for s in range(samples):
                    vs = [torch.randint(0, 2, p.shape, generator=gen).to(p.dtype) * 2 - 1 for p in params]
                    hv = torch.autograd.grad(grads, params, grad_outputs=vs, retain_graph=s < samples - 1)
                    sums += np.array([float((h * v).sum()) for h, v in zip(hv, vs)])
                used += samples
    finally:
        for p, w in zip(params, was):
            p.requires_grad_(w)
        probe.model.zero_grad(set_to_none=True)
    if used == 0:
        raise ConfigError(f"{probe.name}: no calibration batch for the Hessian trace")
    return {n: float(s / used) for n, s in zip(names, sums)}


def group_losses(probe: TorchProbe, groups: Sequence[Any], method: str = "fisher",
                 **kwargs: Any) -> dict[str, dict[str, float]]:
    """``{group name: {option name: loss}}`` for groups with ``name``, ``members``, ``options``."""
    table = SensitivityTable(probe, method, **kwargs)
    try:
        return {g.name: {o.name: table.loss(g.members, o) for o in g.options} for g in groups}
    finally:
        table.save()

