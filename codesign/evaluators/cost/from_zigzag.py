"""ZigZag results as validation cases: translate one layer of a ZigZag run into our terms.

Input: one dump of :mod:`codesign.evaluators.cost.peer_zigzag` (``--dump``), which holds the
hardware YAML as ZigZag reads it and, per layer, ZigZag's chosen mapping and its energy and
latency terms. :func:`case_from_layer` builds the same architecture, problem and mapping for our
model, so ``codesign validate`` compares the two models on identical inputs.

Translation:

- **problem**: ZigZag's conv dims ``B, K, C, OX, OY, FX, FY, G`` become ``B, M, C, P, Q, R, S,
  G`` (its Gemm dims ``D, K, C`` our ``M, N, K``); the stride comes from ZigZag's partially-relevant scaling (``IX = s·OX + FX``); the input
  extents ZigZag fetches (padding removed) clip our window footprints (``input_size``). Operand
  precisions as ZigZag's: partial sums at ``O``, final outputs at ``O_final``.
- **architecture**: ZigZag lets every operand cut the one loop order at its own memory
  boundaries, so each (memory, operands cut at the same position) becomes one of our levels
  (keeping those operands), ordered by cut position; a memory split this way lists its full
  size in every part (ZigZag's mapping already fits the shared size). Runs of loops that
  repeat a dim inside one part go to extra levels that keep nothing (pure loop holders). Where
  every memory serves the whole array (``served_dimensions`` = every array dim) or one PE
  (``[]``) and no per-PE memory holds loops above an array-wide one, levels fan out along x/y
  (array dim ``D1`` is our ``x`` axis, the product of the others ``y``); otherwise (e.g.
  edge_tpu_like's registers shared along D3/D4 or D2) the architecture takes the array-dims
  form, each level listing ZigZag's served dims and the unrolling going to the array dims. Ports: each ZigZag port becomes one of our
  ports (:mod:`codesign.evaluators.cost.ports`) with its kind, its bandwidth (``bandwidth_max``
  in 8-bit words per cycle per instance) and the streams its allocation lists (``tl`` → read,
  ``fh`` → fill, ``fl`` → update, ``th`` → drain, ZigZag's memory operands mapped to ours by
  the layer's operand links); the parts of a split memory list the streams of their operands
  and share the memory's ports (``memory``). Per-action energies: ZigZag charges
  ``r_cost``/``w_cost`` per access of a port's maximum width, rounded up to its minimum width,
  so a port's block is its minimum width at cost ``× min/max``, rounded per transfer
  (``round_per_transfer``). Systolic array dims (``systolic_dimensions``) are listed for the
  drain term of ZigZag's latency. The MACs hold their input operands while consecutive cycles reuse them
  (``operand_registers``, ZigZag's "same data, no access" for the innermost level).
- **reference**: energy = ZigZag's total; cycles = ZigZag's computation phase
  (``latency_total0`` = ideal temporal cycles + stall/slack), which is what our model (like
  Timeloop's) computes. ZigZag's full latency (``latency_total2``) adds the exposed data
  on-loading before the first computation, the off-loading after the last and the systolic
  drain; they are carried in the case and printed by ``codesign validate`` but not compared.

Not translatable (a :class:`ConfigError` naming the reason): non-integer (padded) loop factors,
dilated convs, other layer kinds, and memories whose sharing does not nest per operand.

(The module is not called ``zigzag.py``: the peer script runs from this folder, and ZigZag's own
``import zigzag`` would find it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from math import prod
from typing import Any

from codesign.errors import ConfigError

CONV_DIMS = {"B": "B", "K": "M", "C": "C", "OX": "P", "OY": "Q", "FX": "R", "FY": "S", "G": "G"}
GEMM_DIMS = {"D": "M", "K": "N", "C": "K"}  # ZigZag's Gemm: O[D,K] += I[D,C] * W[K,C]
DIRECTIONS = {"tl": "read", "fh": "fill", "fl": "update", "th": "drain"}  # ZigZag's port allocation directions


def dim_names(layer: Mapping[str, Any]) -> dict[str, str]:
    """ZigZag dim -> our dim for the layer's kind (conv or gemm)."""
    return CONV_DIMS if "OX" in layer["dims"] else GEMM_DIMS
WORD_BITS = 8
OPS = ("W", "I", "O")


