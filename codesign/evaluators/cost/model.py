"""Analytical cost model: access counts, latency, energy (REFERENCES.md §3).

:func:`evaluate_arrays` scores a batch of ``n`` mapping rows on architectures of one structure
(levels, keeps, instances, ports); per-design energies, bandwidths and PE costs may differ, and
each row may be its own :class:`LoopProblem` of one structure (the layers of a network, with
their own sizes, strides and bits), so one call scores many mappings, designs or layers. The
equations below run one row at a time in the compiled kernel
(:mod:`codesign.evaluators.cost.kernel`); this module prepares its arrays and names its results.
:func:`count_arrays` runs the counts phase alone and returns a :class:`Counted` batch, whose
``lower_bounds`` let a mapper skip ZigZag's latency model for rows that cannot win and whose
``totals``/``finish`` complete the rows it keeps.

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

  Outputs leaving ``c`` for its parent are its ``drains = count(t_c)·used_c`` (charged only
  where a port serves them, see :mod:`codesign.evaluators.cost.ports`).

Latency (``latency: timeloop``, the default): ``compute = Π temporal factors ×
cycles_per_mac``; per port and instance the demand (words/cycle of the streams it carries)
against its bandwidth gives ``slowdown = min(1, BW / demand)``; ``cycles = compute /
min(slowdowns)`` (Timeloop; the legacy read/write/shared ports of a level without ``ports``
carry reads, fills + updates, and all three). ``latency: zigzag`` selects ZigZag's
semantics instead (:mod:`codesign.evaluators.cost.zigzag_latency`).
Energy: ``macs·e_mac + Σ_l Σ_op Σ_stream ceil(count_per_instance·bits/(word_bits·block_words))
·e_action·used_l + leak_per_cycle·cycles·instances``, with each stream's block and energy those
of the port carrying it; a level with ``round_per_transfer`` (ZigZag's port semantics) rounds
every transfer up to whole blocks instead: ``ceil(words_per_transfer / block_words)·transfers``,
where a transfer is one load of a tile (the loads counted above).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from codesign.errors import ConfigError
from codesign.evaluators.cost import kernel
from codesign.evaluators.cost.arch import Architecture
from codesign.evaluators.cost.mapping import check_arrays, to_arrays
from codesign.evaluators.cost.ports import PortTable, port_table
from codesign.evaluators.cost.zigzag_latency import latency_terms
from codesign.evaluators.cost.problem import OPERANDS, LoopProblem

ACTIONS = ("reads", "fills", "updates")
DIRECTIONS = ("reads", "fills", "updates", "drains")
_CACHE_LIMIT = 4096


@dataclass(frozen=True)
class ProblemArrays:
    """A problem's axis plans as kernel arrays: ``kind/pdim/rdim (3, X)`` (structure),
    ``stride/limit (3, X)``, ``rel/win (3, D)``, its MAC count and a structure key (problems
    with equal keys may share one kernel call)."""

    key: tuple[Any, ...]
    kind: np.ndarray
    pdim: np.ndarray
    rdim: np.ndarray
    stride: np.ndarray
    limit: np.ndarray
    rel: np.ndarray
    win: np.ndarray
    macs: float


@dataclass(frozen=True)
class ArchArrays:
    """An architecture's structure as kernel arrays (see :mod:`codesign.evaluators.cost.kernel`)."""

    keeps: np.ndarray
    served: np.ndarray
    regs: bool
    final_outputs: bool
    rpt: np.ndarray
    instances: np.ndarray
    ports: PortTable


_problem_cache: dict[int, tuple[LoopProblem, ProblemArrays]] = {}
_arch_cache: dict[int, tuple[Architecture, ArchArrays]] = {}


def _remember(cache: dict[int, Any], obj: Any, value: Any) -> Any:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[id(obj)] = (obj, value)
    return value


def problem_arrays(problem: LoopProblem) -> ProblemArrays:
    """The kernel arrays of ``problem`` (cached per problem object)."""
    hit = _problem_cache.get(id(problem))
    if hit is not None and hit[0] is problem:
        return hit[1]
    plan = problem.axis_plan
    nx = max(len(plan[op]) for op in OPERANDS)
    kind, pdim, rdim = (np.zeros((3, nx), dtype=np.int64) for _ in range(3))
    stride, limit = np.ones((3, nx)), np.full((3, nx), np.inf)
    for k, op in enumerate(OPERANDS):
        for a, ax in enumerate(plan[op]):
            kind[k, a] = 1 if len(ax) == 1 else 2
            pdim[k, a] = ax[0]
            if len(ax) > 1:
                rdim[k, a], stride[k, a], limit[k, a] = ax[1], ax[2], ax[3]
    key = (problem.dim_names, kind.tobytes(), pdim.tobytes(), rdim.tobytes())
    arrays = ProblemArrays(key, kind, pdim, rdim, stride, limit, np.stack([problem.relevant(op) for op in OPERANDS]),
                           np.stack([problem.window(op) for op in OPERANDS]), float(problem.macs))
    return _remember(_problem_cache, problem, arrays)


