"""Fixed objective bounds (the normalization of normalized hypervolume) of the flagship problems.

For each flagship problem: the probe metric's bounds are declared from its meaning
(``FlagshipModel.metric_bounds``: accuracy in [0, 1], bits/byte in [0, 8] — 8 is a uniform
guess over bytes —, perplexity in [1, vocabulary] on a log scale); the cost objectives'
bounds follow :func:`codesign.evaluators.bounds.derive` (the rule every derived bound uses) over
the cost model's values of the same fixed sample (``space.default()`` and
``bounds.SAMPLES`` designs drawn with ``default_rng([bounds.SAMPLE_SEED, i])``). Deriving them
through the problem itself would run the real probe on every sampled design (minutes per
problem); the cost model alone gives the same cost values. Writes
``codesign/problems/data/bounds.json``, which the flagship problems declare as their bounds::

    .venv/bin/python experiments/flagship_bounds.py [--problems fmnist-accel ...]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from codesign.builtins import register_builtins
from codesign.evaluators.bounds import SAMPLE_SEED, SAMPLES, derive
from codesign.problems.flagship import BOUNDS, MODELS
from codesign.registry import REGISTRIES

FLAGSHIPS = ("fmnist-accel", "fmnist-accel-flat", "moe-accel", "moe-accel-flat", "minilm-accel", "minilm-accel-flat")


def cost_bounds(name: str) -> dict:
    problem = REGISTRIES["problem"].make(name)
    cost = next(e for e in problem.evaluators if e.name == "cost-model")
    space = problem.space
    designs = [space.default()] + [space.sample(np.random.default_rng([SAMPLE_SEED, i])) for i in range(SAMPLES)]
    metrics = cost.evaluate_many(designs)
    feas = [m for m, d in zip(metrics, designs) if not m.violations and not space.violations(d)]
    rows = feas if len(feas) >= 2 else metrics
    out = {}
    for o in problem.objectives[1:]:
        out[o.name] = derive(o, np.array([m.values[o.name] for m in rows]))
    model = MODELS[name.split("-")[0]]
    out[model.metric] = dict(model.metric_bounds)
    return {"objectives": out, "feasible_in_sample": len(feas), "samples": len(designs), "version": problem.version}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", nargs="*", default=list(FLAGSHIPS))
    args = ap.parse_args(argv)
    register_builtins()
    doc = json.loads(BOUNDS.read_text()) if BOUNDS.is_file() else {}
    for name in args.problems:
        t0 = time.perf_counter()
        doc[name] = cost_bounds(name)
        print(f"{name}: {time.perf_counter() - t0:.0f} s, load {os.getloadavg()[0]:.1f}", flush=True)
        BOUNDS.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