def _int(x: float, what: str) -> int:
    if abs(x - round(x)) > 1e-9 or x < 1:
        raise ConfigError(f"{what} must be a whole factor >= 1 (ZigZag padded an uneven split), but got {x:g}")
    return int(round(x))


def problem_dict(layer: Mapping[str, Any]) -> dict[str, Any]:
    """Our problem dict for a dumped ZigZag conv or Gemm layer."""
    dims = dict(layer["dims"])
    prec = layer["precision"]
    bits = {"W": int(prec["W"]), "I": int(prec["I"]), "O": int(prec.get("O_final", prec["O"]))}
    if set(dims) == set(GEMM_DIMS):
        return {"op": "gemm", "name": layer["name"], "dims": {GEMM_DIMS[k]: int(v) for k, v in dims.items()},
                "bits": bits, "psum_bits": int(prec["O"])}
    if "OX" not in dims or "FX" not in dims:
        raise ConfigError(f"layer {layer['name']}: only conv and Gemm (C, D, K) layers translate, but got dims "
                          f"{sorted(dims)}")
    unknown = sorted(set(dims) - set(CONV_DIMS))
    if unknown:
        raise ConfigError(f"layer {layer['name']}: conv dims must be among {sorted(CONV_DIMS)}, but got {unknown}")
    strides = {}
    for pr, (out_dim, kern_dim) in (("IX", ("OX", "FX")), ("IY", ("OY", "FY"))):
        scale = dict(map(tuple, layer["pr_scaling"][pr]))
        if scale.get(kern_dim, 1.0) != 1.0:
            raise ConfigError(f"layer {layer['name']}: dilated convs do not translate ({pr} scaling {scale})")
        strides[pr] = _int(scale.get(out_dim, 1.0), f"layer {layer['name']} stride {pr}")
    if strides["IX"] != strides["IY"]:
        raise ConfigError(f"layer {layer['name']}: strides must be equal in x and y, but got {strides}")
    g = int(dims.get("G", 1))
    ours = {CONV_DIMS[k]: int(v) for k, v in dims.items()}
    ours["C"], ours["M"] = ours.get("C", 1) * g, ours.get("M", 1) * g  # Layer dims are totals over groups
    ours.pop("G", None)
    return {"op": "conv", "name": layer["name"], "dims": {d: ours.get(d, 1) for d in ("B", "C", "M", "R", "S", "P", "Q")},
            "stride": strides["IX"], "groups": g, "bits": bits, "psum_bits": int(prec["O"]),
            "input_size": {"P": int(layer["pr_sizes"]["IX"]), "Q": int(layer["pr_sizes"]["IY"])}}


