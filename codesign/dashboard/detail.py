"""A design's detail: why it sits where it does (pure data, no Dash, no plotly).

From one :class:`~codesign.types.EvalRecord` it gathers the per-layer (and per-expert)
bitwidths, the accelerator configuration, the mapping per layer, latency and energy per layer
and per memory level, and the area breakdown. Breakdowns are those of the roofline evaluator
(``metrics.breakdown["layers"][layer] = {compute_cycles, memory_cycles, latency_cycles, bound,
dram_bytes, energy_uj: {level: uJ}}``, ``breakdown["area_mm2"]``, ``breakdown["energy_uj"]``)
or of the loop-nest cost model (``layers[layer] = {latency_cycles, energy_uj (total),
energy_uj_by_level, macs, mapping: [{level, temporal, spatial}]}``, ``area_mm2_by_part``,
``energy_uj_by_level``); anything absent is simply left empty.

The **mapping table** has one row per layer: its bits, cycles and energy next to the mapping it
ran with — the design's ``map.<layer>.*`` parameters (flat spaces) and, where the cost model
reports it, the loop nest it chose per memory level (nested mappers), e.g.
``dram: N8 K48 M28 | glb: K3↕ N4↔ | pe_buf: M112``.
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
    """``{layer: {"w_bits": b, "a_bits": b}}``: the bits a probe reports it applied per layer
    (``breakdown["bits"]``, layers it kept float left out), else the design's ``w_bits.<key>`` /
    ``a_bits.<key>`` parameters (a key may be a layer, an expert group or ``all``)."""
    applied = breakdown.get("bits")
    if isinstance(applied, dict) and any(isinstance(b, dict) for b in applied.values()):
        return {layer: {k: b[k] for k in BITS if k in b} for layer, b in applied.items() if isinstance(b, dict)}
    out: dict[str, dict[str, Any]] = {}
    for name, value in design.items():
        kind, _, layer = name.partition(".")
        if kind in BITS and layer:
            out.setdefault(layer, {})[kind] = value
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


def loops_text(mapping: Any) -> str:
    """A cost-model mapping (``[{level, temporal: [[dim, f]], spatial: [[dim, f, axis]]}]``) as one
    line, outermost level first; factors of 1 are left out, spatial loops marked ↕ (y) / ↔ (x)."""
    if not isinstance(mapping, list):
        return ""
    parts = []
    for lv in mapping:
        if not isinstance(lv, dict):
            continue
        loops = [f"{d}{f}" for d, f, *_ in lv.get("temporal") or [] if f != 1]
        loops += [f"{d}{f}{'↔' if (rest and rest[0] == 'x') else '↕'}" for d, f, *rest in lv.get("spatial") or [] if f != 1]
        parts.append(f"{lv.get('level', '?')}: {' '.join(loops) or '-'}")
    return " | ".join(parts)


def mapping_table(design: dict[str, Any], breakdown: dict[str, Any] | None = None,
                  bits: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Per layer: bits, latency cycles, energy, the ``map.<layer>.<field>`` parameters and the
    evaluator's loop nest, as ``{"fields": [...], "rows": [{"layer": .., field: ..}]}``.

    Only columns some layer has are listed; without mapping parameters and without a reported
    loop nest there are no rows (the evaluator used a default mapping)."""
    rows: dict[str, dict[str, Any]] = {}
    params: list[str] = []
    for name, value in design.items():
        if not name.startswith("map."):
            continue
        layer, _, fld = name[4:].rpartition(".")
        layer = layer or "*"
        rows.setdefault(layer, {"layer": layer})[fld] = value
        params += [fld] if fld not in params else []
    layers = (breakdown or {}).get("layers") if isinstance((breakdown or {}).get("layers"), dict) else {}
    nests = {n: loops_text(d.get("mapping")) for n, d in layers.items() if isinstance(d, dict) and d.get("mapping")}
    if not rows and not nests:
        return {"fields": [], "rows": []}
    bits = bits or {}
    for n in list(layers) if nests else list(rows):
        d = layers.get(n) if isinstance(layers.get(n), dict) else {}
        row = rows.setdefault(n, {"layer": n})
        row.update({k: v for k, v in (bits.get(n) or {}).items() if k in BITS})
        energy = d.get("energy_uj")
        energy = sum(energy.values()) if isinstance(energy, dict) else energy
        row.update({k: v for k, v in (("latency_cycles", d.get("latency_cycles")), ("energy_uj", energy))
                    if v is not None})
        if n in nests:
            row["loop nest"] = nests[n]
    fields = [f for f in (*BITS, "latency_cycles", "energy_uj", *params, "loop nest")
              if any(r.get(f) is not None for r in rows.values())]
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
        energy = d.get("energy_uj") if isinstance(d.get("energy_uj"), dict) else d.get("energy_uj_by_level")
        energy = energy if isinstance(energy, dict) else {}
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
    energy = bd.get("energy_uj") if isinstance(bd.get("energy_uj"), dict) else bd.get("energy_uj_by_level")
    energy = energy if isinstance(energy, dict) else {}
    area = bd.get("area_mm2") if isinstance(bd.get("area_mm2"), dict) else bd.get("area_mm2_by_part")
    area = area if isinstance(area, dict) else {}
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
        "mapping": mapping_table(design, bd, bits),
        "layers": layer_costs(bd, list(bits)),
        "energy_levels": {k: energy[k] for k in _ordered(energy, LEVEL_ORDER)},
        "area_mm2": dict(area),
    }
