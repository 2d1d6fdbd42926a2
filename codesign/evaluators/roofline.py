"""Roofline accelerator model: per layer ``max(compute, memory)`` cycles, energy and area.

Hardware parameters read from a design (see :func:`codesign.spaces.builders.hardware_space`):
``pe_type, array_rows (R), array_cols (C), glb_kb, pe_buf_bytes, dram_gbps, clock_mhz``.
Bits per layer come from :func:`layer_bits`; layers without bits (skipped / first / last)
and attention matmuls (activation × activation) run at 8/8 bits (``DEFAULT_BITS``).

Each layer is lowered to ``gemm_batch`` GEMMs ``Y[M,N] = X[M,K]·W[K,N]`` (conv by im2col).
Operand bytes: ``W = B·K·N·w/8`` (second operand; ``a`` bits when it is an activation),
``I = input_elems·a/8`` (with the conv halo; ``heads·M·K`` for attention),
``O = output_elems·a/8`` (outputs re-quantized to the layer's activation precision),
partial sums at ``PSUM_BITS = 32`` (the 8x8 accumulator width).

Mapping. Without ``map.<layer>.*`` params: weight-stationary, one GLB tile (the whole GEMM).
With them (dataflow ∈ ws/os/is, tiles t_m | M, t_n | N, t_k | K; GLB loop order: ws = n,k
outer / m inner, os = m,n / k, is = m,k / n; n_x = X/t_x tiles):

- spatial per tile: ws ``ceil(t_k/R)·ceil(t_n/C)·t_m``; os ``ceil(t_m/R)·ceil(t_n/C)·t_k``;
  is ``ceil(t_k/R)·ceil(t_m/C)·t_n``; ``compute = B·n_m·n_n·n_k·spatial·cycles_per_mac(w,a)``
  (systolic fill/drain ignored).
- DRAM bytes: if ``W + I + O <= GLB`` everything is fetched once. Otherwise, without a
  mapping, one operand is kept resident in chunks of half the GLB and the other re-streamed
  per chunk: ``min(W + ceil(W/(G/2))·I, I + ceil(I/(G/2))·W) + O``. With a mapping:
  ``W·(n_m if os/is) + I·(n_n if ws/os) + O + 2·(n_k−1)·psums (if ws/is)``, and a tile
  footprint ``t_m·t_k·a/8 + t_k·t_n·w/8 + t_m·t_n·4`` above the GLB is the violation
  ``glb_capacity:<layer>`` (value: footprint/capacity − 1).
- GLB accesses (per tile, × tiles): W reads ``t_k·t_n·w/8`` (× ``ceil(t_m/R)`` os,
  ``ceil(t_m/C)`` is); X reads ``t_m·t_k·a/8`` (× ``ceil(t_n/C)`` ws/os; im2col-lowered);
  psum writes ``M·N·4·f_k`` and reads ``M·N·4·(f_k−1)`` with ``f_k = n_k·ceil(t_k/R)``
  (ws/is) or 1 (os); plus DRAM fills (writes) and output write-back (reads).
  GLB bandwidth is assumed sufficient.

Latency: ``Σ_layers count · max(compute, dram_bytes / (dram_gbps·1e3 / clock_mhz))``.
Energy (pJ): ``MACs·E_mac(w,a) + X_reads·E_pre(a)`` (pe) ``+ MACs·buf_bits·E_rf`` (pe_buf)
``+ GLB reads·E_r + writes·E_w`` (glb) ``+ DRAM bytes·E_dram`` (dram); tables in
:mod:`codesign.evaluators.cost.tables`. Area: ``R·C·(A_pe + pe_buf_bytes·A_sram/KiB) +
glb_kb·A_sram/KiB``. A PE-local buffer below the PE's minimal state is the violation
``pe_buf_capacity:<layer>`` (value: needed/available − 1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from codesign.errors import SpaceError
from codesign.evaluators.base import BaseEvaluator
from codesign.evaluators.cost import tables
from codesign.evaluators.hardware import HW_PARAMS, hardware_arrays  # noqa: F401  (HW_PARAMS re-exported)
from codesign.evaluators.params import ParamUse, bits_use, hardware_use, mapping_use
from codesign.rtl_sim.characterize import PEModel, acc_bits, check_bits, get_pe
from codesign.spaces.builders import DATAFLOWS, layer_bits, layer_mapping
from codesign.types import Design, Metrics
from codesign.workloads.layer import Layer, Workload

DEFAULT_BITS = (8, 8)
PSUM_BITS = int(acc_bits())  # 32
BYTES_PER_KB = 1024
PJ_PER_UJ = 1e6
UM2_PER_MM2 = 1e6
ENERGY_PARTS = ("pe", "glb", "dram", "pe_buf")


def _ceil(x: Any, y: Any) -> Any:
    return np.ceil(np.asarray(x, dtype=float) / y)


class RooflineEvaluator(BaseEvaluator):
    """Per-layer max(compute, memory) model of a PE array with a global buffer and DRAM.

    Args:
        workload: the workload whose layers are scored.
        node: technology node of the energy/area tables (only ``"45nm"``).
        dram_bound: ``"low"`` (1.3 nJ / 64 b, default) or ``"high"`` (2.6 nJ) Horowitz DRAM.

    See the module docstring for the equations.
    """

    name = "roofline"
    # 2: the area model from the project's RTL (7783b67) changed area_mm2 under version 1, so
    # metrics and objective bounds cached under "roofline@1" before it are stale
    version = "2"
    metrics = ("latency_cycles", "latency_ms", "energy_uj", "area_mm2", "throughput_gops", "dram_bytes")

    def __init__(self, workload: Workload, node: str = "45nm", dram_bound: str = "low") -> None:
        self.workload = workload
        self.node = tables.check_node(node)
        self.dram_pj_per_byte = tables.dram_pj_per_byte(dram_bound)
        self.rf_pj_per_bit = tables.rf_pj_per_bit()
        self.sram_um2_per_kb = tables.sram_area_um2_per_kb()
        self._pes: dict[str, PEModel] = {}

    def param_use(self) -> ParamUse:
        """Hardware parameters (required), bits and mappings of the workload's layers (optional)."""
        bit_layers = [l for l in self.workload.layers if l.op != "attn"]
        return hardware_use(HW_PARAMS) | bits_use(bit_layers) | mapping_use(self.workload.layers)

    def evaluate(self, design: Mapping[str, Any]) -> Metrics:
        return self.evaluate_many([design])[0]

    def evaluate_many(self, designs: Sequence[Mapping[str, Any]]) -> list[Metrics]:
        """Score designs, vectorized with NumPy across designs (one pass per layer)."""
        if not designs:
            return []
        hw = hardware_arrays(designs)
        layers = {l.name: self._layer(l, designs, hw) for l in self.workload.layers}
        area = self._area(hw)
        return [self._metrics(i, layers, area, hw) for i in range(len(designs))]

    # --- per-layer model -------------------------------------------------------------------
    def _pe(self, name: str) -> PEModel:
        if name not in self._pes:  # on demand: PE types registered after construction work too
            self._pes[name] = get_pe(name)
        return self._pes[name]

    def _pe_call(self, hw: dict[str, np.ndarray], attr: str, *args: np.ndarray) -> np.ndarray:
        """Evaluate PE model ``attr`` per design with each design's PE type."""
        out = np.zeros(len(hw["pe_type"]))
        for name in set(hw["pe_type"]):
            mask = hw["pe_type"] == name
            out[mask] = getattr(self._pe(name), attr)(*(a[mask] for a in args))
        return out

    def _layer(self, layer: Layer, designs: Sequence[Mapping[str, Any]], hw: dict[str, np.ndarray]) -> dict[str, Any]:
        n_designs = len(designs)
        bits = [None if layer.op == "attn" else layer_bits(d, layer) for d in designs]
        w = np.array([(b or DEFAULT_BITS)[0] for b in bits], dtype=np.int64)
        a = np.array([(b or DEFAULT_BITS)[1] for b in bits], dtype=np.int64)
        check_bits(w, a)
        m, n, k = (float(x) for x in layer.gemm_shape)
        batch = float(layer.gemm_batch)
        maps = [layer_mapping(d, layer) for d in designs]
        mapped = np.array([mp is not None for mp in maps])
        df = np.array([DATAFLOWS.index(mp["dataflow"]) if mp else 0 for mp in maps])
        if any(mp is not None and mp["dataflow"] not in DATAFLOWS for mp in maps):
            raise SpaceError(f"{layer.name}: dataflow must be one of {DATAFLOWS}")
        tm = np.array([mp["tile_m"] if mp else m for mp in maps], dtype=float)
        tn = np.array([mp["tile_n"] if mp else n for mp in maps], dtype=float)
        tk = np.array([mp["tile_k"] if mp else k for mp in maps], dtype=float)
        for dim, tile, size in (("tile_m", tm, m), ("tile_n", tn, n), ("tile_k", tk, k)):
            if np.any((tile < 1) | (np.mod(size, tile) != 0)):
                raise SpaceError(f"{layer.name}: {dim} must divide {int(size)}, but got {tile[np.mod(size, tile) != 0][0]:g}")
        rows, cols, glb_bytes = hw["array_rows"], hw["array_cols"], hw["glb_kb"] * BYTES_PER_KB
        nm, nn, nk = m / tm, n / tn, k / tk
        tiles = batch * nm * nn * nk
        ws, os_, is_ = df == 0, df == 1, df == 2

        cpm = self._pe_call(hw, "cycles_per_mac", w, a)
        spatial = np.select(
            [ws, os_, is_],
            [_ceil(tk, rows) * _ceil(tn, cols) * tm, _ceil(tm, rows) * _ceil(tn, cols) * tk,
             _ceil(tk, rows) * _ceil(tm, cols) * tn])
        compute = tiles * spatial * cpm

        w_bits_op = w if layer.weights is not None else a
        wb, ab, pb = w_bits_op / 8.0, a / 8.0, PSUM_BITS / 8.0
        first_elems = layer.heads * m * k if layer.op == "attn" else float(layer.input_elems)
        w_bytes, i_bytes = batch * k * n * wb, first_elems * ab
        o_bytes, psum_bytes = layer.output_elems * ab, batch * m * n * pb
        compulsory = w_bytes + i_bytes + o_bytes
        half = glb_bytes / 2
        chunked = np.minimum(w_bytes + _ceil(w_bytes, half) * i_bytes, i_bytes + _ceil(i_bytes, half) * w_bytes) + o_bytes
        tiled = (w_bytes * np.where(ws, 1.0, nm) + i_bytes * np.where(is_, 1.0, nn) + o_bytes
                 + 2 * (nk - 1) * psum_bytes * np.where(os_, 0.0, 1.0))
        fits = compulsory <= glb_bytes
        dram = np.where(fits, compulsory, np.where(mapped, tiled, chunked))
        footprint = tm * tk * ab + tk * tn * wb + tm * tn * pb
        glb_over = np.where(mapped, footprint / glb_bytes - 1.0, 0.0)

        w_reads = tiles * tk * tn * wb * np.select([ws, os_, is_], [1.0, _ceil(tm, rows), _ceil(tm, cols)])
        x_elems = tiles * tm * tk * np.where(is_, 1.0, _ceil(tn, cols))
        f_k = np.where(os_, 1.0, nk * _ceil(tk, rows))
        glb_read = w_reads + x_elems * ab + psum_bytes * (f_k - 1) + o_bytes
        glb_write = psum_bytes * f_k + (dram - o_bytes)
        memory = dram / (hw["dram_gbps"] * 1e3 / hw["clock_mhz"])  # GB/s / MHz = 1e3 B/cycle

        macs = float(layer.macs)
        count = float(layer.count)
        energy_pj = {
            "pe": macs * self._pe_call(hw, "energy_pj_per_mac", w, a)
            + x_elems * self._pe_call(hw, "preprocess_pj_per_act", a),
            "glb": glb_read * tables.sram_read_pj_per_byte(hw["glb_kb"])
            + glb_write * tables.sram_write_pj_per_byte(hw["glb_kb"]),
            "dram": dram * self.dram_pj_per_byte,
            "pe_buf": macs * self._pe_call(hw, "buf_bits_per_mac", w, a) * self.rf_pj_per_bit,
        }
        need = self._pe_call(hw, "local_buffer_bytes_needed", w, a)
        return {
            "w_bits": w, "a_bits": a, "macs": np.full(n_designs, macs * count), "count": layer.count,
            "compute_cycles": compute * count, "memory_cycles": memory * count,
            "latency_cycles": np.maximum(compute, memory) * count, "dram_bytes": dram * count,
            "energy_uj": {p: e * count / PJ_PER_UJ for p, e in energy_pj.items()},
            "pe_buf_over": need / hw["pe_buf_bytes"] - 1.0, "glb_over": glb_over,
        }

    def _area(self, hw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        pes = hw["array_rows"] * hw["array_cols"]
        pe_um2 = np.array([self._pe(t).area_um2() for t in hw["pe_type"]])
        return {
            "pe_array": pes * pe_um2 / UM2_PER_MM2,
            "glb": hw["glb_kb"] * self.sram_um2_per_kb / UM2_PER_MM2,
            "pe_buf": pes * hw["pe_buf_bytes"] / BYTES_PER_KB * self.sram_um2_per_kb / UM2_PER_MM2,
        }

    # --- assembling Metrics ----------------------------------------------------------------
    def _metrics(self, i: int, layers: dict[str, dict[str, Any]], area: dict[str, np.ndarray],
                 hw: dict[str, np.ndarray]) -> Metrics:
        per_layer: dict[str, Any] = {}
        violations: dict[str, float] = {}
        energy = dict.fromkeys(ENERGY_PARTS, 0.0)
        cycles = macs = dram = 0.0
        for name, lay in layers.items():
            compute, memory = float(lay["compute_cycles"][i]), float(lay["memory_cycles"][i])
            e = {p: float(lay["energy_uj"][p][i]) for p in ENERGY_PARTS}
            per_layer[name] = {
                "w_bits": int(lay["w_bits"][i]), "a_bits": int(lay["a_bits"][i]), "count": lay["count"],
                "macs": float(lay["macs"][i]), "compute_cycles": compute, "memory_cycles": memory,
                "latency_cycles": float(lay["latency_cycles"][i]),
                "bound": "compute" if compute >= memory else "memory",
                "dram_bytes": float(lay["dram_bytes"][i]), "energy_uj": e,
            }
            for part in ENERGY_PARTS:
                energy[part] += e[part]
            cycles += per_layer[name]["latency_cycles"]
            macs += per_layer[name]["macs"]
            dram += per_layer[name]["dram_bytes"]
            if lay["pe_buf_over"][i] > 0:
                violations[f"pe_buf_capacity:{name}"] = float(lay["pe_buf_over"][i])
            if lay["glb_over"][i] > 0:
                violations[f"glb_capacity:{name}"] = float(lay["glb_over"][i])
        latency_s = cycles / (float(hw["clock_mhz"][i]) * 1e6)
        area_parts = {p: float(v[i]) for p, v in area.items()}
        values = {
            "latency_cycles": cycles,
            "latency_ms": latency_s * 1e3,
            "energy_uj": sum(energy.values()),
            "area_mm2": sum(area_parts.values()),
            "throughput_gops": 2 * macs / latency_s / 1e9 if latency_s > 0 else 0.0,
            "dram_bytes": dram,
        }
        breakdown = {"layers": per_layer, "area_mm2": area_parts, "energy_uj": energy,
                     "pe_type": str(hw["pe_type"][i])}
        return Metrics(values, breakdown, violations)
