"""PE area per family: synthesis of the project's own RTL vs the published-figure characterization.

Two area estimates per PE lane (one MAC position of the array), side by side:

- **published**: :mod:`codesign.rtl_sim.characterize` — Horowitz 45 nm multiplier and adder
  areas (scaled by partial products / bits), Bit Fusion's synthesized fusion unit, NanGate
  MUX2 cells for multiplexers; datapath only (no operand or accumulator registers, no control);
- **synthesized**: :mod:`codesign.rtl_sim.area` — the Amaranth RTL that the co-simulation
  verifies, synthesized with Yosys and mapped onto NanGate 45 nm cells, decomposed into per-PE,
  per-row, per-column and shared terms from four array sizes, quoted per lane of a 16×16 array
  (registers, control, the LUT's table builders and lookup multiplexers, and for the
  BitMoD-like PE 16-bit activations and the group-scale multiplier all included).

By default the committed table (``codesign/rtl_sim/data/synth_area.json``, written by
``codesign sim area --write``) is read; ``--synth`` re-synthesizes every family (minutes).
"""

from __future__ import annotations

import sys

from _common import Experiment


def _args(p) -> None:
    p.add_argument("--synth", action="store_true", help="re-synthesize (yosys) instead of reading the committed table")


def main(argv: list[str] | None = None) -> int:
    from codesign.rtl_sim import area
    from codesign.rtl_sim.characterize import get_pe

    exp = Experiment("pe_area", __doc__, argv, add_args=_args)
    if exp.args.synth:
        names = ["bit_serial_both", "essential"] if exp.smoke else None
        doc = area.synth_table(names, progress=lambda n: exp.log(f"synthesizing {n}"))
        source = "synthesized in this run"
    else:
        doc = area.load_synth_areas()
        source = "committed table `codesign/rtl_sim/data/synth_area.json` (`codesign sim area --write`)"
    fams = doc["families"]
    r, c = doc["reference_array"]
    rows, bars = [], []
    for name in area.SYNTH_CONFIGS:
        if name not in fams:
            continue
        e, model = fams[name], get_pe(name)
        pub = model.area_um2()
        t = e["terms_um2"]
        rows.append([name, e["lanes"], f"{e['w_max']}/{e['a_max']}", pub, e["lane_area_um2"],
                     e["lane_area_um2"] / pub, t["a_rc"], t["a_r"], t["a_c"], t["a0"], e["cells_1x1"].get("DFF_X1", 0)])
        bars.append((name, pub, e["lane_area_um2"]))
    exp.table(["family", "lanes/PE", "w/a max bits", "published µm²/lane", f"synthesized µm²/lane ({r}×{c})",
               "synth / published", "per PE µm²", "per row µm²", "per column µm²", "shared µm²", "flip-flops (1×1)"],
              rows, caption=f"Synthesized areas: {source}. Cells: {doc['source']}.", spec=".4g")
    lanes = r * c
    design = [[name, pub * lanes / 1e6, syn * lanes / 1e6] for name, pub, syn in bars
              if name in ("bit_serial", "lut", "bit_parallel", "bit_serial_both", "essential")]
    exp.table(["family", f"published mm² ({lanes} lanes)", f"synthesized mm² ({lanes} lanes)"], design,
              caption="## PE arrays of 256 lanes (local buffers and global buffer excluded)", spec=".4g")
    ratios = [row[5] for row in rows]
    exp.note("The published-figure model counts datapath blocks only; the synthesized RTL adds the operand, step "
             "and accumulator registers (4.5 µm² per flip-flop) and the controller, which is why it is "
             f"{min(ratios):.1f}–{max(ratios):.1f}× larger. The LUT's per-row term is its table-build unit and table registers, shared by the "
             "row's PEs; with it the LUT lane is larger than the weight-serial lane in both models (before, the "
             "published LUT lane counted only its accumulator adder and came out smaller). The zero-bit-skipping "
             "PE pays for per-weight term registers and one barrel shifter per lane and row; its negative "
             "per-row term is ABC's mapping noise between the four synthesized sizes.")
    fig, ax = exp.figure()
    xs = list(range(len(bars)))
    ax.bar([x - 0.2 for x in xs], [b[1] for b in bars], 0.4, label="published figures")
    ax.bar([x + 0.2 for x in xs], [b[2] for b in bars], 0.4, label=f"synthesized (NanGate 45 nm, {r}×{c})")
    ax.set_xticks(xs, [b[0] for b in bars], rotation=30)
    ax.set_ylabel("µm² per lane")
    ax.legend()
    return exp.finish(fig)


if __name__ == "__main__":
    sys.exit(main())