def arch_arrays(arch: Architecture) -> ArchArrays:
    """The kernel arrays of ``arch``'s structure (cached per architecture object)."""
    hit = _arch_cache.get(id(arch))
    if hit is not None and hit[0] is arch:
        return hit[1]
    keeps = np.array([[op in lv.keeps for op in OPERANDS] for lv in arch.levels], dtype=np.bool_)
    served = arch.served_mask() if arch.array_dims is not None else np.zeros((len(arch.levels) + 1, 0), dtype=np.bool_)
    arrays = ArchArrays(keeps, served, bool(arch.compute.operand_registers), bool(arch.compute.final_outputs),
                        np.array([lv.round_per_transfer for lv in arch.levels], dtype=np.bool_),
                        np.array([float(lv.instances) for lv in arch.levels]), port_table(arch.levels))
    return _remember(_arch_cache, arch, arrays)


def _spatial_inputs(arch: Architecture, arr: Mapping[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    n, nl, nd = arr["T"].shape
    served = arch_arrays(arch).served
    s = arr.get("S")
    if s is None:
        s = np.ones((n, served.shape[1], nd))
    sx, sy = arr.get("SX"), arr.get("SY")
    if sx is None or sy is None:
        ones = np.ones((n, nl, nd))
        sx, sy = (ones if sx is None else sx), (ones if sy is None else sy)
    return sx, sy, s, served


def level_words(problem: LoopProblem, arch: Architecture) -> np.ndarray:
    """``(L, 3)``: words per element of each operand (``OPERANDS`` order) at each level, 0 where the
    level does not keep it; outputs below the top level are partial sums at ``psum_bits``."""
    words = np.zeros((len(arch.levels), len(OPERANDS)))
    for li, lv in enumerate(arch.levels):
        for k, op in enumerate(OPERANDS):
            if op in lv.keeps:
                words[li, k] = (problem.bits[op] if (op != "O" or li == 0) else problem.psum_bits) / lv.word_bits
    return words


def output_words(problem: LoopProblem, arch: Architecture) -> tuple[np.ndarray, np.ndarray]:
    """``(psum, final)``: words per output element at each level as a partial sum and as a final
    output (``final_outputs``: ZigZag's rule picks one per level, direction and mapping)."""
    psum = np.array([problem.psum_bits / lv.word_bits for lv in arch.levels])
    final = np.array([problem.bits["O"] / lv.word_bits for lv in arch.levels])
    return psum, final


def level_params(archs: Sequence[Architecture]) -> dict[str, np.ndarray]:
    """Per-design arrays: port bandwidths ``bw (n, P)`` and energies ``pj (n, P, 3)``, leakage,
    sizes, and the compute costs (architectures of one structure)."""
    table = arch_arrays(archs[0]).ports
    values = [table.values(a) for a in archs]
    lv = lambda attr, none=np.inf: np.array(  # noqa: E731
        [[none if getattr(x, attr) is None else float(getattr(x, attr)) for x in a.levels] for a in archs])
    return {
        "bw": np.stack([v[0] for v in values]), "pj": np.stack([v[1] for v in values]),
        "leak_pj": lv("leak_pj_per_cycle"), "size_words": lv("size_words"),
        "cycles_per_mac": np.array([a.compute.cycles_per_mac for a in archs]),
        "mac_pj": np.array([a.compute.energy_pj_per_mac for a in archs]),
        "clock_mhz": np.array([a.clock_mhz for a in archs]),
    }


def evaluate_arrays(problem: LoopProblem, arch: Architecture, arr: dict[str, np.ndarray],
                    archs: Sequence[Architecture] | None = None, problems: Sequence[LoopProblem] | None = None,
                    params: Mapping[str, np.ndarray] | None = None, rows: np.ndarray | None = None) -> dict[str, Any]:
    """Counts, latency and energy of a batch of mapping rows.

    Args:
        problem: the loop problem of every row, or (with ``problems``) of the first.
        arch: the architecture (structure and, without ``archs``/``params``, parameters).
        arr: mapping arrays (:func:`codesign.evaluators.cost.mapping.to_arrays` layout).
        archs: one architecture per row (one structure; per-design energies and bandwidths).
        problems: one loop problem per row, all of ``problem``'s structure (different sizes,
            strides, bits): the layers of a network in one call; or, with ``rows``, the distinct
            problems and ``rows`` the index of each row's problem.
        params: per-row parameter arrays as :func:`level_params` returns them (overrides ``archs``).
    """
    return count_arrays(problem, arch, arr, archs, problems, params, rows).finish()


@dataclass
class Counted:
    """A batch of mapping rows after the counts phase (:func:`count_arrays`): access counts,
    capacities, energy and Timeloop latency of every row. Under ``latency: zigzag`` the latency
    and the leakage that follows it still need :meth:`finish`; :meth:`lower_bounds` bounds both
    from below without it, so a search can skip rows that cannot win (ZigZag's latency is the
    computation phase plus stalls and on-/off-loading, never below the compute cycles)."""

    problems: list[LoopProblem]
    arch: Architecture
    arr: dict[str, np.ndarray]
    idx: np.ndarray
    params: Mapping[str, np.ndarray]
    aa: ArchArrays
    out: dict[str, np.ndarray]
    counts: np.ndarray
    trans: np.ndarray
    used: np.ndarray
    tile: np.ndarray
    capacity: np.ndarray
    titer: np.ndarray
    owords: np.ndarray
    row: dict[str, Any]

    @property
    def exact(self) -> bool:
        """True where the counts phase is the whole evaluation (``latency: timeloop``)."""
        return self.arch.latency != "zigzag"

    def capacity_over(self) -> np.ndarray:
        return self.capacity / self.params["size_words"] - 1.0

    def lower_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(energy_pj, cycles)`` of every row, each ≤ what :meth:`finish` gives (equal when
        :attr:`exact`): the compute cycles, and the energy with leakage over those cycles only."""
        if self.exact:
            return self.out["energy"], self.out["cycles"]
        leak = self.params["leak_pj"] * np.asarray(self.aa.instances)[None, :]
        return (self.out["energy"] + (leak * (self.out["compute"] - self.out["cycles"])[:, None]).sum(axis=1),
                self.out["compute"])

    def _latency(self, keep: np.ndarray | None) -> tuple[dict[str, np.ndarray] | None, np.ndarray | None]:
        """ZigZag's latency terms of rows ``keep`` (all rows: None) and the leakage energy per
        level they add to the counts phase's; ``(None, None)`` when :attr:`exact`."""
        if self.exact:
            return None, None
        distinct = self.problems
        pa = problem_arrays(distinct[0])
        st = _stacked(distinct, self.arch)
        row = {**self.row, "rel": pa.rel, "win": pa.win, "psum_bits": st["psum_bits"][self.idx],
               "bits": st["bits"][self.idx]}
        latency = latency_terms(distinct[0], self.arch, self.arr, row, self.params, self.aa, keep)
        extra = latency["cycles"] - (self.out["cycles"] if keep is None else self.out["cycles"][keep])
        leak = self.params["leak_pj"] if keep is None else self.params["leak_pj"][keep]
        return latency, leak * np.asarray(self.aa.instances)[None, :] * extra[:, None]

    def totals(self, keep: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """``energy_pj``, ``cycles`` and ``capacity_over`` of every row, or of rows ``keep`` only
        (what a mapper's score needs; the latency model runs for those rows only)."""
        pick = (lambda v: v) if keep is None else (lambda v: v[keep])  # noqa: E731
        latency, leak = self._latency(keep)
        energy, cycles = pick(self.out["energy"]), pick(self.out["cycles"])
        if latency is not None:
            energy, cycles = energy + leak.sum(axis=1), latency["cycles"]
        return {"energy_pj": energy, "cycles": cycles, "capacity_over": pick(self.capacity_over())}

    def finish(self, keep: np.ndarray | None = None) -> dict[str, Any]:
        """The full results (see :func:`evaluate_arrays`) of every row, or of rows ``keep`` only
        (in that order)."""
        if keep is not None:
            return self._rows(keep).finish()
        out = dict(self.out)
        latency, leak = self._latency(None)
        if latency is not None:
            out["e_level"] = out["e_level"] + leak
            out["energy"] = out["energy"] + leak.sum(axis=1)
            out["cycles"] = latency["cycles"]
        counts, trans = self.counts, self.trans
        names = [lv.name for lv in self.arch.levels]
        by_level = {"compute": out["e_compute"], **{name: out["e_level"][:, li] for li, name in enumerate(names)}}
        return {"cycles": out["cycles"], "compute_cycles": out["compute"], "energy_pj": out["energy"],
                "energy_pj_by_operand": out["e_op"], "energy_pj_by_level": by_level,
                "capacity_over": self.capacity_over(), "read_words": out["read_words"], "write_words": out["write_words"],
                "counts": {op: counts[:, k, :, :3] for k, op in enumerate(OPERANDS)},
                "drains": counts[:, 2, :, 3], "transfers": {op: trans[:, k, :, :3] for k, op in enumerate(OPERANDS)},
                "counts4": counts, "transfers4": trans, "output_words": self.owords, "used": self.used,
                "tile": self.tile, "capacity_used": self.capacity, "temporal_iters": self.titer, "latency_terms": latency}

    def _rows(self, keep: np.ndarray) -> Counted:
        n = len(self.titer)

        def cut(v: Any) -> Any:
            return v[keep] if isinstance(v, np.ndarray) and v.ndim and len(v) == n else v

        row = {k: cut(v) for k, v in self.row.items()}
        return Counted(self.problems, self.arch, {k: v[keep] for k, v in self.arr.items()}, self.idx[keep],
                       {k: cut(v) for k, v in self.params.items()}, self.aa, {k: v[keep] for k, v in self.out.items()},
                       self.counts[keep], self.trans[keep], self.used[keep], self.tile[keep], self.capacity[keep],
                       self.titer[keep], self.owords[keep], row)


_stacked_cache: dict[tuple[int, ...], tuple[tuple[Any, ...], dict[str, np.ndarray]]] = {}
_params_cache: dict[int, tuple[Architecture, dict[str, np.ndarray]]] = {}


def _stacked(distinct: Sequence[LoopProblem], arch: Architecture) -> dict[str, np.ndarray]:
    """Per-problem kernel inputs of ``distinct`` on ``arch``, one row per problem (cached for the
    objects: a mapping search scores the same problems round after round)."""
    key = tuple(id(p) for p in distinct) + (id(arch),)
    hit = _stacked_cache.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], (*distinct, arch))):
        return hit[1]
    pas = [problem_arrays(p) for p in distinct]
    if any(pa.key != pas[0].key for pa in pas):
        raise ConfigError("problems scored in one call must share one loop structure (dims and operand axes)")
    outs = [output_words(p, arch) for p in distinct]
    value = {"stride": np.stack([pa.stride for pa in pas]), "limit": np.stack([pa.limit for pa in pas]),
             "words": np.stack([level_words(p, arch) for p in distinct]), "wps": np.stack([o[0] for o in outs]),
             "wfin": np.stack([o[1] for o in outs]), "macs": np.array([pa.macs for pa in pas]),
             "bits": np.array([[p.bits["W"], p.bits["I"], p.bits["O"]] for p in distinct], dtype=np.float64),
             "psum_bits": np.array([float(p.psum_bits) for p in distinct])}
    if len(_stacked_cache) >= _CACHE_LIMIT:
        _stacked_cache.clear()
    _stacked_cache[key] = ((*distinct, arch), value)
    return value


