"""Store backends: one contract (:class:`~codesign.results.backends.sql.Backend`), one schema.

- :mod:`~codesign.results.backends.sqlite`: the embedded default, ``<dir>/codesign.db``
  (SQLite in WAL mode, one writer connection per process);
- :mod:`~codesign.results.backends.postgres`: a PostgreSQL server (``postgresql://...``);
- :mod:`~codesign.results.backends.legacy`: stores written by earlier codesign versions
  (an optuna journal file or optuna's RDB tables), read in place or migrated on first write.

The runner, the CLI and the dashboard hold a :class:`codesign.results.store.Store` and never
know which backend is behind it.
"""

from __future__ import annotations

from codesign.errors import StoreError
from codesign.results.backends.urls import UNSUPPORTED_SCHEMES, URL_SCHEMES, is_url, redact

__all__ = ["URL_SCHEMES", "is_url", "open_backend", "redact"]


def open_backend(location: str, read_only: bool, create: bool):  # type: ignore[no-untyped-def]
    """The backend for a directory path (embedded SQLite) or a URL."""
    if location.startswith(UNSUPPORTED_SCHEMES):
        raise StoreError(f"--store must be a directory, a postgresql:// URL or a sqlite:/// URL, "
                         f"but got {redact(location)!r}")
    if location.startswith("sqlite:///"):
        from codesign.results.backends.sqlite import SQLiteBackend

        return SQLiteBackend.at_file(location[len("sqlite:///"):], read_only, create)
    if is_url(location):
        from codesign.results.backends.postgres import open_postgres

        return open_postgres(location, read_only, create)
    from codesign.results.backends.sqlite import SQLiteBackend

    return SQLiteBackend(location, read_only, create)
