"""The measurements behind ``codesign bench cost``: our mapper + model vs zigzag-dse on ResNet-18.

- :func:`ours` maps and scores ResNet-18 (batch 1) on ZigZag's tpu_like
  (``references/archs/zigzag-tpu_like.yaml``) under a chosen latency model: every distinct
  layer is searched once (:func:`codesign.evaluators.cost.mapper.heuristic_many`), repeated
  layers reuse it; the wall time covers loading the architecture, the mapping search and scoring.
- :func:`peer` runs zigzag-dse (its own environment) on the same network and hardware with its
  own mapping search (LOMA; ``opt=latency`` unless told otherwise) and dumps every layer (its
  mapping, energy and latency terms), timing ZigZag's run alone.
- :func:`quality` puts both mappings of each layer through our model under one latency model:
  ours on the architecture above, ZigZag's translated by :mod:`codesign.evaluators.cost.from_zigzag`
  (the same hardware). With ZigZag's latency semantics selected our model reproduces ZigZag's
  own latency of its mapping (``codesign validate --family zigzag-latency``), so the cycles
  compare the two mapping searches under ZigZag's own latency model. Besides energy and cycles,
  each layer's *objective ratio* compares the value our search minimizes (EDP, energy or
  cycles): against a peer run with the same objective (``--peer-opt``) it is the like-for-like
  verdict on the two searches, since no single objective can promise a mapping that is
  better on both axes of another search's trade-off.
- :func:`cached_evaluation` times a whole-network evaluation of a ``resnet18-accel`` design by
  :class:`~codesign.evaluators.cost.evaluator.CostModelEvaluator`: the first one (mapping
  search), then fully cached repeats, against re-scoring every layer with fixed mappings one
  compiled call per layer, and all layers in one call.
- :func:`quality_seeds` repeats the quality comparison over mapper seeds: the search's random
  stream decides which energy/cycle trade-offs it finds per layer (the objective is EDP).
- :func:`throughput` scores many hardware variants of the whole network with fixed mappings.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from codesign.errors import ConfigError

HERE = Path(__file__).resolve().parent
ARCH = HERE / "references" / "archs" / "zigzag-tpu_like.yaml"
PEER = HERE / "peer_zigzag.py"
MAPPER = {"samples": 0, "greedy": 120, "rounds": 6, "keep": 12, "children": 6, "mixed_canonical": True}


def onnx_layer_name(name: str) -> str:
    """ZigZag's ONNX node name as our zoo names it: ``/layer2/layer2.0/downsample/downsample.0/Conv``
    → ``layer2.0.downsample.0`` (drop the op type and every segment that prefixes the next)."""
    parts = [p for p in name.strip("/").split("/")][:-1] or [name.strip("/")]
    keep = [p for p, nxt in zip(parts, parts[1:] + [""]) if not nxt.startswith(p + ".")]
    return ".".join(keep)


def load_arch(latency: str) -> Any:
    from codesign.evaluators.cost import arch as arch_mod

    return replace(arch_mod.load_yaml(ARCH), latency=latency)


def ours(latency: str, objective: str, mapper: dict[str, Any] | None = None) -> dict[str, Any]:
    """Map and score ResNet-18 on tpu_like (see the module docstring)."""
    from codesign.evaluators.cost.evaluator import problem_key
    from codesign.evaluators.cost.mapper import heuristic_many
    from codesign.evaluators.cost.problem import from_layer
    from codesign.workloads.zoo import resnet18

    layers = resnet18().layers
    t0 = time.perf_counter()
    arch = load_arch(latency)
    problems = [from_layer(layer, 8, 8, psum_bits=16) for layer in layers]
    keys = [problem_key(p) for p in problems]
    unique: dict[Any, Any] = {}
    for k, p in zip(keys, problems):
        unique.setdefault(k, p)
    found = heuristic_many(list(unique.values()), arch, objective, **(mapper or MAPPER))
    by_key = dict(zip(unique, found))
    rows = []
    for layer, p, k in zip(layers, problems, keys):
        r = by_key[k]
        rows.append({"name": layer.name, "latency_cycles": r.cycles * p.count, "energy_pj": r.energy_pj * p.count,
                     "macs": p.macs * p.count, "feasible": r.feasible})
    wall = time.perf_counter() - t0
    return {"tool": "codesign", "wall_s": wall, "latency_model": latency, "objective": objective,
            "mapper": dict(mapper or MAPPER), "layers_distinct": len(unique),
            "latency_cycles": sum(r["latency_cycles"] for r in rows), "energy_pj": sum(r["energy_pj"] for r in rows),
            "layers": rows, "_problems": problems, "_mappings": [by_key[k].mapping for k in keys],
            "_arch": arch}


PEER_OPTS = ("latency", "energy", "EDP")  # what ZigZag's LOMA can minimize (its names)


def peer(python: str, opt: str = "latency", timeout: float = 3600) -> dict[str, Any]:
    """Run zigzag-dse on ResNet-18 / tpu_like (LOMA minimizing ``opt``) and dump every layer."""
    if opt not in PEER_OPTS:
        raise ConfigError(f"zigzag-dse's objective must be one of {', '.join(PEER_OPTS)}, but got {opt!r}")
    py = Path(python).absolute()
    if not py.exists():
        raise ConfigError(f"--peer-python must point to an interpreter with zigzag-dse (`make peer` builds .venv-peer), "
                          f"but {python!r} does not exist")
    t0 = time.perf_counter()
    proc = subprocess.run([str(py), str(PEER), "--dump", "tpu_like.yaml", "tpu_like.yaml", "resnet18.onnx", opt],
                          capture_output=True, text=True, timeout=timeout, cwd="/tmp")
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
        raise ConfigError(f"zigzag-dse peer failed: {last}")
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    doc["wall_s_with_startup"] = wall
    return doc


def quality(our: dict[str, Any], dump: dict[str, Any]) -> dict[str, Any]:
    """Per layer (matched by name): our mapping and ZigZag's through our model under ``our``'s
    latency model, and ZigZag's own numbers. Layers whose ZigZag mapping does not translate
    (ZigZag pads an uneven split) are compared with ZigZag's own numbers only."""
    from codesign.evaluators.cost import arch as arch_mod
    from codesign.evaluators.cost import from_zigzag, mapping, model, problem

    theirs = {onnx_layer_name(layer["name"]): layer for layer in dump["layers"]}
    objective = our.get("objective", "edp")
    rows = []
    for layer in our["layers"]:
        z = theirs.get(layer["name"])
        if z is None:
            continue
        count = layer["macs"] / z["macs"] if z["macs"] else 1.0
        row = {"name": layer["name"], "ours_energy_pj": layer["energy_pj"], "ours_cycles": layer["latency_cycles"],
               "zigzag_energy_pj": z["energy_total"] * count, "zigzag_cycles": z["latency_total2"] * count,
               "zigzag_compute_phase": z["latency_total0"] * count}
        try:
            case = from_zigzag.case_from_layer(z, dump["hardware"], "bench", layer["name"])
            a = arch_mod.from_dict({**case["arch"], "latency": our["latency_model"]})
            r = model.evaluate(problem.from_dict(case["problem"]), a, mapping.from_list(case["mapping"]))
            row.update({"theirs_energy_pj": r["energy_pj"] * count, "theirs_cycles": r["cycles"] * count})
        except ConfigError as e:
            row["untranslated"] = str(e)
        ref_e = row.get("theirs_energy_pj", row["zigzag_energy_pj"])
        ref_c = row.get("theirs_cycles", row["zigzag_cycles"] if our["latency_model"] == "zigzag"
                        else row["zigzag_compute_phase"])
        row["energy_ratio"] = layer["energy_pj"] / ref_e
        row["cycles_ratio"] = layer["latency_cycles"] / ref_c
        row["objective_ratio"] = objective_ratio(row["energy_ratio"], row["cycles_ratio"], objective)
        rows.append(row)
    e = np.array([r["energy_ratio"] for r in rows])
    c = np.array([r["cycles_ratio"] for r in rows])
    o = np.array([r["objective_ratio"] for r in rows])
    tot = lambda k, alt: sum(r.get(k, r[alt]) for r in rows)  # noqa: E731
    return {"layers": rows, "matched": len(rows), "energy_le": int((e <= 1 + 1e-9).sum()),
            "cycles_le": int((c <= 1 + 1e-9).sum()), "both_le": int(((e <= 1 + 1e-9) & (c <= 1 + 1e-9)).sum()),
            "objective": objective, "objective_le": int((o <= 1 + 1e-9).sum()),
            "objective_ratio_range": [float(o.min()), float(o.max())],
            "energy_ratio_range": [float(e.min()), float(e.max())], "cycles_ratio_range": [float(c.min()), float(c.max())],
            "energy_ratio_total": sum(r["ours_energy_pj"] for r in rows) / tot("theirs_energy_pj", "zigzag_energy_pj"),
            "cycles_ratio_total": sum(r["ours_cycles"] for r in rows) / tot(
                "theirs_cycles", "zigzag_cycles" if our["latency_model"] == "zigzag" else "zigzag_compute_phase"),
            "untranslated": [r["name"] for r in rows if "untranslated" in r]}


