"""``codesign bench agents``: every agent × seeds on one problem and budget.

    codesign bench agents --problem digits-accel-small --budget 200 --seeds 5 [--json]
    codesign bench agents --smoke            # CI: small budget, 2 seeds, no lottery

Reports hypervolume vs. evaluations (median and IQR over seeds) against one reference point
shared by all runs, agent overhead per evaluation, for an enumerable problem (``space.size <=
--enumerate-limit``) the exact Pareto front and each agent's HV ratio to it, and an
ArchGym-style lottery score over :data:`LOTTERY_GRID`. Writes ``agents-<problem>.md`` and
``agents-<problem>.png`` under ``--out`` (default ``docs/results``). Runs go to a temporary
store (``--store`` to keep them); ``--jobs`` runs agent×seed pairs in parallel processes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

SMOKE_AGENTS = ("random", "tpe", "mcts", "qlearning", "botorch", "marl")

# ArchGym's lottery: a small grid per agent (label -> agent kwargs), run at seed 0
LOTTERY_GRID: dict[str, dict[str, dict[str, Any]]] = {
    "tpe": {"startup=5": {"n_startup_trials": 5}, "startup=20": {"n_startup_trials": 20}},
    "nsga2": {"pop=10": {"population_size": 10}, "pop=40": {"population_size": 40}},
    "optuna-gp": {"startup=5": {"n_startup_trials": 5}, "startup=20": {"n_startup_trials": 20}},
    "botorch": {"init=5": {"n_init": 5}, "init=20": {"n_init": 20}, "refit=1": {"refit_every": 1}},
    "mcts": {"c=0.3": {"exploration": 0.3}, "c=1.5": {"exploration": 1.5}, "alpha=0.8": {"widening_alpha": 0.8}},
    "qlearning": {"lr=0.1": {"lr": 0.1}, "lr=0.6": {"lr": 0.6}, "eps=0.2": {"epsilon": 0.2}},
    "sb3-ppo": {"lr=1e-3": {"learning_rate": 1e-3}, "lr=1e-4": {"learning_rate": 1e-4}},
    "sb3-dqn": {"lr=3e-4": {"learning_rate": 3e-4}, "lr=3e-3": {"learning_rate": 3e-3}},
    "sb3-sac": {"lr=3e-4": {"learning_rate": 3e-4}, "lr=3e-3": {"learning_rate": 3e-3}},
    "haq": {"sigma=0.1": {"noise_sigma": 0.1}, "sigma=0.5": {"noise_sigma": 0.5}},
    "marl": {"lr=0.1": {"lr": 0.1}, "lr=0.5": {"lr": 0.5}, "eps=0.3": {"epsilon": 0.3}},
    "hasco": {"levels=6": {"budget_levels": [0, 0.2, 0.4, 0.6, 0.8, 1.0]}},
}


def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--problem", default="digits-accel-small", help="registered problem (default digits-accel-small)")
    p.add_argument("--budget", type=int, default=200, help="evaluations per run (default 200)")
    p.add_argument("--seeds", type=int, default=5, help="seeds per agent (default 5)")
    p.add_argument("--agents", default=None, help="comma-separated agents (default: every registered agent)")
    p.add_argument("--batch-size", type=int, default=4, help="designs per ask for ask/tell agents (default 4)")
    p.add_argument("--lottery-budget", type=int, default=None, help="budget of lottery runs (default budget/2; 0: none)")
    p.add_argument("--enumerate-limit", type=int, default=20000, help="enumerate spaces up to this size (default 20000)")
    p.add_argument("--jobs", type=int, default=1, help="parallel processes (default 1)")
    p.add_argument("--out", default="docs/results", help="directory of the table and plot (default docs/results)")
    p.add_argument("--store", default=None, help="store of the runs (default: a temporary one)")
    p.add_argument("--smoke", action="store_true", help="CI: budget 30, 2 seeds, 6 agents, no lottery, no files")
    p.add_argument("--json", action="store_true", help="print one JSON document")


def _one(problem: str, agent: str, seed: int, budget: int, batch: int, store: str, kwargs: dict[str, Any],
         label: str) -> dict[str, Any]:
    """Run one agent × seed (in a worker process); return its records' objective data."""
    from codesign.runner import run

    t0 = time.perf_counter()
    try:
        res = run(problem, agent, budget=budget, seed=seed, store=store, batch_size=batch, agent_kwargs=kwargs,
                  name=f"{problem}/{agent}{label}/seed{seed}")
    except Exception as exc:  # one broken agent must not end the benchmark
        return {"agent": agent, "seed": seed, "label": label, "error": f"{type(exc).__name__}: {exc}"}
    wall = time.perf_counter() - t0
    recs = res.records
    evals = sum(r.eval_seconds for r in recs)
    return {"agent": agent, "seed": seed, "label": label, "records": recs, "wall_s": wall,
            "overhead_s": max(0.0, wall - evals) / max(1, len(recs))}


