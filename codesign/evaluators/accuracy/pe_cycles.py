"""Cycles of data-dependent PEs on a probe model's real quantized weights (a cost-model hook).

The zero-bit-skipping PE (:mod:`codesign.rtl_sim.essential`) takes as many cycles per step as
the most essential terms among the step's weights, so its cycles depend on the actual integer
weights. This module gets them from a probe (:meth:`TorchProbe.weight_q`, the same quantizer
the accuracy measurement uses: symmetric, per output channel by default) and runs the
torch-free event counter on them:

- :func:`integer_weights`: a layer's ``(K, N)`` integer weight codes at ``bits`` (conv weights
  flattened ``C·R·S`` in im2col order, as the hardware-exact path feeds the PE).
- :class:`MeasuredPECycles`: ``(layer, w_bits, a_bits, hw) -> cycles per MAC per lane`` for
  the data-dependent PE types of :mod:`codesign.rtl_sim.characterize` (``essential``,
  ``essential_csd``): the mean step cycles ``P̄`` of the layer's weights with the lockstep group
  of ``lanes × hw["array_cols"]`` weights (exact over every block, or from ``sample_blocks``
  random blocks); None for other PE types or layers the probe does not have, so the cost
  model keeps the closed form there. Results are memoized in memory and on disk (a JSON file
  per probe version and quantizer scheme under ``<cache>/pe_cycles/``), so a later process
  answers without loading the model.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from codesign.evaluators.accuracy.probe import atomic_write, default_cache_dir
from codesign.rtl_sim.essential import mean_phases, sample_mean_phases

if TYPE_CHECKING:
    from codesign.evaluators.accuracy.probe import TorchProbe

__all__ = ["integer_weights", "MeasuredPECycles", "ENCODING_OF_PE"]

#: characterization PE type -> essential-term encoding of the zero-bit-skipping PE
ENCODING_OF_PE = {"essential": "binary", "essential_csd": "csd"}


def integer_weights(probe: TorchProbe, name: str, bits: int) -> np.ndarray:
    """``(K, N)`` int64 weight codes of layer ``name`` quantized at ``bits`` by the probe's scheme."""
    w = probe.load().orig_weights[name]
    w2d = w.reshape(w.shape[0], -1).double().numpy()
    return probe.weight_q(name, bits).quantize(w2d).astype(np.int64).T


class MeasuredPECycles:
    """Cost-model cycle hook from a probe's real quantized weights (module docstring).

    Args:
        probe: a probe (its model loads on the first miss), or a zero-argument factory (e.g. the
            probe class) called on the first miss.
        lanes: lanes per PE of the zero-bit-skipping PE (the catalogue default is 4).
        sample_blocks: None for the exact mean over every (n-tile, step) block, else the
            number of random blocks per layer (:func:`codesign.rtl_sim.essential.sample_mean_phases`).
        seed: sampling seed.
        cache_key: identifies the probe's weights and quantizer for the disk cache (default:
            the probe's name and version, known once the probe is loaded).
        cache_dir: disk-cache root (default :func:`default_cache_dir`); None with ``disk=False``.
    """

    def __init__(self, probe: TorchProbe | Callable[[], TorchProbe], lanes: int = 4,
                 sample_blocks: int | None = None, seed: int = 0, cache_key: str | None = None,
                 cache_dir: str | Path | None = None, disk: bool = True) -> None:
        is_probe = hasattr(probe, "weight_q") and not isinstance(probe, type)  # an instance, else a factory
        self._probe: TorchProbe | None = probe if is_probe else None  # type: ignore[assignment]
        self._factory = None if is_probe else probe
        self.lanes, self.sample_blocks, self.seed = int(lanes), sample_blocks, int(seed)
        if cache_key is None and self._probe is not None:
            cache_key = f"{self._probe.name}/{self._probe.version}"
        self.cache_key = cache_key
        self.disk = disk
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self._memo: dict[str, float] = {}
        self._loaded = False
        self.key = f"essential-lanes{self.lanes}" + (f"-s{sample_blocks}" if sample_blocks else "") + \
            (f"-{hashlib.sha1(cache_key.encode()).hexdigest()[:10]}" if cache_key else "")

    @property
    def probe(self) -> TorchProbe:
        if self._probe is None:
            assert self._factory is not None
            self._probe = self._factory()  # type: ignore[operator]
            if self.cache_key is None:
                self.cache_key = f"{self._probe.name}/{self._probe.version}"
        return self._probe

    def _path(self) -> Path | None:
        if not self.disk or self.cache_key is None:
            return None
        h = hashlib.sha1(f"{self.cache_key}|{self.sample_blocks}|{self.seed}".encode()).hexdigest()[:20]
        return self.cache_dir / "pe_cycles" / f"{h}.json"

    def _load_disk(self) -> None:
        self._loaded = True
        if self.cache_key is None:
            self.probe  # noqa: B018 - constructing a probe is cheap (its model loads lazily) and names the cache
        path = self._path()
        if path is not None and path.is_file():
            try:
                self._memo.update(json.loads(path.read_text()))
            except (OSError, ValueError):
                pass

    def mean_phases(self, layer: str, w_bits: int, encoding: str, cols: int) -> float | None:
        """``P̄`` of a layer's weights (None if the probe has no such layer)."""
        if not self._loaded:
            self._load_disk()
        key = f"{layer}|{w_bits}|{encoding}|{self.lanes}|{cols}"
        if key not in self._memo:
            probe = self.probe
            if layer not in {l.name for l in probe.layers}:
                return None
            w = integer_weights(probe, layer, w_bits)
            if self.sample_blocks:
                value = sample_mean_phases(w, self.lanes, cols, encoding, self.sample_blocks, self.seed)["mean"]
            else:
                value = mean_phases(w, self.lanes, cols, encoding)
            self._memo[key] = float(value)
            path = self._path()
            if path is not None:
                atomic_write(path, lambda f: f.write(json.dumps(self._memo, sort_keys=True).encode()))
        return self._memo[key]

    def __call__(self, layer: Any, w_bits: int, a_bits: int, hw: Mapping[str, Any]) -> float | None:
        encoding = ENCODING_OF_PE.get(str(hw.get("pe_type")))
        if encoding is None or getattr(layer, "weights", "W") is None:
            return None
        return self.mean_phases(getattr(layer, "name", str(layer)), int(w_bits), encoding, int(hw["array_cols"]))
