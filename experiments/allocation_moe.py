"""Measured-sensitivity bit allocation of the MoE vs. uniform bits at the same latency budget.

The project's byte-level MoE transformer (``moe-shakespeare``: 4 layers × 8 experts, top-2;
:class:`~codesign.evaluators.accuracy.moe.MoEProbe`, real held-out bits/byte of Shakespeare)
allocated per expert (45 groups: 32 experts, per layer the attention qkv / output and router,
and the LM head) among weight options ``w2, w3, w4, w6, w8`` with 8-bit activations, through the
public allocator (``codesign.allocate`` inputs, :func:`codesign.allocation.allocate`).

- **Cost**: latency of every group at every option from the loop-nest cost model
  (:class:`~codesign.evaluators.cost.evaluator.CostModelEvaluator`, nested heuristic mapper) on a
  weight-bit-serial accelerator (16×16 PEs, 256 KiB GLB, 25.6 GB/s, 1 GHz), 256 tokens with the
  measured routing. Budgets: the latency of uniform ``w3``, ``w4`` and ``w6`` over the groups.
- **Loss** (per group and option, assumed additive), four ways:
  ``fisher`` — Fisher-weighted layer-output error on the calibration play (the default loss);
  ``hessian`` — HAWQ-V3's Hutchinson trace / parameters × ‖W − Q(W)‖² (calibration play);
  ``probe`` — the real probe with only that group quantized, measured on a slice of the test plays
  disjoint from the evaluation slice (bytes 200,000+), so the comparison is not fitted to it;
  ``noise`` — the hard-wired proxy the ``hasco`` agent used before (``weights · 4^-w``), no measurement.
- **Metric**: every allocation and every uniform baseline is measured by the real probe on the
  same first 65,536 held-out test bytes (256 windows); differences are paired per window
  (mean ± standard error of the per-window difference).
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from _common import Experiment

OPTIONS = ("w2a8", "w3a8", "w4a8", "w6a8", "w8a8")
UNIFORM = ("w3a8", "w4a8", "w6a8")
HW = {"pe_type": "bit_serial", "array_rows": 16, "array_cols": 16, "glb_kb": 256, "pe_buf_bytes": 64,
      "dram_gbps": 25.6, "clock_mhz": 1000}
SENS_OFFSET = 200_000  # start of the test-play slice the `probe` sensitivities are measured on
CONSTRAINTS = ["count(layers.{i}.mlp.e*, w3*) >= 1", "count(layers.{i}.mlp.e*, w2*) >= 1"]


def held_out_probe(eval_size: int) -> Any:
    """The MoE probe measuring ``eval_size`` test bytes from :data:`SENS_OFFSET` (not the evaluation slice)."""
    import torch

    from codesign.evaluators.accuracy.moe import MoEProbe
    from codesign.evaluators.accuracy.shakespeare import load_split

    class SliceProbe(MoEProbe):
        name = "moe-probe-slice"

        def build(self) -> Any:
            model, layers = super().build()
            data = np.frombuffer(load_split("test")[SENS_OFFSET: SENS_OFFSET + eval_size + 1], dtype=np.uint8)
            n = (len(data) - 1) // self.ctx
            self.x_test = torch.from_numpy(data[: n * self.ctx].astype(np.int64).reshape(n, self.ctx))
            self.y_test = torch.from_numpy(data[1: n * self.ctx + 1].astype(np.int64).reshape(n, self.ctx))
            return model, layers

        def base_version(self) -> str:
            return super().base_version() + f"+slice{SENS_OFFSET}"

    return SliceProbe(eval_size=eval_size)


def main(argv: list[str] | None = None) -> int:
    exp = Experiment("allocation_moe", __doc__, argv)
    from codesign.allocation import allocate, workload_groups
    from codesign.evaluators.accuracy.moe import MoEProbe
    from codesign.evaluators.accuracy.sensitivity import group_losses
    from codesign.evaluators.allocation_inputs import cost_table
    from codesign.evaluators.cost.evaluator import CostModelEvaluator
    from codesign.registry import make_workload

    options = ("w2a8", "w4a8", "w8a8") if exp.smoke else OPTIONS
    uniform = ("w4a8",) if exp.smoke else UNIFORM
    wl = make_workload("moe-shakespeare")
    skip = [l.name for l in wl.layers if exp.smoke and not l.name.startswith("layers.0.mlp.e")]  # smoke: layer 0's experts
    groups = workload_groups(wl, options, "expert", skip=skip)
    latency = cost_table(wl, groups, "latency_ms", "cost-model", HW)
    exp.log(f"{len(groups)} groups; latency table from the cost model")
    probe = MoEProbe(eval_size=2048 if exp.smoke else 65536)
    sens_probe = held_out_probe(1024 if exp.smoke else 16384)
    hess = {"samples": 1, "batches": 1} if exp.smoke else {"samples": 8, "batches": 1}
    losses: dict[str, Any] = {"fisher": group_losses(probe, groups, "fisher")}
    exp.log("fisher losses measured")
    losses["hessian"] = group_losses(probe, groups, "hessian", **hess)
    exp.log("hessian losses measured")
    losses["probe"] = group_losses(sens_probe, groups, "probe")
    exp.log("per-group probe losses measured")
    elems = {g.name: sum(wl[m].weight_elems * wl[m].count for m in g.members) for g in groups}
    losses["noise"] = lambda g, o: elems[g.name] * 4.0 ** -o.w_bits
    evaluator = CostModelEvaluator(wl)

    def measure(design: dict[str, int]) -> tuple[np.ndarray, float]:
        _, items = probe.measure_items(probe.bit_config(design))
        return items, evaluator.evaluate({**HW, **design}).values["latency_ms"]

    float_bpb = probe.float_result["values"]["bits_per_byte"]
    rows, points, choices = [], {}, {}
    common = dict(workload=wl, granularity="expert", skip=skip, options=list(options),
                  costs={"latency_ms": latency, "size_bytes": "size_bytes"})
    for u in uniform:
        budget = sum(latency[g.name][u] for g in groups)
        uni_design = {f"{p}.{g.name}": b for g in groups for p, b in (("w_bits", int(u[1])), ("a_bits", 8))}
        uni_items, uni_lat = measure(uni_design)
        uni_size = sum(wl[m].weight_elems * wl[m].count * int(u[1]) / 8 for g in groups for m in g.members)
        rows.append([f"uniform {u}", u, "—", float(uni_items.mean()), "—", budget, uni_lat, uni_size / 1024, "—"])
        points.setdefault("uniform", []).append((budget, float(uni_items.mean())))
        variants = [(m, losses[m], []) for m in ("fisher", "hessian", "probe", "noise")]
        if u == "w4a8" and not exp.smoke:
            variants.append(("fisher + constraints", losses["fisher"], CONSTRAINTS))
        for label, loss, cons in variants:
            a = allocate(common, loss=loss, budgets={"latency_ms": budget}, constraints=cons)
            items, lat = measure(a.design())
            diff = items - uni_items
            hist = ", ".join(f"{o[1]}b×{n}" for o, n in sorted(_count(a.choice).items()))
            rows.append([f"{label} @ {u} latency", hist, f"{a.loss:.4g}", float(items.mean()),
                         f"{diff.mean():+.4f} ± {diff.std(ddof=1) / np.sqrt(len(diff)):.4f}",
                         a.totals["latency_ms"], lat, a.totals["size_bytes"] / 1024, f"{1e3 * a.seconds:.1f}"])
            points.setdefault(label, []).append((a.totals["latency_ms"], float(items.mean())))
            choices[(label, u)] = a.choice
            exp.log(f"{label} @ {u}: bpb {items.mean():.4f} (uniform {uni_items.mean():.4f})")
    exp.table(["allocation", "weight bits (width×groups)", "predicted loss", "held-out bits/byte",
               "Δ vs. uniform (paired, ± s.e.)", "latency ms (budget table)", "latency ms (cost model, whole design)",
               "group weights KiB", "solve ms"], rows,
              caption=f"**MoE bit allocation vs. uniform at equal latency** (float {float_bpb:.4f} bits/byte on "
                      f"{probe.eval_size} held-out bytes; {len(groups)} groups; bit-serial accelerator, cost model).",
              spec=".4f")
    _notes(exp, rows, losses, groups, choices, uniform[0])
    fig, ax = exp.figure(size=(8, 5))
    for label, pts in points.items():
        pts = sorted(pts)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o" if label == "uniform" else "^",
                ls="-" if label == "uniform" else ":", label=label)
    ax.axhline(float_bpb, color="k", lw=0.8, ls="--", label="float model")
    top = float_bpb + 1.25 * (max(p[1] for p in points["uniform"]) - float_bpb)
    for label, pts in points.items():  # points far above uniform are drawn at the top edge, with their value
        for x, y in pts:
            if y > top:
                ax.annotate(f"{label}: {y:.2f} ↑", (x, top), textcoords="offset points", xytext=(4, -12), fontsize=8)
    ax.set_ylim(float_bpb - 0.05 * (top - float_bpb), top)
    ax.set_xlabel("latency of the allocated groups (ms, cost model, bit-serial accelerator)")
    ax.set_ylabel("held-out bits/byte (lower is better)")
    ax.set_title("MoE: measured-sensitivity allocation vs. uniform bits")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return exp.finish(fig)


def _count(choice: dict[str, str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for o in choice.values():
        out[o] = out.get(o, 0) + 1
    return out


def _notes(exp: Experiment, rows: list[list[Any]], losses: dict[str, Any], groups: list[Any],
           choices: dict[tuple[str, str], dict[str, str]], lowest: str) -> None:
    from scipy.stats import spearmanr

    wins: dict[str, list[tuple[float, float]]] = {}
    for r in rows:
        if " @ " in r[0]:
            mean, se = (float(x) for x in r[4].split(" ± "))
            wins.setdefault(r[0].split(" @ ")[0], []).append((mean, se))
    lines = []
    for k, v in wins.items():
        better = sum(m < -2 * s for m, s in v)
        worse = sum(m > 2 * s for m, s in v)
        lines.append(f"- `{k}`: better than uniform at {better}, worse at {worse}, tied (within 2 s.e.) at "
                     f"{len(v) - better - worse} of {len(v)} budgets; mean Δ {np.mean([m for m, _ in v]):+.4f} bits/byte.")
    names = [g.name for g in groups]
    opt = [o.name for o in groups[0].options]
    flat = {m: np.array([losses[m][n][o] for n in names for o in opt]) for m in ("fisher", "hessian", "probe")}
    rho = {f"{a}/{b}": spearmanr(flat[a], flat[b]).statistic for a, b in (("fisher", "probe"), ("hessian", "probe"),
                                                                          ("fisher", "hessian"))}
    low = opt[0]
    at_low = {m: sorted(g for g, o in c.items() if o == low) for (m, u), c in choices.items() if u == lowest}
    non_expert = {m: [g for g in v if ".mlp.e" not in g] for m, v in at_low.items()}
    negative = int((flat["probe"] < 0).sum())
    exp.note("## Reading\n\n" + "\n".join(lines) + "\n\n"
             f"At the `{lowest}` budget the groups put at {low[1]} bits that are not experts: "
             + "; ".join(f"`{m}`: {', '.join(v) or 'none'}" for m, v in non_expert.items()) + ". "
             "Rank agreement of the per-(group, option) losses (Spearman): "
             + ", ".join(f"{k} {v:.3f}" for k, v in rho.items()) + f"; {negative} of {flat['probe'].size} "
             "per-group `probe` losses are negative (measurement noise on the sensitivity slice, which the "
             "allocator exploits as if it were real).\n\n"
             "The workload lists the model's linear layers only (its attention score and value products are not "
             "layers there), so every layer is allocated, and the cost model's latency of each whole design equals "
             "the budget table's total: the per-layer costs are additive. The allocator is exact for its additive "
             "loss model; whether an allocation beats uniform bits is decided by the measured bits/byte, which the "
             "additive model only predicts. The `probe` losses come from a test slice disjoint from the evaluation "
             "bytes; `fisher` and `hessian` from the calibration play. `fisher + constraints` adds MC-MoE-style "
             "side constraints (at least one 3-bit and one 2-bit expert in every MoE layer) and shows their price.")


if __name__ == "__main__":
    sys.exit(main())
