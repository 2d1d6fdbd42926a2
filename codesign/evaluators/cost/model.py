"""Vectorized analytical cost model: access counts, latency, energy (REFERENCES.md §3).

All functions work on a batch of ``n`` mappings of one :class:`LoopProblem` on architectures
of one structure (levels, keeps, instances); per-design energies, bandwidths and PE costs may
differ (arrays of shape ``(n,)``), so one call scores many mappings or many designs.

Notation: ``t_l[d]`` tile extent of level ``l`` = product of temporal and spatial factors at
``l`` and below; ``used_l`` = product of spatial factors above ``l`` (instances in use).
The temporal loops above ``l``, listed inner → outer, drive refetches:

- **stationarity**: skip the innermost run of loops irrelevant to the operand (factor > 1);
  ``j`` = the first relevant loop; ``iters = Π factors from j outward``; the compute units
  have no storage, so they see every temporal iteration (unless ``compute.operand_registers``:
  then inputs are stationary at the units too).
- **halo**: if loop ``j`` moves a sliding-window dim of the operand, the sweep loads the
  union of its windows: ``count = foot(t with t[d_j]·f_j) · Π factors above j``; else
  ``count = foot(t) · iters``.
- **multicast / spatial reduction**: the parent ``p`` of a keeping level ``c`` serves the
  *group* tile ``t_c · Π spatial factors of levels p..c−1`` (the union over the children), so
  spatial loops irrelevant to an operand are counted once. In the array-dims form
  (:mod:`codesign.evaluators.cost.arch`) the group is ``c``'s temporal tile times the spatial
  loops on the array dims ``p`` serves, and ``used_l`` = the loops on the dims ``l`` does not.
- inputs/weights: ``fills_c = count(t_c)·used_c``; ``reads_p = count(group)·used_p``.
- outputs: ``drains_c = count(t_c)``; ``distinct_c = foot(t_c · Π temporal factors above c)``;
  ``updates_p = count(group)·used_p``; partial-sum reads ``reads_p = (count(group) −
  distinct(group))·used_p`` (the first touch of an output needs no read); refills
  ``fills_c = (drains_c − distinct_c)·used_c``; the outermost level has no fills.

Latency: ``compute = Π temporal factors × cycles_per_mac``; per level and instance the
read/write/shared demand (words/cycle) against its bandwidth gives ``slowdown = min(1, BW /
demand)``; ``cycles = compute / min(slowdowns)`` (Timeloop). A level with only a shared
port serves reads and writes through it (port sharing).
Energy: ``macs·e_mac + Σ_l Σ_op ceil(count_per_instance·bits/(word_bits·block_words))·e_action
·used_l + leak_per_cycle·cycles·instances``; a level with ``round_per_transfer`` (ZigZag's
port semantics) rounds every transfer up to whole blocks instead: ``ceil(words_per_transfer /
block_words)·transfers``, where a transfer is one load of a tile (the loads counted above).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from codesign.errors import ConfigError
from codesign.evaluators.cost.arch import Architecture
from codesign.evaluators.cost.mapping import check_arrays, to_arrays
from codesign.evaluators.cost.problem import OPERANDS, LoopProblem

ACTIONS = ("reads", "fills", "updates")


def _above_sequence(arr: dict[str, np.ndarray], li: int) -> tuple[np.ndarray, np.ndarray]:
    """Temporal loops above level ``li`` (levels ``< li``), inner → outer: factors and dim indices."""
    t, rank = arr["T"][:, :li, :], arr["rank"][:, :li, :]
    n, _, nd = arr["T"].shape
    if li == 0:
        return np.ones((n, 0)), np.zeros((n, 0), dtype=int)
    order = np.argsort(-rank, axis=2, kind="stable")  # inner first within a level
    f = np.take_along_axis(t, order, axis=2)[:, ::-1, :].reshape(n, li * nd)
    d = order[:, ::-1, :].reshape(n, li * nd)
    return f, d


def _count(problem: LoopProblem, op: str, ext: np.ndarray, seq_f: np.ndarray, seq_d: np.ndarray,
           stationary: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Elements of ``op`` loaded with tile extents ``ext`` under the loops ``seq`` (inner → outer),
    and the number of transfers they arrive in."""
    base = problem.footprint(op, ext)
    n, k = seq_f.shape
    if k == 0:
        return base, np.ones(n)
    if not stationary:
        return base * seq_f.prod(axis=1), seq_f.prod(axis=1)
    rel, win = problem.relevant(op), problem.window(op)
    active = (seq_f > 1) & rel[seq_d]
    anyact = active.any(axis=1)
    j = np.argmax(active, axis=1)
    suffix = np.concatenate([np.cumprod(seq_f[:, ::-1], axis=1)[:, ::-1], np.ones((n, 1))], axis=1)
    rows = np.arange(n)
    dj, fj = seq_d[rows, j], seq_f[rows, j]
    swept = ext.copy()
    swept[rows, dj] *= fj
    halo = problem.footprint(op, swept) * suffix[rows, j + 1]
    plain = base * suffix[rows, j]
    return np.where(anyact, np.where(win[dj], halo, plain), base), np.where(anyact, suffix[rows, j], 1.0)


