"""ZigZag's latency semantics as a selectable latency model (``latency: zigzag`` on an architecture).

Timeloop's model (the default, :mod:`codesign.evaluators.cost.model`) slows the whole
computation by the average bandwidth demand of the busiest port. ZigZag (KULeuven-MICAS/zigzag,
zigzag-dse 3.9.1, ``cost_model/cost_model.py::calc_latency`` and ``mapping/mapping.py``) instead
follows every transfer of every operand between two memory levels through its period:

1. **Stationarity** (``innermost_stationary_loop_merge_down``): per operand, the loops irrelevant
   to it at the bottom of a memory level merge into the level below, so a level's *period* is
   the product of the temporal loops up to the first relevant loop above it; inputs held in the
   MACs' registers (``mac_level_data_stationary_cycle``) set the period of the innermost reads.
2. **Transfers per period**: each of the four streams of an operand at a memory level (read to
   below, fill from above; for outputs also updates from below and drains to above) moves the
   data a level holds per unit (times the spatial fan-out of distinct data, ``mem_bw_boost``)
   once per period of the level it feeds, ``period_count = total cycles / period`` times. Its
   *real* cycles are ``ceil(amount · precision / port width)``; the cycles *allowed* are the
   whole period where the feeding level can double-buffer (its effective data, the data it
   holds divided by its outermost relevant loops, fits in half the memory, counting the
   operands sharing that memory), else the period divided by the level's outermost irrelevant
   loops (``top_ir``: the window in which the data may change). Outputs carry partial sums
   where a reduction remains, final outputs elsewhere (``final_outputs``).
3. **Stall per port** (``combine_data_transfer_rate_per_physical_port``): a stream stalls
   ``(real − allowed)·(period_count − 1)``; a port serving several streams adds its stalls and
   keeps only the slack not needed by the union of their update windows; the computation phase
   is ``ideal cycles + max over ports`` (ZigZag's ``latency_total0``).
4. **On-/off-loading** (``calc_data_loading_latency``): data moved once per layer
   (``period_count = 1``: the first fill of each level, the last drain) is not overlapped with
   the computation except as far as the port's spare bandwidth during it allows
   (``reduce_ordered``); what remains is charged before (inputs: the longer of the two sides of
   each level pair, added per operand, the two input operands in parallel unless they share a
   port) and after (outputs) the computation, plus the systolic drain of a systolic array
   (one cycle per unit along each systolic dim).

``cycles = ideal + stall + on-loading + off-loading + systolic drain`` (ZigZag's
``latency_total2``); the terms come back separately (:func:`latency_terms`). Streams are
carried by the architecture's ports (:mod:`codesign.evaluators.cost.ports`); a level without
ports uses its read port for reads and drains and its write port for fills and updates (its
shared port where it has only that one). A physical port lists its streams in ZigZag's order:
input activations, weights, outputs, each in the order its level's port lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from codesign.evaluators.cost.zigzag_kernel import zigzag_rows


_ZIGZAG_OPERAND_ORDER = (1, 0, 2)  # a memory's operands in ZigZag's order: I1 (inputs), I2 (weights), O


@dataclass(frozen=True)
class ZigzagPorts:
    """The streams each physical port carries, in ZigZag's order: ``z_port/z_level/z_op/z_dir``,
    ``zport (L, 3, 4)`` the port of each stream (-1: none), per port its level's word bits and
    whether it serves both input operands, and per level its physical memory index."""

    z_port: np.ndarray
    z_level: np.ndarray
    z_op: np.ndarray
    z_dir: np.ndarray
    zport: np.ndarray
    port_wbits: np.ndarray
    port_two_inputs: np.ndarray
    memory: np.ndarray


def zigzag_ports(arch: Any, table: Any) -> ZigzagPorts:
    """Stream lists per port from an architecture and its :class:`~codesign.evaluators.cost.ports.PortTable`."""
    levels = arch.levels
    npt = len(table.names)
    zport = -np.ones((len(levels), 3, 4), dtype=np.int64)
    for li, lv in enumerate(levels):
        if lv.ports:
            zport[li] = table.eport[li]
            continue
        r, w, s = (table.names.index((lv.name, k)) for k in ("read", "write", "shared"))
        only_shared = lv.read_bw is None and lv.write_bw is None and lv.shared_bw is not None
        for k in range(3):
            zport[li, k] = [s, s, s, s] if only_shared else [r, w, w, r]
    streams = []
    for li in range(len(levels)):
        for k in range(3):
            for d in range(4):
                if zport[li, k, d] >= 0:
                    # order within a port: ZigZag's operand order, then the port's own listing order
                    p = int(zport[li, k, d])
                    serves = next((q.serves for q in levels[li].ports if q.name == table.names[p][1]), ())
                    pos = serves.index(("WIO"[k], ("read", "fill", "update", "drain")[d])) if serves else d
                    streams.append((p, _ZIGZAG_OPERAND_ORDER.index(k), pos, li, k, d))
    streams.sort()
    st = np.array([(p, li, k, d) for p, _, _, li, k, d in streams], dtype=np.int64).reshape(-1, 4)
    wbits = np.zeros(npt)
    two = np.zeros(npt, dtype=np.bool_)
    for p in range(npt):
        mine = st[st[:, 0] == p]
        if len(mine):
            wbits[p] = levels[int(mine[0, 1])].word_bits
        two[p] = len({int(k) for k in mine[:, 2] if k != 2}) > 1
    names = [lv.memory or lv.name for lv in levels]
    memory = np.array([names.index(m) for m in names], dtype=np.int64)
    return ZigzagPorts(st[:, 0].copy(), st[:, 1].copy(), st[:, 2].copy(), st[:, 3].copy(), zport, wbits, two, memory)


_ports_cache: dict[int, tuple[Any, ZigzagPorts, np.ndarray, np.ndarray]] = {}


def latency_terms(problem: Any, arch: Any, arr: dict[str, np.ndarray], rows: Any, params: Any,
                  aa: Any, which: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """ZigZag's latency terms of a batch of mapping rows (called by
    :func:`codesign.evaluators.cost.model.evaluate_arrays` for ``latency: zigzag``): ``cycles``
    (full latency), ``compute_phase``, ``stall``, ``onloading``, ``offloading``, ``systolic_drain``.
    ``rows`` carries what :func:`codesign.evaluators.cost.kernel.counts_rows` worked out per row
    (loop sequence, partial-sum flags, footprints) and the rows' bits; ``aa`` the architecture's
    kernel arrays (:func:`codesign.evaluators.cost.model.arch_arrays`); ``which`` the rows to
    evaluate (all by default), in the order of the results."""
    hit = _ports_cache.get(id(arch))
    if hit is None or hit[0] is not arch:
        if len(_ports_cache) > 1024:
            _ports_cache.clear()
        axes = [d for d, _ in arch.array_dims] if arch.array_dims is not None else []
        systolic = np.array([-1 if a == "x" else -2 if a == "y" else axes.index(a) for a in arch.compute.systolic],
                            dtype=np.int64)
        hit = (arch, zigzag_ports(arch, aa.ports), systolic, np.array([float(lv.word_bits) for lv in arch.levels]))
        _ports_cache[id(arch)] = hit
    zp, systolic, wbits = hit[1:]
    t = arr["T"]
    n, _, nd = t.shape
    sx, sy, s = arr.get("SX"), arr.get("SY"), arr.get("S")
    if sx is None or sy is None:
        ones = np.ones(t.shape)
        sx, sy = (ones if sx is None else sx), (ones if sy is None else sy)
    s = np.ones((n, aa.served.shape[1], nd)) if s is None else s
    op_order = np.array([2, 0, 1] if "R" in problem.dims else [2, 1, 0], dtype=np.int64)
    which = np.arange(n) if which is None else np.asarray(which, dtype=np.int64)
    out = np.zeros((len(which), 6))
    c = np.ascontiguousarray
    zigzag_rows(c(sx, dtype=np.float64), c(sy, dtype=np.float64), c(s, dtype=np.float64), aa.keeps, rows["rel"],
                rows["win"], rows["seq_f"], rows["seq_d"], rows["seq_n"], rows["seq_start"], rows["low"], rows["high"],
                rows["fp_tile"], rows["fp_inside"], c(rows["bits"]), c(rows["psum_bits"]),
                wbits, c(params["size_words"], dtype=np.float64),
                c(params["cycles_per_mac"], dtype=np.float64), op_order, zp.memory, zp.z_port, zp.z_level, zp.z_op,
                zp.z_dir, zp.zport, zp.port_wbits, zp.port_two_inputs, c(params["bw"], dtype=np.float64), systolic, which, out)
    return {"cycles": out[:, 0], "compute_phase": out[:, 1], "stall": out[:, 2], "onloading": out[:, 3],
            "offloading": out[:, 4], "systolic_drain": out[:, 5]}
