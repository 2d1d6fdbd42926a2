"""``codesign bench probe``: what one evaluation of a real-accuracy problem costs, the cold path
(nothing traced, calibrated or measured yet) measured in the same run as the warm and cached ones.

Per problem, two fresh processes, the first with an empty cache directory (``$CODESIGN_CACHE``),
the second with the cache the first left (what every later run on the machine sees):

- ``build``: the problem built (workload traced or read, space, evaluators; no model loaded);
- ``first eval``: the first evaluation: with an empty cache, probe load, calibration, float
  baseline and measurement, plus the cost model's mappings; with the warm cache, a design whose
  bits the first process measured (the probe answers from disk, nothing is built);
- ``warm eval``: a second design (new bits and new hardware) in the same process;
- ``same bits, new hw``: a third design with the second's bits: the probe answers from memory;
- ``probe, new bits``: the probe alone on new bit configurations in the warm process (median);
- ``probe, cached``: the probe alone answering a known configuration (median of 50, ms).

Then ``codesign probe --w-bits 4 --a-bits 8`` twice per probe workload through the CLI, a new
process each: the first call builds, calibrates and measures, the second answers from the disk
cache. Every row states the machine's load; the machine may be shared, so the figures are upper
bounds of a quiet machine's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from codesign.errors import ConfigError

PROBLEMS = ("fmnist-accel", "moe-accel")
WORKLOADS = {"fmnist-accel": "fmnist-cnn", "moe-accel": "moe-shakespeare", "minilm-accel": "minilm-l6"}
# issue 15's targets, printed next to the measured figures
TARGETS = {"probe_cached_ms": 50.0, "cli_cached_s": 1.0,
           "probe_new_bits_s": {"fmnist-accel": 1.5, "moe-accel": 8.0}}


def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--problem", action="append", default=None,
                   help="problem with a real-accuracy probe; repeat for several (default fmnist-accel, moe-accel)")
    p.add_argument("--new-bits", type=int, default=3, help="new bit configurations timed per process (default 3)")
    p.add_argument("--no-cli", action="store_true", help="skip the `codesign probe` calls")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--child", help=argparse.SUPPRESS)  # internal: time one problem in this process
    p.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)


def _timed(fn: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def child(name: str, round_: int, new_bits: int = 3) -> dict[str, Any]:
    """One process: the timings of the module docstring for problem ``name``."""
    import numpy as np

    import codesign

    problem, build = _timed(lambda: codesign.make_problem(name))
    probe = next((e for e in problem.evaluators if getattr(e, "opposes_bits", None)), None)
    if probe is None:
        raise ConfigError(f"bench probe: problem {name!r} must have a real-accuracy probe; it has none")
    space = problem.space
    a, b = space.default(), space.sample(np.random.default_rng([round_, 1]))
    if round_:  # a later process: the first design is one the disk cache knows, the others are new
        a = space.sample(np.random.default_rng([0, 1]))
    hw = [p for p in space.params if p.subsystem == "hw"]
    c = dict(b, **{p.name: a[p.name] for p in hw})
    if c == dict(b) and hw:  # a and b share their hardware: change one hardware parameter
        p = hw[0]
        c[p.name] = p.values[0] if b[p.name] != p.values[0] else p.values[-1]
    _, first = _timed(lambda: problem.evaluate(a))
    _, warm = _timed(lambda: problem.evaluate(b))
    m, same_bits = _timed(lambda: problem.evaluate(c))
    rng = np.random.default_rng([round_, 7])
    fresh = []
    for _ in range(new_bits):
        d = space.sample(rng)
        fresh.append(_timed(lambda: probe.evaluate(d))[1])
    cached = [_timed(lambda: probe.evaluate(b))[1] for _ in range(50)]
    return {"problem": name, "build_s": build, "first_eval_s": first, "warm_eval_s": warm,
            "same_bits_new_hw_s": same_bits, "same_bits_probe_cached": bool(m.breakdown.get("cached")),
            "probe_new_bits_s": statistics.median(fresh), "probe_new_bits_runs_s": fresh,
            "probe_cached_ms": 1e3 * statistics.median(cached), "load": os.getloadavg()[0]}


def _codesign(args: list[str], cache: str, what: str) -> tuple[str, float]:
    """Run ``codesign ARGS`` in a new process with ``$CODESIGN_CACHE=cache``: (stdout, seconds)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "codesign.cli.main", *args], capture_output=True, text=True,
                          env={**os.environ, "CODESIGN_CACHE": cache}, timeout=3600)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise ConfigError(f"bench probe: {what} must succeed; it exited {proc.returncode}: {tail}")
    return proc.stdout, seconds


