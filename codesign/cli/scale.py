"""``codesign bench scale``: evaluations per second with 1..W workers, process pool and Ray.

Every configuration runs the same seeded random search (same designs) on the same problem
into a fresh store (a temporary directory, or ``--store`` / ``--store postgres`` for a
throwaway PostgreSQL server), without the store-wide cache and with its own empty directory of
memoized probe answers (``$CODESIGN_PROBE_RESULTS``), so each one evaluates every design, real
accuracy probes included (models, layer manifests and calibration statistics stay cached: they
are set-up, paid once per machine).
Rows report evaluations/s, the speed-up over the inline executor measured in the same run
(``vs_inline``) and over the fewest workers of the same executor, the store's share of the
driver's wall time, and a check of the run: records lost (finished records short of the
budget), evaluated twice, or left in flight — all must be 0. Pool / Ray start-up is excluded
(workers are warmed with one batch first) and reported apart.

``--sleep S`` simulates a cluster larger than this machine: the ``bench-sleep`` problem, whose
evaluations sleep ``S`` seconds CPU-free (:mod:`codesign.testing.sleep_problem`); the ideal is
``workers / S`` evaluations per second (``vs_ideal``), and there is no inline row.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter
from typing import Any

from codesign.errors import ConfigError


def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--problem", default="digits-accel", help="registered problem (default digits-accel)")
    p.add_argument("--budget", type=int, default=96, help="evaluations per configuration (default 96)")
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts (default 1,2)")
    p.add_argument("--executors", default="process,ray", help="comma-separated executors (default process,ray)")
    p.add_argument("--batch-size", type=int, default=16, help="designs per ask (default 16; 0: as many as workers)")
    p.add_argument("--plugin", action="append", default=[], help="plugin file registering the problem")
    p.add_argument("--sleep", type=float, default=None, metavar="S",
                   help="simulate: evaluations sleep S seconds CPU-free (problem bench-sleep)")
    p.add_argument("--store", default=None, help="store for the runs: a URL, 'postgres' (a throwaway server), "
                   "or empty for a temporary embedded store per configuration")
    p.add_argument("--worker-writes", choices=("no", "yes", "both"), default="no",
                   help="executor workers write their own records (concurrent writers) instead of the driver "
                   "writing each batch; both: measure each way in the same run (default no)")
    p.add_argument("--ray-processes", type=int, default=None, metavar="N",
                   help="run the Ray workers in N actor processes (threads; for --sleep simulations larger than "
                   "this machine's memory; default: one process per worker)")
    p.add_argument("--json", action="store_true", help="print one JSON document")


def counts(text: str, flag: str = "--workers") -> list[int]:
    try:
        out = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"{flag} must be comma-separated integers, but got {text!r}") from None
    if not out or min(out) < 1:
        raise ConfigError(f"{flag} must be integers >= 1, but got {text!r}")
    return out


def check(records: list[Any], budget: int) -> dict[str, int]:
    """Lost (finished short of the budget), duplicated (a design evaluated twice, or a number
    twice), in flight; all 0 for a sound run."""
    live = [r for r in records if not r.orphaned and r.state.value != "running"]
    evaluated = Counter(r.design.key for r in live if not r.cached)
    numbers = Counter(r.number for r in records)
    return {"records": len(live), "lost": max(0, budget - len(live)),
            "duplicated": sum(c - 1 for c in evaluated.values()) + sum(c - 1 for c in numbers.values()),
            "in_flight": sum(1 for r in records if r.state.value == "running")}


def measure(spec: dict[str, Any], executor: str, workers: int, budget: int, batch: int, store: str | None,
            name: str, worker_writes: bool | None, ray_processes: int | None = None) -> dict[str, Any]:
    from codesign.config import build_problem
    from codesign.evaluators.accuracy.probe import RESULTS_ENV
    from codesign.executors import make_executor
    from codesign.results.store import Store
    from codesign.runner import run

    answers = tempfile.TemporaryDirectory(prefix="codesign-probe-answers-")
    before = os.environ.get(RESULTS_ENV)
    os.environ[RESULTS_ENV] = answers.name  # read by this process and by the workers started below
    problem = build_problem(spec)
    t0 = time.perf_counter()
    ex = None
    try:
        ex = make_executor(executor, workers, spec, processes=ray_processes if executor == "ray" else None)
        warm = [problem.space.sample(10_000 + i) for i in range(max(workers, 2) * 2)]
        ex.evaluate(problem, warm)  # start workers and build the problem in each
        startup = time.perf_counter() - t0
        with tempfile.TemporaryDirectory() as tmp:
            location = store or tmp
            t1 = time.perf_counter()
            res = run(problem, "random", budget, 0, location, batch_size=batch or workers, executor=ex,
                      share_cache=False, name=name, worker_writes=worker_writes)
            wall = time.perf_counter() - t1
            result = check(Store(location, create=False).open_run(name).records(include_running=True), budget)
    finally:
        if ex is not None:
            ex.close()
        if before is None:
            os.environ.pop(RESULTS_ENV, None)
        else:
            os.environ[RESULTS_ENV] = before
        answers.cleanup()
    evaluated = sum(1 for r in res.records if not r.cached)
    return {"executor": executor, "workers": workers, "evaluations": evaluated, "wall_s": round(wall, 3),
            "evals_per_s": round(evaluated / wall, 2), "startup_s": round(startup, 2),
            "store_share": round(res.store_seconds / wall, 4), **result}


def bench_scale_command(args: argparse.Namespace) -> int:
    from codesign.cli.common import console, print_json, stdout_for_json
    from codesign.config import problem_spec
    from codesign.registry import load_plugin

    for p in args.plugin:
        load_plugin(p)
    worker_counts = counts(args.workers)
    executors = [e.strip() for e in args.executors.split(",") if e.strip()]
    bad = [e for e in executors if e not in ("inline", "process", "ray")]
    if bad or not executors:
        raise ConfigError(f"--executors must be among inline, process, ray, but got {args.executors!r}")
    if args.budget < 1 or args.batch_size < 0:
        raise ConfigError(f"--budget must be >= 1 and --batch-size >= 0, but got {args.budget} and {args.batch_size}")
    if args.sleep is not None and not 0 < args.sleep <= 60:
        raise ConfigError(f"--sleep must be in (0, 60] seconds, but got {args.sleep}")
    plugins = list(args.plugin)
    problem: Any = args.problem
    if args.sleep is not None:
        from codesign.testing.sleep_problem import NAME, PLUGIN

        plugins.append(PLUGIN)
        load_plugin(PLUGIN)
        problem = {"name": NAME, "kwargs": {"sleep_s": args.sleep}}
    spec = problem_spec(problem, None, plugins)
    writes = {"no": [False], "yes": [True], "both": [False, True]}[args.worker_writes]
    server = None
    store = args.store
    if store == "postgres":
        from codesign.testing.postgres import PostgresServer

        server = PostgresServer(max_connections=max(100, 2 * max(worker_counts) + 20))
        store = server.url
    rows = []
    try:
        configs = [] if args.sleep is not None else [("inline", 1, False)]
        configs += [(ex, w, ww) for ex in executors if ex != "inline" for w in worker_counts for ww in writes]
        with stdout_for_json(args.json):
            for k, (ex, w, ww) in enumerate(configs):
                row = measure(spec, ex, w, args.budget, args.batch_size, store, f"scale-{k}-{ex}-{w}", ww,
                              args.ray_processes)
                rows.append({**row, "worker_writes": ww})
    finally:
        if server is not None:
            server.close()
    inline = next((r for r in rows if r["executor"] == "inline"), None)
    for row in rows:
        peers = [r for r in rows if r["executor"] == row["executor"] and r["worker_writes"] == row["worker_writes"]]
        base = min(peers, key=lambda r: r["workers"])
        scale = row["evals_per_s"] / base["evals_per_s"] if base["evals_per_s"] else 0.0
        row["speedup_vs_fewest_workers"] = round(scale, 3)
        row["efficiency"] = round(scale / (row["workers"] / base["workers"]), 3)
        if inline is not None:
            row["vs_inline"] = round(row["evals_per_s"] / inline["evals_per_s"], 3)
        if args.sleep is not None:
            row["vs_ideal"] = round(row["evals_per_s"] / (row["workers"] / args.sleep), 3)
    doc = {"problem": problem, "budget": args.budget, "batch_size": args.batch_size, "sleep_s": args.sleep,
           "ray_processes": args.ray_processes,
           "store": "temporary embedded" if store is None else ("postgres (throwaway server)" if server else store),
           "cpu_count": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()], "results": rows}
    if args.json:
        print_json(doc)
        return 0
    from rich.table import Table

    title = f"bench scale: {args.problem if args.sleep is None else f'sleep {args.sleep:g} s'}, {args.budget} " \
            f"evaluations, {os.cpu_count()} CPUs, load {doc['load_average'][0]}"
    table = Table(title=title, title_justify="left")
    ratio = "vs ideal" if args.sleep is not None else "vs inline"
    for col in ("executor", "workers", "writes", "evals/s", ratio, "efficiency", "store share", "lost", "dup",
                "start-up s"):
        table.add_column(col, justify="right" if col != "executor" else "left")
    for r in rows:
        table.add_row(r["executor"], str(r["workers"]), "workers" if r["worker_writes"] else "driver",
                      f"{r['evals_per_s']:.1f}",
                      f"{r.get('vs_ideal', r.get('vs_inline', 1.0)):.2f}", f"{r['efficiency']:.2f}",
                      f"{100 * r['store_share']:.1f}%", str(r["lost"]), str(r["duplicated"]), f"{r['startup_s']:.1f}")
    console().print(table)
    return 0
