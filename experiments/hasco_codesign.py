"""HASCO: hardware/mapping co-design vs. separate design at equal area, on a CNN and a transformer.

HASCO (Xiao et al., ISCA 2021) reports 1.25–1.44× lower latency for co-design than for the
separate flow in which the hardware is fixed first and the software mapping optimized after.
We replay both flows with the Timeloop-style cost model (:mod:`codesign.evaluators.cost`) over
one grid of accelerators (bit-parallel INT8 PE array rows × cols, global buffer, PE buffer;
DRAM 25.6 GB/s, 1 GHz), at each of several area budgets:

- **separate**: (1) choose the hardware with the lowest latency under a fixed *default
  mapping* — weight-stationary, the array unrolls ``K`` (rows) and ``N`` (cols) by the largest
  divisors that fit, and each weight stays in the PE buffer for the largest divisor of ``M``
  whose tiles fit the PE buffer and the global buffer (the evaluator's flat ``map.*`` path);
  (2) on that hardware, search every layer's mapping with the cost model's mapper;
- **co-design**: every hardware point of the grid is scored with the mapper inside
  (:class:`~codesign.evaluators.cost.evaluator.CostModelEvaluator`, nested heuristic mapper)
  and the best one within the area budget is taken — the exact optimum of the nested
  formulation over the grid (a search agent such as ``hasco`` can at best match it).

Workloads: ResNet-18 (ImageNet, batch 1) and Llama-2-7B decoder blocks (prefill of 256 tokens,
every linear and attention matmul, plus the LM head). Latency gain = separate / co-design
latency; energy gain likewise, for the designs each flow picks.
"""

from __future__ import annotations

import itertools
import sys
from typing import Any

import numpy as np

from _common import Experiment

BASE_HW = {"pe_type": "bit_parallel", "dram_gbps": 25.6, "clock_mhz": 1000}
HASCO_RANGE = (1.25, 1.44)


def hw_grid(smoke: bool) -> list[dict[str, Any]]:
    dims = (8, 16) if smoke else (8, 16, 32, 64)
    glb = (64, 256) if smoke else (32, 128, 512)
    buf = (32, 128) if smoke else (16, 64, 256)
    return [{**BASE_HW, "array_rows": r, "array_cols": c, "glb_kb": g, "pe_buf_bytes": b}
            for r, c, g, b in itertools.product(dims, dims, glb, buf)]


def workloads(smoke: bool) -> list[Any]:
    from codesign.workloads.layer import Workload
    from codesign.workloads.zoo import llama2_7b, resnet18

    cnn, llm = resnet18(batch=1), llama2_7b(tokens=16 if smoke else 256)
    if smoke:  # a few representative layers
        cnn = Workload("resnet18-3layers", [cnn.layers[i] for i in (0, 5, 12)])
        llm = Workload("llama2-7b-3layers", [l for l in llm.layers if l.name.endswith(("q_proj", "qk", "down_proj"))])
    return [cnn, llm]


def _divisors_desc(n: int) -> list[int]:
    return [d for d in range(n, 0, -1) if n % d == 0]


def default_mapped(workload, grid: list[dict[str, Any]]) -> list[Any]:
    """Metrics of every hardware point under the default mapping (see the module docstring)."""
    from codesign.evaluators.cost.evaluator import CostModelEvaluator

    ev = CostModelEvaluator(workload)
    out = []
    for hw in grid:
        cands = {}
        for layer in workload.layers:
            m, n, k = layer.gemm_shape
            tk = max(d for d in _divisors_desc(k) if d <= hw["array_rows"])
            tn = max(d for d in _divisors_desc(n) if d <= hw["array_cols"])
            cands[layer.name] = [(tm, tn, tk) for tm in _divisors_desc(m)]
        depth = max(len(c) for c in cands.values())
        designs = []
        for j in range(depth):  # design j gives every layer its j-th largest tile_m
            d = dict(hw)
            for name, c in cands.items():
                tm, tn, tk = c[min(j, len(c) - 1)]
                d.update({f"map.{name}.dataflow": "ws", f"map.{name}.tile_m": tm, f"map.{name}.tile_n": tn,
                          f"map.{name}.tile_k": tk})
            designs.append(d)
        metrics = ev.evaluate_many(designs)
        final = dict(hw)
        for name in cands:  # per layer the largest tile_m that fits every buffer
            j = next((j for j, m in enumerate(metrics)
                      if not any(v.startswith(f"capacity:{name}:") for v in m.violations)), len(metrics) - 1)
            for key in ("dataflow", "tile_m", "tile_n", "tile_k"):
                final[f"map.{name}.{key}"] = designs[j][f"map.{name}.{key}"]
        out.append(ev.evaluate(final))
    return out


def pick(indices: list[int], metrics: list[Any]) -> int:
    """The feasible point of lowest latency (then energy) among ``indices``."""
    ok = [i for i in indices if metrics[i].feasible] or indices
    return min(ok, key=lambda i: (metrics[i].values["latency_ms"], metrics[i].values["energy_uj"]))


def label(hw: dict[str, Any]) -> str:
    return f"{hw['array_rows']}×{hw['array_cols']}, {hw['glb_kb']} KiB, {hw['pe_buf_bytes']} B"


