"""Real quantized accuracy of a small CNN on scikit-learn's handwritten digits.

The network (layer names match the cost workload ``codesign.workloads.zoo.digits_cnn``)::

    x [N, 1, 8, 8]   pixels 0..16 scaled to [0, 1]
    conv1  1 -> 16, 3x3, pad 1, stride 1, ReLU   -> [N, 16, 8, 8]
    conv2 16 -> 32, 3x3, pad 1, stride 2, ReLU   -> [N, 32, 4, 4] -> flatten [N, 512]
    fc1  512 -> 64, ReLU                         -> [N, 64]
    fc2   64 -> 10                               -> logits [N, 10]

Data: the 1797 images of ``sklearn.datasets.load_digits``, split once, stratified and seeded,
into train (60 %), calibration (10 %) and test (30 %). The network is trained once with torch
(seeded, single-threaded, a few seconds on CPU) and cached as ``.npz`` (weights, images, split)
under ``cache_dir`` / ``$CODESIGN_CACHE`` / ``~/.cache/codesign``, keyed by a hash of the
training recipe; later loads need neither torch nor scikit-learn.

Evaluation is a NumPy forward pass (im2col convolutions, float32). For each layer that the
design gives ``(w_bits, a_bits)`` (:func:`codesign.spaces.builders.layer_bits`):

- weights are fake-quantized symmetric per output channel at ``w_bits``;
- the layer's input activation is fake-quantized per tensor at ``a_bits``, asymmetric with the
  range widened to contain 0 — unsigned codes with ``z = 0`` here, since every input is
  non-negative (image, ReLU outputs) — with the range calibrated (min / max or percentile) on
  the float network's activations over the calibration split, never the test split;
- biases stay float (an int32 accumulator at scale ``s_w·s_a`` in hardware).

Layers without bits stay float. ``accuracy`` is the fraction of correct test predictions,
``accuracy_drop = float_accuracy − accuracy``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from codesign.errors import ConfigError
from codesign.evaluators.accuracy.quantizers import QParams, RangeObserver, qparams_from_data, qparams_from_range
from codesign.evaluators.accuracy.training import train_classifier
from codesign.evaluators.base import BaseEvaluator
from codesign.evaluators.params import ParamUse, bits_use
from codesign.spaces.builders import layer_bits
from codesign.types import Design, Metrics
from codesign.workloads.layer import Layer, conv, gemm

LAYERS: tuple[Layer, ...] = (
    conv("conv1", C=1, M=16, R=3, P=8),
    conv("conv2", C=16, M=32, R=3, P=4, stride=2),
    gemm("fc1", M=1, N=64, K=512),
    gemm("fc2", M=1, N=10, K=64),
)
LAYER_NAMES: tuple[str, ...] = tuple(l.name for l in LAYERS)
SPLIT = (0.6, 0.1, 0.3)  # train, calibration, test
RECIPE: dict[str, Any] = {
    "net": "digits-cnn/1", "layers": [l.to_dict() for l in LAYERS], "split": list(SPLIT),
    "optimizer": "adam", "lr": 5e-3, "weight_decay": 1e-4, "epochs": 20, "batch": 64,
}
_ARRAYS = ("images", "labels", "train_idx", "calib_idx", "test_idx") + tuple(
    f"{n}.{p}" for n in LAYER_NAMES for p in ("weight", "bias"))


def default_cache_dir() -> Path:
    """``$CODESIGN_CACHE`` if set, else ``~/.cache/codesign``."""
    env = os.environ.get("CODESIGN_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "codesign"


def recipe_hash(seed: int) -> str:
    """Hash of the training recipe and seed: the cache key of the trained network."""
    text = json.dumps({**RECIPE, "seed": int(seed)}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def split_digits(labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded stratified ``(train, calibration, test)`` index arrays (60 / 10 / 30 %)."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(labels))
    rest, test = train_test_split(idx, test_size=SPLIT[2], stratify=labels, random_state=seed)
    train, calib = train_test_split(
        rest, test_size=SPLIT[1] / (SPLIT[0] + SPLIT[1]), stratify=labels[rest], random_state=seed)
    return train, calib, test


def to_input(images: np.ndarray, nhwc: bool = False) -> np.ndarray:
    """``[N, 64]`` pixels 0..16 -> float32 in [0, 1], ``[N, 1, 8, 8]`` (or NHWC ``[N, 8, 8, 1]``)."""
    x = np.asarray(images, dtype=np.float32) / 16.0
    return x.reshape(-1, 8, 8, 1) if nhwc else x.reshape(-1, 1, 8, 8)


def train_network(seed: int = 0) -> dict[str, np.ndarray]:
    """Load the digits, split them and train the CNN with torch; returns the cache arrays."""
    import torch
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.data.astype(np.uint8)
    labels = digits.target.astype(np.int64)
    train, calib, test = split_digits(labels, seed)
    def make_net() -> Any:
        return torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(16, 32, 3, padding=1, stride=2), torch.nn.ReLU(), torch.nn.Flatten(),
            torch.nn.Linear(512, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10),
        )

    net = train_classifier(
        make_net, torch.from_numpy(to_input(images[train])), torch.from_numpy(labels[train]), seed=seed,
        epochs=RECIPE["epochs"], batch=RECIPE["batch"], lr=RECIPE["lr"], weight_decay=RECIPE["weight_decay"],
    )
    mods = [m for m in net if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    out: dict[str, np.ndarray] = {
        "images": images, "labels": labels.astype(np.uint8),
        "train_idx": train, "calib_idx": calib, "test_idx": test,
    }
    for name, m in zip(LAYER_NAMES, mods):
        out[f"{name}.weight"] = m.weight.detach().numpy().astype(np.float32)
        out[f"{name}.bias"] = m.bias.detach().numpy().astype(np.float32)
    return out


def load_or_train(cache_dir: str | os.PathLike[str] | None = None, seed: int = 0) -> tuple[dict[str, np.ndarray], Path]:
    """The cached arrays of recipe ``seed``; trains and writes the file (atomically) if missing."""
    directory = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    path = directory / f"digits_cnn_{recipe_hash(seed)}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as f:
                arrays = {k: f[k] for k in _ARRAYS}
            return arrays, path
        except (OSError, KeyError, ValueError):
            pass  # unreadable or incomplete: retrain and overwrite
    arrays = train_network(seed)
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.stem + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)  # atomic: concurrent writers each publish a complete file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return arrays, path


def _im2col(x: np.ndarray, k: int, stride: int, pad: int) -> tuple[np.ndarray, int, int]:
    """NHWC ``[N, H, W, C]`` -> ``[N·P·Q, k·k·C]`` zero-padded patches (``R, S, C`` order), ``P, Q``."""
    n, h, w, _ = x.shape
    p, q = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
    xp = np.zeros((n, h + 2 * pad, w + 2 * pad, x.shape[3]), x.dtype)  # cheaper than np.pad
    xp[:, pad : pad + h, pad : pad + w] = x
    taps = [xp[:, r : r + stride * p : stride, s : s + stride * q : stride] for r in range(k) for s in range(k)]
    return np.concatenate(taps, axis=-1).reshape(n * p * q, -1), p, q


def to_nhwc(params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Layer weights as GEMM operands of the NHWC forward pass: conv ``[M, R·S·C]``, fc ``[N, K]``.

    ``fc1``'s input columns are permuted from torch's ``(C, H, W)`` flatten order to ``(H, W, C)``;
    row ``m`` is still output channel ``m``, so per-channel quantization is unchanged.
    """
    out = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in params.items()}
    for name in ("conv1", "conv2"):
        w = out[f"{name}.weight"]
        out[f"{name}.weight"] = np.ascontiguousarray(w.transpose(0, 2, 3, 1).reshape(w.shape[0], -1))
    w = out["fc1.weight"]
    out["fc1.weight"] = np.ascontiguousarray(w.reshape(64, 32, 4, 4).transpose(0, 2, 3, 1).reshape(64, 512))
    return out