def _run_child(name: str, cache: str, round_: int, new_bits: int) -> dict[str, Any]:
    out, _ = _codesign(["bench", "probe", "--child", name, "--round", str(round_), "--new-bits", str(new_bits)],
                       cache, f"the timing process of {name!r}")
    return json.loads(out.strip().splitlines()[-1])


def _cli_probe(workload: str, cache: str) -> dict[str, Any]:
    args = ["probe", "--workload", workload, "--w-bits", "4", "--a-bits", "8", "--json", "--quiet"]
    times = [_codesign(args, cache, f"`codesign probe --workload {workload}`")[1] for _ in range(2)]
    return {"workload": workload, "first_s": times[0], "second_s": times[1], "load": os.getloadavg()[0]}


def bench_probe_command(args: argparse.Namespace) -> int:
    if args.new_bits < 1:
        raise ConfigError(f"bench probe: --new-bits must be >= 1; got {args.new_bits}")
    if args.child:
        print(json.dumps(child(args.child, args.round, args.new_bits)))
        return 0
    problems = args.problem or list(PROBLEMS)
    import codesign

    for name in problems:  # a one-line error for an unknown name before any process starts
        if name not in codesign.registry("problem"):
            raise ConfigError(f"bench probe: --problem must be a registered problem; got {name!r}")
    t0 = time.perf_counter()
    rows, cli = [], []
    with tempfile.TemporaryDirectory(prefix="codesign-bench-probe-") as tmp:
        for name in problems:
            cache = os.path.join(tmp, name)
            os.makedirs(cache)
            for round_, label in enumerate(("empty cache", "warm disk cache")):
                r = _run_child(name, cache, round_, args.new_bits)
                rows.append({"process_start": label, **r})
                if not args.json:
                    _print_row(rows[-1])
        if not args.no_cli:
            for name in problems:
                wl = WORKLOADS.get(name)
                if wl is None:
                    continue
                cache = os.path.join(tmp, "cli-" + wl)
                os.makedirs(cache)
                cli.append(_cli_probe(wl, cache))
                if not args.json:
                    c = cli[-1]
                    print(f"codesign probe --workload {wl} --w-bits 4 --a-bits 8: first call {c['first_s']:.2f} s "
                          f"(builds, calibrates, measures), second {c['second_s']:.3f} s (disk cache)  "
                          f"[load {c['load']:.2f}]")
    doc = {"rows": rows, "cli": cli, "targets": TARGETS, "wall_s": time.perf_counter() - t0,
           "cpus": os.cpu_count()}
    if args.json:
        print(json.dumps(doc, indent=1))
    else:
        print(f"targets: cached probe <= {TARGETS['probe_cached_ms']:g} ms in process, <= "
              f"{TARGETS['cli_cached_s']:g} s through the CLI; new bits in a warm process <= "
              + ", ".join(f"{v:g} s ({k})" for k, v in TARGETS["probe_new_bits_s"].items()))
    return 0


def _print_row(r: dict[str, Any]) -> None:
    print(f"{r['problem']} ({r['process_start']}): build {r['build_s']:.2f} s, first eval {r['first_eval_s']:.2f} s, "
          f"warm eval {r['warm_eval_s']:.2f} s, same bits new hw {r['same_bits_new_hw_s'] * 1e3:.1f} ms, "
          f"probe new bits {r['probe_new_bits_s']:.2f} s (median), probe cached {r['probe_cached_ms']:.3f} ms "
          f"[load {r['load']:.2f}]")
