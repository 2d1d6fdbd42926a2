"""HAQ-style bit-serial latency table: measured per layer, fitted with floor terms.

HAQ (Wang et al., CVPR 2019) reads a bit-serial accelerator's per-layer latency from a measured
table over (weight bits, activation bits). Here the table is measured with the project's
loop-nest cost model (:class:`codesign.evaluators.cost.evaluator.CostModelEvaluator`, its
mapper searching each point) on an accelerator of bit-plane-pair PEs (``bit_serial_both``,
Loom/BISMO: ``w·a`` cycles per MAC) whose DRAM bandwidth is low enough for small precisions to
become memory-bound, for w, a = 1…8 on a few ResNet-18 layers. Each layer's table is fitted
with :class:`codesign.rtl_sim.latency.FloorLatency`,
``cycles = c0 + max(k_wa·w·a, k_a·a, k_w·w)``, and with a floor-free ``k·w·a`` for contrast;
the fitted table then serves as the cost model's cycle source
(:class:`codesign.rtl_sim.latency.LatencyTable`).
"""

from __future__ import annotations

import sys

import numpy as np
from _common import Experiment

HW = {"pe_type": "bit_serial_both", "array_rows": 64, "array_cols": 64, "glb_kb": 128, "pe_buf_bytes": 64,
      "dram_gbps": 1.6, "clock_mhz": 1000}
LAYERS = ("conv1", "layer1.0.conv1", "layer3.0.conv2", "layer4.1.conv2", "fc")


def measure(layers, bits: list[int], exp: Experiment) -> dict[str, np.ndarray]:
    """Cycles per layer over the (w, a) grid: ``{layer: array (len(bits), len(bits))}`` [w, a]."""
    from codesign.evaluators.cost.evaluator import CostModelEvaluator
    from codesign.workloads.layer import Workload

    out = {}
    for layer in layers:
        ev = CostModelEvaluator(Workload(layer.name, [layer]), objective="cycles",
                                mapper_kwargs={"samples": 150, "rounds": 1})
        designs = [{**HW, f"w_bits.{layer.name}": w, f"a_bits.{layer.name}": a} for w in bits for a in bits]
        metrics = ev.evaluate_many(designs)
        out[layer.name] = np.array([m.values["latency_cycles"] for m in metrics]).reshape(len(bits), len(bits))
        exp.log(f"measured {layer.name}")
    return out


def main(argv: list[str] | None = None) -> int:
    from codesign.rtl_sim.latency import FloorLatency, LatencyTable, fit_floor_latency
    from codesign.workloads.zoo import resnet18

    exp = Experiment("haq_latency_fit", __doc__, argv)
    bits = [1, 2, 4, 8] if exp.smoke else list(range(1, 9))
    names = LAYERS[:2] if exp.smoke else LAYERS
    wl = resnet18()
    layers = [wl[n] for n in names]
    tables = measure(layers, bits, exp)
    wg, ag = (g.ravel() for g in np.meshgrid(bits, bits, indexing="ij"))
    rows, fits = [], {}
    for layer in layers:
        y = tables[layer.name].ravel()
        model, rep = fit_floor_latency(wg, ag, y)
        fits[layer.name] = model
        k = float(np.exp(np.mean(np.log(y / (wg * ag)))))  # best pure w·a fit in log space
        pure_err = float(np.sqrt(np.mean((k * wg * ag / y - 1) ** 2)))
        rows.append([layer.name, model.c0, model.k_wa, model.k_a, model.k_w, rep["rmse_rel"], rep["max_abs_rel_err"],
                     rep["r2"], "/".join(str(rep["binding"][t]) for t in ("w·a", "a", "w")), pure_err])
    exp.table(["layer", "c0", "k_wa", "k_a", "k_w", "rmse (relative)", "max rel. err", "R²",
               "points bound by w·a / a / w", "pure k·w·a rmse"], rows, spec=".4g",
              caption=f"Fits of `cycles = c0 + max(k_wa·w·a, k_a·a, k_w·w)` to {len(bits)}×{len(bits)} measured points "
                      "per layer")
    first = layers[0].name
    grid = [[w, *tables[first][i]] for i, w in enumerate(bits)]
    exp.table(["w \\ a", *map(str, bits)], grid, spec=".4g", caption=f"Measured cycles of `{first}`")
    table = LatencyTable(fits, {l.name: float(l.macs) for l in layers}, HW["pe_type"], HW["array_rows"] * HW["array_cols"])
    check = table(layers[0], 4, 4, HW) * layers[0].macs / (HW["array_rows"] * HW["array_cols"])
    exp.note(f"Accelerator: {HW}. As a cost-model cycle hook the fitted table gives `{first}` at w4/a4 "
             f"{check:.4g} cycles (measured {tables[first][bits.index(4), bits.index(4)]:.4g}). The cost model's "
             "memory floor is a sum over operands (weight bytes ∝ w plus activation bytes ∝ a, through one DRAM "
             "port) where HAQ's shape takes a max of one-operand floors, so the fit is close but not exact where "
             "both operands' traffic matters.")
    fig, ax = exp.figure()
    for i, a in enumerate(bits):
        if a in (1, 2, 4, 8):
            ax.plot(bits, tables[first][:, i], marker="o", linestyle="", label=f"measured a={a}")
            ax.plot(bits, [FloorLatency.cycles(fits[first], w, a) for w in bits], linestyle="-")
    ax.set_xlabel("weight bits")
    ax.set_ylabel(f"cycles of {first}")
    ax.set_yscale("log")
    ax.legend()
    return exp.finish(fig)


if __name__ == "__main__":
    sys.exit(main())
