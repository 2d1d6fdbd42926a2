"""Flagship evaluation timings: cold and warm evaluations, cached and new probe answers.

    python experiments/flagship_timing.py [--problems fmnist-accel moe-accel ...]

Per problem, two fresh processes (``--child``), the first with an empty cache directory
(``$CODESIGN_CACHE``: nothing traced, calibrated or measured yet), the second with the cache the
first left (what every later run sees):

- ``build``: the problem built (workload traced or read, space, evaluators; no model loaded);
- ``first eval``: the first evaluation: with an empty cache, probe load, calibration, float
  baseline and measurement, plus the cost model's mappings; with the warm cache, a design whose
  bits the first process measured (the probe answers from disk, nothing is built);
- ``warm eval``: a second design (new bits and new hardware) in the same process;
- ``same bits, new hw``: a third design with the second's bits: the probe answers from memory;
- ``probe, new bits``: the probe alone on new bit configurations in the warm process (median of 3);
- ``probe, cached``: the probe alone answering a known configuration (median of 50, ms).

Then ``codesign probe`` twice per probe workload through the CLI (a new process each, second
answer from the disk cache). All with the machine load stated; the machine is shared, so the
numbers are upper bounds of a quiet machine's.
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
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, Experiment  # noqa: E402

PROBLEMS = ("fmnist-accel", "moe-accel", "minilm-accel", "fmnist-accel-flat", "moe-accel-flat", "minilm-accel-flat")
CLI_WORKLOADS = ("fmnist-cnn", "moe-shakespeare", "minilm-l6")


def add_args(p: Any) -> None:
    p.add_argument("--problems", nargs="*", default=list(PROBLEMS))
    p.add_argument("--child", help=argparse.SUPPRESS)  # internal: time one problem in this process
    p.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--from-log", help="tabulate the per-process lines of an interrupted run's log instead of running")


def _timed(fn: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def child(name: str, smoke: bool, round_: int) -> dict[str, Any]:
    """One process: the timings of the module docstring for problem ``name``."""
    import numpy as np

    from codesign.builtins import register_builtins
    from codesign.registry import REGISTRIES

    register_builtins()
    kwargs = {"eval_size": 300} if smoke and name.startswith("fmnist") else {}
    problem, build = _timed(lambda: REGISTRIES["problem"].make(name, **kwargs))
    probe = next(e for e in problem.evaluators if getattr(e, "opposes_bits", None))
    space = problem.space
    a, b = space.default(), space.sample(np.random.default_rng([round_, 1]))
    if round_:  # a later process: the first design is one the disk cache knows, the others are new
        a = space.sample(np.random.default_rng([0, 1]))
    hw = [p.name for p in space.params if p.subsystem == "hw"]
    c = dict(b, **{k: a[k] for k in hw})
    if c == dict(b):
        c = dict(b, glb_kb=space["glb_kb"].values[0] if b["glb_kb"] != space["glb_kb"].values[0]
                 else space["glb_kb"].values[-1])
    _, first = _timed(lambda: problem.evaluate(a))
    _, warm = _timed(lambda: problem.evaluate(b))
    m, same_bits = _timed(lambda: problem.evaluate(c))
    rng = np.random.default_rng([round_, 7])
    new_bits = []
    for _ in range(1 if smoke else 3):
        d = space.sample(rng)
        new_bits.append(_timed(lambda: probe.evaluate(d))[1])
    cached = [_timed(lambda: probe.evaluate(b))[1] for _ in range(50)]
    return {"problem": name, "build_s": build, "first_eval_s": first, "warm_eval_s": warm,
            "same_bits_new_hw_s": same_bits, "same_bits_probe_cached": bool(m.breakdown.get("cached")),
            "probe_new_bits_s": statistics.median(new_bits), "probe_cached_ms": 1e3 * statistics.median(cached),
            "load": os.getloadavg()[0]}


def run_child(name: str, cache: str, smoke: bool, round_: int) -> dict[str, Any]:
    env = {**os.environ, "CODESIGN_CACHE": cache, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, __file__, "--child", name, "--round", str(round_)] + (["--smoke"] if smoke else [])
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise SystemExit(f"{name}: child failed\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def default_cache() -> Path:
    from codesign.evaluators.accuracy.probe import default_cache_dir

    return default_cache_dir()


def cli_probe(workload: str, cache: str) -> tuple[float, float]:
    env = {**os.environ, "CODESIGN_CACHE": cache, "PYTHONPATH": str(REPO)}
    cmd = [str(Path(sys.executable).parent / "codesign"), "probe", "--workload", workload, "--w-bits", "4",
           "--a-bits", "8", "--json"]
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=3600)
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise SystemExit(f"codesign probe {workload} failed: {proc.stderr[-2000:]}")
    return times[0], times[1]


def main(argv: list[str] | None = None) -> int:
    exp = Experiment("flagship_timing", __doc__, argv, add_args)
    if exp.args.child:
        print(json.dumps(child(exp.args.child, exp.smoke, exp.args.round)))
        return 0
    exp.name = "flagship-timing"
    problems = exp.args.problems[:1] if exp.smoke else exp.args.problems
    rows = []
    if exp.args.from_log:
        import ast
        import re

        pat = re.compile(r"\] (\S+) \((empty cache|warm disk cache)\): (\{.*\})$")
        for line in Path(exp.args.from_log).read_text().splitlines():
            m = pat.search(line)
            if m:
                r = ast.literal_eval(m.group(3))
                rows.append([m.group(1), m.group(2), r["build_s"], r["first_eval_s"], r["warm_eval_s"],
                             r["same_bits_new_hw_s"], r["probe_new_bits_s"], r["probe_cached_ms"], r["load"]])
        problems = []
        exp.note(f"Tabulated from the log of an interrupted run ({exp.args.from_log}): only the processes that "
                 "finished are listed.")
    for name in problems:
        cache = tempfile.mkdtemp(prefix="codesign-timing-")
        for round_, label in enumerate(("empty cache", "warm disk cache")):
            r = run_child(name, cache, exp.smoke, round_)
            exp.log(f"{name} ({label}): {r}")
            rows.append([name, label, r["build_s"], r["first_eval_s"], r["warm_eval_s"], r["same_bits_new_hw_s"],
                         r["probe_new_bits_s"], r["probe_cached_ms"], r["load"]])
    exp.table(["problem", "process start", "build s", "first eval s", "warm eval s", "same bits, new hw s",
               "probe, new bits s", "probe, cached ms", "load (1 min)"], rows,
              caption="**One evaluation** (cost model + real probe), fresh process per row", spec=".3g")
    cli_rows = []
    for wl in (CLI_WORKLOADS[:2] if exp.args.from_log else CLI_WORKLOADS[:1] if exp.smoke else CLI_WORKLOADS):
        # from a log: the machine's own cache dir, which already holds these answers (first call not timed)
        cache = str(default_cache()) if exp.args.from_log else tempfile.mkdtemp(prefix="codesign-cli-")
        first, second = cli_probe(wl, cache)
        cli_rows.append([wl, "—" if exp.args.from_log else first, second, os.getloadavg()[0]])
        exp.log(f"codesign probe {wl}: {first:.2f} s, then {second:.2f} s")
    if cli_rows:
        exp.table(["workload", "first call s (builds, calibrates, measures)", "second call s (disk cache)",
                   "load (1 min)"], cli_rows,
                  caption="**`codesign probe --workload W --w-bits 4 --a-bits 8`** (a new process per call)")
    exp.note("Targets (issue 15): cached probe answer ≤ 50 ms in process and ≤ 1 s through the CLI; a new bit "
             "configuration in a warm process ≤ 1.5 s (fmnist) and ≤ 8 s (MoE). The machine is shared by several "
             "jobs: compare timings with the load column.")
    return exp.finish()


if __name__ == "__main__":
    raise SystemExit(main())
