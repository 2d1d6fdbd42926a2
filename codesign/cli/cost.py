"""``codesign bench cost``: our cost model + mapper vs zigzag-dse on ResNet-18 / tpu_like.

Both run in the same invocation: ours in-process (per layer, the heuristic mapper searches a
mapping from 500 bottom-up-filled candidates refined by 3 rounds of local moves, then the model
scores it), the peer as a subprocess in the environment given by
``--peer-python`` (default ``.venv-peer/bin/python``, where ``zigzag-dse`` is installed so its
dependencies cannot disturb ours). Reports wall times and their ratio, total latency and
energy of both, and designs per second for a fixed mapping (batched evaluation of ``--designs``
hardware variants of the whole network). The peer's latency is reported whole (with its data
on-/off-loading and systolic drain) and as its computation phase (ideal cycles + stalls), the
quantity our model computes (see :mod:`codesign.evaluators.cost.from_zigzag`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from codesign.cli.common import print_json
from codesign.errors import ConfigError

ARCH = Path(__file__).resolve().parents[1] / "evaluators" / "cost" / "references" / "archs" / "zigzag-tpu_like.yaml"
PEER = Path(__file__).resolve().parents[1] / "evaluators" / "cost" / "peer_zigzag.py"


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--peer-python", default=".venv-peer/bin/python", help="interpreter with zigzag-dse installed")
    parser.add_argument("--no-peer", action="store_true", help="skip the zigzag-dse run")
    parser.add_argument("--designs", type=int, default=10000, help="hardware variants for the batched throughput")
    parser.add_argument("--objective", default="cycles", choices=("cycles", "edp", "energy"),
                        help="mapper objective per layer (cycles: fewest cycles, then least energy)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="runs of ours (mapper + model, whole network); the median wall time is compared")
    if not any(a.dest == "json" for a in parser._actions):
        parser.add_argument("--json", action="store_true")


def _ours(objective: str) -> dict[str, Any]:
    from codesign.evaluators.cost import arch as arch_mod
    from codesign.evaluators.cost.mapper import heuristic
    from codesign.evaluators.cost.problem import from_layer
    from codesign.workloads.zoo import resnet18

    t0 = time.perf_counter()
    arch = arch_mod.load_yaml(ARCH)
    layers, problems, mappings = [], [], []
    for layer in resnet18().layers:
        p = from_layer(layer, 8, 8, psum_bits=16)
        r = heuristic(p, arch, objective, samples=0, greedy=500, rounds=3)
        problems.append(p)
        mappings.append(r.mapping)
        layers.append({"name": layer.name, "latency_cycles": r.cycles * p.count, "energy_pj": r.energy_pj * p.count,
                       "macs": p.macs * p.count})
    wall = time.perf_counter() - t0
    return {"tool": "codesign", "wall_s": wall, "latency_cycles": sum(l["latency_cycles"] for l in layers),
            "energy_pj": sum(l["energy_pj"] for l in layers), "layers": layers,
            "_problems": problems, "_mappings": mappings, "_arch": arch}


def _throughput(ours: dict[str, Any], n: int) -> dict[str, Any]:
    """Designs/s: ``n`` hardware variants (energies, bandwidths, PE costs) of the whole network, fixed mappings."""
    from codesign.evaluators.cost.mapping import to_arrays
    from codesign.evaluators.cost.model import evaluate_arrays, level_params

    arch = ours["_arch"]
    rng = np.random.default_rng(0)
    base = level_params([arch])
    params = {k: np.repeat(v, n, axis=0) * (rng.uniform(0.5, 2.0, (n,) + v.shape[1:]) if k != "size_words" else 1)
              for k, v in base.items()}
    t0 = time.perf_counter()
    total = np.zeros(n)
    for p, m in zip(ours["_problems"], ours["_mappings"]):
        arr = {k: np.repeat(v, n, axis=0) for k, v in to_arrays([m], p, arch).items()}
        total += evaluate_arrays(p, arch, arr, params=params)["cycles"]
    dt = time.perf_counter() - t0
    return {"designs": n, "seconds": dt, "designs_per_s": n / dt, "layers_per_design": len(ours["_problems"])}


def _peer(python: str) -> dict[str, Any]:
    """Run the peer script (the interpreter's existence is checked before ours runs)."""
    t0 = time.perf_counter()
    proc = subprocess.run([str(Path(python).absolute()), str(PEER)], capture_output=True, text=True, timeout=1800, cwd="/tmp")
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise ConfigError(f"zigzag-dse peer failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr else proc.returncode}")
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    doc["wall_s_with_startup"] = wall
    return doc


def onnx_layer_name(name: str) -> str:
    """ZigZag's ONNX node name as our zoo names it: ``/layer2/layer2.0/downsample/downsample.0/Conv``
    → ``layer2.0.downsample.0`` (drop the op type and every segment that prefixes the next)."""
    parts = [p for p in name.strip("/").split("/")][:-1] or [name.strip("/")]
    keep = [p for p, nxt in zip(parts, parts[1:] + [""]) if not nxt.startswith(p + ".")]
    return ".".join(keep)


def per_layer(ours: dict[str, Any], peer: dict[str, Any]) -> list[dict[str, Any]]:
    """Ours / peer per layer, matched by name."""
    theirs = {onnx_layer_name(layer["name"]): layer for layer in peer.get("layers", [])}
    rows = []
    for layer in ours["layers"]:
        t = theirs.get(layer["name"])
        if t is None:
            continue
        rows.append({"name": layer["name"], "energy_ratio": layer["energy_pj"] / t["energy_pj"],
                     "latency_ratio": layer["latency_cycles"] / t["latency_cycles"],
                     "latency_ratio_compute_phase": layer["latency_cycles"] / t["latency_compute_phase"]})
    return rows


def bench_cost_command(args: argparse.Namespace) -> int:
    if args.repeats < 1:
        raise ConfigError(f"--repeats must be >= 1, but got {args.repeats}")
    if not args.no_peer and not Path(args.peer_python).exists():
        raise ConfigError(f"--peer-python must point to an interpreter with zigzag-dse (`make peer` builds "
                          f".venv-peer), but {args.peer_python!r} does not exist")
    runs = [_ours(args.objective) for _ in range(args.repeats)]
    ours = runs[0]
    ours["wall_s_runs"] = [r["wall_s"] for r in runs]
    ours["wall_s"] = float(np.median(ours["wall_s_runs"]))
    thr = _throughput(ours, int(args.designs))
    peer = None if args.no_peer else _peer(args.peer_python)
    doc: dict[str, Any] = {"workload": "resnet18 (batch 1, conv + fc)", "architecture": "zigzag tpu_like",
                           "ours": {k: v for k, v in ours.items() if not k.startswith("_")}, "throughput": thr}
    if peer is not None:
        doc["peer"] = peer
        doc["speedup"] = peer["wall_s"] / ours["wall_s"]
        doc["latency_ratio"] = ours["latency_cycles"] / peer["latency_cycles"]
        doc["energy_ratio"] = ours["energy_pj"] / peer["energy_pj"]
        phase = sum(layer.get("latency_compute_phase", float("nan")) for layer in peer.get("layers", []))
        peer["latency_compute_phase_cycles"] = phase
        doc["latency_ratio_compute_phase"] = ours["latency_cycles"] / phase
        doc["per_layer"] = per_layer(ours, peer)
    if getattr(args, "json", False):
        print_json(doc)
        return 0
    print(f"ours (codesign, heuristic mapper): {ours['wall_s']:.2f} s (median of {len(ours['wall_s_runs'])}), latency {ours['latency_cycles']:.4g} cycles, "
          f"energy {ours['energy_pj'] / 1e6:.4g} uJ")
    if peer is not None:
        print(f"peer (zigzag-dse {peer.get('version')}): {peer['wall_s']:.2f} s, latency {peer['latency_cycles']:.4g} "
              f"cycles ({peer['latency_compute_phase_cycles']:.4g} in its computation phase), "
              f"energy {peer['energy_pj'] / 1e6:.4g} uJ")
        print(f"speedup {doc['speedup']:.1f}x; latency ours/peer {doc['latency_ratio']:.3f} "
              f"(computation phase {doc['latency_ratio_compute_phase']:.3f}); energy ours/peer {doc['energy_ratio']:.3f}")
        rows = doc["per_layer"]
        if rows:
            rng = lambda k: f"{min(r[k] for r in rows):.3f}-{max(r[k] for r in rows):.3f}"  # noqa: E731
            print(f"per layer ({len(rows)} matched by name): energy ours/peer {rng('energy_ratio')}, "
                  f"latency {rng('latency_ratio')} (computation phase {rng('latency_ratio_compute_phase')})")
    print(f"batched fixed-mapping evaluation: {thr['designs_per_s']:.4g} designs/s "
          f"({thr['designs']} designs x {thr['layers_per_design']} layers in {thr['seconds']:.2f} s)")
    return 0
