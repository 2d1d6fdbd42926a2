"""``cost-model`` evaluator: the loop-nest cost model over a workload, per hardware design.

Reads the hardware parameters of :data:`codesign.evaluators.hardware.HW_PARAMS` (``pe_type``,
``array_rows``, ``array_cols``, ``glb_kb``, ``pe_buf_bytes``, ``dram_gbps``, ``clock_mhz``) and
``w_bits.*`` / ``a_bits.*`` (8/8 where absent); builds the 3-level architecture of
:func:`codesign.evaluators.cost.arch.from_hw` and maps every layer:

- **nested** (default): a mapper (``heuristic``, ``qlearning``, ``exhaustive``) searches the
  mapping of each layer per hardware point;
- **flat**: when the design carries ``map.<layer>.dataflow|tile_m|tile_n|tile_k``, the layer's
  lowered GEMM ``(M, N, K)`` is mapped as given: DRAM loops over the tiles (order per
  dataflow: ws ``n,k,m``; os ``m,n,k``; is ``m,k,n``), the array unrolls the dataflow's two
  spatial dims (ws K↕ N↔, os M↕ N↔, is K↕ M↔) by the largest divisors that fit, the rest of
  the tile loops at the GLB, and the stationary dim's loop (ws M, os K, is N) at the PE buffer.

Data-dependent PE cycles: ``pe_cycles(layer, w_bits, a_bits, hw) -> cycles per MAC | None``
replaces the PE model's closed-form cycles of a layer (None keeps it), e.g.
:class:`codesign.evaluators.accuracy.pe_cycles.MeasuredPECycles` (a zero-bit-skipping PE on the
model's real quantized weights) or :class:`codesign.rtl_sim.latency.LatencyTable` (a fitted
measured latency table). The cycles join the architecture, mapping and score cache keys.

Caches (per evaluator instance): architectures per (hardware point, bits); loop problems per
(layer, bits, view); mappings and scored layer results per distinct (layer shape, bits,
hardware point) — a network's repeated identical layers are mapped and scored once, and a
design seen before costs only the assembly of its metrics. Uncached work is batched: the
heuristic mapper searches every distinct layer of one architecture together
(:func:`codesign.evaluators.cost.mapper.heuristic_many`), and the layers of all designs are
scored in one compiled call per loop structure (:func:`codesign.evaluators.cost.model.evaluate_arrays`
with one problem and one architecture per row).

Metrics: ``latency_cycles``, ``latency_ms``, ``energy_uj``, ``area_mm2``, ``throughput_gops``;
breakdowns per layer (cycles, energy per level, mapping) and per level; a tile that
overflows its buffer is the violation ``capacity:<layer>:<level>``. The nested mappers return
a fitting mapping whenever one of the canonical stationary mappings fits
(:mod:`codesign.evaluators.cost.canonical`); otherwise the least-overflowing one, reported
through that violation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from collections.abc import Mapping as MappingABC
from dataclasses import replace
from typing import Any

import numpy as np

from codesign.errors import ConfigError
from codesign.evaluators.base import BaseEvaluator
from codesign.evaluators.cost import arch as arch_mod
from codesign.evaluators.cost.mapper import MAPPERS, find_mapping, heuristic_many
from codesign.evaluators.cost.mapping import LevelLoops, Mapping, to_arrays
from codesign.evaluators.cost.model import evaluate_arrays, level_params, problem_arrays
from codesign.evaluators.cost.problem import LoopProblem, from_layer
from codesign.evaluators.hardware import HW_PARAMS, hardware_arrays, hardware_key
from codesign.evaluators.params import ParamUse, bits_use, hardware_use, mapping_use
from codesign.spaces.builders import layer_bits, layer_mapping
from codesign.types import Metrics
from codesign.workloads.layer import Layer, Workload, gemm

_ORDERS = {"ws": "NKM", "os": "MNK", "is": "MKN"}
_SPATIAL = {"ws": ("K", "N"), "os": ("M", "N"), "is": ("K", "M")}  # (rows / y, cols / x)
_STATIONARY = {"ws": "M", "os": "K", "is": "N"}


def _largest_divisor(n: int, cap: int) -> int:
    return max(d for d in range(1, min(n, cap) + 1) if n % d == 0)


def flat_mapping(mp: MappingABC[str, Any], shape: tuple[int, int, int], rows: int, cols: int) -> Mapping:
    """The mapping of a lowered GEMM for ``map.<layer>.*`` params (see the module docstring)."""
    df = mp["dataflow"]
    if df not in _ORDERS:
        raise ConfigError(f"dataflow must be one of {sorted(_ORDERS)}, but got {df!r}")
    size = dict(zip("MNK", shape))
    tile = {"M": mp["tile_m"], "N": mp["tile_n"], "K": mp["tile_k"]}
    dram = tuple((d, size[d] // tile[d]) for d in _ORDERS[df])
    sy_dim, sx_dim = _SPATIAL[df]
    sy, sx = _largest_divisor(tile[sy_dim], rows), _largest_divisor(tile[sx_dim], cols)
    rest = {d: tile[d] // (sy if d == sy_dim else 1) // (sx if d == sx_dim else 1) for d in "MNK"}
    st = _STATIONARY[df]
    glb = tuple((d, rest[d]) for d in _ORDERS[df] if d != st)
    return Mapping((LevelLoops("dram", dram), LevelLoops("glb", glb, ((sy_dim, sy, "y"), (sx_dim, sx, "x"))),
                    LevelLoops("pe_buf", ((st, rest[st]),))))


def problem_key(problem: LoopProblem) -> tuple[Any, ...]:
    """What a loop problem's mapping and cost depend on: structure, sizes, strides and input
    limits, bits (not its name or repetition count)."""
    pa = problem_arrays(problem)
    return (pa.key, tuple(problem.dims.values()), pa.stride.tobytes(), pa.limit.tobytes(),
            tuple(problem.bits.items()), problem.psum_bits)


class CostModelEvaluator(BaseEvaluator):
    """Loop-nest cost model of a workload on the hardware of each design (see module docstring).

    Args:
        workload: layers to score.
        mapper: nested mapper name (``heuristic``, ``qlearning``, ``exhaustive``).
        objective: mapper objective (``edp``, ``cycles``, ``energy``).
        node: ``45nm`` or ``65nm`` tables.
        mapper_kwargs: passed to the mapper (e.g. ``samples``, ``episodes``).
        latency: the architecture's latency model (``timeloop``, the default, or ``zigzag``).
        default_bits: ``(w_bits, a_bits)`` of layers the design gives no bits (and of attention
            matmuls).
        pe_cycles: optional per-layer cycles-per-MAC source for data-dependent PEs (module
            docstring); its ``key`` attribute, if any, joins the evaluator version.
    """

    name = "cost-model"
    version = "3"  # 3: compiled kernel (outputs' drains counted, unchanged results), batched mapper
    metrics = ("latency_cycles", "latency_ms", "energy_uj", "area_mm2", "throughput_gops")

    def __init__(self, workload: Workload, mapper: str = "heuristic", objective: str = "edp", node: str = "45nm",
                 mapper_kwargs: MappingABC[str, Any] | None = None, latency: str = "timeloop",
                 default_bits: tuple[int, int] = (8, 8),
                 pe_cycles: Callable[[Layer, int, int, MappingABC[str, Any]], float | None] | None = None) -> None:
        if mapper not in MAPPERS:
            raise ConfigError(f"mapper must be one of {MAPPERS}, but got {mapper!r}")
        if latency not in arch_mod.LATENCY_MODELS:
            raise ConfigError(f"latency must be one of {arch_mod.LATENCY_MODELS}, but got {latency!r}")
        self.workload, self.mapper, self.objective, self.node = workload, mapper, objective, node
        self.latency = latency
        self.mapper_kwargs = dict(mapper_kwargs or {"samples": 600, "rounds": 2})
        self.default_bits = (int(default_bits[0]), int(default_bits[1]))
        self.cache_key = "" if self.default_bits == (8, 8) else f"default_bits={self.default_bits}"
        self.pe_cycles = pe_cycles
        if pe_cycles is not None:
            self.version = f"{type(self).version}+cycles:{getattr(pe_cycles, 'key', type(pe_cycles).__name__)}"
        self._archs: dict[Any, arch_mod.Architecture] = {}
        self._problems: dict[Any, tuple[LoopProblem, Any]] = {}
        self._maps: dict[Any, Mapping] = {}
        self._scores: dict[Any, dict[str, Any]] = {}

    def param_use(self) -> ParamUse:
        """Hardware parameters (required), bits and flat mappings of the workload's layers (optional)."""
        bit_layers = [l for l in self.workload.layers if l.op != "attn"]
        return hardware_use(HW_PARAMS) | bits_use(bit_layers) | mapping_use(self.workload.layers)

    def evaluate(self, design: MappingABC[str, Any]) -> Metrics:
        return self.evaluate_many([design])[0]

    # --- caches ---------------------------------------------------------------------------
    def _arch(self, hw: tuple[tuple[str, Any], ...], w: int, a: int, cpm: float | None = None) -> arch_mod.Architecture:
        key = (hw, w, a, cpm)
        if key not in self._archs:
            arch = arch_mod.from_hw(dict(hw), w, a, self.node, pe_cycles_per_mac=cpm)
            self._archs[key] = arch if self.latency == "timeloop" else replace(arch, latency=self.latency)
        return self._archs[key]

    def _problem(self, layer: Layer, w: int, a: int, flat: bool) -> tuple[LoopProblem, Any]:
        key = (layer.name, w, a, flat)
        if key not in self._problems:
            if flat:  # the lowered GEMM view
                m, n, k = layer.gemm_shape
                layer = gemm(layer.name, m, n, k, count=layer.count * layer.gemm_batch)
            problem = from_layer(layer, w, a)
            self._problems[key] = (problem, problem_key(problem))
        return self._problems[key]

    def _map_all(self, jobs: list[tuple[Any, LoopProblem, arch_mod.Architecture]]) -> None:
        """Search the mappings of uncached (problem, architecture) jobs, batched per architecture."""
        by_arch: dict[int, tuple[arch_mod.Architecture, dict[Any, LoopProblem]]] = {}
        for key, problem, arch in jobs:
            if key not in self._maps:
                by_arch.setdefault(id(arch), (arch, {}))[1].setdefault(key, problem)
        for arch, todo in by_arch.values():
            keys, problems = list(todo), list(todo.values())
            if self.mapper == "heuristic":
                found = heuristic_many(problems, arch, self.objective, **self.mapper_kwargs)
            else:
                kw = dict(self.mapper_kwargs) if self.mapper != "exhaustive" else {}
                found = [find_mapping(p, arch, self.mapper, self.objective, **kw) for p in problems]
            for key, r in zip(keys, found):
                self._maps[key] = r.mapping

    def _score_all(self, jobs: list[tuple[Any, LoopProblem, arch_mod.Architecture, Mapping]]) -> None:
        """Score uncached layer jobs: one kernel call per loop structure and architecture structure."""
        groups: dict[Any, list[tuple[Any, LoopProblem, arch_mod.Architecture, Mapping]]] = {}
        seen = set()
        for job in jobs:
            if job[0] in self._scores or job[0] in seen:
                continue
            seen.add(job[0])
            groups.setdefault((problem_arrays(job[1]).key, len(job[2].levels)), []).append(job)
        for group in groups.values():
            problems = [j[1] for j in group]
            archs = [j[2] for j in group]
            arrays = [to_arrays([j[3]], j[1], j[2]) for j in group]
            arr = {k: np.concatenate([a[k] for a in arrays]) for k in arrays[0]}
            r = evaluate_arrays(problems[0], archs[0], arr, problems=problems, params=level_params(archs))
            for row, (key, p, a, mapping) in enumerate(group):
                self._scores[key] = {
                    "cycles": float(r["cycles"][row]), "energy_pj": float(r["energy_pj"][row]), "macs": p.macs,
                    "energy_pj_by_level": {k: float(v[row]) for k, v in r["energy_pj_by_level"].items()},
                    "over": {lv.name: float(r["capacity_over"][row, li]) for li, lv in enumerate(a.levels)
                             if r["capacity_over"][row, li] > 1e-9},
                    "mapping": mapping.to_list(), "area_um2": a.area_um2(),
                }

    # --- evaluation -----------------------------------------------------------------------
    def _layer_bits(self, design: MappingABC[str, Any], layer: Layer,
                    hw: tuple[tuple[str, Any], ...]) -> tuple[int, int, float | None]:
        """``(w_bits, a_bits, measured cycles per MAC or None)`` of ``layer`` in ``design``."""
        bits = None if layer.op == "attn" else layer_bits(design, layer)
        w, a = bits or self.default_bits
        cpm = self.pe_cycles(layer, w, a, dict(hw)) if self.pe_cycles is not None else None
        return w, a, (None if cpm is None else float(cpm))

    def evaluate_many(self, designs: Sequence[MappingABC[str, Any]]) -> list[Metrics]:
        """Score designs: cached layers are looked up, the rest mapped and scored in batches."""
        if not designs:
            return []
        hardware_arrays(designs)  # validates the hardware params
        plans = []  # per design: (hw, [(layer, score key, count)])
        to_map: list[tuple[Any, LoopProblem, arch_mod.Architecture]] = []
        to_score: list[tuple[Any, LoopProblem, arch_mod.Architecture, Mapping | None]] = []
        for d in designs:
            hw = hardware_key(d)
            layers = []
            for layer in self.workload.layers:
                w, a, cpm = self._layer_bits(d, layer, hw)
                mp = layer_mapping(d, layer)
                problem, pkey = self._problem(layer, w, a, mp is not None)
                if mp is None:
                    key = (pkey, hw, cpm)
                    if key not in self._scores:
                        arch = self._arch(hw, w, a, cpm)
                        to_map.append((key, problem, arch))
                        to_score.append((key, problem, arch, None))
                else:
                    key = (pkey, hw, cpm, tuple(sorted(mp.items())))
                    if key not in self._scores:
                        fm = flat_mapping(mp, tuple(problem.dims.values()), int(d["array_rows"]), int(d["array_cols"]))
                        to_score.append((key, problem, self._arch(hw, w, a, cpm), fm))
                layers.append((layer.name, key, problem.count))
            plans.append((d, layers))
        if to_map:
            self._map_all(to_map)
        if to_score:
            self._score_all([(k, p, a, m if m is not None else self._maps[k]) for k, p, a, m in to_score])
        return [self._metrics(d, layers) for d, layers in plans]

    def layer_jobs(self, design: MappingABC[str, Any]) -> list[tuple[str, LoopProblem, arch_mod.Architecture, Mapping]]:
        """``(layer, loop problem, architecture, mapping)`` of every layer of ``design`` as this
        evaluator scores it (mapping searched or built as :meth:`evaluate` would)."""
        self.evaluate(design)
        hw, out = hardware_key(design), []
        for layer in self.workload.layers:
            w, a, cpm = self._layer_bits(design, layer, hw)
            mp = layer_mapping(design, layer)
            problem, pkey = self._problem(layer, w, a, mp is not None)
            mapping = self._maps[(pkey, hw, cpm)] if mp is None else flat_mapping(
                mp, tuple(problem.dims.values()), int(design["array_rows"]), int(design["array_cols"]))
            out.append((layer.name, problem, self._arch(hw, w, a, cpm), mapping))
        return out

    def _metrics(self, design: MappingABC[str, Any], layers: list[tuple[str, Any, int]]) -> Metrics:
        cycles = energy = macs = 0.0
        levels: dict[str, float] = {}
        per_layer, violations = {}, {}
        area: dict[str, float] = {}
        for name, key, count in layers:
            r = self._scores[key]
            c, e, m = r["cycles"] * count, r["energy_pj"] * count, r["macs"] * count
            cycles += c
            energy += e
            macs += m
            by_level = {k: v * count / 1e6 for k, v in r["energy_pj_by_level"].items()}
            for k, v in by_level.items():
                levels[k] = levels.get(k, 0.0) + v
            for lv, over in r["over"].items():
                violations[f"capacity:{name}:{lv}"] = over
            per_layer[name] = {"latency_cycles": c, "energy_uj": e / 1e6, "macs": m, "energy_uj_by_level": by_level,
                               "mapping": r["mapping"]}
            for k, v in r["area_um2"].items():
                if v > area.get(k, -1.0):
                    area[k] = v
        latency_s = cycles / (float(design["clock_mhz"]) * 1e6)
        values = {"latency_cycles": cycles, "latency_ms": latency_s * 1e3, "energy_uj": energy / 1e6,
                  "area_mm2": sum(area.values()) / 1e6,
                  "throughput_gops": 2 * macs / latency_s / 1e9 if latency_s > 0 else 0.0}
        breakdown = {"layers": per_layer, "energy_uj_by_level": levels, "area_mm2_by_part": {k: v / 1e6 for k, v in area.items()},
                     "mapper": self.mapper}
        return Metrics(values, breakdown, violations)


__all__ = ["CostModelEvaluator", "HW_PARAMS", "flat_mapping", "problem_key"]
