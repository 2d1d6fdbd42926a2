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
  hardware YAML as ZigZag reads it, and the wall seconds of ZigZag's run (its import, mapping
  search and cost model; not the dump). File names resolve inside ZigZag's ``inputs/`` folders.
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
        "latency_internals": _latency_internals(cme),
    }


def _latency_internals(cme) -> dict:
    """ZigZag's intermediate latency terms (for checking a re-implementation step by step): the
    ports and what they serve, per operand and memory level the four-way data movement
    (per-period amount, period, period count, allowed window), double-buffer flags, the stall/slack
    per port, and the loading cycles per operand and level."""
    s = str
    four = lambda f: {s(d): float(v) for d, v in f.data.items()}  # noqa: E731
    movement = {s(op): [{s(a): four(dm.get_attribute(a)) for a in type(next(iter(dm.attributes)))}
                        for dm in lst] for op, lst in cme.mapping_int.unit_mem_data_movement.items()}
    ports = [{"memory": s(ml.name), "ports": [{"name": s(p.name), "type": s(p.type), "bw_min": float(p.bw_min),
                                               "bw_max": float(p.bw_max),
                                               "serves": [[s(o), int(lv), s(d)] for o, lv, d in p.served_op_lv_dir]}
                                              for p in ml.ports]} for ml in cme.mem_level_list]
    activity = [{port: [[s(a.served_op_lv_dir[0]), int(a.served_op_lv_dir[1]), s(a.served_op_lv_dir[2]),
                         float(a.real_cycle), float(a.allowed_cycle), float(a.period), float(a.period_count)]
                        for a in acts] for port, acts in mem.items()} for mem in cme.port_activity_collect]
    tm = cme.mapping_int.temporal_mapping
    return {
        "ports": ports, "movement": movement, "port_activity": activity,
        "double_buffer": {s(op): [bool(x) for x in v] for op, v in cme.double_buffer_true.items()},
        "stall_slack_per_port": [{k: float(v) for k, v in d.items()} for d in cme.stall_slack_comb_collect],
        "window_union_per_port": [{k: float(v) for k, v in d.items()} for d in cme.mem_updating_window_union_collect],
        "loading": {s(op): {k: [float(v[0]), bool(v[1])] for k, v in d.items()} for op, d in cme.data_loading_cc_per_op.items()},
        "offloading": {s(op): {k: [float(v[0]), bool(v[1])] for k, v in d.items()}
                       for op, d in cme.data_offloading_cc_per_op.items()},
        "stationary_mapping": {s(op): [[[s(d), float(f)] for d, f in lvl] for lvl in lv]
                               for op, lv in tm.mapping_dic_stationary.items()},
        "mac_stationary_cycle": {s(op): float(v) for op, v in tm.mac_level_data_stationary_cycle.items()},
        "top_ir": {s(op): [float(x) for x in v] for op, v in tm.top_ir_loop_size.items()},
        "top_r": {s(op): [float(x) for x in v] for op, v in tm.top_r_loop_size.items()},
        "effective_util_shared": {s(op): [float(x) for x in v] for op, v in cme.effective_mem_utili_shared.items()},
        "mem_sharing": [[[s(o), int(lv)] for o, lv in d.items()] for d in cme.accelerator.mem_sharing_list],
        "systolic_dims": [s(d) for d in getattr(cme.accelerator.operational_array, "systolic_dimensions", [])],
    }


def main(argv: list[str]) -> None:
    import zigzag

    version = getattr(zigzag, "__version__", "?")
    if argv and argv[0] == "--dump":
        import yaml

        hardware, mapping, workload = argv[1:4]
        opt = argv[4] if len(argv) > 4 else "latency"
        t0 = time.perf_counter()
        (energy, latency, cmes), hw_path = _run(workload, hardware, mapping, opt)
        wall = time.perf_counter() - t0
        layers: list[dict] = []
        _layers(cmes, lambda cme: layers.append(_dump_layer(cme)))
        with open(hw_path) as f:
            hw = yaml.safe_load(f)
        print(json.dumps({"tool": "zigzag-dse", "version": version, "hardware_file": os.path.basename(hw_path),
                          "mapping_file": os.path.basename(mapping), "workload_file": os.path.basename(workload),
                          "opt": opt, "hardware": hw, "energy_pj": float(energy), "latency_cycles": float(latency),
                          "wall_s": wall, "layers": layers}))
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
