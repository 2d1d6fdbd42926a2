"""``codesign bench torture``: concurrent workers on one store, one of them SIGKILLed again and
again, junk injected; then count records lost, duplicated, left in flight, and unreadable reads.

Three ``codesign run`` workers (``w0``, ``w1``, ``victim``) share one run of the ``bench-sleep``
problem. The victim writes large records (``--payload-kb`` per record, so kills land
mid-transaction); it is restarted and SIGKILLed at a random point ``--kills`` times (each
restart resumes it), then runs to its end. ``w0`` and ``w1`` write all along (slower evaluations,
``--survivor-budget`` each). Meanwhile, every ``--junk-every`` kills:

- embedded store: random bytes are appended to the write-ahead log (``codesign.db-wal``), the
  SQLite equivalent of a junk line, while the other workers write;
- both stores: a writer is killed inside a transaction that inserted garbage records
  (a killed transaction must leave nothing).

A reader process reads the whole store in a loop throughout; every read that fails counts as
an unreadable store. At the end each worker must hold exactly its budget of finished records,
no design evaluated twice, nothing in flight.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

from codesign.errors import ConfigError

RUN = "torture"
READER = r"""
import sys, time
from codesign.results.store import Store
ok = bad = 0
while True:
    try:
        s = Store(sys.argv[1], create=False)
        for r in s.runs():
            r.records(include_running=True)
        s.close()
        ok += 1
    except Exception as exc:
        if "no codesign store" not in str(exc):
            bad += 1
            print("UNREADABLE", type(exc).__name__, str(exc)[:200], file=sys.stderr, flush=True)
    print(ok, bad, flush=True)
    time.sleep(0.2)
"""
KILLED_TX = r"""
import sys, time
loc = sys.argv[1]
if loc.startswith("postgres"):
    import psycopg2
    conn = psycopg2.connect(loc)
    cur = conn.cursor()
    q = "%s"
else:
    import sqlite3
    conn = sqlite3.connect(loc + "/codesign.db", isolation_level=None, timeout=30)
    cur = conn.cursor()
    cur.execute("BEGIN IMMEDIATE")
    q = "?"
for k in range(50):
    cur.execute(f"INSERT INTO codesign_records (run, number, worker, state, orphaned, owner, design_key, payload, updated)"
                f" VALUES ({q}, {q}, 'junk', 'complete', 0, 'junk', 'junk', {q}, 0)",
                ("torture", 10**9 + k, "{not json" + "x" * 100000))
