"""Activation statistics of a probe's quantizable layers on its calibration split, computed once.

For every layer (forward pre-hooks on one pass over the calibration batches):

- the **input range** ``(lo, hi)`` over all GEMM rows (:func:`layer_inputs.input_range`: raw
  min / max, 0 included where a conv zero-pads; nothing is unfolded);
- a **row sample** of up to ``rows`` input rows (drawn without replacement, at most
  ``rows // 8`` per batch; only those rows are gathered, :func:`layer_inputs.sample_rows`), for
  the proxy;
- the number of rows seen (``tokens``).

:class:`CalibStats` persist as one ``.npz`` per (model and data version, calibration split,
row budget) under ``<cache>/probes/`` (written atomically), so a probe process after the first
loads them in milliseconds instead of running the calibration pass again.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from codesign.evaluators.accuracy.layer_inputs import input_range, row_count, sample_rows

__all__ = ["CalibStats", "atomic_write", "collect", "load_stats", "save_stats"]


def atomic_write(path: Path, write: Any) -> None:
    """Call ``write(file)`` on a temp file beside ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class CalibStats:
    """Per layer name: input range, row sample ``[rows, K]`` (float32), rows seen."""

    ranges: dict[str, tuple[float, float]]
    rows: dict[str, np.ndarray]
    tokens: dict[str, int]


def collect(model: Any, modules: Mapping[str, Any], batches: Iterable[Any], in_features: Mapping[str, int],
            rows: int, seed: int = 0) -> CalibStats:
    """One pass of ``model`` over ``batches`` (a tuple is unpacked as positional inputs)."""
    import torch

    names = list(in_features)
    lo = dict.fromkeys(names, np.inf)
    hi = dict.fromkeys(names, -np.inf)
    kept_rows: dict[str, list[np.ndarray]] = {n: [] for n in names}
    kept = dict.fromkeys(names, 0)
    tokens = dict.fromkeys(names, 0)
    rng = np.random.default_rng(seed)

    def hook_for(name: str) -> Any:
        def hook(mod: Any, args: tuple[Any, ...]) -> None:
            x = args[0]
            m = row_count(mod, x)
            if m == 0:
                return
            a, b = input_range(mod, x)
            lo[name], hi[name] = min(lo[name], a), max(hi[name], b)
            tokens[name] += m
            if kept[name] < rows:
                take = min(rows - kept[name], max(1, rows // 8), m)
                idx = rng.choice(m, take, replace=False)
                kept_rows[name].append(sample_rows(mod, x, idx).numpy().astype(np.float32))
                kept[name] += take
        return hook

    handles = [modules[n].register_forward_pre_hook(hook_for(n)) for n in names]
    try:
        with torch.no_grad():
            for batch in batches:
                model(*batch) if isinstance(batch, tuple) else model(batch)
    finally:
        for h in handles:
            h.remove()
    ranges = {}
    for n in names:  # a layer never called on the calibration split (an unused expert): empty range
        ranges[n] = (float(lo[n]), float(hi[n])) if np.isfinite(lo[n]) else (0.0, 0.0)
    sample = {n: np.concatenate(kept_rows[n]) if kept_rows[n] else np.zeros((0, in_features[n]), np.float32)
              for n in names}
    return CalibStats(ranges, sample, tokens)


def stats_path(cache_dir: Path, probe: str, version: str, rows: int) -> Path:
    """Where the statistics of ``probe`` at model/data ``version`` and row budget live."""
    key = hashlib.sha1(f"{probe}|{version}|rows={rows}".encode()).hexdigest()[:16]
    return cache_dir / "probes" / f"{probe}-calib-{key}.npz"


def save_stats(path: Path, stats: CalibStats) -> None:
    names = list(stats.ranges)
    arrays: dict[str, np.ndarray] = {
        "names": np.array(names), "ranges": np.array([stats.ranges[n] for n in names], dtype=np.float64).reshape(-1, 2),
        "tokens": np.array([stats.tokens[n] for n in names], dtype=np.int64)}
    for i, n in enumerate(names):
        arrays[f"rows_{i}"] = stats.rows[n]
    atomic_write(path, lambda f: np.savez(f, **arrays))


def load_stats(path: Path, names: Iterable[str]) -> CalibStats | None:
    """The saved statistics if the file exists, reads, and covers exactly ``names``; else None."""
    if not path.is_file():
        return None
    try:
        with np.load(path) as f:
            saved = [str(n) for n in f["names"]]
            if sorted(saved) != sorted(names):
                return None
            ranges = {n: (float(r[0]), float(r[1])) for n, r in zip(saved, f["ranges"])}
            tokens = {n: int(t) for n, t in zip(saved, f["tokens"])}
            rows = {n: f[f"rows_{i}"] for i, n in enumerate(saved)}
    except (OSError, ValueError, KeyError):
        return None
    return CalibStats(ranges, rows, tokens)
