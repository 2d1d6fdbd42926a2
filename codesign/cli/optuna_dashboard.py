"""``codesign optuna-dashboard``: open a store in optuna-dashboard, with no journal incantation.

The store is read (read-only) into an in-memory optuna storage
(:func:`codesign.results.optuna_export.sync`: metric names, directions, constraints in optuna's
format, so infeasible designs show as infeasible), served by optuna-dashboard's own WSGI app, and
synced again whenever the store changes (a run still writing shows up live).
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from codesign.errors import ConfigError


def add_parser(subparsers: Any) -> None:
    from codesign.cli.common import add_server_arguments

    p = subparsers.add_parser("optuna-dashboard", help="open a store in optuna-dashboard (loopback by default)")
    add_server_arguments(p, port=8080, refresh_s=5.0)
    p.set_defaults(handler=handle)


def live_storage(location: str, refresh_s: float) -> tuple[Any, threading.Event]:
    """An optuna storage holding the store's runs, kept in sync by a daemon thread."""
    import optuna

    from codesign.results.optuna_export import sync
    from codesign.results.store import Store

    store = Store(location, create=False, read_only=True)
    storage = optuna.storages.InMemoryStorage()
    sync(store, storage)
    stop = threading.Event()
    seen = [store.signature()]

    def loop() -> None:
        while not stop.wait(refresh_s):
            sig = store.signature()
            if sig is None or sig != seen[0]:
                seen[0] = sig
                try:
                    sync(store, storage)
                except Exception as exc:  # noqa: BLE001 - keep serving what was read
                    sys.stderr.write(f"codesign: warning: could not re-read the store: {' '.join(str(exc).split())}\n")

    threading.Thread(target=loop, name="codesign-optuna-sync", daemon=True).start()
    return storage, stop


def handle(args: argparse.Namespace) -> int:
    if not args.refresh > 0:
        raise ConfigError(f"--refresh must be > 0 seconds, but got {args.refresh}")
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be in [0, 65535], but got {args.port}")
    try:
        import optuna_dashboard
    except ImportError:
        raise ConfigError("codesign optuna-dashboard needs the optuna-dashboard package: "
                          "pip install optuna-dashboard") from None
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - wsgiref's signature
            pass

    storage, stop = live_storage(args.store, args.refresh)
    try:
        server = make_server(args.host, args.port, optuna_dashboard.wsgi(storage), handler_class=Quiet)
    except OSError as exc:
        raise ConfigError(f"--host/--port must be free to bind, but {args.host}:{args.port} gives: {exc.strerror}") from None
    from codesign.cli.common import serve_until_interrupted

    return serve_until_interrupted(server, "optuna-dashboard", args.host, args.store, on_stop=stop.set)
