"""``codesign dashboard`` (web app over a store) and ``codesign report`` (static HTML report)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from codesign.errors import ConfigError


def add_parser(subparsers: Any) -> None:
    from codesign.cli.common import add_server_arguments

    d = subparsers.add_parser("dashboard", help="web dashboard over a store (read-only; loopback by default)")
    add_server_arguments(d, port=8050, refresh_s=3.0)
    d.set_defaults(handler=handle_dashboard)
    r = subparsers.add_parser("report", help="self-contained static HTML report of a store")
    r.add_argument("--store", required=True, help="store directory or database URL")
    r.add_argument("-o", "--output", required=True, help="output HTML file")
    r.set_defaults(handler=handle_report)


def handle_dashboard(args: argparse.Namespace) -> int:
    if not args.refresh > 0:
        raise ConfigError(f"--refresh must be > 0 seconds, but got {args.refresh}")
    from codesign.dashboard.app import bind, create_app, make_server

    bind(args.host, args.port).close()  # a bad host or port fails before the store is read
    app = create_app(args.store, refresh_s=args.refresh)
    server = make_server(app, args.host, args.port)
    from codesign.cli.common import serve_until_interrupted

    return serve_until_interrupted(server, "codesign dashboard", args.host, args.store)


def handle_report(args: argparse.Namespace) -> int:
    from codesign.cli.common import check_output_path, write_file
    from codesign.dashboard.report import build_report

    check_output_path(args.output)  # never a directory, a device or a symbolic link
    text = build_report(args.store)
    write_file(args.output, text)
    sys.stderr.write(f"report written to {args.output} ({len(text) // 1024} KiB, self-contained)\n")
    return 0
