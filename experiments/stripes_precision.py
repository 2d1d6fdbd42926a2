"""Stripes: per-layer activation precision profiles and the speed-up of an activation-serial accelerator.

Stripes (Judd et al., MICRO 2016) processes activations bit-serially, so a layer whose
activations need ``p`` bits runs ``16/p`` times faster than on the 16-bit bit-parallel
DaDianNao at equal peak throughput; it reports 1.92× on average (1.30–4.51×) with no accuracy
loss, and no gain for fully-connected layers.

1. **Profile** (real accuracy, :class:`codesign.evaluators.accuracy.digits.DigitsProbe`): with
   8-bit weights everywhere, the smallest activation bits ``p_l`` of each layer (others at 8
   bits) whose test accuracy stays within 1 percentage point of the all-8-bit network; then the
   joint profile (all layers at ``p_l`` at once), raised greedily until it meets the same bound.
2. **Speed-up** (:func:`codesign.rtl_sim.closed_form_cycles`): per layer, the lowered GEMM
   ``(M windows, N filters, K = C·R·S)`` at batch 1 on
   - bit-parallel: DaDianNao's tile, 16 filters × 16 lanes, one window per cycle
     (``bit_parallel``, array 1×16, 16 lanes);
   - Stripes: 16 windows × 16 filters × 16 lanes, activation bits serial
     (``bit_serial:activation``, array 16×16, 16 lanes) — equal throughput at 16 bits;
   and the same with an 8-bit baseline (8 windows; our INT8 bit-parallel PE).
"""

from __future__ import annotations

import sys

from _common import Experiment

TOLERANCE = 0.01  # accuracy within 1 percentage point of the all-8-bit network
W_BITS = 8


def profile(probe, names: tuple[str, ...], max_bits: int = 8) -> tuple[list[int], list[int], dict[str, float]]:
    """Per-layer minimal activation bits (others at 8) and the joint profile meeting the bound."""
    base = probe.accuracy_of(((W_BITS, 8),) * len(names))
    floor = base - TOLERANCE - 1e-12

    def acc(bits: list[int]) -> float:
        return probe.accuracy_of(tuple((W_BITS, b) for b in bits))

    single = []
    for i in range(len(names)):
        for p in range(1, max_bits + 1):
            bits = [8] * len(names)
            bits[i] = p
            if acc(bits) >= floor:
                single.append(p)
                break
    joint = list(single)
    while acc(joint) < floor:  # raise the layer whose extra bit helps most
        cands = [i for i in range(len(joint)) if joint[i] < max_bits]
        best = max(cands, key=lambda i: acc(joint[:i] + [joint[i] + 1] + joint[i + 1:]))
        joint[best] += 1
    return single, joint, {"float": probe.float_accuracy, "all8": base, "single_bound": floor,
                           "joint": acc(joint)}


def cycles(layer, pe_name: str, array: tuple[int, int], a_bits: int) -> int:
    from codesign.rtl_sim import closed_form_cycles
    from codesign.rtl_sim.families import make_pe
    from codesign.rtl_sim.pes import GemmShape, Precision

    m, n, k = layer.gemm_shape
    pe = make_pe(pe_name, lanes=16)
    compute, overhead = closed_form_cycles(pe, GemmShape(m, n, k), Precision(w_bits=W_BITS, a_bits=a_bits), array)
    return compute * layer.count * layer.gemm_batch  # drain cycles left out (see the notes)


