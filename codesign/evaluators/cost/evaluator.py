"""``cost-model`` evaluator: the loop-nest cost model over a workload, per hardware design.

Reads the same hardware parameters as :mod:`codesign.evaluators.roofline` (``pe_type``,
``array_rows``, ``array_cols``, ``glb_kb``, ``pe_buf_bytes``, ``dram_gbps``, ``clock_mhz``) and
``w_bits.*`` / ``a_bits.*`` (8/8 where absent); builds the 3-level architecture of
:func:`codesign.evaluators.cost.arch.from_hw` and maps every layer:

- **nested** (default): a mapper (``heuristic``, ``qlearning``, ``exhaustive``) searches the
  mapping of each layer per hardware point (results cached per layer shape, bits, hardware);
- **flat**: when the design carries ``map.<layer>.dataflow|tile_m|tile_n|tile_k``, the layer's
  lowered GEMM ``(M, N, K)`` is mapped as given: DRAM loops over the tiles (order per
  dataflow: ws ``n,k,m``; os ``m,n,k``; is ``m,k,n``), the array unrolls the dataflow's two
  spatial dims (ws K↕ N↔, os M↕ N↔, is K↕ M↔) by the largest divisors that fit, the rest of
  the tile loops at the GLB, and the stationary dim's loop (ws M, os K, is N) at the PE buffer.

Data-dependent PE cycles: ``pe_cycles(layer, w_bits, a_bits, hw) -> cycles per MAC | None``
replaces the PE model's closed-form cycles of a layer (None keeps it), e.g.
:class:`codesign.evaluators.accuracy.pe_cycles.MeasuredPECycles` (a zero-bit-skipping PE on the
model's real quantized weights) or :class:`codesign.rtl_sim.latency.LatencyTable` (a fitted
measured latency table).

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
from typing import Any

import numpy as np

from codesign.evaluators.base import BaseEvaluator
from codesign.evaluators.cost import arch as arch_mod
from codesign.evaluators.cost.mapper import MAPPERS, find_mapping
from codesign.evaluators.cost.mapping import LevelLoops, Mapping, to_arrays
from codesign.evaluators.cost.model import evaluate_arrays
from codesign.evaluators.cost.problem import LoopProblem, from_layer
from codesign.errors import ConfigError
from codesign.evaluators.hardware import HW_PARAMS, hardware_arrays
from codesign.evaluators.params import ParamUse, bits_use, hardware_use, mapping_use
from codesign.spaces.builders import layer_bits, layer_mapping
from codesign.types import Design, Metrics
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


class CostModelEvaluator(BaseEvaluator):
    """Loop-nest cost model of a workload on the hardware of each design (see module docstring).

    Args:
        workload: layers to score.
        mapper: nested mapper name (``heuristic``, ``qlearning``, ``exhaustive``).
        objective: mapper objective (``edp``, ``cycles``, ``energy``).
        node: ``45nm`` or ``65nm`` tables.
        mapper_kwargs: passed to the mapper (e.g. ``samples``, ``episodes``).
        default_bits: ``(w_bits, a_bits)`` of layers the design gives no bits (and of attention
            matmuls).
        pe_cycles: optional per-layer cycles-per-MAC source for data-dependent PEs (module
            docstring); its ``key`` attribute, if any, joins the evaluator version.
    """

    name = "cost-model"
    version = "2"  # 2: bottom-up mapper candidates, unpadded conv inputs
    metrics = ("latency_cycles", "latency_ms", "energy_uj", "area_mm2", "throughput_gops")

    def __init__(self, workload: Workload, mapper: str = "heuristic", objective: str = "edp", node: str = "45nm",
                 mapper_kwargs: MappingABC[str, Any] | None = None, default_bits: tuple[int, int] = (8, 8),
                 pe_cycles: Callable[[Layer, int, int, MappingABC[str, Any]], float | None] | None = None) -> None:
        if mapper not in MAPPERS:
            raise ConfigError(f"mapper must be one of {MAPPERS}, but got {mapper!r}")
        self.workload, self.mapper, self.objective, self.node = workload, mapper, objective, node
        self.mapper_kwargs = dict(mapper_kwargs or {"samples": 600, "rounds": 2})
        self.default_bits = (int(default_bits[0]), int(default_bits[1]))
        self.cache_key = "" if self.default_bits == (8, 8) else f"default_bits={self.default_bits}"
        self.pe_cycles = pe_cycles
        if pe_cycles is not None:
            self.version = f"{type(self).version}+cycles:{getattr(pe_cycles, 'key', type(pe_cycles).__name__)}"
        self._cache: dict[Any, Mapping] = {}

    def param_use(self) -> ParamUse:
        """Hardware parameters (required), bits and flat mappings of the workload's layers (optional)."""
        bit_layers = [l for l in self.workload.layers if l.op != "attn"]
        return hardware_use(HW_PARAMS) | bits_use(bit_layers) | mapping_use(self.workload.layers)

    def evaluate(self, design: MappingABC[str, Any]) -> Metrics:
        return self.evaluate_many([design])[0]

    def _layer_problem(self, design: MappingABC[str, Any], layer: Layer) -> tuple[LoopProblem, int, int]:
        bits = None if layer.op == "attn" else layer_bits(design, layer)
        w, a = bits or self.default_bits
        if layer_mapping(design, layer) is not None:  # flat: the lowered GEMM view
            m, n, k = layer.gemm_shape
            layer = gemm(layer.name, m, n, k, count=layer.count * layer.gemm_batch)
        return from_layer(layer, w, a), w, a

    def _map(self, problem: LoopProblem, arch: arch_mod.Architecture, hw_key: tuple) -> Mapping:
        key = (tuple(problem.dims.items()), tuple(problem.bits.items()), hw_key, arch.compute.cycles_per_mac)
        if key not in self._cache:
            kw = dict(self.mapper_kwargs) if self.mapper != "exhaustive" else {}
            self._cache[key] = find_mapping(problem, arch, self.mapper, self.objective, **kw).mapping
        return self._cache[key]

    def evaluate_many(self, designs: Sequence[MappingABC[str, Any]]) -> list[Metrics]:
        """Score designs; the layers of a batch are scored in one vectorized call per layer."""
        if not designs:
            return []
        hardware_arrays(designs)  # validates the hardware params
        out = []
        per_layer: dict[str, list[dict[str, Any]]] = {}
        archs_by_design = []
        for d in designs:
            hw = {p: d[p] for p in HW_PARAMS}
            archs_by_design.append(hw)
        for layer in self.workload.layers:
            jobs = []
            for d, hw in zip(designs, archs_by_design):
                problem, w, a = self._layer_problem(d, layer)
                cpm = self.pe_cycles(layer, w, a, hw) if self.pe_cycles is not None else None
                arch = arch_mod.from_hw(hw, w, a, self.node, pe_cycles_per_mac=cpm)
                mp = layer_mapping(d, layer)
                mapping = (flat_mapping(mp, tuple(problem.dims.values()), int(hw["array_rows"]), int(hw["array_cols"]))
                           if mp is not None else self._map(problem, arch, tuple(sorted(hw.items()))))
                jobs.append((problem, arch, mapping))
            per_layer[layer.name] = self._score_layer(jobs)
        for i, d in enumerate(designs):
            out.append(self._metrics(i, per_layer, archs_by_design[i], designs[i]))
        return out

    def _score_layer(self, jobs: list[tuple[LoopProblem, arch_mod.Architecture, Mapping]]) -> list[dict[str, Any]]:
        groups: dict[Any, list[int]] = {}
        for i, (p, a, _) in enumerate(jobs):
            groups.setdefault((tuple(p.dims.items()), tuple(p.bits.items()), len(a.levels)), []).append(i)
        results: list[dict[str, Any]] = [{} for _ in jobs]
        for idx in groups.values():
            p, a0 = jobs[idx[0]][0], jobs[idx[0]][1]
            arr = to_arrays([jobs[i][2] for i in idx], p, a0)
            r = evaluate_arrays(p, a0, arr, archs=[jobs[i][1] for i in idx])
            for row, i in enumerate(idx):
                a = jobs[i][1]
                results[i] = {
                    "cycles": float(r["cycles"][row]) * p.count, "energy_pj": float(r["energy_pj"][row]) * p.count,
                    "macs": p.macs * p.count, "energy_pj_by_level": {k: float(v[row]) * p.count
                                                                      for k, v in r["energy_pj_by_level"].items()},
                    "capacity_over": {lv.name: float(r["capacity_over"][row, li]) for li, lv in enumerate(a.levels)},
                    "mapping": jobs[i][2].to_list(), "area_um2": a.area_um2(),
                }
        return results

    def _metrics(self, i: int, per_layer: dict[str, list[dict[str, Any]]], hw: MappingABC[str, Any],
                 design: MappingABC[str, Any]) -> Metrics:
        cycles = energy = macs = 0.0
        levels: dict[str, float] = {}
        layers, violations = {}, {}
        area: dict[str, float] = {}
        for name, results in per_layer.items():
            r = results[i]
            cycles += r["cycles"]
            energy += r["energy_pj"]
            macs += r["macs"]
            for k, v in r["energy_pj_by_level"].items():
                levels[k] = levels.get(k, 0.0) + v / 1e6
            for lv, over in r["capacity_over"].items():
                if over > 1e-9:
                    violations[f"capacity:{name}:{lv}"] = over
            layers[name] = {"latency_cycles": r["cycles"], "energy_uj": r["energy_pj"] / 1e6, "macs": r["macs"],
                            "energy_uj_by_level": {k: v / 1e6 for k, v in r["energy_pj_by_level"].items()},
                            "mapping": r["mapping"]}
            area = {k: max(area.get(k, 0.0), v) for k, v in r["area_um2"].items()}
        latency_s = cycles / (float(hw["clock_mhz"]) * 1e6)
        values = {"latency_cycles": cycles, "latency_ms": latency_s * 1e3, "energy_uj": energy / 1e6,
                  "area_mm2": sum(area.values()) / 1e6,
                  "throughput_gops": 2 * macs / latency_s / 1e9 if latency_s > 0 else 0.0}
        breakdown = {"layers": layers, "energy_uj_by_level": levels, "area_mm2_by_part": {k: v / 1e6 for k, v in area.items()},
                     "mapper": self.mapper}
        return Metrics(values, breakdown, violations)
