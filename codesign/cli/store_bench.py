"""``codesign bench store``: records per second of the store alone, the former store measured
in the same run, 1 and 3 concurrent writer processes; and the store's share of a real run.

Configurations (interleaved, ``--repeats`` times; medians reported):

- ``former-journal``: the store codesign had before (an optuna study per run in optuna's
  journal file, ``JournalFileOpenLock``), written the way it wrote a record: a RUNNING trial,
  its constraint, its payload, its final state — four appends with four fsyncs;
- ``sqlite-1`` / ``sqlite-B``: the embedded store, reserving and finishing 1 or ``--batch``
  records per transaction (the default ``CODESIGN_STORE_SYNC=normal``: commits survive any
  process death); ``-full``: each finishing commit also flushed to disk (one fsync per batch);
- ``postgres-...`` likewise with ``--postgres`` (a URL, or ``auto``: a throwaway server).

Every writer writes ``--records`` records of the default problem (real metrics and breakdown)
into one shared run, as the workers of a shared run do. Then a ``--share-budget``-evaluation
inline run of the default problem reports the time spent in store transactions over its wall time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from typing import Any

from codesign.errors import ConfigError

META = {"problem": "bench", "objectives": [], "agent": "bench", "seed": 0}


def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--records", type=int, default=200, help="records per writer (default 200)")
    p.add_argument("--batch", type=int, default=16, help="records per transaction of the batched rows (default 16)")
    p.add_argument("--writers", default="1,3", help="comma-separated writer-process counts (default 1,3)")
    p.add_argument("--repeats", type=int, default=3, help="repetitions, interleaved (default 3)")
    p.add_argument("--postgres", default="", help="also a PostgreSQL store: a URL, or 'auto' (a throwaway server)")
    p.add_argument("--share-budget", type=int, default=200,
                   help="evaluations of the default problem for the store-share run (0: skip; default 200)")
    p.add_argument("--json", action="store_true", help="print one JSON document")


def _records(n: int, seed: int) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    """``n`` designs of the default problem, one real evaluation's metrics, and the objectives."""
    import codesign

    problem = codesign.make_problem("digits-accel")
    designs = [problem.space.sample(seed * 100_000 + i) for i in range(n)]
    metrics = problem.evaluate(designs[0])
    return [d.to_dict() for d in designs], metrics.to_dict(), [o.to_dict() for o in problem.objectives]


def _open_former(path: str, run: str, worker: str, designs: list[dict[str, Any]], metrics: dict[str, Any],
                 objectives: list[dict[str, Any]]) -> Any:
    """The former store's write path, per record (codesign before the SQL schema)."""
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

    import codesign
    from codesign.spaces.convert.optuna_dists import optuna_encode, to_optuna
    from codesign.types import Design, EvalRecord, EvalState, Metrics, Objective

    space = codesign.make_problem("digits-accel").space
    dists = to_optuna(space)
    objs = [Objective.parse(o) for o in objectives]
    storage = optuna.storages.JournalStorage(JournalFileBackend(path, lock_obj=JournalFileOpenLock(path)))
    study_id = storage.get_study_id_from_name(run)
    m = Metrics.from_dict(metrics)

    def write() -> None:
        for d in designs:
            design = Design(d)
            params = optuna_encode(space, design)
            rec = EvalRecord(design, Metrics(), EvalState.RUNNING, "bench", 0, worker=worker)
            template = optuna.trial.FrozenTrial(
                number=-1, state=optuna.trial.TrialState.RUNNING, value=None, values=None, datetime_start=None,
                datetime_complete=None, params=params, distributions={k: dists[k] for k in params},
                user_attrs={"codesign": rec.to_dict()}, system_attrs={}, intermediate_values={}, trial_id=-1)
            tid = storage.create_new_trial(study_id, template_trial=template)
            rec = EvalRecord(design, m, EvalState.COMPLETE, "bench", 0, 0.01, worker=worker)
            storage.set_trial_system_attr(tid, "constraints:violation", 0.0)
            storage.set_trial_user_attr(tid, "codesign", rec.to_dict())
            storage.set_trial_state_values(tid, optuna.trial.TrialState.COMPLETE, m.objective_values(objs))
    return write


def _open_store(location: str, run: str, worker: str, designs: list[dict[str, Any]], metrics: dict[str, Any],
                batch: int) -> Any:
    """The store's write path: reserve a batch, finish it (as the runner does)."""
    from codesign.results.store import Store
    from codesign.types import Design, EvalRecord, EvalState, Metrics

    the_run = Store(location).open_run(run)
    lease = the_run.lease(worker)
    m = Metrics.from_dict(metrics)

    def write() -> None:
        try:
            for i in range(0, len(designs), batch):
                chunk = [Design(d) for d in designs[i:i + batch]]
                recs = [EvalRecord(d, Metrics(), EvalState.RUNNING, "bench", 0, worker=worker) for d in chunk]
                nums = the_run.reserve_many(recs)
                the_run.finish_many([(n, EvalRecord(d, m, EvalState.COMPLETE, "bench", 0, 0.01, worker=worker))
                                     for n, d in zip(nums, chunk)])
        finally:
            lease.release()
    return write


def _writer(kind: str, location: str, run: str, worker: str, designs: list[dict[str, Any]], metrics: dict[str, Any],
            objectives: list[dict[str, Any]], batch: int, sync: str, barrier: Any, out: Any) -> None:
    os.environ["CODESIGN_STORE_SYNC"] = sync
    if kind == "former":
        write = _open_former(location, run, worker, designs, metrics, objectives)
    else:
        write = _open_store(location, run, worker, designs, metrics, batch)
    barrier.wait()  # every writer has opened its store: measure the writes alone
    t0 = time.time()
    write()
    out.put((t0, time.time()))


