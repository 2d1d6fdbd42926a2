"""Shared fixtures: a fast synthetic problem registered from a plugin file (like a user's)."""

from __future__ import annotations

import os
import pathlib

import pytest

PLUGIN = pathlib.Path(__file__).parent / "plugins" / "synth_plugin.py"


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Model caches go to one per-session directory unless the caller set CODESIGN_CACHE."""
    if "CODESIGN_CACHE" not in os.environ:
        os.environ["CODESIGN_CACHE"] = str(tmp_path_factory.mktemp("codesign-cache"))


@pytest.fixture(scope="session")
def skip_unless_ci() -> object:
    """``skip_unless_ci(reason)``: skip a test whose data or tool is missing here, but fail it in
    CI (``CI`` set), where everything the tests need is installed."""

    def skip(reason: str) -> None:
        if os.environ.get("CI"):
            pytest.fail(f"must run in CI, but {reason}")
        pytest.skip(reason)

    return skip


@pytest.fixture(scope="session")
def synth_plugin() -> str:
    from codesign.registry import load_plugin

    load_plugin(str(PLUGIN))
    return str(PLUGIN)


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server (Debian's package) on loopback, for the shared-store tests."""
    server = _postgres()
    try:
        yield server.url.replace("postgresql://", "postgresql+psycopg2://", 1)  # SQLAlchemy's spelling works too
    finally:
        server.close()


@pytest.fixture
def private_postgres():
    """A PostgreSQL server of one test's own (it may stop and restart it)."""
    server = _postgres()
    try:
        yield server
    finally:
        server.close()


def _postgres():  # type: ignore[no-untyped-def]
    from codesign.testing.postgres import PostgresServer, postgres_bindir

    if postgres_bindir() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (scripts/install-system-deps.sh installs it)")
        pytest.skip("PostgreSQL is not installed (run scripts/install-system-deps.sh)")
    return PostgresServer()
