"""The ``codesign`` command.

Subcommands live in their own modules, each exposing ``add_parser(subparsers)`` which adds
a subparser and sets ``handler=func`` (``func(args) -> int``). User errors
(:class:`~codesign.errors.CodesignError`, argparse usage errors) print one line on stderr
and exit with code 2; ``--json`` prints exactly one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

SUBCOMMANDS = (
    "codesign.cli.run",
    "codesign.cli.catalog",
    "codesign.cli.show",
    "codesign.cli.sim",
    "codesign.cli.bench",
    "codesign.cli.validate",
    "codesign.cli.dashboard",
    "codesign.cli.optuna_dashboard",
    "codesign.cli.probe",
    "codesign.cli.allocate",
)


class Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {one_line(message)}\n")
        raise SystemExit(2)


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def build_parser() -> Parser:
    from codesign import __version__

    parser = Parser(prog="codesign", description="Co-design space exploration of low-bit DNN accelerators.")
    parser.add_argument("--version", action="version", version=f"codesign {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for module_name in SUBCOMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # optional subcommand module not present
                continue
            raise
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from codesign.errors import CodesignError

    parser = build_parser()
    args = None
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "handler", None):
            parser.print_help(sys.stderr)
            return 2
        return int(args.handler(args) or 0)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else 2
    except CodesignError as exc:
        sys.stderr.write(f"codesign: error: {one_line(exc)}\n")
        return 2
    except ModuleNotFoundError as exc:  # an optional extra that is not installed: one line naming it
        from codesign.errors import missing_extra

        command = getattr(args, "command", None)
        extra = missing_extra(exc, f"`codesign {command}`" if command else "this command")
        if extra is None:
            raise
        sys.stderr.write(f"codesign: error: {one_line(extra)}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("codesign: interrupted\n")
        return 130
    except BrokenPipeError:  # the reader went away (`codesign ... | head`): stop quietly, as Unix tools do
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass
        return 141


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry()
