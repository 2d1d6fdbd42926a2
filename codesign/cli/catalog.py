"""``codesign list``: the registered spaces, workloads, evaluators, agents, problems, envs, PEs."""

from __future__ import annotations

import argparse
from typing import Any

PLURALS = {"spaces": "space", "workloads": "workload", "evaluators": "evaluator", "agents": "agent",
           "problems": "problem", "envs": "env", "pes": "pe"}


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("list", help="list registered spaces, workloads, evaluators, agents, problems, envs, pes")
    p.add_argument("kind", nargs="?", choices=sorted(PLURALS), help="one catalogue (default all)")
    p.add_argument("--plugin", action="append", default=[], metavar="FILE.py", help="load a plugin first")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from codesign.cli.common import console, print_json
    from codesign.registry import REGISTRIES, load_plugin

    for plugin in args.plugin:
        load_plugin(plugin)
    kinds = [args.kind] if args.kind else list(PLURALS)
    doc = {k: [_entry(s) for s in REGISTRIES[PLURALS[k]].specs()] for k in kinds}
    if args.json:
        print_json(doc)
        return 0
    from rich.table import Table

    con = console()
    for kind, entries in doc.items():
        table = Table(title=kind, title_justify="left", show_header=False)
        table.add_column("name", style="bold")
        table.add_column("summary")
        if kind == "envs":
            table.add_column("build with")
        for e in entries:
            table.add_row(e["name"], e["summary"], *([e["build"]] if kind == "envs" else []))
        con.print(table)
    return 0


def env_builder(name: str) -> str:
    """How to build a registered env: gymnasium ids by ``gymnasium.make``, the rest (PettingZoo
    ParallelEnvs, plugins' envs) by ``codesign.make_env``."""
    from codesign.envs import GYM_ENVS, PETTINGZOO_ENVS

    if name in GYM_ENVS:
        return "gymnasium.make"
    return "codesign.make_env (PettingZoo ParallelEnv)" if name in PETTINGZOO_ENVS else "codesign.make_env"


def _entry(spec: Any) -> dict[str, Any]:
    """A catalogue row; problems add what their factory's ``catalog_info()`` says (what searches
    bits and what opposes lowering them), read without building the problem."""
    out = {"name": spec.name, "summary": spec.describe()}
    if spec.kind == "env":
        out["build"] = env_builder(spec.name)
    if spec.kind == "problem":
        from codesign.errors import RegistryError

        try:
            info = getattr(spec.load(), "catalog_info", None)
        except RegistryError:
            info = None
        if callable(info):
            out["info"] = info()
    return out
