"""Flagship co-design search: a TPE run on a flagship problem and the front it finds.

One command per problem, e.g.::

    python experiments/flagship_search.py --problem fmnist-accel
    python experiments/flagship_search.py --problem moe-accel --fidelity multi

runs ``--budget`` (default 200) evaluations of ``--agent`` (default TPE) on the problem — every
evaluation is the loop-nest cost model of the model's workload on the design's accelerator plus
the real probe of the model at the design's bits — into the store ``--store`` (default a
temporary directory), and writes ``docs/results/flagship-<problem>.md`` / ``.png``: the full-
fidelity Pareto front (metric vs latency / energy / area), which PE families, array shapes and
bit mixes sit on it, evaluations per second, and the share of feasible random designs
(``space.sample``, cost model; the probe never makes a design infeasible).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Experiment  # noqa: E402


def add_args(p: Any) -> None:
    p.add_argument("--problem", default="fmnist-accel", help="flagship problem (default fmnist-accel)")
    p.add_argument("--budget", type=int, default=200, help="evaluations (default 200)")
    p.add_argument("--agent", default="tpe", help="agent (default tpe)")
    p.add_argument("--fidelity", choices=("full", "multi"), default="full", help="accuracy fidelity (default full)")
    p.add_argument("--samples", type=int, default=40, help="random designs for the feasible share (default 40)")
    p.add_argument("--store", default=None, help="store directory (default a temporary one)")


def bits_of(design: Any) -> list[int]:
    return [int(v) for k, v in design.items() if k.split(".", 1)[0] in ("w_bits", "a_bits")]


def describe_bits(design: Any) -> str:
    w = [int(v) for k, v in design.items() if k.startswith("w_bits.")]
    a = [int(v) for k, v in design.items() if k.startswith("a_bits.")]
    if len(set(w)) == 1 and len(set(a)) == 1:
        return f"uniform W{w[0]}A{a[0]}"
    return f"mixed W{min(w)}–{max(w)} (mean {sum(w) / len(w):.1f}), A{min(a)}–{max(a)}"


def main(argv: list[str] | None = None) -> int:
    from codesign.builtins import register_builtins
    from codesign.problems.diagnostics import feasible_share
    from codesign.registry import REGISTRIES
    from codesign.results.summary import full_fidelity, pareto_records
    from codesign.runner import run

    exp = Experiment("flagship_search", __doc__, argv, add_args)
    a = exp.args
    exp.name = f"flagship-{a.problem}" + ("-multi" if a.fidelity == "multi" else "")
    budget = 12 if exp.smoke else a.budget
    register_builtins()
    kwargs: dict[str, Any] = {"fidelity": a.fidelity} if a.fidelity != "full" else {}
    if exp.smoke:
        kwargs["eval_size"] = 300 if a.problem.startswith("fmnist") else 2048
        if a.fidelity == "multi":
            kwargs["screen_eval_size"] = 100 if a.problem.startswith("fmnist") else 512
    problem = REGISTRIES["problem"].make(a.problem, **kwargs)
    exp.log(f"{problem!r}")
    feas = feasible_share(problem, n=6 if exp.smoke else a.samples, seed=exp.seed + 1)
    exp.log(f"feasible random designs: {feas}")
    store = a.store or tempfile.mkdtemp(prefix="codesign-flagship-")
    stamps: list[float] = []
    t0 = time.perf_counter()
    result = run(problem, a.agent, budget, exp.seed, store, share_cache=False,
                 on_record=lambda rec, done, total: (stamps.append(time.perf_counter() - t0),
                                                     exp.log(f"{done}/{total} {rec.state.value}") if done % 20 == 0 else None))
    wall = time.perf_counter() - t0
    recs = result.records
    if result.resumed:  # a resumed run (e.g. a report from an existing --store): the evaluations' own time
        wall = sum(r.eval_seconds for r in recs)
        exp.note(f"Resumed from {result.resumed} stored evaluations: wall time below is the sum of the "
                 f"evaluations' own times (agent overhead not included).")
    objectives = problem.objectives
    metric = objectives[0].name
    front = sorted(pareto_records(recs, objectives), key=lambda r: r.metrics.values[metric])
    full = full_fidelity(recs)
    pes = sorted({str(r.design["pe_type"]) for r in front})
    arrays = sorted({f"{r.design['array_rows']}x{r.design['array_cols']}" for r in front})
    mixed = [r for r in front if len(set(bits_of(r.design))) > 1]
    # probe measurements at full fidelity that no cache answered (for multi-fidelity: the promotions)
    full_probes = sum(1 for r in full if not r.metrics.breakdown.get("cached", False))
    exp.table(["quantity", "value"], [
        ["problem", problem.name], ["agent / seed", f"{a.agent} / {exp.seed}"], ["evaluations", len(recs)],
        ["feasible records", sum(r.ok for r in recs)], ["full-fidelity records", len(full)],
        ["fidelity", a.fidelity], ["full-fidelity probe measurements", full_probes],
        ["search wall time (s)", round(wall, 1)], ["evaluations / s", round(len(recs) / wall, 3)],
        ["feasible random designs (space.sample, cost model)", f"{feas['feasible']}/{feas['n']} ({feas['share']:.0%})"],
        ["front size (full fidelity)", len(front)], ["PE families on the front", ", ".join(pes)],
        ["array shapes on the front", ", ".join(arrays)],
        ["front designs with mixed bits", f"{len(mixed)}/{len(front)}"],
    ], caption="**Run summary**", spec=".4g")
    rows = []
    for r in front:
        v, d = r.metrics.values, r.design
        rows.append([r.number, round(v[metric], 4), v["latency_ms"], v["energy_uj"], v["area_mm2"], d["pe_type"],
                     f"{d['array_rows']}x{d['array_cols']}", d["glb_kb"], d["clock_mhz"], describe_bits(d)])
    exp.table(["#", metric, "latency_ms", "energy_uj", "area_mm2", "PE", "array", "glb KiB", "MHz", "bits"], rows,
              caption=f"**Pareto front** ({len(front)} designs, full fidelity; {metric} "
                      f"{objectives[0].direction.value}, the rest min)", spec=".4g")
    exp.note(f"Every evaluation scores the design with the loop-nest cost model (per-layer mapping "
             f"{'given by map.* parameters' if problem.name.endswith('-flat') else 'searched by the nested mapper'}) "
             f"and the real {metric} probe at the same bits. Machine load during the run: "
             f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} (1/5/15 min) on {os.cpu_count()} cores; "
             f"the search competed with other jobs on this shared machine, so evaluations/s is a lower bound.")
    fig, axes = exp.figure(ncols=2, size=(12.0, 4.8))
    colours = {"bit_parallel": "#4c78a8", "bit_serial": "#e45756", "bit_serial_act": "#f58518", "lut": "#54a24b"}
    for ax, cost in zip(axes, ("latency_ms", "energy_uj")):
        ax.scatter([r.metrics.values[cost] for r in full], [r.metrics.values[metric] for r in full], s=10,
                   color="#cccccc", label="evaluated (full fidelity)")
        for pe in pes:
            pts = [r for r in front if r.design["pe_type"] == pe]
            ax.scatter([r.metrics.values[cost] for r in pts], [r.metrics.values[metric] for r in pts], s=28,
                       color=colours.get(pe, "#333333"), label=f"front: {pe}")
        ax.set_xscale("log")
        ax.set_xlabel(cost)
        ax.set_ylabel(metric)
        ax.set_title(f"{problem.name}: {metric} vs {cost}")
    axes[0].legend(fontsize=7)
    return exp.finish(fig)


if __name__ == "__main__":
    raise SystemExit(main())