def _own_params(arch: Architecture) -> dict[str, np.ndarray]:
    """:func:`level_params` of ``arch`` alone (cached per architecture object)."""
    hit = _params_cache.get(id(arch))
    if hit is not None and hit[0] is arch:
        return hit[1]
    return _remember(_params_cache, arch, level_params([arch]))


def count_arrays(problem: LoopProblem, arch: Architecture, arr: dict[str, np.ndarray],
                 archs: Sequence[Architecture] | None = None, problems: Sequence[LoopProblem] | None = None,
                 params: Mapping[str, np.ndarray] | None = None, rows: np.ndarray | None = None) -> Counted:
    """The counts phase of :func:`evaluate_arrays` (same arguments)."""
    t = np.ascontiguousarray(arr["T"], dtype=np.float64)
    n, nl, nd = t.shape
    aa = arch_arrays(arch)
    distinct = list(problems) if problems is not None else [problem]
    st = _stacked(distinct, arch)
    if rows is None and len(distinct) not in (1, n):
        raise ConfigError(f"problems must give one problem per mapping row ({n}), but got {len(distinct)}")
    idx = (np.zeros(n, dtype=np.int64) if len(distinct) == 1 else np.arange(n) if rows is None
           else np.asarray(rows, dtype=np.int64))
    stride, limit, words, wps, wfin, macs = (st[k][idx] for k in ("stride", "limit", "words", "wps", "wfin", "macs"))
    pa = problem_arrays(distinct[0])
    if params is None:
        params = level_params(archs) if archs is not None else {k: np.repeat(v, n, axis=0)
                                                                 for k, v in _own_params(arch).items()}
    sx, sy, s, served = _spatial_inputs(arch, arr)
    counts, trans = np.zeros((n, 3, nl, 4)), np.zeros((n, 3, nl, 4))
    used, tile = np.empty((n, nl + 1)), np.empty((n, nl + 1, nd))
    capacity, titer, owords = np.empty((n, nl)), np.empty(n), np.empty((n, nl, 4))
    export = arch.latency == "zigzag"  # per-period latency needs the loop sequence and footprints per row
    m = n if export else 1
    row = {"export": export, "seq_f": np.empty((m, nl * nd)), "seq_d": np.empty((m, nl * nd), dtype=np.int64),
           "seq_n": np.empty(m, dtype=np.int64), "seq_start": np.empty((m, nl + 1), dtype=np.int64),
           "low": np.empty((m, nl), dtype=np.bool_), "high": np.empty((m, nl), dtype=np.bool_),
           "fp_tile": np.zeros((n, 3, nl)), "fp_inside": np.zeros((m, 3, nl))}
    c = np.ascontiguousarray
    kernel.counts_rows(t, c(arr["rank"], dtype=np.float64), c(sx), c(sy), c(s), aa.keeps, served, aa.regs, pa.rel,
                       pa.win, pa.kind, pa.pdim, pa.rdim, c(stride), c(limit), c(words), aa.final_outputs, c(wps),
                       c(wfin), counts, trans, used, tile, capacity, titer, owords, *row.values())
    out = _cost(aa, counts, trans, used, titer, words, owords, params, macs)
    return Counted(distinct, arch, arr, idx, params, aa, out, counts, trans, used, tile, capacity, titer, owords, row)


