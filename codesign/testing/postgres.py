"""A throwaway PostgreSQL server on loopback (Debian's ``postgresql`` package), for tests and
benchmarks of server stores: ``with PostgresServer() as pg: ... pg.url ...``.

Runs as the package's ``postgres`` user when started as root (PostgreSQL refuses root);
trust authentication on 127.0.0.1 only; the data directory is removed on :meth:`close`.
:meth:`stop` / :meth:`start` take the server down and up again (a lost-server test).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from typing import Any

from codesign.errors import ConfigError


def postgres_bindir() -> str | None:
    """The newest installed PostgreSQL's ``bin`` directory, or None."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(bins[-1]) if bins else None


class PostgresServer:
    """A private PostgreSQL server (``max_connections`` as given)."""

    def __init__(self, max_connections: int = 100) -> None:
        bindir = postgres_bindir()
        if bindir is None:
            raise ConfigError("PostgreSQL is not installed (scripts/install-system-deps.sh installs it)")
        self.bindir = bindir
        self.root = tempfile.mkdtemp(prefix="codesign-pg-")
        self.data = os.path.join(self.root, "data")
        self.prefix: list[str] = []
        if os.geteuid() == 0:  # postgres refuses to run as root: use the package's system user
            shutil.chown(self.root, "postgres")
            os.chmod(self.root, 0o755)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.max_connections = max_connections
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "codesign")
        self.start()

    @property
    def url(self) -> str:
        return f"postgresql://codesign@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        proc = subprocess.run(self.prefix + [os.path.join(self.bindir, tool), *args], capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(f"{tool} failed: {proc.stderr.strip()[-500:]}")

    def start(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-w", "-l", os.path.join(self.root, "log"), "-o",
                  f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                  f"-c max_connections={self.max_connections} -c fsync=on", "start")

    def stop(self) -> None:
        """Stop at once (``-m immediate``: like a crash, clients see their connection drop)."""
        self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def close(self) -> None:
        try:
            self.stop()
        except RuntimeError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