def main(argv: list[str] | None = None) -> int:
    from codesign.evaluators.cost.evaluator import CostModelEvaluator

    exp = Experiment("hasco_codesign", __doc__, argv)
    grid = hw_grid(exp.smoke)
    mapper_kwargs = {"samples": 200, "rounds": 1} if exp.smoke else {"samples": 600, "rounds": 2}
    rows, plot, infeasible = [], [], []
    for wl in workloads(exp.smoke):
        nested = CostModelEvaluator(wl, mapper="heuristic", mapper_kwargs=mapper_kwargs)
        default = default_mapped(wl, grid)
        exp.log(f"{wl.name}: default mapping scored on {len(grid)} hardware points")
        mapped = nested.evaluate_many(grid)
        exp.log(f"{wl.name}: nested mapper scored on {len(grid)} hardware points")
        infeasible.append(f"{wl.name}: {sum(not m.feasible for m in mapped)}/{len(grid)}")
        areas = np.array([m.values["area_mm2"] for m in mapped])
        budgets = sorted({float(np.quantile(areas, q)) for q in ((0.5, 1.0) if exp.smoke else (0.25, 0.5, 1.0))})
        for budget in budgets:
            inside = [i for i in range(len(grid)) if areas[i] <= budget + 1e-12]
            s = pick(inside, default)  # separate: hardware under the default mapping ...
            c = pick(inside, mapped)  # co-design: hardware with the mapper inside
            sep, co, sep_default = mapped[s].values, mapped[c].values, default[s].values  # ... then its mapping
            gain_l, gain_e = sep["latency_ms"] / co["latency_ms"], sep["energy_uj"] / co["energy_uj"]
            rows.append([wl.name, f"{budget:.3f}", label(grid[s]), sep_default["latency_ms"], sep["latency_ms"],
                         label(grid[c]), co["latency_ms"], gain_l, gain_e, f"{sep['area_mm2']:.3f} / {co['area_mm2']:.3f}",
                         "yes" if HASCO_RANGE[0] <= gain_l <= HASCO_RANGE[1] else ("below" if gain_l < HASCO_RANGE[0] else "above")])
            plot.append((f"{wl.name}\n≤{budget:.2f} mm²", gain_l, gain_e))
    exp.table(["workload", "area budget mm²", "separate: hardware (rows×cols, GLB, PE buf)",
               "separate: latency ms, default mapping", "separate: latency ms, mapped after",
               "co-design: hardware", "co-design: latency ms", "latency gain ×", "energy gain ×",
               "area mm² sep / co", "in HASCO's 1.25–1.44×?"], rows,
              caption=f"**Co-design vs. separate design at equal area budget** ({len(grid)} hardware points; "
                      f"mapper: heuristic, {mapper_kwargs['samples']} samples, {mapper_kwargs['rounds']} rounds; "
                      "budgets = quantiles of the grid's area).")
    gains = [r[7] for r in rows]
    slower = [r for r in rows if r[4] > r[3] * (1 + 1e-9)]
    exp.note("Mapping step: the mapper's best mapping per layer. The mapper seeds its candidates with the canonical "
             "weight-, output- and input-stationary mappings sized to fit every buffer, so it is never worse than a "
             "plain stationary dataflow and finds a fitting mapping wherever one of those fits (hardware points where "
             "the mapped design still overflows a buffer: " + "; ".join(infeasible) + "). Both flows use this same "
             "step, so co-design is never worse than separate design by construction; the question is by how much it "
             "is better.")
    exp.note(f"""## Reading

Latency gains of co-design over separate design range {min(gains):.2f}–{max(gains):.2f}× (HASCO: 1.25–1.44×).
Both flows end with the same mapper on their chosen hardware, so the whole gain comes from *which
hardware* is chosen: under the default mapping the hardware choice optimizes for a dataflow that
the final mapper does not use (and the default mapping exaggerates the value of large PE
buffers and of array shapes that match the default unrolling).

Where the gains differ from HASCO's:

- Mapper vs. default mapping on the separate flow's hardware: in {len(slower)} of {len(rows)} rows the mapped
  latency is above the default mapping's. The mapper minimizes EDP per layer (not latency) and is never
  worse than its canonical stationary seeds, which tile differently from the default mapping.

- HASCO's hardware space is a tensor-core/systolic generator (intrinsic shape, buffers, dataflow,
  bus) with a Q-learning / heuristic software optimizer and an MOBO outer loop; ours is a 3-level
  Timeloop-style model with one PE family and a heuristic mapper, on a small grid. With few
  hardware knobs the separate flow lands near the co-designed point when the area budget binds
  (every flow wants the largest array that fits), and the gap is largest where the budget leaves
  room to trade array size against buffer size.
- HASCO measures on its own benchmarks (GEMM/conv/transformer kernels on generated accelerators)
  and compares whole HW/SW flows; the size of the gap depends on how poor the "default"
  mapping is, which is a modelling choice (ours: a reasonable weight-stationary default).
- Energy: the mapper optimizes EDP per layer and the outer choice minimizes latency, so energy
  gains can be below 1 (co-design picks a larger/faster point within the same area).""")
    fig, ax = exp.figure(size=(max(8.0, 1.3 * len(plot)), 5))
    x = np.arange(len(plot))
    ax.bar(x - 0.2, [p[1] for p in plot], 0.4, label="latency gain (separate / co-design)")
    ax.bar(x + 0.2, [p[2] for p in plot], 0.4, label="energy gain (separate / co-design)")
    ax.axhspan(*HASCO_RANGE, color="green", alpha=0.15, label="HASCO paper: 1.25–1.44× latency")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xticks(x, [p[0] for p in plot], fontsize=8)
    ax.set_ylabel("gain of co-design over separate design (×)")
    ax.set_xlabel("workload and area budget (mm², 45 nm model)")
    ax.set_title("HW/mapping co-design vs. separate design at equal area (cost model)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return exp.finish(fig)


if __name__ == "__main__":
    sys.exit(main())