def forward(params: Mapping[str, np.ndarray], x: np.ndarray, act_q: Mapping[str, QParams | None] | None = None,
            observers: Mapping[str, RangeObserver] | None = None) -> np.ndarray:
    """Logits ``[N, 10]`` of NHWC images ``[N, 8, 8, 1]`` with :func:`to_nhwc` weights.

    ``act_q[layer]`` fake-quantizes the layer's input; ``observers[layer]`` records it.
    """
    act_q = act_q or {}
    n = x.shape[0]
    for i, layer in enumerate(LAYERS):
        name = layer.name
        if observers is not None:
            observers[name].update(x)
        if act_q.get(name) is not None:
            x = act_q[name].fake_quant(x)
        w, b = params[f"{name}.weight"], params[f"{name}.bias"]
        if layer.op == "conv":
            cols, p, q = _im2col(x, 3, layer.stride, 1)
            x = (cols @ w.T + b).reshape(n, p, q, -1)
        else:
            x = x.reshape(n, -1) @ w.T + b
        if i < len(LAYERS) - 1:
            x = np.maximum(x, 0.0, out=x)
    return x


_CHUNK = 128  # images per forward pass
_BLAS: list[Any] = []  # lazily created threadpoolctl controller ([None] if unavailable)


def _single_thread_blas() -> contextlib.AbstractContextManager[Any]:
    """Context limiting NumPy's BLAS to one thread (a no-op without threadpoolctl)."""
    if not _BLAS:
        try:
            from threadpoolctl import ThreadpoolController

            _BLAS.append(ThreadpoolController())
        except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
            _BLAS.append(None)
    ctl = _BLAS[0]
    return ctl.limit(limits=1, user_api="blas") if ctl is not None else contextlib.nullcontext()


