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
    p = subparsers.add_parser("probe", help="real quantized accuracy of a model (or proxy calibration)")
    p.add_argument("--workload", required=False, help=f"one of {', '.join(workloads())}")
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
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(handler=run)


#: the default problem's CNN: a NumPy probe (no torch model), so no proxy calibration
DIGITS = "digits-cnn"


def workloads() -> list[str]:
    """Workloads ``codesign probe`` measures: the digits CNN and the torch probes."""
    from codesign.evaluators.accuracy.probes import PROBES

    return [DIGITS, *PROBES]


def _probe(args: argparse.Namespace, workload: str) -> Any:
    from codesign.evaluators.accuracy.probe import QuantScheme
    from codesign.evaluators.accuracy.probes import make_probe

    scheme = QuantScheme(w_symmetric=not args.w_asym, w_group=args.group)
    return make_probe(workload, scheme=scheme, eval_size=args.eval_size, hw_exact=args.hw_exact, pe=args.pe)


def _load(probe: Any, label: str, progress: bool) -> float:
    """Load a (lazy) probe's model, data and calibration under a spinner; returns seconds."""
    from codesign.cli.progress import steps

    t0 = time.perf_counter()
    if hasattr(probe, "load"):
        with steps(f"loading {label}: model, data, activation calibration", None, progress):
            probe.load()
    return time.perf_counter() - t0


def run(args: argparse.Namespace) -> int:
    from codesign.evaluators.accuracy.probes import PROBES, probe_workload

    progress = not args.json and not args.quiet
    if args.workload is not None and args.workload not in workloads():
        raise ConfigError(f"`--workload` must be one of {workloads()}, but got {args.workload!r}")
    if args.calibrate:
        from codesign.cli.progress import steps
        from codesign.evaluators.accuracy.proxy import calibrate

        if args.designs < 3:
            raise ConfigError(f"`--designs` must be >= 3, but got {args.designs}")
        if args.workload == DIGITS:
            raise ConfigError(f"`--calibrate` needs a torch probe, one of {list(PROBES)}, but got {DIGITS!r}")
        out = []
        for wl in [args.workload] if args.workload else list(PROBES):
            try:
                probe = _probe(args, wl)
                _load(probe, wl, progress)
            except ConfigError as exc:
                if args.workload or "optional extra" not in str(exc):
                    raise
                out.append({"workload": wl, "skipped": str(exc)})  # e.g. Gemma without its extra
                continue
            with steps(f"{wl}: proxy vs. real over {args.designs} designs", args.designs, progress) as step:
                res = calibrate(probe, probe_workload(wl), args.designs, args.seed, PROBES[wl][2],
                                on_design=lambda i: step())
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
    doc = _digits(args, progress) if args.workload == DIGITS else _torch(args, progress)
    if args.json:
        print_json(doc)
    else:
        print(f"{args.workload} W{args.w_bits}A{args.a_bits}{f' g{args.group}' if args.group else ''}: "
              f"{doc['metric']} {doc['value']:.4f} (full precision {doc['float']:.4f}, degradation "
              f"{doc['degradation']:+.4f}, stderr {doc['stderr']:.4f}, n={doc['n_eval']}); load {doc['load_s']:.1f} s, "
              f"eval {doc['eval_s']:.2f} s{' (cached)' if doc['cached'] else ''}")
    return 0


def _design(args: argparse.Namespace) -> Any:
    """The uniform-bits design of ``--w-bits`` / ``--a-bits``."""
    from codesign.types import Design

    return Design({"w_bits.all": args.w_bits, "a_bits.all": args.a_bits})


def _measure(probe: Any, args: argparse.Namespace, progress: bool) -> tuple[Any, float]:
    from codesign.cli.progress import steps

    design = _design(args)
    t0 = time.perf_counter()
    with steps(f"measuring {args.workload} at W{args.w_bits}A{args.a_bits}", None, progress):
        m = probe.evaluate(design)
    return m, time.perf_counter() - t0


def _answered_from_cache(probe: Any, args: argparse.Namespace) -> bool:
    """Whether the probe's disk cache holds this configuration and the float baseline (then
    nothing is built: no torch import, no model, no data)."""
    if not hasattr(probe, "cached_result"):
        return False
    config = probe.bit_config(_design(args))
    return (probe.cached_result(config) is not None
            and probe.cached_result((None,) * len(probe.layer_keys())) is not None)


def _torch(args: argparse.Namespace, progress: bool) -> dict[str, Any]:
    probe = _probe(args, args.workload)
    load_s = 0.0 if _answered_from_cache(probe, args) else _load(probe, args.workload, progress)
    m, eval_s = _measure(probe, args, progress)
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
    return doc


def _digits(args: argparse.Namespace, progress: bool) -> dict[str, Any]:
    """The default problem's digits CNN (NumPy; per-channel symmetric weights, calibrated
    activations): test accuracy on the held-out split and its binomial standard error."""
    from codesign.cli.progress import steps
    from codesign.evaluators.accuracy.digits import DigitsProbe

    unsupported = [f for f, on in (("--group", args.group), ("--w-asym", args.w_asym), ("--hw-exact", args.hw_exact))
                   if on]
    if unsupported:
        raise ConfigError(f"{unsupported} need a torch probe (one of {workloads()[1:]}), but --workload is {DIGITS!r}")
    t0 = time.perf_counter()
    with steps("loading digits-cnn: network (trained once), data, activation calibration", None, progress):
        probe = DigitsProbe(eval_size=args.eval_size)
    load_s = time.perf_counter() - t0
    m, eval_s = _measure(probe, args, progress)
    acc, n = m["accuracy"], int(m.breakdown["n_test"])
    return {
        "workload": DIGITS, "probe": probe.name, "version": probe.version, "metric": "accuracy",
        "w_bits": args.w_bits, "a_bits": args.a_bits, "group": None, "value": acc,
        "float": m.breakdown["float_accuracy"], "degradation": m["accuracy_drop"],
        "stderr": (acc * (1 - acc) / n) ** 0.5 if n > 0 else 0.0, "n_eval": n, "cached": False,
        "load_s": load_s, "eval_s": eval_s, "hw_exact": False,
    }