def _cost(aa: ArchArrays, counts: np.ndarray, trans: np.ndarray, used: np.ndarray, titer: np.ndarray,
          words: np.ndarray, owords: np.ndarray, params: Mapping[str, np.ndarray], macs: np.ndarray) -> dict[str, np.ndarray]:
    n, _, nl, _ = counts.shape
    pt = aa.ports
    out = {k: np.empty(n) for k in ("compute", "cycles", "e_compute", "energy")}
    out.update({k: np.empty((n, nl)) for k in ("e_level", "read_words", "write_words")})
    out["e_op"] = np.empty((n, nl, 3))
    c = np.ascontiguousarray
    kernel.cost_rows(counts, trans, used, titer, c(words), owords, aa.rpt, aa.instances, pt.eport, pt.block, pt.bw_level,
                     pt.bw_op, pt.bw_dir, pt.bw_port, c(params["bw"], dtype=np.float64), c(params["pj"], dtype=np.float64),
                     c(params["leak_pj"], dtype=np.float64), c(params["cycles_per_mac"], dtype=np.float64),
                     c(params["mac_pj"], dtype=np.float64), c(macs, dtype=np.float64), out["compute"], out["cycles"],
                     out["e_level"], out["e_op"], out["e_compute"], out["energy"], out["read_words"],
                     out["write_words"])
    return out


