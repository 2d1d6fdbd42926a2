"""Measured gain of the compiled cost-model kernel over the NumPy-vectorized model it replaced.

The loop-nest model used to be evaluated as NumPy array expressions over a batch of mappings
(``codesign/evaluators/cost/model.py`` up to commit ``6a4512e``); it now runs one mapping row at
a time in numba-compiled loops (:mod:`codesign.evaluators.cost.kernel`). This script exports that
commit's ``codesign`` package with ``git archive``, draws mapping candidates for three ResNet-18
layers on ZigZag's tpu_like (its legacy form, which both versions read) and scores the same
candidates with both versions in alternating subprocesses: CPU microseconds per mapping row in
large batches (where NumPy's per-element work dominates) and per call of one row (the per-call
overhead a single-design evaluation pays per layer). Both versions must give the same cycles and
energy. Prints medians over ``--repeats`` alternations and the load average.

    python experiments/cost_kernel_gain.py [--baseline 6a4512e] [--repeats 5] [--rows 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LAYERS = (1, 5, 13)  # layer1.0.conv1, layer2.0.conv2, layer3.0.downsample.0 of the zoo's ResNet-18

_TIMER = r"""
import json, sys, time
import numpy as np
from codesign.evaluators.cost import arch as A, model as M
from codesign.evaluators.cost.problem import from_layer
from codesign.workloads.zoo import resnet18
arch = A.load_yaml(sys.argv[1])
data = np.load(sys.argv[2])
layers = resnet18().layers
out = {"per_row_us": [], "per_call_us": [], "cycles": [], "energy": []}
for k, li in enumerate(json.loads(sys.argv[3])):
    p = from_layer(layers[li], 8, 8, psum_bits=16)
    arr = {key: data[f"{k}_{key}"] for key in ("T", "SX", "SY", "rank")}
    r = M.evaluate_arrays(p, arch, arr)
    out["cycles"].append(float(np.sum(r["cycles"])))
    out["energy"].append(float(np.sum(r["energy_pj"])))
    t = time.process_time(); M.evaluate_arrays(p, arch, arr); out["per_row_us"].append(1e6 * (time.process_time() - t) / len(arr["T"]))
    one = {key: v[:1] for key, v in arr.items()}
    M.evaluate_arrays(p, arch, one)
    t = time.process_time()
    for _ in range(50):
        M.evaluate_arrays(p, arch, one)
    out["per_call_us"].append(1e6 * (time.process_time() - t) / 50)
print(json.dumps(out))
"""

_SAMPLER = r"""
import sys, json
import numpy as np
from codesign.evaluators.cost import arch as A
from codesign.evaluators.cost.mapper import sample, sample_greedy
from codesign.evaluators.cost.problem import from_layer
from codesign.workloads.zoo import resnet18
arch = A.load_yaml(sys.argv[1])
n = int(sys.argv[3])
layers = resnet18().layers
out = {}
for k, li in enumerate(json.loads(sys.argv[4])):
    p = from_layer(layers[li], 8, 8, psum_bits=16)
    rng = np.random.default_rng(k)
    a, b = sample(p, arch, n // 2, rng), sample_greedy(p, arch, n - n // 2, rng)
    for key in ("T", "SX", "SY", "rank"):
        out[f"{k}_{key}"] = np.concatenate([a[key], b[key]])
np.savez(sys.argv[2], **out)
"""


def _run(tree: Path, code: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    # run from the tree itself: ``python -c`` puts the working directory first on sys.path
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=False,
                          cwd=tree)
    if proc.returncode != 0:
        raise SystemExit(f"timing run in {tree} failed: {proc.stderr.strip().splitlines()[-1]}")
    return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default="6a4512e", help="commit with the NumPy-vectorized model")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--rows", type=int, default=5000)
    args = ap.parse_args(argv)
    if args.repeats < 1 or args.rows < 2:
        print("--repeats must be >= 1 and --rows >= 2", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "baseline"
        old.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline, "codesign"], capture_output=True)
        if archive.returncode != 0:
            print(f"--baseline must be a commit of this repository's history (git archive failed: "
                  f"{archive.stderr.decode().strip()})", file=sys.stderr)
            return 2
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
        arch = old / "codesign" / "evaluators" / "cost" / "references" / "archs" / "zigzag-tpu_like.yaml"
        cands = Path(tmp) / "candidates.npz"
        layers = json.dumps(list(LAYERS))
        _run(old, _SAMPLER, str(arch), str(cands), str(args.rows), layers)
        runs: dict[str, list[dict]] = {"numpy": [], "compiled": []}
        load = [os.getloadavg()[0]]
        _run(ROOT, _TIMER, str(arch), str(cands), layers)  # compiles (or loads) the kernels once
        for _ in range(args.repeats):
            for name, tree in (("numpy", old), ("compiled", ROOT)):
                runs[name].append(json.loads(_run(tree, _TIMER, str(arch), str(cands), layers)))
        load.append(os.getloadavg()[0])
    same = all(np.allclose(runs["numpy"][0][k], runs["compiled"][0][k], rtol=1e-12) for k in ("cycles", "energy"))
    doc = {"baseline": args.baseline, "rows_per_layer": args.rows, "layers": list(LAYERS), "repeats": args.repeats,
           "load": load, "same_results": bool(same)}
    for what in ("per_row_us", "per_call_us"):
        med = {name: float(np.median([np.mean(r[what]) for r in rs])) for name, rs in runs.items()}
        doc[what] = med | {"gain": med["numpy"] / med["compiled"]}
    print(json.dumps(doc, indent=1))
    print(f"CPU per mapping row (batches of {args.rows}): NumPy {doc['per_row_us']['numpy']:.2f} us, compiled "
          f"{doc['per_row_us']['compiled']:.2f} us -> {doc['per_row_us']['gain']:.1f}x; per call of one row: NumPy "
          f"{doc['per_call_us']['numpy']:.0f} us, compiled {doc['per_call_us']['compiled']:.0f} us -> "
          f"{doc['per_call_us']['gain']:.1f}x (medians of {args.repeats}, load {load[0]:.1f} -> {load[1]:.1f}); "
          f"same cycles and energy: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
