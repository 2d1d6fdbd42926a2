"""The embedded store: ``<dir>/codesign.db``, SQLite in WAL mode (REFERENCES.md §10).

- Writers: one connection per process, ``journal_mode=WAL``, ``synchronous=NORMAL`` (a commit
  survives the death of any process; ``CODESIGN_STORE_SYNC=full`` also flushes each batch's
  finishing commit to disk, one fsync per batch, against power loss), write transactions begun with
  ``BEGIN IMMEDIATE`` (they take the write lock first, so two writers never deadlock on a
  lock upgrade), ``busy_timeout`` plus a bounded retry loop while another process writes.
- A crash (SIGKILL, power loss) mid-transaction leaves the database as of its last commit:
  SQLite rolls the torn transaction back on the next open; a torn or junk WAL tail fails its
  frame checksums and is ignored. Locks are POSIX locks the kernel drops with the process,
  so a killed writer never stalls the others (the old journal's 30 s stale lock).
- Readers open ``mode=ro`` and never write the database. In a directory they cannot write,
  with no ``-wal`` file (no writer active), they open it ``immutable``. Not for network file
  systems (WAL needs shared memory): put a store for several machines on PostgreSQL.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from codesign.errors import StoreError
import codesign.results.backends.legacy as legacy
from codesign.results.backends.sql import Backend

FILE = "codesign.db"
BUSY_TIMEOUT_MS = 5000
OPEN_RETRY_S = 60.0  # opening a store other processes are opening or writing
_JITTER = random.Random()  # its own generator: the global one may be seeded by a search


class SQLiteBackend(Backend):
    """The codesign schema in one SQLite file (a store directory holds ``codesign.db``)."""

    def __init__(self, directory: str, read_only: bool, create: bool, path: str | None = None) -> None:
        super().__init__(directory, read_only)
        self._synchronous = ""
        self.path = path or os.path.join(directory, FILE)
        self._legacy = os.path.join(directory, legacy.JOURNAL) if path is None else None
        if path is None and os.path.exists(directory) and not os.path.isdir(directory):
            raise StoreError(f"--store must be a directory (the embedded store), but {directory!r} is a file")
        if not create and not self._has_data():
            where = self.path if path else f"{self.path} or {self._legacy}"
            raise StoreError(f"no codesign store at {directory!r} (expected {where})")
        self._loader: Callable[[], list[legacy.LegacyRun]] | None = None
        if read_only and not os.path.isfile(self.path) and self._legacy_pending():
            self._loader = lambda: legacy.read_journal(self._legacy)  # type: ignore[arg-type]
        if not read_only:
            try:
                os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create store {directory!r}: {exc.strerror}") from None

    @classmethod
    def at_file(cls, path: str, read_only: bool, create: bool) -> SQLiteBackend:
        return cls(path, read_only, create, path=path)

    @classmethod
    def in_memory(cls, location: str, loader: Callable[[], list[legacy.LegacyRun]]) -> SQLiteBackend:
        """A read-only view of legacy runs (``loader()``), held in memory: the source is untouched."""
        self = cls.__new__(cls)
        Backend.__init__(self, location, True)
        self.path, self._legacy, self._loader, self._synchronous = ":memory:", None, loader, ""
        return self

    @property
    def _memory(self) -> bool:
        return self._loader is not None

    def _has_data(self) -> bool:
        return os.path.isfile(self.path) or (self._legacy is not None and os.path.isfile(self._legacy))

    def _legacy_pending(self) -> bool:
        return self._legacy is not None and os.path.isfile(self._legacy)

    def exists(self) -> bool:
        if self._memory:
            return True
        if not os.path.isfile(self.path):
            return False
        return bool(self.transact(lambda cur: self._one(
            cur, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'codesign_runs'")[0], "reading"))

    # --- connections ----------------------------------------------------------------------
    def _connect(self) -> Any:
        if self._memory:  # a legacy journal, read in place: loaded into memory, file untouched
            conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            self._load_legacy(conn)
            return conn
        if self.read_only:
            return self._connect_read_only()
        # Several processes may open a new store at once: switching a fresh file to WAL and
        # creating the schema take locks that SQLite can refuse at once ("database is locked")
        # without waiting on busy_timeout, so the whole opening is retried for a bounded time.
        deadline = time.monotonic() + OPEN_RETRY_S
        while True:
            conn = None
            try:
                conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                       check_same_thread=False)
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                self._synchronous = "NORMAL"
                cur = conn.cursor()
                cur.execute("BEGIN IMMEDIATE")
                self.create_schema(cur)
                conn.commit()
                break
            except sqlite3.Error as exc:
                if conn is not None:
                    conn.close()
                if not (self._is_busy(exc) and time.monotonic() < deadline):
                    raise self._fatal(exc, "opening") from None
                time.sleep(_JITTER.uniform(0.02, 0.2))
        if self._legacy_pending():
            self._conn = conn
            self._migrate()
        return conn

    def _connect_read_only(self) -> Any:
        uri = "file:" + self.path.replace("?", "%3f").replace("#", "%23")
        try:
            conn = sqlite3.connect(uri + "?mode=ro", uri=True, isolation_level=None, check_same_thread=False,
                                   timeout=BUSY_TIMEOUT_MS / 1000)
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError:
            if os.path.exists(self.path + "-wal") and os.access(self.path + "-wal", os.R_OK):
                raise
        # a read-only directory and no writer (no -wal file): the file cannot change under us
        conn = sqlite3.connect(uri + "?immutable=1", uri=True, isolation_level=None, check_same_thread=False)
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return conn

    def _load_legacy(self, conn: Any) -> None:
        runs = self._loader()  # type: ignore[misc]
        cur = conn.cursor()
        cur.execute("BEGIN")
        self.create_schema(cur)
        conn.commit()
        self._conn = conn
        was, self.read_only = self.read_only, False
        try:
            self.import_runs(runs, legacy.JOURNAL)
        finally:
            self.read_only = was

    def _migrate(self) -> None:
        if self._one(self._conn.cursor(), "SELECT value FROM codesign_meta WHERE key = 'migrated_from'"):
            return
        n = self.import_runs(legacy.read_journal(self._legacy), legacy.JOURNAL)  # type: ignore[arg-type]
        if n:
            legacy.log.warning("%s: migrated %d records of the optuna journal into %s (the journal is kept, unread)",
                               self.location, n, FILE)

    def _begin(self, cur: Any, write: bool, durable: bool = False) -> None:
        if write and not self.read_only:
            level = "FULL" if durable and self.sync == "full" else "NORMAL"
            if level != self._synchronous:  # WAL: a FULL commit flushes every frame before it too
                cur.execute(f"PRAGMA synchronous = {level}")
                self._synchronous = level
        cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def _is_busy(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))

    def _fatal(self, exc: BaseException, doing: str) -> StoreError:
        text = str(exc)
        if "readonly" in text or "unable to open" in text:
            text += " (check the permissions of the store directory and its files)"
        return StoreError(f"store {self.display!r}: {doing} failed: {text}")

    def signature(self) -> Any:
        out = []
        if self._memory and self._legacy is None:
            return None  # a legacy server store, read once
        for path in (self.path, self.path + "-wal", self._legacy if self._memory else None):
            try:
                st = os.stat(path) if path else None
            except OSError:
                st = None
            out.append((st.st_size, st.st_mtime_ns) if st else None)
        return tuple(out)