def _memory(hw: Mapping[str, Any], name: str, links: Mapping[str, str]) -> dict[str, Any]:
    """One ZigZag memory: its served dims, size, and its ports, each with its widths, energies and
    the (our operand, direction) streams its allocation lists, in allocation order."""
    mems = hw["memories"]
    if name not in mems:
        raise ConfigError(f"hardware has no memory {name!r} (memories: {sorted(mems)})")
    m = mems[name]
    array_dims = list(hw["operational_array"]["dimensions"])
    served = [str(d) for d in m.get("served_dimensions") or []]
    if not set(served) <= set(array_dims):
        raise ConfigError(f"memory {name}: served_dimensions must be among the array dims {array_dims}, but got {served}")
    ports = m.get("ports") or []
    if not ports:
        raise ConfigError(f"memory {name} must list its ports")
    by_mem_op = {v: k for k, v in links.items()}
    out_ports = []
    for port in ports:
        lo, hi = int(port["bandwidth_min"]), int(port["bandwidth_max"])
        serves = []
        for entry in port.get("allocation") or []:
            mem_op, _, d = (x.strip() for x in str(entry).partition(","))
            if d not in DIRECTIONS:
                raise ConfigError(f"memory {name} port {port['name']}: allocation entries must be 'OPERAND, tl|th|fh|fl', "
                                  f"but got {entry!r}")
            if mem_op in by_mem_op:  # operands this layer does not use are left out
                serves.append((by_mem_op[mem_op], DIRECTIONS[d]))
        # an access moves the port's maximum width and costs r_cost / w_cost; it is rounded up to
        # the minimum width, so our block is the minimum width at cost x min/max
        for other in out_ports:  # a stream allocated to two ports goes to the last (as ZigZag's parser does)
            other["serves"] = [x for x in other["serves"] if x not in serves]
        out_ports.append({"name": str(port["name"]), "kind": str(port["type"]), "bw": hi / WORD_BITS,
                          "block_words": max(1, lo // WORD_BITS), "read_pj": float(m["r_cost"]) * lo / hi,
                          "write_pj": float(m["w_cost"]) * lo / hi, "serves": serves})
    block_bits = min(int(p["bandwidth_min"]) for p in ports)
    return {"per_pe": not served, "partial": bool(served) and set(served) != set(array_dims), "served": served,
            "size_words": float(m["size"]) / WORD_BITS, "block_words": max(1, block_bits // WORD_BITS),
            "read_pj": float(m["r_cost"]) * block_bits / max(int(p["bandwidth_max"]) for p in ports),
            "write_pj": float(m["w_cost"]) * block_bits / max(int(p["bandwidth_max"]) for p in ports),
            "ports": out_ports}


def _level_ports(m: Mapping[str, Any], ops: list[str]) -> list[dict[str, Any]]:
    """The memory's ports as one of our levels (keeping ``ops``) lists them: each port with the
    streams of those operands (ports serving none of them are left out)."""
    out = []
    for port in m["ports"]:
        serves = [f"{op}.{d}" for op, d in port["serves"] if op in ops]
        if serves:
            out.append({"name": port["name"], "kind": port["kind"], "bw": port["bw"], "block_words": port["block_words"],
                        "energy_pj": {"read": port["read_pj"], "write": port["write_pj"]}, "serves": serves})
    return out


def _runs(loops: list[tuple[str, float]]) -> list[list[tuple[str, int]]]:
    """Split an inner → outer loop list into runs without a repeated dim (adjacent repeats merge)."""
    runs: list[list[tuple[str, int]]] = [[]]
    for d, f in loops:
        f = _int(f, f"temporal factor of {d}")
        if f == 1:
            continue
        run = runs[-1]
        if run and run[-1][0] == d:
            run[-1] = (d, run[-1][1] * f)
        elif any(x == d for x, _ in run):
            runs.append([(d, f)])
        else:
            run.append((d, f))
    return [r for r in runs if r] or [[]]


def case_from_layer(layer: Mapping[str, Any], hw: Mapping[str, Any], source: str, name: str,
                    form: str = "auto") -> dict[str, Any]:
    """One validation case (``kind: zigzag``) from a dumped layer and the dumped hardware.

    ``form``: ``chain`` (levels fan out along x/y; memories serve the whole array or one PE),
    ``array`` (array-dims form: each level lists the array dims it serves), or ``auto`` (chain
    where it can express the hardware and the mapping, else array)."""
    if form not in ("auto", "chain", "array"):
        raise ConfigError(f"form must be auto, chain or array, but got {form!r}")
    problem = problem_dict(layer)
    names = dim_names(layer)
    links = layer["operand_links"]
    if set(links) != set(OPS):
        raise ConfigError(f"layer {layer['name']}: operands must be {list(OPS)}, but got {sorted(links)}")
    seqs = {op: [(str(d), float(f)) for lvl in layer["temporal"][op] for d, f in lvl] for op in OPS}
    seq = seqs["O"]
    if any(s != seq for s in seqs.values()):
        raise ConfigError(f"layer {layer['name']}: operands must share one loop order")
    for d, size in layer["dims"].items():
        loops = prod(f for dd, f in seq if dd == d) * prod(
            f for unroll in layer["spatial"].values() for dd, f in unroll.items() if dd == d)
        if abs(loops - size) > 1e-6:
            raise ConfigError(f"layer {layer['name']}: the loops of {d} must multiply to its size {size}, but ZigZag's "
                              f"multiply to {loops:g} (it pads an uneven split)")
    groups: dict[tuple[str, int], list[str]] = {}
    for op in OPS:
        cut = 0
        for mem, loops in zip(layer["mem_levels"][op], layer["temporal"][op]):
            cut += len(loops)
            groups.setdefault((mem, cut), []).append(op)
    mems = {m: _memory(hw, m, links) for m, _ in groups}
    per_mem = {m: sum(1 for g in groups if g[0] == m) for m in mems}
    # inner first: by cut, then by depth in the operands' hierarchies (the outermost memory last),
    # then memories serving fewer array dims, then smaller memories
    depth = {m: max(lv.index(m) for lv in layer["mem_levels"].values() if m in lv) for m in mems}
    order = sorted(groups, key=lambda g: (g[1], depth[g[0]], len(mems[g[0]]["served"]), mems[g[0]]["size_words"]))
    seen_wide, chain_ok = None, not any(m["partial"] for m in mems.values())
    for mem, cut in order:
        if mems[mem]["per_pe"] and seen_wide:
            chain_ok = False  # a per-PE memory above an array-wide one: only the array-dims form nests
        if not mems[mem]["per_pe"]:
            seen_wide = mem
    if form == "chain" and not chain_ok:
        raise ConfigError(f"layer {layer['name']}: levels fanning out along x/y cannot express this hardware or "
                          f"mapping (memories served by part of the array, or a per-PE memory above an array-wide one)")
    array_form = form == "array" or not chain_ok
    top_mem, top_cut = order[-1]
    if sorted(groups[order[-1]]) != sorted(OPS) or top_cut != len(seq):
        raise ConfigError(f"layer {layer['name']}: the outermost memory must keep every operand")
    sizes = [int(s) for s in hw["operational_array"]["sizes"]]
    pes, mesh_x = prod(sizes), sizes[0]
    levels: list[dict[str, Any]] = []
    mapping: list[dict[str, Any]] = []
    prev = 0
    for mem, cut in order:  # inner first; reversed at the end
        m, ops = mems[mem], [op for op in OPS if op in groups[(mem, cut)]]
        lname = mem if per_mem[mem] == 1 else f"{mem}.{'+'.join(ops)}"
        if array_form:
            inst: dict[str, Any] = {"served": list(m["served"])}
        else:
            inst = {"instances": pes, "mesh_x": mesh_x} if m["per_pe"] else {}
        runs = _runs(seq[prev:cut])
        for k, run in enumerate(runs[:-1]):  # loop holders below the memory
            levels.append({"name": f"{lname}~{k}", "keeps": [], **({} if array_form else inst)})
            mapping.append({"level": f"{lname}~{k}", "temporal": [[names[d], f] for d, f in reversed(run)]})
        lv = {"name": lname, "keeps": ops, "word_bits": WORD_BITS, "block_words": m["block_words"], **inst,
              "round_per_transfer": True,
              "energy_pj": {"read": m["read_pj"], "write": m["write_pj"], "update": m["write_pj"]}}
        if (mem, cut) != (top_mem, top_cut):
            lv["size_words"] = m["size_words"]
        if per_mem[mem] > 1:
            lv["memory"] = mem
        lv["ports"] = _level_ports(m, ops)
        levels.append(lv)
        mapping.append({"level": lname, "temporal": [[names[d], f] for d, f in reversed(runs[-1])]})
        prev = cut
    levels.reverse()
    mapping.reverse()
    spatial = []
    dims = list(hw["operational_array"]["dimensions"])
    for dim_name, unroll in layer["spatial"].items():
        axis = dim_name if array_form else ("x" if dim_name == dims[0] else "y")
        for d, f in unroll.items():
            f = _int(f, f"spatial factor of {d} on {dim_name}")
            if f > 1:
                spatial.append([names[d], f, axis])
    wide = [i for i, lv in enumerate(levels) if "instances" not in lv]
    mapping[0 if array_form else wide[-1]]["spatial"] = spatial
    oa = hw["operational_array"]
    compute: dict[str, Any] = {"name": "mac", "energy_pj_per_mac": float(oa["unit_energy"]), "cycles_per_mac": 1,
                               "operand_registers": True, "final_outputs": True}
    compute.update({"array": dict(zip(dims, sizes))} if array_form else {"instances": pes, "mesh_x": mesh_x})
    systolic = [str(d) for d in oa.get("systolic_dimensions") or []]
    if systolic:
        compute["systolic"] = systolic if array_form else sorted({"x" if d == dims[0] else "y" for d in systolic})
    arch = {"name": f"{hw.get('name', 'zigzag')}", "clock_mhz": 1000.0, "levels": levels, "compute": compute}
    ref = {"cycles": float(layer["latency_total0"]), "energy_pj": float(layer["energy_total"]),
           "energy_pj_by_operand": {f"{mem}/{op}": float(e) for op in OPS
                                    for mem, e in zip(layer["mem_levels"][op], layer["energy_breakdown"][op])}}
    for k in ("latency_total2", "ideal_temporal_cycle", "stall_slack_comb", "onloading", "offloading",
              "systolic_drain", "mac_energy"):
        ref[k] = float(layer[k])
    return {"name": name, "kind": "zigzag", "source": source, "problem": problem, "arch": arch,
            "mapping": mapping, "reference": ref}
