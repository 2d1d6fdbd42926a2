"""A store on a PostgreSQL server, through psycopg2 (the codesign schema, as on SQLite).

URLs as users write them work: ``postgresql://``, ``postgres://`` and SQLAlchemy's
``postgresql+psycopg2://`` / ``postgresql+psycopg://`` spellings all reach libpq the same way
(SQLAlchemy 2 maps a bare ``postgresql://`` to psycopg 3, which is not a dependency: we do not
go through SQLAlchemy at all). Each process holds one connection; a transaction that meets a
serialization conflict or deadlock is retried; losing the server is one line naming the store
(the run resumes with the same command once the server is back: finished records are
committed, in-flight ones are redone).
"""

from __future__ import annotations

import re
from typing import Any

from codesign.errors import StoreError
from codesign.results.backends.sql import Backend

_DRIVER = re.compile(r"^postgres(?:ql)?(?:\+[a-z0-9_]+)?://")
_RETRY_CODES = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock not available


def libpq_url(url: str) -> str:
    """``url`` in the form libpq accepts (``postgresql://...``, no SQLAlchemy driver suffix)."""
    return _DRIVER.sub("postgresql://", url, count=1)


class PostgresBackend(Backend):
    placeholder = "%s"

    def __init__(self, url: str, read_only: bool, create: bool) -> None:
        super().__init__(url, read_only)
        self.dsn = libpq_url(url)
        self._create = create
        self._checked = False
        self._has = False

    def _connect(self) -> Any:
        try:
            import psycopg2
        except ImportError:  # pragma: no cover - psycopg2 is a dependency
            raise StoreError("a postgresql:// store needs psycopg2 (pip install psycopg2-binary)") from None
        try:
            conn = psycopg2.connect(self.dsn, connect_timeout=10, application_name="codesign")
        except psycopg2.Error as exc:
            raise StoreError(f"cannot connect to store {self.display!r}: {_first(exc)}") from None
        if self.read_only:
            conn.set_session(readonly=True)
        if not self.read_only:
            self._conn = conn
            cur = conn.cursor()
            try:
                self.create_schema(cur)
                conn.commit()
            except psycopg2.Error:
                conn.rollback()
                raise
            finally:
                cur.close()
            self._migrate_optuna_tables(conn)
        return conn

    def _migrate_optuna_tables(self, conn: Any) -> None:
        """A database holding an earlier codesign's optuna tables: import its runs once."""
        cur = conn.cursor()
        cur.execute("SELECT to_regclass('public.studies') IS NOT NULL, "
                    "(SELECT COUNT(*) FROM codesign_meta WHERE key = 'migrated_from')")
        has_optuna, migrated = cur.fetchone()
        conn.commit()
        cur.close()
        if has_optuna and not migrated:
            import codesign.results.backends.legacy as legacy

            self.import_runs(legacy.read_optuna_rdb(_sqlalchemy_url(self.dsn)), "optuna rdb")

    def _begin(self, cur: Any, write: bool, durable: bool = False) -> None:
        # psycopg2 opens the transaction at this first statement. ``normal``: the commit returns
        # before the server's WAL flush (a server crash may roll back the last commits, never
        # tear them); ``full``: a batch's finishing commit waits for the flush.
        if write:
            cur.execute("SET LOCAL synchronous_commit = " + ("on" if durable and self.sync == "full" else "off"))

    def _serialize(self, cur: Any, key: str) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (key,))

    def _now(self, cur: Any) -> float:
        cur.execute("SELECT EXTRACT(EPOCH FROM clock_timestamp())")
        return float(cur.fetchone()[0])

    def _is_busy(self, exc: BaseException) -> bool:
        return getattr(exc, "pgcode", None) in _RETRY_CODES

    def _fatal(self, exc: BaseException, doing: str) -> StoreError:
        import psycopg2

        if isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError)):
            self.close()
            return StoreError(f"lost the connection to store {self.display!r} while {doing} ({_first(exc)}); "
                              "finished records are saved: rerun the same command to resume once the server is back")
        return StoreError(f"store {self.display!r}: {doing} failed: {_first(exc)}")

    def tables(self) -> tuple[bool, bool]:
        """Whether the database holds codesign's tables, and whether it holds optuna's."""
        row = self.transact(lambda cur: self._one(cur, "SELECT to_regclass('public.codesign_runs') IS NOT NULL, "
                                                       "to_regclass('public.studies') IS NOT NULL"), "reading")
        return bool(row[0]), bool(row[1])

    def exists(self) -> bool:
        if not self._checked:
            self._has = self.tables()[0]
            self._checked = self._has
        return self._has


def open_postgres(url: str, read_only: bool, create: bool) -> Backend:
    """The backend of a server store; a read-only view of an earlier codesign's optuna tables
    is served from memory (nothing is written to that database)."""
    backend = PostgresBackend(url, read_only, create)
    if read_only:
        ours, optunas = backend.tables()
        if not ours and optunas:
            import codesign.results.backends.legacy as legacy
            from codesign.results.backends.sqlite import SQLiteBackend

            backend.close()
            return SQLiteBackend.in_memory(url, lambda: legacy.read_optuna_rdb(_sqlalchemy_url(libpq_url(url))))
        if not ours and not create:
            raise StoreError(f"no codesign store at {backend.display!r} (the database has no codesign tables)")
    return backend


def _first(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] or type(exc).__name__


def _sqlalchemy_url(dsn: str) -> str:
    return dsn.replace("postgresql://", "postgresql+psycopg2://", 1)