def _prepare(kind: str, location: str, run: str, objectives: list[dict[str, Any]]) -> None:
    if kind == "former":
        import optuna
        from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage = optuna.storages.JournalStorage(JournalFileBackend(location, lock_obj=JournalFileOpenLock(location)))
        optuna.create_study(study_name=run, storage=storage, directions=["minimize"] * len(objectives))
    else:
        from codesign.results.store import Store

        Store(location).create_run(run, {**META, "objectives": objectives})


def measure(kind: str, location: str, run: str, writers: int, data: tuple[Any, ...], batch: int, sync: str) -> float:
    """Records per second of ``writers`` concurrent processes writing into one run."""
    import multiprocessing

    designs, metrics, objectives = data
    _prepare(kind, location, run, objectives)
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(writers), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(kind, location, run, f"w{k}", designs[k], metrics, objectives, batch,
                                                sync, barrier, out)) for k in range(writers)]
    for p in procs:
        p.start()
    spans = [out.get(timeout=1800) for _ in procs]
    for p in procs:
        p.join()
        if p.exitcode:
            raise RuntimeError(f"a {kind} writer failed (exit code {p.exitcode})")
    wall = max(e for _, e in spans) - min(s for s, _ in spans)
    return sum(len(designs[k]) for k in range(writers)) / wall


def store_share(budget: int, location: str) -> dict[str, Any]:
    """Store seconds over wall seconds of an inline run of the default problem."""
    from codesign.runner import run

    t0 = time.perf_counter()
    res = run("digits-accel", "random", budget, 0, location, share_cache=False)
    wall = time.perf_counter() - t0
    return {"evaluations": len(res.records), "wall_s": round(wall, 3), "store_s": round(res.store_seconds, 3),
            "store_share": round(res.store_seconds / wall, 4),
            "eval_s": round(sum(r.eval_seconds for r in res.records), 3)}


def bench_store_command(args: argparse.Namespace) -> int:
    from codesign.cli.common import console, print_json
    from codesign.cli.scale import counts

    writer_counts = counts(args.writers, "--writers")
    for name in ("records", "batch", "repeats"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name} must be an integer >= 1, but got {getattr(args, name)}")
    if args.share_budget < 0:
        raise ConfigError(f"--share-budget must be >= 0, but got {args.share_budget}")
    server = None
    pg = args.postgres
    if pg == "auto":
        from codesign.testing.postgres import PostgresServer

        server = PostgresServer(max_connections=200)
        pg = server.url
    kinds = [("former-journal", "former", 1, "normal")]
    for store in ["sqlite"] + (["postgres"] if pg else []):
        for batch in (1, args.batch):
            kinds += [(f"{store}-{batch}", store, batch, "normal"), (f"{store}-{batch}-full", store, batch, "full")]
    samples: dict[tuple[str, int], list[float]] = {}
    data = {w: _records(args.records * w, 1) for w in writer_counts}
    try:
        with tempfile.TemporaryDirectory(prefix="codesign-bench-store-") as tmp:
            for rep in range(args.repeats):
                for label, kind, batch, sync in kinds:
                    for w in writer_counts:
                        designs, metrics, objectives = data[w]
                        split = [designs[k * args.records:(k + 1) * args.records] for k in range(w)]
                        run = f"{label}-{w}-{rep}"
                        location = {"former": os.path.join(tmp, f"{run}.journal"), "sqlite": os.path.join(tmp, run),
                                    "postgres": pg}[kind]
                        rate = measure(kind, location, run, w, (split, metrics, objectives), batch, sync)
                        samples.setdefault((label, w), []).append(rate)
            share = store_share(args.share_budget, os.path.join(tmp, "share")) if args.share_budget else None
    finally:
        if server is not None:
            server.close()
    rows = []
    for (label, w), rates in samples.items():
        base = statistics.median(samples[("former-journal", w)])
        med = statistics.median(rates)
        rows.append({"store": label, "writers": w, "records_per_s": round(med, 1), "vs_former": round(med / base, 2),
                     "samples": [round(r, 1) for r in rates]})
    former_1 = statistics.median(samples[("former-journal", min(writer_counts))])
    if share:
        # the former store's cost for the same records, from its rate measured above
        former_s = share["evaluations"] / former_1
        share["former_store_share_estimate"] = round(former_s / (share["wall_s"] - share["store_s"] + former_s), 4)
    doc = {"records_per_writer": args.records, "batch": args.batch, "repeats": args.repeats,
           "load_average": [round(x, 2) for x in os.getloadavg()], "cpu_count": os.cpu_count(),
           "results": rows, "run_share": share}
    if args.json:
        print_json(doc)
        return 0
    from rich.table import Table

    table = Table(title=f"bench store: {args.records} records per writer, median of {args.repeats}, "
                  f"load {doc['load_average'][0]}", title_justify="left")
    for col in ("store", "writers", "records/s", "vs former"):
        table.add_column(col, justify="left" if col == "store" else "right")
    for r in rows:
        table.add_row(r["store"], str(r["writers"]), f"{r['records_per_s']:.0f}", f"{r['vs_former']:.2f}")
    con = console()
    con.print(table)
    if share:
        con.print(f"store share of a {share['evaluations']}-evaluation run of digits-accel: "
                  f"{100 * share['store_share']:.1f}% ({share['store_s']:.2f} of {share['wall_s']:.2f} s); "
                  f"the former store, from its rate above: {100 * share['former_store_share_estimate']:.1f}%")
    return 0