def spatial_terms(arch: Architecture, arr: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(inside, used)``: per level (and the compute units, index ``L``) the spatial factors inside
    one instance's tile ``(n, L + 1, D)`` and the instances in use ``(n, L + 1)``.

    Levels fanning out along x/y: a level's tile holds the spatial loops of its own and every
    lower level, and the instances in use are the spatial loops above it. Array-dims form
    (``arr["S"]``: factors per array dim ``(n, A, D)``): a level's tile holds the loops on the
    dims it serves, its instances in use are the loops on the others."""
    t = arr["T"]
    n, nl, nd = t.shape
    if arch.array_dims is not None:
        s = arr.get("S")
        if s is None:
            s = np.ones((n, len(arch.array_dims), nd))
        mask = arch.served_mask()
        inside = np.stack([np.where(mask[li][None, :, None], s, 1.0).prod(axis=1) for li in range(nl + 1)], axis=1)
        used = np.stack([np.where(mask[li][None, :, None], 1.0, s).prod(axis=(1, 2)) for li in range(nl + 1)], axis=1)
        return inside, used
    s = arr["SX"] * arr["SY"]
    inside = np.ones((n, nl + 1, nd))
    used = np.ones((n, nl + 1))
    for li in range(nl - 1, -1, -1):
        inside[:, li] = inside[:, li + 1] * s[:, li]
    for li in range(1, nl + 1):
        used[:, li] = used[:, li - 1] * s[:, li - 1].prod(axis=1)
    return inside, used


def access_counts(problem: LoopProblem, arch: Architecture, arr: dict[str, np.ndarray]) -> dict[str, Any]:
    """Total (all instances) reads / fills / updates per level and operand, shape ``(n, L, 3)`` each
    (``counts``), and the transfers they arrive in (``transfers``, same shape; a partial-sum read
    or refill stream gets the share of its update or drain stream's transfers)."""
    t = arr["T"]
    n, nl, nd = t.shape
    inside, used = spatial_terms(arch, arr)
    temporal_tile = temporal_tiles(t)
    tile = temporal_tile * inside  # tile[:, L] = compute (one element)
    seqs = [_above_sequence(arr, li) for li in range(nl + 1)]
    temporal_above = [t[:, :li].prod(axis=1) for li in range(nl + 1)]
    regs = arch.compute.operand_registers
    counts = {op: np.zeros((n, nl, 3)) for op in OPERANDS}
    transfers = {op: np.zeros((n, nl, 3)) for op in OPERANDS}

    def add(op: str, li: int, action: int, amount: np.ndarray, tr: np.ndarray, u: np.ndarray) -> None:
        counts[op][:, li, action] += amount * u
        transfers[op][:, li, action] += tr * u

    for op in OPERANDS:
        keep = [li for li, lv in enumerate(arch.levels) if op in lv.keeps] + [nl]
        for p, c in zip(keep, keep[1:]):
            group = temporal_tile[:, c] * inside[:, p]  # the children's tiles one parent instance serves
            f, d = seqs[c]
            g, g_tr = _count(problem, op, group, f, d, stationary=c < nl or (op != "O" and regs))
            if op != "O":
                add(op, p, 0, g, g_tr, used[:, p])
                if c < nl:
                    add(op, c, 1, *_count(problem, op, tile[:, c], f, d), used[:, c])
                continue
            distinct_g = problem.footprint(op, group * temporal_above[c])
            add(op, p, 2, g, g_tr, used[:, p])
            add(op, p, 0, g - distinct_g, g_tr * (1 - distinct_g / g), used[:, p])
            if c < nl:
                drains, d_tr = _count(problem, op, tile[:, c], f, d)
                distinct = problem.footprint(op, tile[:, c] * temporal_above[c])
                add(op, c, 1, drains - distinct, d_tr * (1 - distinct / drains), used[:, c])
    return {"counts": counts, "transfers": transfers, "used": used, "tile": tile,
            "capacity_used": capacity_words(problem, arch, tile), "temporal_iters": t.prod(axis=(1, 2))}


def temporal_tiles(t: np.ndarray) -> np.ndarray:
    """Temporal part of the tiles ``(n, L + 1, D)``: level ``l`` holds the product of the temporal
    factors at ``l`` and below; index ``L`` is one compute unit (all ones)."""
    n, nl, nd = t.shape
    tile = np.ones((n, nl + 1, nd))
    tile[:, :nl] = np.cumprod(t[:, ::-1], axis=1)[:, ::-1]
    return tile


def level_words(problem: LoopProblem, arch: Architecture) -> np.ndarray:
    """``(L, 3)``: words per element of each operand (``OPERANDS`` order) at each level, 0 where the
    level does not keep it; outputs below the top level are partial sums at ``psum_bits``."""
    words = np.zeros((len(arch.levels), len(OPERANDS)))
    for li, lv in enumerate(arch.levels):
        for k, op in enumerate(OPERANDS):
            if op in lv.keeps:
                words[li, k] = (problem.bits[op] if (op != "O" or li == 0) else problem.psum_bits) / lv.word_bits
    return words


def capacity_words(problem: LoopProblem, arch: Architecture, tile: np.ndarray) -> np.ndarray:
    """Words each level must hold, ``(n, L)``: ``Σ_{op kept} footprint(op, tile_l)·words_op``
    (:func:`level_words`)."""
    words = level_words(problem, arch)
    capacity = np.zeros((tile.shape[0], len(arch.levels)))
    for li, lv in enumerate(arch.levels):
        for k, op in enumerate(OPERANDS):
            if words[li, k]:
                capacity[:, li] += problem.footprint(op, tile[:, li]) * words[li, k]
    return capacity


def level_params(archs: list[Architecture]) -> dict[str, np.ndarray]:
    """Per-design arrays of every level's energies / bandwidths and the compute costs."""
    lv = lambda attr, none=np.inf: np.array(  # noqa: E731
        [[none if getattr(x, attr) is None else float(getattr(x, attr)) for x in a.levels] for a in archs])
    return {
        "read_pj": lv("read_pj"), "write_pj": lv("write_pj"), "update_pj": lv("update_pj"),
        "leak_pj": lv("leak_pj_per_cycle"), "read_bw": lv("read_bw"), "write_bw": lv("write_bw"),
        "shared_bw": lv("shared_bw"), "size_words": lv("size_words"),
        "cycles_per_mac": np.array([a.compute.cycles_per_mac for a in archs]),
        "mac_pj": np.array([a.compute.energy_pj_per_mac for a in archs]),
        "clock_mhz": np.array([a.clock_mhz for a in archs]),
    }


def cost(problem: LoopProblem, arch: Architecture, acc: Mapping[str, Any], params: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Latency (cycles), energy (pJ, per level), capacity violations from access counts."""
    counts, used = acc["counts"], acc["used"]
    nl = len(arch.levels)
    compute = acc["temporal_iters"] * params["cycles_per_mac"]
    macs = float(problem.macs)
    energy = {"compute": macs * params["mac_pj"]}
    slow = np.ones_like(compute)
    by_op = np.zeros((len(compute), nl, len(OPERANDS)))  # dynamic access energy per level and operand
    rd_tot = np.zeros((len(compute), nl))
    wr_tot = np.zeros((len(compute), nl))
    level_w = level_words(problem, arch)
    for li, lv in enumerate(arch.levels):
        u = used[:, li]
        e = np.zeros_like(compute)
        for k, op in enumerate(OPERANDS):
            words = level_w[li, k]
            c = counts[op][:, li, :]
            if lv.round_per_transfer:  # every transfer moves whole blocks
                tr = acc["transfers"][op][:, li, :]
                per = np.divide(c * words / lv.block_words, tr, out=np.zeros_like(c), where=tr > 0)
                blocks = np.ceil(np.round(per, 6)) * tr
            else:
                blocks = np.ceil(np.round(c / u[:, None] * words / lv.block_words, 6)) * u[:, None]
            by_op[:, li, k] = blocks[:, 0] * params["read_pj"][:, li] + blocks[:, 1] * params["write_pj"][:, li] \
                + blocks[:, 2] * params["update_pj"][:, li]
            e = e + by_op[:, li, k]
            rd_tot[:, li] += c[:, 0] * words
            wr_tot[:, li] += (c[:, 1] + c[:, 2]) * words
        energy[lv.name] = e
        rd, wr = rd_tot[:, li] / u / compute, wr_tot[:, li] / u / compute
        for demand, bw in ((rd, params["read_bw"][:, li]), (wr, params["write_bw"][:, li]),
                           (rd + wr, params["shared_bw"][:, li])):
            slow = np.minimum(slow, np.where(demand > 0, np.minimum(1.0, bw / np.maximum(demand, 1e-30)), 1.0))
    cycles = compute / slow
    for li, lv in enumerate(arch.levels):
        energy[lv.name] = energy[lv.name] + params["leak_pj"][:, li] * cycles * lv.instances
    over = acc["capacity_used"] / params["size_words"] - 1.0
    return {"cycles": cycles, "compute_cycles": compute, "energy_pj": sum(energy.values()), "energy_pj_by_operand": by_op,
            "energy_pj_by_level": energy, "capacity_over": over, "read_words": rd_tot, "write_words": wr_tot}


def evaluate_arrays(problem: LoopProblem, arch: Architecture, arr: dict[str, np.ndarray],
                    archs: list[Architecture] | None = None) -> dict[str, Any]:
    """Counts + cost for a batch of mapping arrays (one arch, or one per mapping in ``archs``)."""
    acc = access_counts(problem, arch, arr)
    n = arr["T"].shape[0]
    params = level_params(archs if archs is not None else [arch])
    if archs is None:
        params = {k: np.repeat(v, n, axis=0) for k, v in params.items()}
    out = cost(problem, arch, acc, params)
    out.update(acc)
    return out


def evaluate(problem: LoopProblem, arch: Architecture, mapping: Any) -> dict[str, Any]:
    """Score one mapping (a :class:`~codesign.evaluators.cost.mapping.Mapping`): plain floats and
    per-level / per-operand counts per instance."""
    r = evaluate_arrays(problem, arch, to_arrays([mapping], problem, arch))
    per_level = {}
    for li, lv in enumerate(arch.levels):
        u = float(r["used"][0, li])
        per_level[lv.name] = {
            "energy_pj": float(r["energy_pj_by_level"][lv.name][0]),
            "capacity_words": float(r["capacity_used"][0, li]),
            "energy_pj_by_operand": {op: float(r["energy_pj_by_operand"][0, li, k])
                                     for k, op in enumerate(OPERANDS) if op in lv.keeps},
            "counts_per_instance": {op: dict(zip(ACTIONS, (float(x) / u for x in r["counts"][op][0, li])))
                                    for op in lv.keeps},
        }
    return {"cycles": float(r["cycles"][0]), "compute_cycles": float(r["compute_cycles"][0]),
            "energy_pj": float(r["energy_pj"][0]), "compute_energy_pj": float(r["energy_pj_by_level"]["compute"][0]),
            "levels": per_level, "macs": problem.macs}


def check_mapping(mapping: Any, problem: LoopProblem, arch: Architecture) -> None:
    """Raise :class:`ConfigError` (one line) unless ``mapping`` is valid and its tiles fit."""
    arr = to_arrays([mapping], problem, arch)
    errors = check_arrays(arr, problem, arch)
    if errors:
        raise ConfigError(errors[0])
    res = evaluate_arrays(problem, arch, arr)
    for li, lv in enumerate(arch.levels):
        used = float(res["capacity_used"][0, li])
        if lv.size_words is not None and used > lv.size_words:
            raise ConfigError(f"tiles kept in `{lv.name}` must fit its {lv.size_words:g} words, but need {used:g}")
