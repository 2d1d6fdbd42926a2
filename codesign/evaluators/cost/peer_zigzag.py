"""Peer runs of ZigZag (zigzag-dse): the ``codesign bench cost`` comparison and the reference dumps.

Run as a script with the interpreter of the environment that has zigzag-dse installed; it
imports nothing from codesign and prints one JSON line.

- ``peer_zigzag.py [latency|energy|EDP]`` — ResNet-18 on ZigZag's tpu_like with its mapping
  search: wall seconds, total energy (pJ) and latency (cycles), per-layer results.
- ``peer_zigzag.py --dump HARDWARE MAPPING WORKLOAD [OPT]`` — every layer's full result: dims,
  the input extents ZigZag uses (padding removed), operand precisions, the memory operand
  links, the chosen temporal loops per operand and memory level, the spatial unrolling, energy
  (total, MAC, per operand and level), word accesses per level and direction, and the latency
  terms (ideal temporal cycles, stall/slack, on-/off-loading, systolic drain); plus the
  hardware YAML as ZigZag reads it. File names resolve inside ZigZag's ``inputs/`` folders.
  :mod:`codesign.evaluators.cost.from_zigzag` turns a dump into validation cases.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time


def _run(workload: str, hardware: str, mapping: str, opt: str):
    import zigzag
    from zigzag.api import get_hardware_performance_zigzag

    inputs = os.path.join(os.path.dirname(zigzag.__file__), "inputs")
    find = lambda f, sub: f if os.path.exists(f) else os.path.join(inputs, sub, f)  # noqa: E731
    with tempfile.TemporaryDirectory() as out:
        return get_hardware_performance_zigzag(
            find(workload, "workload"), find(hardware, "hardware"), find(mapping, "mapping"), opt=opt,
            dump_folder=out, pickle_filename=os.path.join(out, "cmes.pickle"), loma_show_progress_bar=False), \
            find(hardware, "hardware")


def _layers(entries, keep):
    """ZigZag nests per-layer results under the cumulative entry."""
    for cme, extra in entries:
        if hasattr(cme, "layer"):
            keep(cme)
        if isinstance(extra, (list, tuple)) and extra and isinstance(extra[0], (list, tuple)):
            _layers(extra, keep)


def _dump_layer(cme) -> dict:
    s = str
    layer = cme.layer
    loops = lambda levels: [[[s(d), float(f)] for d, f in lvl] for lvl in levels]  # noqa: E731
    return {
        "name": s(layer.name),
        "dims": {s(k): int(v) for k, v in layer.layer_dim_sizes.items()},
        "pr_sizes": {s(k): int(v) for k, v in layer.pr_layer_dim_sizes.items()},
        "pr_loops": {s(k): [s(x) for x in v] for k, v in layer.pr_loop.items()},
        "pr_scaling": {s(k): [[s(a), float(b)] for a, b in v] for k, v in layer.pr_scaling_factors.items()},
        "precision": {s(k): int(v) for k, v in layer.operand_precision.data.items()},
        "operand_links": {s(k): s(v) for k, v in cme.memory_operand_links.data.items()},
        "temporal": {s(op): loops(lv) for op, lv in cme.temporal_mapping.mapping_dic_origin.items()},
        "spatial": {s(k): {s(d): float(f) for d, f in v.items()} for k, v in layer.spatial_mapping.items()},
        "mem_levels": {s(op): [s(m.name) for m in cme.accelerator.memory_hierarchy.get_memory_levels(
            cme.memory_operand_links.layer_to_mem_op(op))] for op in layer.layer_operands},
        "word_access": {s(op): [{s(k): float(v) for k, v in ma.data.items()} for ma in lst]
                        for op, lst in cme.memory_word_access.items()},
        "energy_breakdown": {s(op): [float(x) for x in lst] for op, lst in cme.mem_energy_breakdown.items()},
        "mac_energy": float(cme.mac_energy), "energy_total": float(cme.energy_total), "macs": int(layer.total_mac_count),
        "ideal_temporal_cycle": float(cme.ideal_temporal_cycle), "stall_slack_comb": float(cme.stall_slack_comb),
        "onloading": float(cme.data_onloading_cycle), "offloading": float(cme.data_offloading_cycle),
        "systolic_drain": float(getattr(cme, "systolic_drain_cycle", 0.0)),
        "latency_total0": float(cme.latency_total0), "latency_total2": float(cme.latency_total2),
    }


def main(argv: list[str]) -> None:
    import zigzag

    version = getattr(zigzag, "__version__", "?")
    if argv and argv[0] == "--dump":
        import yaml

        hardware, mapping, workload = argv[1:4]
        opt = argv[4] if len(argv) > 4 else "latency"
        (energy, latency, cmes), hw_path = _run(workload, hardware, mapping, opt)
        layers: list[dict] = []
        _layers(cmes, lambda cme: layers.append(_dump_layer(cme)))
        with open(hw_path) as f:
            hw = yaml.safe_load(f)
        print(json.dumps({"tool": "zigzag-dse", "version": version, "hardware_file": os.path.basename(hw_path),
                          "mapping_file": os.path.basename(mapping), "workload_file": os.path.basename(workload),
                          "opt": opt, "hardware": hw, "energy_pj": float(energy), "latency_cycles": float(latency),
                          "layers": layers}))
        return
    t0 = time.perf_counter()
    (energy, latency, cmes), _ = _run("resnet18.onnx", "tpu_like.yaml", "tpu_like.yaml", argv[0] if argv else "latency")
    wall = time.perf_counter() - t0
    layers = []
    _layers(cmes, lambda cme: layers.append({
        "name": str(getattr(cme.layer, "name", cme.layer)), "energy_pj": float(cme.energy_total),
        "latency_cycles": float(cme.latency_total2), "latency_compute_phase": float(cme.latency_total0),
        "ideal_temporal_cycles": float(cme.ideal_temporal_cycle), "macs": float(cme.layer.total_mac_count)}))
    print(json.dumps({"tool": "zigzag-dse", "version": version, "wall_s": wall, "energy_pj": float(energy),
                      "latency_cycles": float(latency), "layers": layers}))


if __name__ == "__main__":
    main(sys.argv[1:])
