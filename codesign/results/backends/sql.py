"""The backend contract and its SQL implementation, shared by SQLite and PostgreSQL.

Schema (the same on every backend; ``?`` placeholders are rewritten per dialect)::

    codesign_runs    (name PK, meta JSON, next_number, created)
    codesign_records (run, number, worker, state, orphaned, owner, design_key, payload JSON, updated;
                      PK (run, number))
    codesign_leases  (run, worker, owner, info JSON, heartbeat; PK (run, worker))

A record's ``payload`` is the :class:`~codesign.types.EvalRecord` as JSON; the ``state``
column is authoritative (a reserved record's payload says ``running`` until it is finished).
Numbers come from ``codesign_runs.next_number`` (``UPDATE ... RETURNING`` in the writing
transaction), so concurrent writers of one run never draw the same number.

Every write is one transaction: a batch of records is reserved with one commit and finished
with one commit. Finishing is *fenced*: a record is completed only while it is still
``running`` and still held by the owner (lease token) that reserved it, so a writer whose
lease was taken over can no longer write anything.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from codesign.errors import StoreError

SCHEMA_VERSION = 1
#: ``normal`` (default): a commit is safe from a killed process (kill -9, OOM, segfault); on
#: power loss the last commits may be rolled back, never torn (a resumed run redoes them).
#: ``full``: every batch's finishing commit is also flushed to disk (one fsync per batch).
SYNC_MODES = ("normal", "full")


def sync_mode() -> str:
    mode = os.environ.get("CODESIGN_STORE_SYNC", "normal").strip().lower() or "normal"
    if mode not in SYNC_MODES:
        raise StoreError(f"CODESIGN_STORE_SYNC must be one of {list(SYNC_MODES)}, but got {mode!r}")
    return mode
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS codesign_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS codesign_runs (name TEXT PRIMARY KEY, meta TEXT NOT NULL, "
    "next_number INTEGER NOT NULL DEFAULT 0, created DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE IF NOT EXISTS codesign_records (run TEXT NOT NULL, number INTEGER NOT NULL, "
    "worker TEXT NOT NULL, state TEXT NOT NULL, orphaned INTEGER NOT NULL DEFAULT 0, owner TEXT NOT NULL, "
    "design_key TEXT NOT NULL, payload TEXT NOT NULL, updated DOUBLE PRECISION NOT NULL, PRIMARY KEY (run, number))",
    "CREATE INDEX IF NOT EXISTS codesign_records_running ON codesign_records (run, state, worker)",
    "CREATE TABLE IF NOT EXISTS codesign_leases (run TEXT NOT NULL, worker TEXT NOT NULL, owner TEXT NOT NULL, "
    "info TEXT NOT NULL, heartbeat DOUBLE PRECISION NOT NULL, PRIMARY KEY (run, worker))",
)

#: A row to insert: (worker, state, orphaned, owner, design_key, payload JSON).
Row = tuple[str, str, int, str, str, str]
#: A row to complete: (number, expected owner, state, orphaned, payload JSON).
Done = tuple[int, str, str, int, str]


class Backend:
    """What every store backend provides (the store facade uses nothing else).

    Subclasses implement :meth:`_connect`, :meth:`_begin` and the error classification; the
    SQL below is shared. All calls are thread-safe (one connection per process, guarded by a
    lock: the lease heartbeat thread writes through it too).
    """

    placeholder = "?"
    retry_s = 120.0  # how long a writer waits for a busy store before giving up with one line

    def __init__(self, location: str, read_only: bool) -> None:
        self.location = location
        self.read_only = read_only
        self._conn: Any = None
        self._lock = threading.RLock()
        self.seconds = 0.0  # time spent in store transactions by this process (bench: store share)
        self.transactions = 0
        self.sync = sync_mode()

    # --- to implement ---------------------------------------------------------------------
    def _connect(self) -> Any:
        raise NotImplementedError

    def _begin(self, cur: Any, write: bool, durable: bool = False) -> None:
        """Open a transaction; ``durable``: its commit must reach the disk (``sync = full``)."""
        cur.execute("BEGIN")

    def _is_busy(self, exc: BaseException) -> bool:
        """A transient conflict: the transaction is retried."""
        return False

    def _fatal(self, exc: BaseException, doing: str) -> StoreError:
        """The one-line error for a failure that retrying will not fix."""
        return StoreError(f"store {self.display!r}: {doing} failed: {' '.join(str(exc).split())[:300]}")

    def _serialize(self, cur: Any, key: str) -> None:
        """Serialize transactions on ``key`` (SQLite's write lock already does)."""

    def _now(self, cur: Any) -> float:
        return time.time()

    def exists(self) -> bool:
        raise NotImplementedError

    def signature(self) -> Any:
        """Something that changes whenever the store's content changes (cheap)."""
        return self.transact(lambda cur: tuple(self._one(
            cur, "SELECT COUNT(*), COALESCE(MAX(updated), 0) FROM codesign_records")), "reading")

    # --- plumbing -------------------------------------------------------------------------
    @property
    def display(self) -> str:
        from codesign.results.backends.urls import redact

        return redact(self.location)

    def q(self, sql: str) -> str:
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    def _one(self, cur: Any, sql: str, args: Sequence[Any] = ()) -> Any:
        cur.execute(self.q(sql), tuple(args))
        rows = cur.fetchall()  # step the statement to its end (an UPDATE ... RETURNING)
        return rows[0] if rows else None

    def _all(self, cur: Any, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        cur.execute(self.q(sql), tuple(args))
        return list(cur.fetchall())

    def transact(self, fn: Callable[[Any], Any], doing: str, write: bool = False, durable: bool = False) -> Any:
        """Run ``fn(cursor)`` in one transaction, retrying transient conflicts."""
        if write and self.read_only:
            raise StoreError(f"store {self.display!r} is open read-only; {doing} needs a writable store")
        deadline = time.monotonic() + self.retry_s
        delay = 0.01
        t0 = time.perf_counter()
        with self._lock:
            try:
                return self._transact(fn, doing, write, deadline, delay, durable)
            finally:
                self.seconds += time.perf_counter() - t0
                self.transactions += 1

    def _transact(self, fn: Callable[[Any], Any], doing: str, write: bool, deadline: float, delay: float,
                  durable: bool) -> Any:
        while True:
            if self._conn is None:
                self._conn = self._connect()
            cur = self._conn.cursor()
            try:
                self._begin(cur, write, durable)
                out = fn(cur)
                self._conn.commit()
                return out
            except StoreError:
                self._rollback()
                raise
            except Exception as exc:  # noqa: BLE001 - classified below
                self._rollback()
                if self._is_busy(exc) and time.monotonic() < deadline:
                    time.sleep(delay)
                    delay = min(delay * 2, 0.5)
                    continue
                if self._is_busy(exc):
                    raise StoreError(f"store {self.display!r} stayed busy for {self.retry_s:g} s while {doing}; "
                                     "another process holds it") from None
                raise self._fatal(exc, doing) from None
            finally:
                try:
                    cur.close()
                except Exception:  # noqa: BLE001 - a broken connection
                    pass

    def _rollback(self) -> None:
        try:
            if self._conn is not None:
                self._conn.rollback()
        except Exception:  # noqa: BLE001 - the connection is gone: reconnect next time
            self.close()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                except Exception:  # noqa: BLE001
                    pass
                self._conn = None

    def create_schema(self, cur: Any) -> None:
        self._serialize(cur, "codesign-schema")
        for stmt in SCHEMA:
            cur.execute(stmt)
        cur.execute(self.q("INSERT INTO codesign_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"),
                    ("schema_version", str(SCHEMA_VERSION)))

    # --- runs -----------------------------------------------------------------------------
    def run_names(self) -> list[str]:
        if not self.exists():
            return []
        return [r[0] for r in self.transact(lambda cur: self._all(cur, "SELECT name FROM codesign_runs ORDER BY created, name"),
                                            "listing runs")]

    def run_meta(self, name: str) -> str | None:
        if not self.exists():
            return None
        row = self.transact(lambda cur: self._one(cur, "SELECT meta FROM codesign_runs WHERE name = ?", (name,)),
                            "reading a run")
        return None if row is None else row[0]

    def create_run(self, name: str, meta_json: str) -> bool:
        """Create run ``name``; False if it exists already (another worker created it)."""
        def fn(cur: Any) -> bool:
            cur.execute(self.q("INSERT INTO codesign_runs (name, meta, next_number, created) VALUES (?, ?, 0, ?) "
                               "ON CONFLICT (name) DO NOTHING"), (name, meta_json, time.time()))
            return cur.rowcount == 1
        return self.transact(fn, "creating a run", write=True)

    def merge_run_meta(self, name: str, key: str, worker: str, value_json: str) -> None:
        """Set ``meta[key][worker] = value`` of run ``name`` in one transaction (workers of one
        run each keep their own entry; used for the agent's end-of-run state)."""
        import json

        def fn(cur: Any) -> None:
            row = self._one(cur, "SELECT meta FROM codesign_runs WHERE name = ?", (name,))
            if row is None:
                return
            meta = json.loads(row[0])
            entry = meta.get(key) if isinstance(meta.get(key), dict) else {}
            entry[worker] = json.loads(value_json)
            meta[key] = entry
            cur.execute(self.q("UPDATE codesign_runs SET meta = ? WHERE name = ?"), (json.dumps(meta), name))
        self.transact(fn, "updating a run's metadata", write=True)

    # --- records --------------------------------------------------------------------------
    def _fenced(self, cur: Any, run: str, fence: tuple[str, str] | None) -> None:
        """Refuse to write for a worker whose lease (``fence = (worker, token)``) is no longer held."""
        if fence is not None and self._one(cur, "SELECT 1 FROM codesign_leases WHERE run = ? AND worker = ? AND owner = ?",
                                           (run, *fence)) is None:
            raise StoreError(f"worker {fence[0]!r} of run {run!r} no longer holds its lease (another process took "
                             "it over); stopping without writing")

    def insert(self, run: str, rows: Sequence[Row], fence: tuple[str, str] | None = None) -> list[int]:
        """Insert ``rows`` in one transaction; returns their numbers (consecutive)."""
        if not rows:
            return []

        def fn(cur: Any) -> list[int]:
            self._fenced(cur, run, fence)
            top = self._one(cur, "UPDATE codesign_runs SET next_number = next_number + ? WHERE name = ? "
                                 "RETURNING next_number", (len(rows), run))
            if top is None:
                raise StoreError(f"store {self.display!r} has no run {run!r} to write to")
            first = int(top[0]) - len(rows)
            now = time.time()
            cur.executemany(self.q("INSERT INTO codesign_records (run, number, worker, state, orphaned, owner, "
                                   "design_key, payload, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                            [(run, first + i, *row, now) for i, row in enumerate(rows)])
            return list(range(first, first + len(rows)))
        return self.transact(fn, "writing records", write=True)

    def complete(self, run: str, done: Sequence[Done], fence: tuple[str, str] | None = None) -> list[int]:
        """Finish running records, each only if still running and held by its expected owner.
        One transaction; returns the numbers that were *not* finished (fenced off)."""
        if not done:
            return []

        def fn(cur: Any) -> list[int]:
            self._fenced(cur, run, fence)
            now = time.time()
            missed = []
            for number, owner, state, orphaned, payload in done:
                cur.execute(self.q("UPDATE codesign_records SET state = ?, orphaned = ?, payload = ?, updated = ? "
                                   "WHERE run = ? AND number = ? AND state = 'running' AND owner = ?"),
                            (state, orphaned, payload, now, run, number, owner))
                if cur.rowcount != 1:
                    missed.append(number)
            return missed
        return self.transact(fn, "finishing records", write=True, durable=True)

    def records(self, run: str) -> list[tuple[int, str, int, str]]:
        """``(number, state, orphaned, payload)`` of every record of ``run``, by number."""
        return self.transact(lambda cur: self._all(
            cur, "SELECT number, state, orphaned, payload FROM codesign_records WHERE run = ? ORDER BY number", (run,)),
            "reading records")

    def in_flight(self, run: str, worker: str | None) -> list[tuple[int, str, str]]:
        """``(number, owner, payload)`` of the running records of ``run`` (of ``worker``)."""
        sql = "SELECT number, owner, payload FROM codesign_records WHERE run = ? AND state = 'running'"
        args: tuple[Any, ...] = (run,)
        if worker is not None:
            sql, args = sql + " AND worker = ?", (run, worker)
        return self.transact(lambda cur: self._all(cur, sql + " ORDER BY number", args), "reading records")

    # --- worker leases --------------------------------------------------------------------
    def acquire_lease(self, run: str, worker: str, owner: str, info: str,
                      may_take: Callable[[str, float], bool]) -> tuple[bool, str, float]:
        """Take the lease of ``(run, worker)`` if it is free or ``may_take(holder info, seconds
        since its heartbeat)``; returns ``(taken, holder info, heartbeat age)``."""
        def fn(cur: Any) -> tuple[bool, str, float]:
            self._serialize(cur, f"codesign-lease:{run}:{worker}")
            now = self._now(cur)
            row = self._one(cur, "SELECT owner, info, heartbeat FROM codesign_leases WHERE run = ? AND worker = ?",
                            (run, worker))
            if row is not None and row[0] != owner and not may_take(row[1], now - float(row[2])):
                return False, row[1], now - float(row[2])
            cur.execute(self.q("INSERT INTO codesign_leases (run, worker, owner, info, heartbeat) VALUES (?, ?, ?, ?, ?) "
                               "ON CONFLICT (run, worker) DO UPDATE SET owner = excluded.owner, info = excluded.info, "
                               "heartbeat = excluded.heartbeat"), (run, worker, owner, info, now))
            return True, info, 0.0
        return self.transact(fn, "taking the worker lease", write=True)

    def heartbeat(self, run: str, worker: str, owner: str) -> bool:
        """Renew a lease; False if ``owner`` no longer holds it."""
        def fn(cur: Any) -> bool:
            cur.execute(self.q("UPDATE codesign_leases SET heartbeat = ? WHERE run = ? AND worker = ? AND owner = ?"),
                        (self._now(cur), run, worker, owner))
            return cur.rowcount == 1
        return self.transact(fn, "renewing the worker lease", write=True)

    def release(self, run: str, worker: str, owner: str) -> None:
        self.transact(lambda cur: cur.execute(self.q(
            "DELETE FROM codesign_leases WHERE run = ? AND worker = ? AND owner = ?"), (run, worker, owner)),
            "releasing the worker lease", write=True)

    # --- bulk import (migration of legacy stores) ----------------------------------------
    def import_runs(self, runs: Sequence[tuple[str, str, list[tuple[int, str, int, str, str, str]]]],
                    source: str) -> int:
        """Insert legacy runs ``(name, meta, [(number, worker, state, orphaned, design_key, payload)])``
        once (marked in ``codesign_meta``); returns the records imported (0 if done before)."""
        def fn(cur: Any) -> int:
            self.create_schema(cur)
            if self._one(cur, "SELECT value FROM codesign_meta WHERE key = ?", ("migrated_from",)) is not None:
                return 0
            n = 0
            for name, meta, recs in runs:
                top = max((r[0] for r in recs), default=-1) + 1
                cur.execute(self.q("INSERT INTO codesign_runs (name, meta, next_number, created) VALUES (?, ?, ?, ?) "
                                   "ON CONFLICT (name) DO NOTHING"), (name, meta, top, time.time()))
                cur.executemany(self.q("INSERT INTO codesign_records (run, number, worker, state, orphaned, owner, "
                                       "design_key, payload, updated) VALUES (?, ?, ?, ?, ?, 'legacy', ?, ?, ?) "
                                       "ON CONFLICT (run, number) DO NOTHING"),
                                [(name, num, w, st, orph, key, payload, time.time())
                                 for num, w, st, orph, key, payload in recs])
                n += len(recs)
            cur.execute(self.q("INSERT INTO codesign_meta (key, value) VALUES (?, ?)"), ("migrated_from", source))
            return n
        return self.transact(fn, "migrating the store", write=True)