def objective_ratio(energy_ratio: float, cycles_ratio: float, objective: str) -> float:
    """Ours ÷ theirs in the value ``objective`` minimizes (``edp``: the product of the two ratios;
    ``cycles``: fewest cycles first, so their ratio)."""
    return {"edp": energy_ratio * cycles_ratio, "energy": energy_ratio, "cycles": cycles_ratio}[objective]


def quality_seeds(latency: str, objective: str, dump: dict[str, Any], seeds: int) -> dict[str, Any]:
    """:func:`quality` of our search with mapper seeds ``0..seeds-1`` against one zigzag-dse dump:
    per seed, the layers where our energy, cycles and both are <= LOMA's, and the totals' ratios."""
    per = [quality(ours(latency, objective, {**MAPPER, "seed": seed}), dump) for seed in range(seeds)]
    keys = ("energy_le", "cycles_le", "both_le", "objective_le")
    out: dict[str, Any] = {"seeds": list(range(seeds)), "layers": per[0]["matched"] if per else 0}
    out.update({k: [q[k] for q in per] for k in keys})
    for k in ("energy_ratio_total", "cycles_ratio_total"):
        values = [q[k] for q in per]
        out[k + "_median"], out[k + "_max"] = float(np.median(values)), float(max(values))
    return out


