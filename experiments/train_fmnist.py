"""Train the Fashion-MNIST CNN of the fmnist accuracy probe and write its packaged weights.

Run once (about one CPU-minute, single-threaded, seeded: ``fmnist.RECIPE``)::

    .venv/bin/python experiments/train_fmnist.py          # writes codesign/evaluators/accuracy/data/fmnist_cnn.npz

Needs Debian's ``dataset-fashion-mnist``. Writes the weights as float16 (the committed
baseline; the probe evaluates them in float32) and prints the float16 weights' test accuracy.
``--check`` retrains and compares with the committed file instead of writing it.
"""

from __future__ import annotations

import argparse

import numpy as np

from codesign.evaluators.accuracy.fmnist import WEIGHTS, has_fashion, load_fmnist, train_weights


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare a retrained network with the committed weights")
    args = ap.parse_args(argv)
    if not has_fashion():
        raise SystemExit("Fashion-MNIST is not installed: apt-get install dataset-fashion-mnist")
    weights = {k: v.astype(np.float16) for k, v in train_weights(load_fmnist()[1]).items()}
    if args.check:
        with np.load(WEIGHTS) as f:
            diff = max(float(np.abs(f[k].astype(np.float32) - weights[k].astype(np.float32)).max()) for k in f.files)
        print(f"max |retrained - committed| = {diff:.3g}")
        return 0 if diff == 0.0 else 1
    np.savez_compressed(WEIGHTS, **weights)
    from codesign.evaluators.accuracy.fmnist import FashionMNISTProbe

    acc = FashionMNISTProbe(disk_cache=False).float_result["values"]["accuracy"]
    print(f"wrote {WEIGHTS} ({WEIGHTS.stat().st_size / 1e3:.0f} kB); float test accuracy {acc:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
