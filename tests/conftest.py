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


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server (Debian's package) on loopback, for the shared-store tests."""
    import glob
    import shutil
    import subprocess
    import tempfile

    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (scripts/install-system-deps.sh installs it)")
        pytest.skip("PostgreSQL is not installed (run scripts/install-system-deps.sh)")
    bindir = os.path.dirname(bins[-1])
    root = tempfile.mkdtemp(prefix="codesign-pg-")
    data = os.path.join(root, "data")
    prefix: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root: use the package's system user
        shutil.chown(root, "postgres")
        os.chmod(root, 0o755)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run(prefix + [f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "codesign"],
                   check=True, capture_output=True)
    subprocess.run(prefix + [f"{bindir}/pg_ctl", "-D", data, "-w", "-l", os.path.join(root, "log"), "-o",
                             f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=100", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg2://codesign@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(prefix + [f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
