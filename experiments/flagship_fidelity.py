"""Multi-fidelity accuracy: screening-vs-full rank agreement, and multi vs full fidelity at equal time.

    python experiments/flagship_fidelity.py [--part spearman|race|all] [--race-seconds 600]

**Screening vs full** (per flagship model): designs that span the metric's range — uniform
W=A bits 2…8, weight-only 2–4 bits at A8, and mixed-precision designs with random floors
(:func:`codesign.evaluators.accuracy.proxy.random_designs`) — measured by the screening probe
(the model's ``screen_eval_size`` items) and the full probe; Spearman's rank correlation of the
two (goal ≥ 0.9). Written to ``codesign/problems/data/screening.json`` (shown by
``codesign list problems --json``) and to the table.

**Race** on ``moe-accel``: for each of 3 seeds, TPE with ``fidelity="full"`` and with
``fidelity="multi"`` run side by side (two processes at once, so both see the same machine load)
for ``--race-seconds`` of wall time each, every run with its own empty result cache (shared
calibration statistics and traced workloads only). Reported per run: evaluations, full probes
spent, and the normalized hypervolume (the problem's declared bounds) of the full-fidelity front
at the deadline; the median over seeds per mode.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, Experiment  # noqa: E402

MODELS = ("fmnist", "moe", "minilm")


def add_args(p: Any) -> None:
    p.add_argument("--part", choices=("spearman", "race", "all"), default="all")
    p.add_argument("--models", nargs="*", default=list(MODELS))
    p.add_argument("--race-seconds", type=float, default=600.0, help="wall time of each race run (default 600)")
    p.add_argument("--race-problem", default="moe-accel")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--child", help=argparse.SUPPRESS)  # internal: one race run as JSON


def span_designs(model: str, smoke: bool) -> list[Any]:
    """Designs spanning the metric range (module docstring)."""
    from codesign.evaluators.accuracy.proxy import random_designs
    from codesign.problems.flagship import MODELS as SPECS, workloads
    from codesign.types import Design

    spec = SPECS[model]
    uniform = [Design({"w_bits.all": b, "a_bits.all": b}) for b in ((2, 4, 8) if smoke else (2, 3, 4, 5, 6, 8))]
    weight_only = [Design({"w_bits.all": b, "a_bits.all": 8}) for b in ((3,) if smoke else (2, 3, 4))]
    wl, _ = workloads(spec)
    mixed = random_designs(wl, 2 if smoke else 10, seed=11, granularity=spec.granularity)
    return uniform + weight_only + mixed


def spearman_part(exp: Experiment, models: list[str]) -> dict[str, Any]:
    from scipy.stats import spearmanr

    from codesign.evaluators.accuracy.probe import shared_probe
    from codesign.problems.flagship import MODELS as SPECS, SCREENING, _load

    doc = json.loads(SCREENING.read_text()) if SCREENING.is_file() and not exp.smoke else {}
    rows = []
    for model in models:
        spec = SPECS[model]
        cls = _load(spec.probe)
        full_kw = {"eval_size": 600} if exp.smoke and model == "fmnist" else {}
        screen_n = 150 if exp.smoke and model == "fmnist" else spec.screen_eval_size
        full, screen = shared_probe(cls, **full_kw), shared_probe(cls, eval_size=screen_n)
        designs = span_designs(model, exp.smoke)
        s_vals, f_vals = [], []
        t_s = t_f = 0.0
        for d in designs:
            t0 = time.perf_counter()
            s_vals.append(screen.evaluate(d)[spec.metric])
            t1 = time.perf_counter()
            f_vals.append(full.evaluate(d)[spec.metric])
            t_s, t_f = t_s + t1 - t0, t_f + time.perf_counter() - t1
        rho = float(spearmanr(s_vals, f_vals).statistic)
        n_s, n_f = screen.float_result["n"], full.float_result["n"]
        exp.log(f"{model}: Spearman {rho:.3f} over {len(designs)} designs")
        rows.append([model, spec.metric, len(designs), f"{min(f_vals):.4g}–{max(f_vals):.4g}", n_s, n_f, rho,
                     t_s / len(designs), t_f / len(designs)])
        doc[model] = {"spearman": round(rho, 4), "designs": len(designs), "screen_n": n_s, "full_n": n_f,
                      "metric_range": [min(f_vals), max(f_vals)], "measured_by": "experiments/flagship_fidelity.py"}
    exp.table(["model", "metric", "designs", "full-fidelity range", "screen items", "full items",
               "Spearman (screen vs full)", "screen s/design", "full s/design"], rows,
              caption="**Screening vs full fidelity** over designs spanning the metric's range", spec=".3g")
    if not exp.smoke:
        SCREENING.parent.mkdir(parents=True, exist_ok=True)
        SCREENING.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    return doc


class Deadline(Exception):
    pass


def race_child(problem_name: str, fidelity: str, seed: int, seconds: float, smoke: bool) -> dict[str, Any]:
    """One race run in this process; prints what :func:`race_part` tabulates."""
    from codesign.builtins import register_builtins
    from codesign.registry import REGISTRIES
    from codesign.results.pareto import Normalization, normalized_hypervolume
    from codesign.results.summary import objective_matrix, pareto_records
    from codesign.runner import run

    register_builtins()
    kwargs: dict[str, Any] = {"fidelity": fidelity}
    if smoke:
        kwargs.update(eval_size=2048, **({"screen_eval_size": 512} if fidelity == "multi" else {}))
    problem = REGISTRIES["problem"].make(problem_name, **kwargs)
    norm = Normalization.from_dict(problem.objective_bounds())
    t0 = time.perf_counter()

    def stop(rec: Any, done: int, total: int) -> None:
        if time.perf_counter() - t0 > seconds:
            raise Deadline

    store = tempfile.mkdtemp(prefix="codesign-race-")
    try:
        run(problem, "tpe", 100_000, seed, store, share_cache=False, on_record=stop)
    except Deadline:
        pass
    from codesign.results.store import Store

    st = Store(store, create=False)
    recs = [r for run_ in st.runs() for r in run_.records()]
    front = pareto_records(recs, problem.objectives)
    hv = normalized_hypervolume(objective_matrix(front, problem.objectives), norm) if front else 0.0
    full_probes = sum(1 for r in recs if r.ok and r.metrics.values.get("fidelity", 1.0) >= 1.0
                      and not r.metrics.breakdown.get("cached", False))
    shutil.rmtree(store, ignore_errors=True)
    return {"fidelity": fidelity, "seed": seed, "evaluations": len(recs), "full_probes": full_probes,
            "front": len(front), "hv": hv, "wall_s": time.perf_counter() - t0, "load": os.getloadavg()[0]}


def race_part(exp: Experiment, problem: str, seeds: int, seconds: float) -> None:
    base = tempfile.mkdtemp(prefix="codesign-race-base-")
    env0 = {**os.environ, "PYTHONPATH": str(REPO), "CODESIGN_CACHE": base}
    # one short warm-up fills the shared calibration statistics, manifests and traced workloads
    subprocess.run([sys.executable, __file__, "--child", f"{problem}:full:99:1"] + (["--smoke"] if exp.smoke else []),
                   cwd=REPO, env=env0, capture_output=True, text=True, timeout=7200, check=True)
    results = []
    for seed in range(seeds):
        procs = []
        for fidelity in ("full", "multi"):
            cache = tempfile.mkdtemp(prefix="codesign-race-cache-")
            for item in Path(base).iterdir():  # everything but the probes' result files
                if item.name != "probes":
                    (Path(cache) / item.name).symlink_to(item)
            (Path(cache) / "probes").mkdir()
            for f in (Path(base) / "probes").glob("*"):
                if "-calib-" in f.name or "-layers-" in f.name:
                    shutil.copy(f, Path(cache) / "probes" / f.name)
            env = {**env0, "CODESIGN_CACHE": cache}
            cmd = [sys.executable, __file__, "--child", f"{problem}:{fidelity}:{seed}:{seconds}"]
            procs.append(subprocess.Popen(cmd + (["--smoke"] if exp.smoke else []), cwd=REPO, env=env,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        for p in procs:
            out, err = p.communicate(timeout=seconds * 4 + 3600)
            if p.returncode != 0:
                raise SystemExit(f"race child failed:\n{err[-3000:]}")
            r = json.loads(out.strip().splitlines()[-1])
            exp.log(f"race: {r}")
            results.append(r)
    rows = [[r["fidelity"], r["seed"], r["evaluations"], r["full_probes"], r["front"], r["hv"], r["wall_s"], r["load"]]
            for r in results]
    exp.table(["fidelity", "seed", "evaluations", "full probes", "front size", "normalized HV", "wall s",
               "load (1 min)"], rows, caption=f"**{problem}: multi vs full fidelity at equal wall time** "
               f"({seconds:g} s per run, TPE; the two runs of a seed ran at the same time)", spec=".4g")
    med = []
    for fidelity in ("full", "multi"):
        rs = [r for r in results if r["fidelity"] == fidelity]
        med.append([fidelity, statistics.median(r["hv"] for r in rs), statistics.median(r["evaluations"] for r in rs),
                    statistics.median(r["full_probes"] for r in rs)])
    exp.table(["fidelity", "median normalized HV", "median evaluations", "median full probes"], med,
              caption=f"**Median over {seeds} seeds**", spec=".4g")


def main(argv: list[str] | None = None) -> int:
    exp = Experiment("flagship_fidelity", __doc__, argv, add_args)
    a = exp.args
    if a.child:
        problem, fidelity, seed, seconds = a.child.split(":")
        print(json.dumps(race_child(problem, fidelity, int(seed), float(seconds), exp.smoke)))
        return 0
    exp.name = "flagship-fidelity"
    if a.part in ("spearman", "all"):
        spearman_part(exp, a.models[:1] if exp.smoke else a.models)
    if a.part in ("race", "all"):
        race_part(exp, a.race_problem if not exp.smoke else "fmnist-accel", 1 if exp.smoke else a.seeds,
                  20.0 if exp.smoke else a.race_seconds)
    exp.note("Fronts and hypervolumes use full-fidelity records only (codesign.results.summary); a screened "
             "record never enters them. Machine load is stated per run: the machine is shared.")
    return exp.finish()


if __name__ == "__main__":
    raise SystemExit(main())