def bench_agents_command(args: argparse.Namespace) -> int:
    import numpy as np

    import codesign
    from codesign.cli.common import print_json
    from codesign.results.agent_bench import AgentResult, markdown_table, plot_traces, summarize
    from codesign.results.pareto import hypervolume, non_dominated_mask, reference_point
    from codesign.results.summary import hv_trace, objective_matrix, shared_reference

    if args.smoke:
        args.budget, args.seeds, args.lottery_budget = min(args.budget, 30), min(args.seeds, 2), 0
        args.agents = args.agents or ",".join(SMOKE_AGENTS)
    for label, value in (("budget", args.budget), ("seeds", args.seeds), ("batch-size", args.batch_size), ("jobs", args.jobs)):
        if value < 1:
            print(f"codesign bench agents: --{label} must be >= 1, but got {value}", file=sys.stderr)
            return 2
    known = codesign.registry("agent").names()
    agents = [a.strip() for a in args.agents.split(",")] if args.agents else known
    unknown = [a for a in agents if a not in known]
    if unknown:
        print(f"codesign bench agents: unknown agents {unknown} (known: {', '.join(known)})", file=sys.stderr)
        return 2
    problem = codesign.make_problem(args.problem)
    objectives = list(problem.objectives)
    dirs = [o.direction.value for o in objectives]
    lottery_budget = args.budget // 2 if args.lottery_budget is None else args.lottery_budget
    store = args.store or tempfile.mkdtemp(prefix="codesign-bench-")

    t0 = time.perf_counter()
    exact_hv = front_size = None
    ref = None
    if problem.space.size <= args.enumerate_limit:
        designs = list(problem.space.enumerate(args.enumerate_limit))
        metrics = problem.evaluate_many(designs)
        ok = [m for m in metrics if m.feasible and all(o.name in m.values for o in objectives)]
        pts = np.array([[m.values[o.name] for o in objectives] for m in ok], dtype=float)
        ref = reference_point(pts, dirs, fixed=[o.ref for o in objectives])
        front = pts[non_dominated_mask(pts, dirs)]
        exact_hv, front_size = hypervolume(front, dirs, ref), int(len(np.unique(front, axis=0)))
    enum_s = time.perf_counter() - t0

    jobs = [(a, s, args.budget, {}, "") for a in agents for s in range(args.seeds)]
    if lottery_budget:
        jobs += [(a, 0, lottery_budget, kw, f"@{lab}") for a in agents for lab, kw in LOTTERY_GRID.get(a, {}).items()]
    outs = _run_all(args.problem, jobs, args.batch_size, store, args.jobs)

    if ref is None:
        ref = shared_reference([o["records"] for o in outs if "records" in o], objectives)
    results = {a: AgentResult(a) for a in agents}
    for o in outs:
        r = results[o["agent"]]
        if "error" in o:
            r.errors.append(f"seed {o['seed']}{o['label']}: {o['error']}")
            continue
        trace = hv_trace(o["records"], objectives, ref) if ref is not None else [0.0] * len(o["records"])
        if o["label"]:
            r.lottery[o["label"][1:]] = trace[-1] if trace else 0.0
        else:
            r.traces.append(trace)
            r.overhead_s.append(o["overhead_s"])
            r.wall_s.append(o["wall_s"])
    for r in results.values():  # the default setting is one point of the lottery grid
        if r.lottery and r.traces:
            r.lottery["default"] = float(np.median([t[min(lottery_budget, len(t)) - 1] for t in r.traces if t]))
    rows = summarize(list(results.values()), args.budget, exact_hv)
    doc = {"problem": args.problem, "budget": args.budget, "seeds": args.seeds, "batch_size": args.batch_size,
           "reference_point": ref, "exact_hv": exact_hv, "exact_front_size": front_size,
           "enumeration_s": enum_s if exact_hv is not None else None, "lottery_budget": lottery_budget,
           "objectives": [o.to_dict() for o in objectives], "agents": rows}
    best = max((r for r in rows if r.get("ratio_median") is not None), key=lambda r: r["ratio_median"], default=None)
    if best is not None:
        doc["best_agent"] = {"agent": best["agent"], "ratio_median": best["ratio_median"]}
    if not args.smoke:
        os.makedirs(args.out, exist_ok=True)
        stem = os.path.join(args.out, f"agents-{args.problem}")
        notes = [f"Problem `{args.problem}`, budget {args.budget} evaluations, {args.seeds} seeds, batch size "
                 f"{args.batch_size} for ask/tell agents; reference point {[round(v, 6) for v in ref or []]} "
                 f"({', '.join(f'{o.name} ({o.direction.value})' for o in objectives)}).",
                 "Overhead = (run wall time − evaluation time) / evaluations. Lottery spread = (best − worst) / best "
                 f"final HV over the agent's hyperparameter grid at budget {lottery_budget} (seed 0)."]
        if exact_hv is not None:
            notes.append(f"Exact front by enumeration of all {problem.space.size} designs: {front_size} points, "
                         f"HV {exact_hv:.6g}.")
        notes.append("Regenerate: `codesign bench agents " + " ".join(sys.argv[3:]) + "`")
        with open(stem + ".md", "w") as fh:
            fh.write(markdown_table(rows, f"Agents benchmark: {args.problem}", notes))
        doc["table"] = stem + ".md"
        doc["plot"] = stem + ".png" if plot_traces(list(results.values()), args.budget, stem + ".png",
                                                   f"{args.problem}: median HV, IQR over {args.seeds} seeds",
                                                   exact_hv) else None
    if args.json:
        print_json(doc)
    else:
        from codesign.results.agent_bench import markdown_table as _mt

        print(_mt(rows, f"Agents benchmark: {args.problem}"))
    return 0


def _run_all(problem: str, jobs: list[tuple[str, int, int, dict[str, Any], str]], batch: int, store: str,
             workers: int) -> list[dict[str, Any]]:
    if workers <= 1:
        return [_one(problem, a, s, b, batch, os.path.join(store, f"{a}{lab}-{s}"), kw, lab) for a, s, b, kw, lab in jobs]
    with ProcessPoolExecutor(workers) as pool:
        futs = [pool.submit(_one, problem, a, s, b, batch, os.path.join(store, f"{a}{lab}-{s}"), kw, lab)
                for a, s, b, kw, lab in jobs]
        return [f.result() for f in futs]