def cached_evaluation(latency: str, repeats: int = 200) -> dict[str, Any]:
    """A ``resnet18-accel`` design through :class:`CostModelEvaluator`: first (mapping search),
    fully cached repeats, and re-scoring the fixed mappings per layer vs all layers in one call."""
    from codesign.evaluators.cost.evaluator import CostModelEvaluator
    from codesign.evaluators.cost.mapping import to_arrays
    from codesign.evaluators.cost.model import evaluate_arrays, level_params
    from codesign.workloads.zoo import resnet18

    design = {"pe_type": "bit_parallel", "array_rows": 16, "array_cols": 16, "glb_kb": 128, "pe_buf_bytes": 64,
              "dram_gbps": 12.8, "clock_mhz": 500, "w_bits.all": 8, "a_bits.all": 8}
    ev = CostModelEvaluator(resnet18(), latency=latency)
    t0 = time.perf_counter()
    first = ev.evaluate(design)
    first_s = time.perf_counter() - t0
    cached = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        again = ev.evaluate(design)
        cached.append(time.perf_counter() - t0)
    assert again.values == first.values
    jobs = ev.layer_jobs(design)  # (layer, problem, architecture, mapping) as the evaluator scored them
    arch = jobs[0][2]
    params = level_params([arch])
    per_layer, batched = [], []
    for _ in range(max(5, repeats // 20)):
        t0 = time.perf_counter()
        for _, p, a, m in jobs:
            evaluate_arrays(p, a, to_arrays([m], p, a), params=params)
        per_layer.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        groups: dict[Any, list[int]] = {}
        for k, (_, p, _, _) in enumerate(jobs):
            groups.setdefault(tuple(p.dims), []).append(k)
        for idx in groups.values():
            arrays = [to_arrays([jobs[k][3]], jobs[k][1], arch) for k in idx]
            arr = {key: np.concatenate([a[key] for a in arrays]) for key in arrays[0]}
            evaluate_arrays(jobs[idx[0]][1], arch, arr, problems=[jobs[k][1] for k in idx],
                            params={k: np.repeat(v, len(idx), axis=0) for k, v in params.items()})
        batched.append(time.perf_counter() - t0)
    return {"design": design, "layers": len(jobs), "first_s": first_s, "cached_ms_median": 1e3 * float(np.median(cached)),
            "cached_ms_runs": len(cached), "rescore_per_layer_ms_median": 1e3 * float(np.median(per_layer)),
            "rescore_batched_ms_median": 1e3 * float(np.median(batched))}


def throughput(our: dict[str, Any], n: int) -> dict[str, Any]:
    """Designs/s: ``n`` hardware variants (energies, bandwidths, PE costs) of the whole network, fixed mappings."""
    from codesign.evaluators.cost.mapping import to_arrays
    from codesign.evaluators.cost.model import evaluate_arrays, level_params

    arch = our["_arch"]
    rng = np.random.default_rng(0)
    base = level_params([arch])
    params = {k: np.repeat(v, n, axis=0) * (rng.uniform(0.5, 2.0, (n,) + v.shape[1:]) if k != "size_words" else 1)
              for k, v in base.items()}
    t0 = time.perf_counter()
    total = np.zeros(n)
    for p, m in zip(our["_problems"], our["_mappings"]):
        arr = {k: np.repeat(v, n, axis=0) for k, v in to_arrays([m], p, arch).items()}
        total += evaluate_arrays(p, arch, arr, params=params)["cycles"]
    dt = time.perf_counter() - t0
    return {"designs": n, "seconds": dt, "designs_per_s": n / dt, "layers_per_design": len(our["_problems"])}
