"""``codesign probe``: a real quantized-accuracy probe at uniform bits, or proxy calibration.

Examples::

    codesign probe --workload fmnist-cnn --w-bits 4 --a-bits 8 [--group 64] [--json]
    codesign probe --workload moe-shakespeare --calibrate [--designs 20] [--json]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from codesign.cli.common import print_json
from codesign.errors import ConfigError

__all__ = ["add_parser"]


def add_parser(subparsers: Any) -> None:
    """Add the ``probe`` subcommand."""
    from codesign.evaluators.accuracy.probes import PROBES

    p = subparsers.add_parser("probe", help="real quantized accuracy of a model (or proxy calibration)")
    p.add_argument("--workload", required=False, help=f"one of {', '.join(PROBES)}")
    p.add_argument("--w-bits", type=int, help="weight bits of every quantized layer")
    p.add_argument("--a-bits", type=int, help="input-activation bits of every quantized layer")
    p.add_argument("--group", type=int, default=None, help="weight group size 32, 64 or 128 (default per channel)")
    p.add_argument("--w-asym", action="store_true", help="asymmetric (zero-point) weights")
    p.add_argument("--eval-size", type=int, default=None, help="evaluation items (images, bytes, examples)")
    p.add_argument("--hw-exact", action="store_true", help="quantized GEMMs through the rtl_sim PE model")
    p.add_argument("--pe", default="bit_parallel", help="PE family of --hw-exact")
    p.add_argument("--calibrate", action="store_true", help="proxy vs. real metric over random designs")
    p.add_argument("--designs", type=int, default=20, help="random designs of --calibrate")
    p.add_argument("--seed", type=int, default=0, help="seed of the --calibrate designs")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=run)


def _probe(args: argparse.Namespace, workload: str) -> tuple[Any, float]:
    from codesign.evaluators.accuracy.probe import QuantScheme
    from codesign.evaluators.accuracy.probes import make_probe

    scheme = QuantScheme(w_symmetric=not args.w_asym, w_group=args.group)
    t0 = time.perf_counter()
    probe = make_probe(workload, scheme=scheme, eval_size=args.eval_size, hw_exact=args.hw_exact, pe=args.pe)
    return probe, time.perf_counter() - t0


def run(args: argparse.Namespace) -> int:
    from codesign.evaluators.accuracy.probes import PROBES, probe_workload
    from codesign.types import Design

    if args.calibrate:
        from codesign.evaluators.accuracy.proxy import calibrate

        if args.designs < 3:
            raise ConfigError(f"`--designs` must be >= 3, but got {args.designs}")
        out = []
        for wl in [args.workload] if args.workload else list(PROBES):
            try:
                probe, _ = _probe(args, wl)
            except ConfigError as exc:
                if args.workload or "optional extra" not in str(exc):
                    raise
                out.append({"workload": wl, "skipped": str(exc)})  # e.g. Gemma without its extra
                continue
            res = calibrate(probe, probe_workload(wl), args.designs, args.seed, PROBES[wl][2])
            out.append({"workload": wl, **res})
        if args.json:
            print_json({"calibration": out})
        else:
            for r in out:
                if "skipped" in r:
                    print(f"{r['workload']}: skipped ({r['skipped']})")
                    continue
                print(f"{r['workload']}: {r['designs']} designs, proxy vs. {r['metric']} degradation: "
                      f"Spearman {r['spearman']:.3f}, Kendall {r['kendall']:.3f} "
                      f"(real {r['real_s_per_design']:.2f} s/design, proxy {r['proxy_s_per_design'] * 1e3:.2f} ms/design)")
        return 0
    if not args.workload or args.w_bits is None or args.a_bits is None:
        raise ConfigError("`codesign probe` needs --workload, --w-bits and --a-bits (or --calibrate)")
    probe, load_s = _probe(args, args.workload)
    design = Design({"w_bits.all": args.w_bits, "a_bits.all": args.a_bits})
    t0 = time.perf_counter()
    m = probe.evaluate(design)
    eval_s = time.perf_counter() - t0
    metric = probe.primary
    doc = {
        "workload": args.workload, "probe": probe.name, "version": probe.version, "metric": metric,
        "w_bits": args.w_bits, "a_bits": args.a_bits, "group": args.group, "value": m[metric],
        "float": m.breakdown["float"][metric], "degradation": m[f"{metric}_degradation"],
        "stderr": m.breakdown["stderr"], "n_eval": m.breakdown["n_eval"], "cached": m.breakdown["cached"],
        "load_s": load_s, "eval_s": eval_s, "hw_exact": bool(args.hw_exact),
    }
    if args.hw_exact:
        doc["hw_stats"] = getattr(probe, "hw_stats", None)
    if args.json:
        print_json(doc)
    else:
        print(f"{args.workload} W{args.w_bits}A{args.a_bits}{f' g{args.group}' if args.group else ''}: "
              f"{metric} {doc['value']:.4f} (full precision {doc['float']:.4f}, degradation {doc['degradation']:+.4f}, "
              f"stderr {doc['stderr']:.4f}, n={doc['n_eval']}); load {load_s:.1f} s, eval {eval_s:.2f} s"
              f"{' (cached)' if doc['cached'] else ''}")
    return 0
