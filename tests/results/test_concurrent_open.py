"""Opening an embedded store while other processes write it, or open it too, succeeds (found
by `codesign bench agents --jobs 2`: a run opening the shared store while the other job's runs
wrote it failed with "database is locked" once busy_timeout had expired; opening had none of
the bounded retries that reads and writes have)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time

from codesign.results.backends.sqlite import BUSY_TIMEOUT_MS, FILE
from codesign.results.store import Store

CHILD = """
import sys, time
from codesign.results.store import Store
start = float(sys.argv[2])
while time.time() < start:
    pass
store = Store(sys.argv[1])
store.create_run(f"r{sys.argv[3]}", {"problem": "p", "agent": "a", "seed": 0})
print(len(store.run_names()) >= 1)
"""


def _spawn(store: str, start: float, i: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD, store, str(start), str(i)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _check(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0 and out.strip() == "True", err[-2000:]


def test_opening_while_another_process_holds_the_write_lock_past_busy_timeout(tmp_path) -> None:
    store = str(tmp_path / "s")
    Store(store).create_run("first", {"problem": "p", "agent": "a", "seed": 0})
    holder = sqlite3.connect(str(tmp_path / "s" / FILE), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a writer in a long transaction
    child = _spawn(store, 0.0, 1)
    time.sleep(BUSY_TIMEOUT_MS / 1000 + 2.0)
    assert child.poll() is None, "the opening must wait for the writer, not fail"
    holder.execute("COMMIT")
    holder.close()
    _check([child])


def test_processes_opening_a_new_store_together(tmp_path) -> None:
    for attempt in range(3):  # three fresh stores, eight processes released at one instant each
        store = str(tmp_path / f"s{attempt}")
        start = time.time() + 3.0
        _check([_spawn(store, start, i) for i in range(8)])
