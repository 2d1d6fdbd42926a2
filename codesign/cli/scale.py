"""``codesign bench scale``: evaluations per second with 1..W workers, process pool and Ray.

Every configuration runs the same seeded random search (same designs) on the same problem
into a fresh temporary store, without the store-wide cache, so each one evaluates every design.
Scaling efficiency = (evals/s with W workers) / (W x evals/s with 1 worker of the same executor).
The pool / Ray start-up is excluded (workers are warmed with one batch first) and reported apart.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from typing import Any

from codesign.errors import ConfigError


def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--problem", default="digits-accel", help="registered problem (default digits-accel)")
    p.add_argument("--budget", type=int, default=96, help="evaluations per configuration (default 96)")
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts (default 1,2)")
    p.add_argument("--executors", default="process,ray", help="comma-separated executors (default process,ray)")
    p.add_argument("--batch-size", type=int, default=16, help="designs per ask (default 16)")
    p.add_argument("--plugin", action="append", default=[], help="plugin file registering the problem")
    p.add_argument("--json", action="store_true", help="print one JSON document")


def _counts(text: str) -> list[int]:
    try:
        counts = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"--workers must be comma-separated integers, but got {text!r}") from None
    if not counts or min(counts) < 1:
        raise ConfigError(f"--workers must be integers >= 1, but got {text!r}")
    return counts


def measure(problem_name: str, executor: str, workers: int, budget: int, batch: int, plugins: list[str]) -> dict[str, Any]:
    from codesign.config import build_problem, problem_spec
    from codesign.executors import make_executor
    from codesign.runner import run

    spec = problem_spec(problem_name, None, plugins)
    problem = build_problem(spec)
    t0 = time.perf_counter()
    ex = make_executor(executor, workers, spec)
    try:
        warm = [problem.space.sample(10_000 + i) for i in range(max(workers, 2) * 2)]
        ex.evaluate(problem, warm)  # start workers and build the problem in each
        startup = time.perf_counter() - t0
        with tempfile.TemporaryDirectory() as tmp:
            t1 = time.perf_counter()
            res = run(problem, "random", budget, 0, tmp, batch_size=batch, executor=ex, share_cache=False)
            wall = time.perf_counter() - t1
    finally:
        ex.close()
    evaluated = sum(1 for r in res.records if not r.cached)
    return {"executor": executor, "workers": workers, "evaluations": evaluated, "wall_s": round(wall, 3),
            "evals_per_s": round(evaluated / wall, 2), "startup_s": round(startup, 2)}


def bench_scale_command(args: argparse.Namespace) -> int:
    import os

    from codesign.cli.common import console, print_json
    from codesign.registry import load_plugin

    for p in args.plugin:
        load_plugin(p)
    counts = _counts(args.workers)
    executors = [e.strip() for e in args.executors.split(",") if e.strip()]
    bad = [e for e in executors if e not in ("inline", "process", "ray")]
    if bad or not executors:
        raise ConfigError(f"--executors must be among inline, process, ray, but got {args.executors!r}")
    if args.budget < 1 or args.batch_size < 1:
        raise ConfigError(f"--budget and --batch-size must be >= 1, but got {args.budget} and {args.batch_size}")
    rows = [measure(args.problem, "inline", 1, args.budget, args.batch_size, args.plugin)]
    for ex in executors:
        if ex == "inline":
            continue
        for w in counts:
            rows.append(measure(args.problem, ex, w, args.budget, args.batch_size, args.plugin))
    for row in rows:
        base = next(r for r in rows if r["executor"] == row["executor"] and r["workers"] == min(counts)
                    ) if row["executor"] != "inline" else row
        scale = row["evals_per_s"] / base["evals_per_s"] if base["evals_per_s"] else 0.0
        row["speedup_vs_fewest_workers"] = round(scale, 3)
        row["efficiency"] = round(scale / (row["workers"] / base["workers"]), 3)
    doc = {"problem": args.problem, "budget": args.budget, "batch_size": args.batch_size,
           "cpu_count": os.cpu_count(), "results": rows}
    if args.json:
        print_json(doc)
        return 0
    from rich.table import Table

    table = Table(title=f"bench scale: {args.problem}, {args.budget} evaluations, {os.cpu_count()} CPUs",
                  title_justify="left")
    for col in ("executor", "workers", "evals/s", "speed-up", "efficiency", "start-up s"):
        table.add_column(col, justify="right" if col != "executor" else "left")
    for r in rows:
        table.add_row(r["executor"], str(r["workers"]), f"{r['evals_per_s']:.1f}", f"{r['speedup_vs_fewest_workers']:.2f}",
                      f"{r['efficiency']:.2f}", f"{r['startup_s']:.1f}")
    console().print(table)
    return 0
