"""``codesign bench``: benchmarks that measure codesign against a peer in the same run."""

from __future__ import annotations

import argparse
import importlib
from typing import Any

# target -> (module, function adding its arguments, handler, one-line description)
BENCHES = {
    "scale": ("codesign.cli.scale", "add_bench_arguments", "bench_scale_command",
              "parallel workers (process pool, Ray) vs inline evaluation; store records/s"),
    "sim": ("codesign.cli.sim", "add_bench_arguments", "bench_sim_command",
            "PE simulator throughput and the figures each PE family must meet"),
    "agents": ("codesign.cli.agents_bench", "add_bench_arguments", "bench_agents_command",
               "agents vs random search: normalized hypervolume over seeds, overhead per ask"),
    "cost": ("codesign.cli.cost", "add_bench_arguments", "bench_cost_command",
             "cost model with mapping search vs zigzag-dse on ResNet-18 (speed and mapping quality)"),
    "store": ("codesign.cli.store_bench", "add_bench_arguments", "bench_store_command",
              "store write throughput: batched SQLite vs the journal baseline, 1 and 3 writers"),
    "probe": ("codesign.cli.probe_bench", "add_bench_arguments", "bench_probe_command",
              "real-accuracy evaluation cost: cold (empty cache) vs warm and cached probe answers, in process and CLI"),
    "torture": ("codesign.cli.torture", "add_bench_arguments", "bench_torture_command",
                "crash torture: concurrent workers, one killed with SIGKILL at random points"),
}


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("bench", help="benchmarks (with the peer or baseline measured in the same run)")
    sub = p.add_subparsers(dest="bench", metavar="TARGET", parser_class=type(p))
    for target, (module_name, add_args, handler, about) in BENCHES.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        if not hasattr(module, handler):
            continue
        b = sub.add_parser(target, help=about, description=about)
        getattr(module, add_args)(b)
        b.set_defaults(handler=getattr(module, handler))
    p.set_defaults(handler=lambda args: _missing(p))


def _missing(p: argparse.ArgumentParser) -> int:
    p.print_usage()
    return 2
