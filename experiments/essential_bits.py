"""Zero-bit skipping on real quantized weights: simulated cycles vs the closed-form worst case.

The zero-bit-skipping PE (:mod:`codesign.rtl_sim.essential`; Pragmatic, Albericio et al.
MICRO 2017; Laconic, Sharify et al. ISCA 2019) serializes weights as essential terms, one cycle
per term, the whole array in lockstep: a step takes as many cycles as the most terms among its
``lanes × C`` weights. Its cycles therefore depend on the real weights.

For each flagship model (the Fashion-MNIST CNN, the Shakespeare MoE, all-MiniLM-L6-v2) at 4 and
8 weight bits (the probes' symmetric per-channel quantizer), every quantized layer's real integer
weights and real activation codes (8-bit, from the calibration split, cycled to the workload's
``M`` rows) run through the functional simulator (:func:`codesign.rtl_sim.simulate_gemm`) on a
16×16 array of 4-lane PEs; its output is checked against int64 matmul and its cycles compared
with the closed-form worst case (``max_terms(w)`` cycles per step). Whole network = Σ layer
cycles × the layer's count. Sampling: the mean step cycles estimated from random step/tile
blocks (:func:`codesign.rtl_sim.essential.sample_mean_phases`) instead of every block; its error
against the exact count over 20 seeds.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from _common import Experiment

ARRAY = (16, 16)
LANES = 4
SAMPLES = 32  # blocks per layer for the sampled estimate
SEEDS = 20
MODELS = {
    "fmnist": ("codesign.evaluators.accuracy.fmnist:FashionMNISTProbe", {"eval_size": 500},
               "codesign.evaluators.accuracy.real_workloads:fmnist_cnn", {}),
    "moe": ("codesign.evaluators.accuracy.moe:MoEProbe", {"eval_size": 2048},
            "codesign.evaluators.accuracy.real_workloads:moe_shakespeare", {"tokens": 256}),
    "minilm": ("codesign.evaluators.accuracy.minilm:MiniLMProbe", {"eval_size": 64},
               "codesign.evaluators.accuracy.real_workloads:minilm_l6", {"tokens": 128}),
}


def _load(ref: str):
    import importlib

    mod, attr = ref.split(":")
    return getattr(importlib.import_module(mod), attr)


def _act_codes(probe, name: str, rows: int, k: int) -> np.ndarray:
    """Real 8-bit activation codes of a layer (calibration rows cycled to ``rows``)."""
    x = probe.load().calib_inputs[name]
    if x.shape[0] == 0:
        return np.zeros((rows, k), dtype=np.int64)
    q = probe.act_q(name, 8)
    codes = np.clip(np.rint(x / float(q.scale)) + int(q.zero_point), q.qmin, q.qmax).astype(np.int64)
    return np.resize(codes, (rows, k))


def layer_rows(probe, workload, bits: int, exp: Experiment) -> list[dict]:
    from codesign.evaluators.accuracy.pe_cycles import integer_weights
    from codesign.rtl_sim import EssentialPE, GemmShape, Precision, closed_form_cycles, simulate_gemm
    from codesign.rtl_sim.bits import max_terms, term_counts
    from codesign.rtl_sim.essential import essential_cycles, mean_phases, sample_mean_phases

    pe = EssentialPE(lanes=LANES)
    layers = {l.name: l for l in workload.layers}
    rows = []
    for pl in probe.layers:
        layer = layers.get(pl.name)
        if layer is None:
            continue
        w = integer_weights(probe, pl.name, bits)
        k, n = w.shape
        m = layer.gemm_shape[0] * layer.gemm_batch
        a = _act_codes(probe, pl.name, m, k)
        res = simulate_gemm(a, w, pe, w_bits=bits, a_bits=8, w_signed=True, a_signed=probe.scheme.a_symmetric,
                            array=ARRAY)
        assert np.array_equal(res.output, a @ w), pl.name
        compute, overhead = closed_form_cycles(pe, GemmShape(m, n, k), Precision(bits, 8), ARRAY)
        exact = mean_phases(w, LANES, ARRAY[1])
        blocks = -(-k // LANES) * -(-n // ARRAY[1])
        m_tiles = -(-m // ARRAY[0])
        sampled = [sample_mean_phases(w, LANES, ARRAY[1], samples=SAMPLES, seed=s)["mean"] for s in range(SEEDS)]
        csd = essential_cycles(m, w, EssentialPE(lanes=LANES, encoding="csd"), ARRAY)
        rows.append({"layer": pl.name, "m": m, "n": n, "k": k, "count": layer.count,
                     "csd": csd["compute_cycles"] + csd["overhead_cycles"],
                     "csd_worst": -(-k // LANES) * max_terms(bits, True, "csd") * m_tiles * -(-n // ARRAY[1])
                     + res.overhead_cycles,
                     "worst": compute + overhead, "sim": res.cycles, "p_mean": exact,
                     "terms_per_weight": float(term_counts(w).mean()),
                     "sampled": [m_tiles * p * blocks + res.overhead_cycles for p in sampled],
                     "blocks": blocks})
        exp.log(f"{probe.name} w{bits} {pl.name}: {res.cycles} / {compute + overhead}")
    return rows


def main(argv: list[str] | None = None) -> int:
    exp = Experiment("essential_bits", __doc__, argv)
    models = ["fmnist"] if exp.smoke else list(MODELS)
    bit_list = (4,) if exp.smoke else (4, 8)
    summary, fig_rows, csd_rows = [], [], []
    for name in models:
        probe_ref, probe_kw, wl_ref, wl_kw = MODELS[name]
        t0 = time.perf_counter()
        probe = _load(probe_ref)(**probe_kw)
        workload = _load(wl_ref)(**wl_kw)
        exp.log(f"loaded {name} in {time.perf_counter() - t0:.1f}s")
        for bits in bit_list:
            rows = layer_rows(probe, workload, bits, exp)
            worst = sum(r["worst"] * r["count"] for r in rows)
            sim = sum(r["sim"] * r["count"] for r in rows)
            est = np.array([sum(r["sampled"][s] * r["count"] for r in rows) for s in range(SEEDS)])
            net_err = np.abs(est / sim - 1)
            layer_err = max(max(abs(x / r["sim"] - 1) for x in r["sampled"]) for r in rows)
            exp.table(["layer", "M×N×K", "count", "worst-case cycles", "simulated cycles", "sim / worst",
                       "mean cycles per step", "mean terms per weight"],
                      [[r["layer"], f"{r['m']}×{r['n']}×{r['k']}", r["count"], r["worst"], r["sim"],
                        r["sim"] / r["worst"], r["p_mean"], r["terms_per_weight"]] for r in rows]
                      + [["**network**", "", "", worst, sim, sim / worst, "", ""]],
                      caption=f"### {workload.name}, {bits}-bit weights (worst case {probe_worst(bits)} "
                              "terms per weight)")
            summary.append([workload.name, bits, len(rows), worst, sim, sim / worst, float(net_err.mean()),
                            float(net_err.max()), layer_err])
            csd = sum(r["csd"] * r["count"] for r in rows)
            csd_worst = sum(r["csd_worst"] * r["count"] for r in rows)
            csd_rows.append([workload.name, bits, csd_worst, csd, csd / csd_worst, csd / sim])
            fig_rows.append((f"{name} w{bits}", [r["sim"] / r["worst"] for r in rows]))
    exp.table(["model", "w bits", "layers", "worst-case cycles", "simulated cycles", "sim / worst",
               f"sampled network error (mean of {SEEDS})", "sampled network error (max)",
               "sampled layer error (max)"], summary,
              caption="## Whole network (Σ layer cycles × count) and the sampling error")
    exp.table(["model", "w bits", "csd worst-case cycles", "csd cycles", "csd / worst", "csd / binary"], csd_rows,
              caption="## Canonical-signed-digit terms (Laconic-style encoding), whole network, from the exact "
                      "event counter (equal to the simulator: tests and co-simulation)")
    exp.note(f"Array {ARRAY[0]}×{ARRAY[1]} PEs of {LANES} lanes; binary (sign-magnitude) terms; lockstep "
             f"group = {LANES}×{ARRAY[1]} weights per step. Sampled = {SAMPLES} random (step, column-tile) "
             "blocks per layer (all blocks when a layer has fewer), extrapolated to the layer; error = "
             "|sampled / exact − 1| over seeds 0…19. Every simulated output equals int64 matmul of the same "
             "codes. The savings are small because a step waits for the slowest of its 64 weights: the "
             "mean terms per weight (the one-weight-group limit) is far below the lockstep mean.")
    fig, ax = exp.figure()
    for label, ratios in fig_rows:
        ax.plot(range(len(ratios)), ratios, marker="o", linestyle="", label=label)
    ax.set_xlabel("layer index")
    ax.set_ylabel("simulated / worst-case cycles")
    ax.legend()
    return exp.finish(fig)


def probe_worst(bits: int) -> int:
    from codesign.rtl_sim.bits import max_terms

    return max_terms(bits, True)


if __name__ == "__main__":
    sys.exit(main())