print("IN", flush=True)
time.sleep(600)
"""


def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", default=None, help="store: a directory (default: a temporary one), a URL, "
                   "or 'postgres' (a throwaway server)")
    p.add_argument("--kills", type=int, default=50, help="SIGKILLs of the victim worker (default 50)")
    p.add_argument("--budget", type=int, default=800, help="evaluations of the victim (default 800)")
    p.add_argument("--survivor-budget", type=int, default=1200,
                   help="evaluations of each of the two other workers (default 1200; at 0.25 s each they "
                   "write while the victim is killed)")
    p.add_argument("--payload-kb", type=int, default=256, help="size of each victim record's breakdown "
                   "(default 256 KB: a batch of 4 is a 1 MB transaction, so kills land mid-write)")
    p.add_argument("--sleep", type=float, default=0.05, help="seconds per evaluation of the victim (default 0.05)")
    p.add_argument("--junk-every", type=int, default=5, help="inject junk every N kills (default 5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the kill times (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON document")


def _worker(store: str, cfg: str, name: str) -> subprocess.Popen:
    exe = os.path.join(os.path.dirname(sys.executable), "codesign")
    return subprocess.Popen([exe, "run", cfg, "--store", store, "--worker", name, "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _count(store: str, worker: str) -> int:
    from codesign.errors import StoreError
    from codesign.results.store import Store

    try:
        recs = Store(store, create=False).open_run(RUN).records(include_running=True)
    except StoreError:
        return -1
    return sum(1 for r in recs if r.worker == worker)


def _killed_transaction(store: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", KILLED_TX, store], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    proc.stdout.readline()  # inside its transaction
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _config(tmp: str, name: str, sleep_s: float, payload_kb: int, budget: int) -> str:
    from codesign.testing.sleep_problem import NAME, PLUGIN

    cfg = os.path.join(tmp, f"{name}.yaml")
    with open(cfg, "w", encoding="utf-8") as fh:
        fh.write(f"plugins: [{PLUGIN}]\nproblem: {{name: {NAME}, kwargs: {{sleep_s: {sleep_s}, payload_kb: {payload_kb}}}}}\n"
                 f"agent: random\nbudget: {budget}\nbatch_size: 4\nname: {RUN}\n")
    return cfg


def torture(store: str, kills: int, budgets: dict[str, int], payload_kb: int, sleep_s: float, junk_every: int,
            seed: int, tmp: str) -> dict[str, Any]:
    rng = random.Random(seed)
    cfg = _config(tmp, "victim", sleep_s, payload_kb, budgets["victim"])
    steady = _config(tmp, "survivor", 0.25, 16, budgets["w0"])
    embedded = not store.startswith("postgres")
    t0 = time.perf_counter()
    survivors = [_worker(store, steady, f"w{k}") for k in range(2)]
    reader = subprocess.Popen([sys.executable, "-c", READER, store], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    landed = junk = killed_tx = 0
    for k in range(kills):
        before = _count(store, "victim")
        victim = _worker(store, cfg, "victim")
        deadline = time.monotonic() + 120
        while victim.poll() is None and time.monotonic() < deadline and _count(store, "victim") <= before:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.8))
        if victim.poll() is None:
            victim.send_signal(signal.SIGKILL)
            landed += 1
        victim.wait()
        if (k + 1) % junk_every == 0:
            if embedded:
                with open(os.path.join(store, "codesign.db-wal"), "ab") as fh:
                    fh.write(os.urandom(rng.randrange(1, 1 << 16)))
                junk += 1
            _killed_transaction(store)
            killed_tx += 1
    survivors_alive = sum(1 for p in survivors if p.poll() is None)
    final = _worker(store, cfg, "victim")
    rcs = [p.wait() for p in [*survivors, final]]
    errors = [p.stderr.read().strip() for p in [*survivors, final] if p.returncode]
    wall = time.perf_counter() - t0
    reader.send_signal(signal.SIGKILL)
    out, err = reader.communicate()
    lines = [ln.split() for ln in out.splitlines() if ln.strip()]
    reads_ok, reads_bad = (int(lines[-1][0]), int(lines[-1][1])) if lines else (0, 0)
    return {"kills": landed, "junk_wal_appends": junk, "killed_transactions": killed_tx, "worker_rcs": rcs,
            "worker_errors": errors[:3], "reads": reads_ok + reads_bad, "unreadable_reads": reads_bad,
            "unreadable_examples": [ln for ln in err.splitlines() if ln.startswith("UNREADABLE")][:3],
            "survivors_running_at_last_kill": survivors_alive, "wall_s": round(wall, 1), **_verify(store, budgets)}


def _verify(store: str, budgets: dict[str, int]) -> dict[str, Any]:
    from collections import Counter

    from codesign.results.store import Store

    try:
        recs = Store(store, create=False).open_run(RUN).records(include_running=True)
    except Exception as exc:  # noqa: BLE001 - an unreadable store is the result
        return {"unreadable_store": f"{type(exc).__name__}: {exc}"[:300]}
    live = [r for r in recs if not r.orphaned and r.state.value != "running"]
    per = Counter(r.worker for r in live)
    evaluated = Counter(r.design.key for r in live if not r.cached)
    return {"unreadable_store": None, "records": len(live), "orphaned": sum(1 for r in recs if r.orphaned),
            "lost": sum(max(0, b - per[w]) for w, b in budgets.items()),
            "extra": sum(max(0, per[w] - budgets.get(w, 0)) for w in per),
            "duplicated": sum(c - 1 for c in evaluated.values()),
            "in_flight": sum(1 for r in recs if r.state.value == "running"),
            "failed": sum(1 for r in live if r.state.value == "failed"),
            "junk_records": sum(1 for r in recs if r.worker == "junk")}


def bench_torture_command(args: argparse.Namespace) -> int:
    from codesign.cli.common import console, print_json

    for name in ("kills", "budget", "survivor_budget", "junk_every"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be an integer >= 1, but got {getattr(args, name)}")
    if args.payload_kb < 0 or not 0 < args.sleep <= 10:
        raise ConfigError(f"--payload-kb must be >= 0 and --sleep in (0, 10], but got {args.payload_kb}, {args.sleep}")
    server = None
    with tempfile.TemporaryDirectory(prefix="codesign-torture-") as tmp:
        store = args.store or os.path.join(tmp, "store")
        if store == "postgres":
            from codesign.testing.postgres import PostgresServer

            server = PostgresServer()
            store = server.url
        try:
            budgets = {"w0": args.survivor_budget, "w1": args.survivor_budget, "victim": args.budget}
            doc = torture(store, args.kills, budgets, args.payload_kb, args.sleep, args.junk_every, args.seed, tmp)
        finally:
            if server is not None:
                server.close()
    doc.update({"store": "embedded (SQLite)" if not (args.store or "").startswith("postgres") else "PostgreSQL",
                "budgets": {"victim": args.budget, "w0": args.survivor_budget, "w1": args.survivor_budget},
                "payload_kb": args.payload_kb,
                "load_average": [round(x, 2) for x in os.getloadavg()]})
    if args.json:
        print_json(doc)
        return 0
    con = console()
    con.print(f"torture ({doc['store']}): {doc['kills']} SIGKILLs, {doc['junk_wal_appends']} junk WAL appends, "
              f"{doc['killed_transactions']} killed transactions, {doc.get('records')} records in {doc['wall_s']} s")
    con.print(f"lost {doc.get('lost')}, duplicated {doc.get('duplicated')}, in flight {doc.get('in_flight')}, "
              f"unreadable reads {doc['unreadable_reads']} of {doc['reads']}, unreadable store: {doc['unreadable_store']}")
    return 0
