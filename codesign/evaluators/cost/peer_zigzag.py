"""Peer run for ``codesign bench cost``: ZigZag (zigzag-dse) on ResNet-18 / tpu_like.

Run as a script with the interpreter of the environment that has zigzag-dse installed
(``.venv-peer/bin/python peer_zigzag.py``); prints one JSON line: wall seconds, total energy
(pJ), latency (cycles), per-layer energy/latency. Imports nothing from codesign.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time


def main() -> None:
    import zigzag
    from zigzag.api import get_hardware_performance_zigzag

    base = os.path.dirname(zigzag.__file__)
    inputs = os.path.join(base, "inputs")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        energy, latency, cmes = get_hardware_performance_zigzag(
            os.path.join(inputs, "workload", "resnet18.onnx"), os.path.join(inputs, "hardware", "tpu_like.yaml"),
            os.path.join(inputs, "mapping", "tpu_like.yaml"), opt=sys.argv[1] if len(sys.argv) > 1 else "latency",
            dump_folder=out, pickle_filename=os.path.join(out, "cmes.pickle"), loma_show_progress_bar=False)
    wall = time.perf_counter() - t0
    layers = []

    def collect(entries):  # ZigZag nests per-layer results under the cumulative entry
        for cme, extra in entries:
            if hasattr(cme, "layer"):
                layers.append({"name": str(getattr(cme.layer, "name", cme.layer)), "energy_pj": float(cme.energy_total),
                               "latency_cycles": float(cme.latency_total2),
                               "macs": float(getattr(cme.layer, "total_mac_count", 0))})
            if isinstance(extra, (list, tuple)) and extra and isinstance(extra[0], (list, tuple)):
                collect(extra)

    collect(cmes)
    print(json.dumps({"tool": "zigzag-dse", "version": getattr(zigzag, "__version__", "?"), "wall_s": wall,
                      "energy_pj": float(energy), "latency_cycles": float(latency), "layers": layers}))


if __name__ == "__main__":
    main()
