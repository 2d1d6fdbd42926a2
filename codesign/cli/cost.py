"""``codesign bench cost``: our cost model + mapper vs zigzag-dse on ResNet-18 / tpu_like.

Both run in the same invocation, interleaved: each round runs ours ``--repeats`` times (in
process; the heuristic mapper searches every distinct layer, then the model scores it) and
zigzag-dse once (a subprocess in the environment given by ``--peer-python``, default
``.venv-peer/bin/python``, so its pinned dependencies cannot disturb ours; its own mapping
search, timed inside). Reports per round and as medians: wall times and their ratio, the load
average; total latency and energy of both; the mapping quality (both mappings through our model
under one latency model, ``--latency``, default ZigZag's semantics); a fully cached
whole-network evaluation of a ``resnet18-accel`` design against re-scoring its layers; and
designs per second for fixed mappings (``--designs`` hardware variants). What each figure
measures: :mod:`codesign.evaluators.cost.bench`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import numpy as np

from codesign.cli.common import print_json
from codesign.errors import ConfigError
from codesign.evaluators.cost.bench import PEER_OPTS, onnx_layer_name  # noqa: F401  (onnx_layer_name re-exported)


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--peer-python", default=".venv-peer/bin/python", help="interpreter with zigzag-dse installed")
    parser.add_argument("--no-peer", action="store_true", help="skip the zigzag-dse run")
    parser.add_argument("--peer-opt", default="latency", choices=PEER_OPTS,
                        help="what zigzag-dse's LOMA search minimizes (default latency); with the matching --objective "
                             "(cycles, energy, edp) the per-layer objective ratio compares the two searches like for like")
    parser.add_argument("--designs", type=int, default=10000, help="hardware variants for the batched throughput")
    parser.add_argument("--objective", default="edp", choices=("cycles", "edp", "energy"),
                        help="mapper objective per layer (edp: energy x cycles; cycles: fewest cycles, then least energy)")
    parser.add_argument("--latency", default="zigzag", choices=("zigzag", "timeloop"),
                        help="latency model of our model for the search and the comparison (default: ZigZag's semantics)")
    parser.add_argument("--repeats", type=int, default=5, help="runs of ours per round (median compared)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (ours x repeats, zigzag-dse once)")
    parser.add_argument("--cached-repeats", type=int, default=200, help="fully cached evaluations timed")
    parser.add_argument("--quality-seeds", type=int, default=6,
                        help="mapper seeds whose mapping quality is compared with zigzag's (its random stream decides "
                             "which trade-offs it finds per layer)")
    if not any(a.dest == "json" for a in parser._actions):
        parser.add_argument("--json", action="store_true")


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def bench_cost_command(args: argparse.Namespace) -> int:
    from codesign.evaluators.cost import bench

    for flag in ("repeats", "rounds", "cached_repeats", "designs", "quality_seeds"):
        if getattr(args, flag) < 1:
            raise ConfigError(f"--{flag.replace('_', '-')} must be >= 1, but got {getattr(args, flag)}")
    if not args.no_peer and not Path(args.peer_python).exists():
        raise ConfigError(f"--peer-python must point to an interpreter with zigzag-dse (`make peer` builds "
                          f".venv-peer), but {args.peer_python!r} does not exist")
    bench.ours(args.latency, args.objective)  # compiles (or loads) the kernels once, outside the timings
    rounds: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    dump = None
    for _ in range(args.rounds):
        load0 = _load()
        mine = [bench.ours(args.latency, args.objective) for _ in range(args.repeats)]
        runs.extend(mine)
        row: dict[str, Any] = {"ours_wall_s": [r["wall_s"] for r in mine], "load_before": load0}
        row["ours_wall_s_median"] = float(np.median(row["ours_wall_s"]))
        if not args.no_peer:
            dump = bench.peer(args.peer_python, args.peer_opt)
            row["zigzag_wall_s"] = dump["wall_s"]
            row["speedup"] = dump["wall_s"] / row["ours_wall_s_median"]
        row["load_after"] = _load()
        rounds.append(row)
        if args.no_peer:
            break
    our = runs[-1]
    walls = [w for r in rounds for w in r["ours_wall_s"]]
    doc: dict[str, Any] = {
        "workload": "resnet18 (batch 1, conv + fc)", "architecture": "zigzag tpu_like", "latency_model": args.latency,
        "ours": {k: v for k, v in our.items() if not k.startswith("_") and k != "wall_s"} | {
            "wall_s_median": float(np.median(walls)), "wall_s_runs": walls},
        "rounds": rounds, "cached_evaluation": bench.cached_evaluation(args.latency, args.cached_repeats),
        "throughput": bench.throughput(our, int(args.designs))}
    if dump is not None:
        doc["peer"] = {k: dump[k] for k in ("tool", "version", "opt", "energy_pj", "latency_cycles")} | {
            "wall_s_runs": [r["zigzag_wall_s"] for r in rounds],
            "latency_compute_phase_cycles": sum(layer["latency_total0"] for layer in dump["layers"])}
        doc["speedup_median"] = float(np.median([r["speedup"] for r in rounds]))
        doc["speedup_runs"] = [r["speedup"] for r in rounds]
        doc["latency_ratio"] = our["latency_cycles"] / dump["latency_cycles"]
        doc["energy_ratio"] = our["energy_pj"] / dump["energy_pj"]
        doc["quality"] = bench.quality(our, dump)
        doc["quality_seeds"] = bench.quality_seeds(args.latency, args.objective, dump, args.quality_seeds)
    if getattr(args, "json", False):
        print_json(doc)
        return 0
    _print(doc)
    return 0


def _print(doc: dict[str, Any]) -> None:
    o = doc["ours"]
    print(f"ours (codesign, heuristic mapper, {o['layers_distinct']} distinct of {len(o['layers'])} layers, "
          f"{doc['latency_model']} latency): median {o['wall_s_median'] * 1e3:.1f} ms over {len(o['wall_s_runs'])} runs; "
          f"latency {o['latency_cycles']:.4g} cycles, energy {o['energy_pj'] / 1e6:.4g} uJ")
    if "peer" in doc:
        p = doc["peer"]
        print(f"peer (zigzag-dse {p['version']}, LOMA opt={p['opt']}): {', '.join(f'{w:.1f}' for w in p['wall_s_runs'])} s; "
              f"latency {p['latency_cycles']:.4g} cycles ({p['latency_compute_phase_cycles']:.4g} computation phase), "
              f"energy {p['energy_pj'] / 1e6:.4g} uJ")
        for k, r in enumerate(doc["rounds"]):
            print(f"  round {k + 1}: ours median {r['ours_wall_s_median'] * 1e3:.1f} ms, zigzag {r['zigzag_wall_s']:.1f} s "
                  f"-> {r['speedup']:.0f}x (load {r['load_before'][0]} -> {r['load_after'][0]})")
        print(f"speedup median {doc['speedup_median']:.0f}x; latency ours/zigzag {doc['latency_ratio']:.3f}; "
              f"energy ours/zigzag {doc['energy_ratio']:.3f}")
        q = doc["quality"]
        print(f"mapping quality, both mappings in our model ({doc['latency_model']} latency), {q['matched']} layers: "
              f"energy ours <= zigzag's in {q['energy_le']}, cycles <= in {q['cycles_le']}, both in {q['both_le']}; "
              f"energy ratio {q['energy_ratio_range'][0]:.3f}-{q['energy_ratio_range'][1]:.3f} "
              f"(total {q['energy_ratio_total']:.3f}), cycles ratio {q['cycles_ratio_range'][0]:.3f}-"
              f"{q['cycles_ratio_range'][1]:.3f} (total {q['cycles_ratio_total']:.3f}); our objective ({q['objective']}) "
              f"<= zigzag's mapping's in {q['objective_le']} (ratio {q['objective_ratio_range'][0]:.3f}-"
              f"{q['objective_ratio_range'][1]:.3f})")
        qs = doc["quality_seeds"]
        print(f"  over mapper seeds 0-{len(qs['seeds']) - 1}: energy <= in {qs['energy_le']} layers, cycles <= in "
              f"{qs['cycles_le']}, both in {qs['both_le']}, objective in {qs['objective_le']}; "
              f"total energy ratio median {qs['energy_ratio_total_median']:.3f} "
              f"(max {qs['energy_ratio_total_max']:.3f}), cycles median {qs['cycles_ratio_total_median']:.3f} "
              f"(max {qs['cycles_ratio_total_max']:.3f})")
        if q["untranslated"]:
            print(f"  compared with zigzag's own numbers (its mapping pads an uneven split): {', '.join(q['untranslated'])}")
    c = doc["cached_evaluation"]
    print(f"whole-network evaluation (CostModelEvaluator, resnet18-accel design, {c['layers']} layers): first "
          f"{c['first_s'] * 1e3:.0f} ms (mapping search); fully cached {c['cached_ms_median']:.3f} ms (median of "
          f"{c['cached_ms_runs']}); re-scoring fixed mappings {c['rescore_per_layer_ms_median']:.2f} ms one call per layer, "
          f"{c['rescore_batched_ms_median']:.2f} ms in one call per loop structure")
    t = doc["throughput"]
    print(f"batched fixed-mapping evaluation: {t['designs_per_s']:.4g} designs/s "
          f"({t['designs']} designs x {t['layers_per_design']} layers in {t['seconds']:.2f} s)")
