"""A design's detail: why it sits where it does (pure data, no Dash, no plotly).

From one :class:`~codesign.types.EvalRecord` it gathers the per-layer (and per-expert)
bitwidths, the accelerator configuration, the mapping per layer, latency and energy per layer
and per memory level, and the area breakdown. Breakdowns are those of the roofline / cost
evaluators (``metrics.breakdown["layers"][layer] = {compute_cycles, memory_cycles,
latency_cycles, bound, dram_bytes, energy_uj: {level: uJ}}``, ``breakdown["area_mm2"]``,
``breakdown["energy_uj"]``); anything absent is simply left empty.
"""

from __future__ import annotations

import re
from typing import Any

from codesign.types import EvalRecord

#: MoE expert layers are named ``<prefix>.e<index>.<block>`` (see codesign.workloads.zoo).
EXPERT_LAYER = re.compile(r"^(?P<prefix>.+)\.e(?P<expert>\d+)\.(?P<block>[^.]+)$")
#: Memory levels from the innermost out, the order energy is stacked in.
LEVEL_ORDER = ("pe", "pe_buf", "glb", "dram")
BITS = ("w_bits", "a_bits")


def _ordered(keys: Any, order: tuple[str, ...]) -> list[str]:
    keys = list(keys)
    return [k for k in order if k in keys] + [k for k in keys if k not in order]


def layer_bits(design: dict[str, Any], breakdown: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{layer: {"w_bits": b, "a_bits": b}}`` in the design's layer order."""
    out: dict[str, dict[str, Any]] = {}
    for name, value in design.items():
        kind, _, layer = name.partition(".")
        if kind in BITS and layer:
            out.setdefault(layer, {})[kind] = value
    for layer, bits in (breakdown.get("bits") or {}).items():
        if isinstance(bits, dict):
            for kind in BITS:
                if kind in bits:
                    out.setdefault(layer, {}).setdefault(kind, bits[kind])
    return out


def expert_bits(bits: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """Bits of MoE expert layers as grids ``rows = <prefix>.e<i>``, ``cols = block`` (None if no experts)."""
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    rows: list[str] = []
    cols: list[str] = []
    for layer, b in bits.items():
        m = EXPERT_LAYER.match(layer)
        if not m:
            continue
        row, col = f"{m['prefix']}.e{m['expert']}", m["block"]
        rows += [row] if row not in rows else []
        cols += [col] if col not in cols else []
        cells[(row, col)] = b
    if not cells:
        return None
    grid = {k: [[cells.get((r, c), {}).get(k) for c in cols] for r in rows] for k in BITS}
    return {"rows": rows, "cols": cols, **grid}


def _subsystem(name: str, subsystems: dict[str, str]) -> str:
    if name.split(".", 1)[0] in BITS:
        return "quant"
    if name.startswith("map."):
        return "mapping"
    return subsystems.get(name) or "hw"


def mapping_table(design: dict[str, Any]) -> dict[str, Any]:
    """``map.<layer>.<field>`` parameters as ``{"fields": [...], "rows": [{"layer": .., field: ..}]}``."""
    rows: dict[str, dict[str, Any]] = {}
    fields: list[str] = []
    for name, value in design.items():
        if not name.startswith("map."):
            continue
        layer, _, fld = name[4:].rpartition(".")
        layer = layer or "*"
        rows.setdefault(layer, {"layer": layer})[fld] = value
        fields += [fld] if fld not in fields else []
    return {"fields": fields, "rows": list(rows.values())}


def layer_costs(breakdown: dict[str, Any], order: list[str]) -> list[dict[str, Any]]:
    """Per-layer latency / traffic / energy rows, in ``order`` first then any other layer."""
    layers = breakdown.get("layers") or {}
    if not isinstance(layers, dict):
        return []
    names = [n for n in order if n in layers] + [n for n in layers if n not in order]
    rows = []
    for n in names:
        d = layers[n] if isinstance(layers[n], dict) else {}
        energy = d.get("energy_uj") if isinstance(d.get("energy_uj"), dict) else {}
        rows.append({
            "layer": n, "compute_cycles": d.get("compute_cycles"), "memory_cycles": d.get("memory_cycles"),
            "latency_cycles": d.get("latency_cycles"), "bound": d.get("bound", ""), "dram_bytes": d.get("dram_bytes"),
            "macs": d.get("macs"), "count": d.get("count", 1),
            "energy_uj": {k: energy[k] for k in _ordered(energy, LEVEL_ORDER)},
        })
    return rows


def design_detail(record: EvalRecord, run: str, objectives: list[Any],
                  subsystems: dict[str, str] | None = None) -> dict[str, Any]:
    """Everything the detail view shows about one record (plain JSON-able data).

    Args:
        record: the evaluation.
        run: its run's name.
        objectives: the problem's objectives (shown first, with direction).
        subsystems: parameter name -> subsystem, from the run's space (groups the parameters).
    """
    design = record.design.to_dict()
    bd = record.metrics.breakdown or {}
    subsystems = subsystems or {}
    bits = layer_bits(design, bd)
    groups: dict[str, list[list[Any]]] = {}
    for name, value in design.items():
        sub = _subsystem(name, subsystems)
        if sub not in ("quant", "mapping"):
            groups.setdefault(sub, []).append([name, value])
    energy = bd.get("energy_uj") if isinstance(bd.get("energy_uj"), dict) else {}
    area = bd.get("area_mm2") if isinstance(bd.get("area_mm2"), dict) else {}
    vals = record.metrics.values
    return {
        "run": run, "number": record.number, "agent": record.agent, "seed": record.seed,
        "state": record.state.value, "error": record.error or "", "design_key": record.design.key,
        "violations": dict(record.metrics.violations),
        "objectives": [[o.name, vals.get(o.name), o.direction.value] for o in objectives],
        "metrics": dict(vals),
        "bits": {"layers": list(bits), **{k: [bits[layer].get(k) for layer in bits] for k in BITS}} if bits else None,
        "experts": expert_bits(bits),
        "accelerator": groups.pop("hw", []),
        "other_params": [[f"{sub}: {n}", v] for sub, items in groups.items() for n, v in items],
        "mapping": mapping_table(design),
        "layers": layer_costs(bd, list(bits)),
        "energy_levels": {k: energy[k] for k in _ordered(energy, LEVEL_ORDER)},
        "area_mm2": dict(area),
    }