def main(argv: list[str] | None = None) -> int:
    from codesign.evaluators.accuracy.digits import DigitsProbe
    from codesign.workloads.zoo import digits_cnn

    exp = Experiment("stripes_precision", __doc__, argv)
    probe = DigitsProbe(eval_size=270 if exp.smoke else None)
    layers = digits_cnn(batch=1).layers
    names = tuple(l.name for l in layers)
    single, joint, accs = profile(probe, names)
    exp.log(f"profile single={single} joint={joint} acc={accs}")

    rows, totals = [], {"bp16": 0, "st16": 0, "bp8": 0, "st8": 0, "st16_fb": 0}
    for layer, p1, pj in zip(layers, single, joint):
        bp16 = cycles(layer, "bit_parallel", (1, 16), 16)
        st16 = cycles(layer, "bit_serial:activation", (16, 16), pj)
        bp8 = cycles(layer, "bit_parallel", (1, 16), 8)
        st8 = cycles(layer, "bit_serial:activation", (8, 16), pj)
        fc = layer.op == "gemm"
        st16_fb = min(st16, bp16) if fc else st16  # Stripes runs FC layers in bit-parallel mode
        for k, v in (("bp16", bp16), ("st16", st16), ("bp8", bp8), ("st8", st8), ("st16_fb", st16_fb)):
            totals[k] += v
        m, n, k = layer.gemm_shape
        rows.append([layer.name, layer.op, f"{m}×{n}×{k}", p1, pj, 16 / pj, bp16 / st16, bp16 / st16_fb, bp8 / st8])
    rows.append(["**network**", "", "", "", "", "", totals["bp16"] / totals["st16"], totals["bp16"] / totals["st16_fb"],
                 totals["bp8"] / totals["st8"]])
    conv_speedups = [r[6] for r in rows[:-1] if r[1] == "conv"]
    exp.table(["layer", "op", "GEMM M×N×K", "min a_bits alone", "a_bits joint profile", "ideal 16/p",
               "speed-up vs 16-bit BP", "same, FC in BP mode", "speed-up vs 8-bit BP"], rows,
              caption=f"**Per-layer activation precision and speed-up** (digits CNN, batch 1; weights {W_BITS} bit; "
                      f"profile within {TOLERANCE * 100:.0f} pp of the all-8-bit accuracy).")
    exp.table(["accuracy", "value"], [["float", accs["float"]], ["all layers w8/a8", accs["all8"]],
                                      ["joint profile " + "-".join(map(str, joint)), accs["joint"]]],
              caption="**Accuracy of the profiles** (real test accuracy, scikit-learn digits test split).", spec=".4f")
    net16, net16_fb = totals["bp16"] / totals["st16"], totals["bp16"] / totals["st16_fb"]
    exp.note(f"""## Comparison with Stripes

| quantity | Stripes (paper) | ours | agrees? |
|---|---|---|---|
| network speed-up over 16-bit bit-parallel | 1.92× mean, 1.30–4.51× over 9 ImageNet CNNs | {net16_fb:.2f}× (FC in bit-parallel mode), {net16:.2f}× without the fallback | {"yes, within the range" if 1.30 <= net16_fb <= 4.51 else "no (see below)"} |
| conv layers | ≈ 16/p | {", ".join(f"{s:.2f}×" for s in conv_speedups)} | {"yes" if conv_speedups and all(s > 1 for s in conv_speedups) else "no"} |
| FC layers | no gain | < 1× without fallback (one window at batch 1 fills 1/16 of Stripes' rows) | yes, for the paper's reason |

Why the numbers differ from the paper:

- **Network and profile.** The paper profiles ImageNet CNNs (AlexNet … GoogLeNet) with
  activations of 5–13 bits; our network is the 4-layer digits CNN, whose layers tolerate very few
  activation bits (the joint profile is {"-".join(map(str, joint))}), so the ideal 16/p is larger than the
  paper's. We could not verify Stripes' published per-layer profiles from the paper body here, so
  we do not replay them.
- **Utilisation.** Stripes gains only where 16 windows run in parallel. conv2 has 16 output
  windows and conv1 64 at batch 1, so they fill the 16 rows and reach 16/p exactly. We count
  compute cycles ``tiles·steps·P`` and leave out rtl_sim's one drain cycle per output tile, which
  overlaps the next tile in a pipelined array but would double the cost of conv1's one-step
  bit-parallel tiles if counted.
- **FC layers.** fc1/fc2 have a single window at batch 1: activation-serial execution leaves 15/16
  rows idle and runs p× slower; Stripes falls back to bit-parallel processing there, which the
  "FC in BP mode" column models. In the digits CNN, fc1 is {100 * layers[2].macs / sum(l.macs for l in layers):.0f}% of the MACs, so the
  network speed-up is far below the conv layers'.
- **Baseline.** Against our 8-bit bit-parallel PE the ideal gain is 8/p, not 16/p (last column):
  the network gains {totals["bp8"] / totals["st8"]:.2f}× without an FC fallback. Much of Stripes' headline comes
  from its 16-bit baseline; against INT8 hardware the same profile buys half as much.
- The "agrees" verdict for the network is a range check only: our network, data set and profile
  differ from the paper's, so landing inside 1.30–4.51× is not a reproduction of the 1.92× mean.""")
    plt_fig, ax = exp.figure(size=(8.5, 4.8))
    import numpy as np

    x = np.arange(len(rows))
    labels = [r[0].strip("*") for r in rows]
    width = 0.27
    for i, (col, lab) in enumerate(((6, "vs 16-bit bit-parallel"), (7, "vs 16-bit BP, FC in BP mode"),
                                    (8, "vs 8-bit bit-parallel"))):
        vals = [r[col] for r in rows]
        ax.bar(x + (i - 1) * width, vals, width, label=lab)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.axhspan(1.30, 4.51, color="green", alpha=0.1, label="Stripes paper range 1.30–4.51× (network)")
    ax.axhline(1.92, color="green", ls="--", lw=1, label="Stripes paper mean 1.92×")
    ax.set_xticks(x, [f"{l}\n(p={r[4]})" if r[4] != "" else l for l, r in zip(labels, rows)])
    ax.set_yscale("log")
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if v in (0.3, 0.5, 2, 3, 5) else ""))
    ax.set_ylabel("speed-up of activation-serial over bit-parallel (×, log)")
    ax.set_xlabel("layer of the digits CNN (joint activation precision p, bits)")
    ax.set_title("Stripes-style activation-serial speed-up (rtl_sim cycle model)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return exp.finish(plt_fig)


if __name__ == "__main__":
    sys.exit(main())