BitConfig = tuple[tuple[int, int] | None, ...]


class DigitsProbe(BaseEvaluator):
    """Real test accuracy of the digits CNN with the design's per-layer weight / activation bits.

    Args:
        cache_dir: where the trained network lives (default ``$CODESIGN_CACHE`` or
            ``~/.cache/codesign``).
        eval_size: evaluate on the first ``eval_size`` test images only (default: all 540).
        seed: seed of the data split and the training run.
        calibration: activation range method, ``"minmax"`` or ``"percentile"``.
        percentile: the percentile of ``"percentile"`` calibration.
        weight_range: ``"minmax"`` (scale from max |w| per channel) or ``"mse"`` (clipping
            ratio per channel that minimizes the weight's squared quantization error).
    """

    name = "digits-probe"
    metrics = ("accuracy", "accuracy_drop")
    opposes_bits = "real probe"  # what makes lowering bits cost something (problems' degenerate-dimension check)

    def __init__(self, cache_dir: str | os.PathLike[str] | None = None, eval_size: int | None = None,
                 seed: int = 0, calibration: str = "minmax", percentile: float = 99.99,
                 weight_range: str = "minmax") -> None:
        if eval_size is not None and (isinstance(eval_size, bool) or not isinstance(eval_size, int) or eval_size < 1):
            raise ConfigError(f"`eval_size` must be an integer >= 1 or None, but got {eval_size!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"`seed` must be an integer >= 0, but got {seed!r}")
        if weight_range not in ("minmax", "mse"):
            raise ConfigError(f"`weight_range` must be 'minmax' or 'mse', but got {weight_range!r}")
        self.seed, self.eval_size, self.calibration, self.weight_range = seed, eval_size, calibration, weight_range
        arrays, self.cache_path = load_or_train(cache_dir, seed)
        self.params = to_nhwc({k: arrays[k] for k in arrays if "." in k})
        self.train_idx, self.calib_idx, self.test_idx = arrays["train_idx"], arrays["calib_idx"], arrays["test_idx"]
        images, labels = arrays["images"], arrays["labels"].astype(np.int64)
        test = self.test_idx if eval_size is None else self.test_idx[:eval_size]
        self.x_test, self.y_test = to_input(images[test], nhwc=True), labels[test]
        # activation ranges of every layer input, from the float network on the calibration split
        obs = {n: RangeObserver(calibration, percentile) for n in LAYER_NAMES}
        forward(self.params, to_input(images[self.calib_idx], nhwc=True), observers=obs)
        self.act_ranges: dict[str, tuple[float, float]] = {
            n: (float(o.range()[0]), float(o.range()[1])) for n, o in obs.items()}
        extra = [f"seed={seed}"] * (seed != 0) + [f"eval={eval_size}"] * (eval_size is not None)
        extra += [f"calib={calibration}:{percentile:g}"] * (calibration != "minmax")
        extra += [f"wrange={weight_range}"] * (weight_range != "minmax")
        self.version = "1" + ("+" + ",".join(extra) if extra else "")
        self._wq: dict[tuple[str, int], np.ndarray] = {}
        self._aq: dict[tuple[str, int], QParams] = {}
        self._memo: dict[BitConfig, float] = {}
        self.float_accuracy = self.accuracy_of((None,) * len(LAYERS))

    def param_use(self) -> ParamUse:
        """Optional ``w_bits.<key>`` / ``a_bits.<key>`` of the CNN's layers (float where absent)."""
        return bits_use(LAYERS)

    def bit_config(self, design: Mapping[str, Any]) -> BitConfig:
        """Per layer ``(w_bits, a_bits)`` or None (float), in :data:`LAYER_NAMES` order."""
        return tuple(layer_bits(design, layer) for layer in LAYERS)

    def _weight(self, name: str, bits: int) -> np.ndarray:
        key = (name, bits)
        if key not in self._wq:
            w = self.params[f"{name}.weight"]
            q = qparams_from_data(w, bits, symmetric=True, axis=0, what=f"w_bits.{name}",
                                  mse=self.weight_range == "mse")
            self._wq[key] = q.fake_quant(w)
        return self._wq[key]

    def _act(self, name: str, bits: int) -> QParams:
        key = (name, bits)
        if key not in self._aq:
            lo, hi = self.act_ranges[name]
            self._aq[key] = qparams_from_range(lo, hi, bits, symmetric=False, what=f"a_bits.{name}")
        return self._aq[key]

    def accuracy_of(self, config: BitConfig) -> float:
        """Test accuracy of a bit configuration (memoized)."""
        if config in self._memo:
            return self._memo[config]
        params = dict(self.params)
        act_q: dict[str, QParams | None] = {}
        for name, bits in zip(LAYER_NAMES, config):
            if bits is not None:
                params[f"{name}.weight"] = self._weight(name, bits[0])
                act_q[name] = self._act(name, bits[1])
        # fixed-size chunks stay cache-resident; one BLAS thread: these GEMMs are too small to
        # gain from threads, and thread hand-offs cost 10x the work on a busy machine
        with _single_thread_blas():
            logits = np.concatenate([forward(params, self.x_test[i : i + _CHUNK], act_q)
                                     for i in range(0, len(self.x_test), _CHUNK)])
        acc = float(np.mean(np.argmax(logits, axis=1) == self.y_test))
        self._memo[config] = acc
        return acc

    def evaluate(self, design: Design) -> Metrics:
        config = self.bit_config(design)
        acc = self.accuracy_of(config)
        bits = {n: {"w_bits": b[0], "a_bits": b[1]} if b else None for n, b in zip(LAYER_NAMES, config)}
        return Metrics(
            {"accuracy": acc, "accuracy_drop": self.float_accuracy - acc},
            {"float_accuracy": self.float_accuracy, "n_test": len(self.y_test), "bits": bits},
        )

    def evaluate_many(self, designs: Sequence[Design]) -> list[Metrics]:
        return [self.evaluate(d) for d in designs]
