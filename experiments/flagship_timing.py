"""Flagship evaluation timings: cold and warm evaluations, cached and new probe answers.

    python experiments/flagship_timing.py [--problems fmnist-accel moe-accel ...]

Tabulates ``codesign bench probe --json`` (which owns the measurement; see
``codesign/cli/probe_bench.py`` for what each column times): per problem a fresh process with an
empty cache directory and one with the cache the first left, then ``codesign probe`` twice per
probe workload through the CLI. All with the machine load stated; the machine is shared, so the
numbers are upper bounds of a quiet machine's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, Experiment  # noqa: E402

PROBLEMS = ("fmnist-accel", "moe-accel", "minilm-accel", "fmnist-accel-flat", "moe-accel-flat", "minilm-accel-flat")


def add_args(p: Any) -> None:
    p.add_argument("--problems", nargs="*", default=list(PROBLEMS))


def main(argv: list[str] | None = None) -> int:
    exp = Experiment("flagship_timing", __doc__, argv, add_args)
    exp.name = "flagship-timing"
    problems = exp.args.problems[:1] if exp.smoke else exp.args.problems
    cmd = [sys.executable, "-m", "codesign.cli.main", "bench", "probe", "--json"]
    for name in problems:
        cmd += ["--problem", name]
    if exp.smoke:
        cmd += ["--new-bits", "1"]
    exp.log(" ".join(cmd[2:]))
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"codesign bench probe failed: {proc.stderr.strip()[-2000:]}")
    doc = json.loads(proc.stdout)
    rows = [[r["problem"], r["process_start"], r["build_s"], r["first_eval_s"], r["warm_eval_s"],
             r["same_bits_new_hw_s"], r["probe_new_bits_s"], r["probe_cached_ms"], r["load"]] for r in doc["rows"]]
    exp.table(["problem", "process start", "build s", "first eval s", "warm eval s", "same bits, new hw s",
               "probe, new bits s", "probe, cached ms", "load (1 min)"], rows,
              caption="**One evaluation** (cost model + real probe), fresh process per row", spec=".3g")
    if doc["cli"]:
        exp.table(["workload", "first call s (builds, calibrates, measures)", "second call s (disk cache)",
                   "load (1 min)"], [[c["workload"], c["first_s"], c["second_s"], c["load"]] for c in doc["cli"]],
                  caption="**`codesign probe --workload W --w-bits 4 --a-bits 8`** (a new process per call)")
    exp.note("Targets (issue 15): cached probe answer ≤ 50 ms in process and ≤ 1 s through the CLI; a new bit "
             "configuration in a warm process ≤ 1.5 s (fmnist) and ≤ 8 s (MoE). The machine is shared by several "
             "jobs: compare timings with the load column.")
    return exp.finish()


if __name__ == "__main__":
    raise SystemExit(main())