def evaluate(problem: LoopProblem, arch: Architecture, mapping: Any) -> dict[str, Any]:
    """Score one mapping (a :class:`~codesign.evaluators.cost.mapping.Mapping`): plain floats and
    per-level / per-operand counts per instance (outputs also list their ``drains``)."""
    r = evaluate_arrays(problem, arch, to_arrays([mapping], problem, arch))
    per_level = {}
    for li, lv in enumerate(arch.levels):
        u = float(r["used"][0, li])
        counts = {op: dict(zip(ACTIONS, (float(x) / u for x in r["counts"][op][0, li]))) for op in lv.keeps}
        if "O" in counts and li > 0:
            counts["O"]["drains"] = float(r["drains"][0, li]) / u
        per_level[lv.name] = {
            "energy_pj": float(r["energy_pj_by_level"][lv.name][0]),
            "capacity_words": float(r["capacity_used"][0, li]),
            "energy_pj_by_operand": {op: float(r["energy_pj_by_operand"][0, li, k])
                                     for k, op in enumerate(OPERANDS) if op in lv.keeps},
            "counts_per_instance": counts,
        }
    out = {"cycles": float(r["cycles"][0]), "compute_cycles": float(r["compute_cycles"][0]),
           "energy_pj": float(r["energy_pj"][0]), "compute_energy_pj": float(r["energy_pj_by_level"]["compute"][0]),
           "levels": per_level, "macs": problem.macs}
    if r["latency_terms"] is not None:
        out["latency_terms"] = {k: float(v[0]) for k, v in r["latency_terms"].items()}
    return out


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
