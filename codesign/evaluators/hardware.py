"""Hardware parameters of a design, shared by the evaluators that model an accelerator.

A ``hardware_space`` design (:func:`codesign.spaces.builders.hardware_space`) sets
:data:`HW_PARAMS`. :func:`hardware_arrays` reads them from a batch of designs as arrays and
checks them (one clear :class:`~codesign.errors.SpaceError` line naming what must hold);
:func:`hardware_key` is a hashable key of one design's hardware point (for caches).
The roofline model (:mod:`codesign.evaluators.roofline`) and the loop-nest cost model
(:mod:`codesign.evaluators.cost.evaluator`) both read designs through this module.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from codesign.errors import SpaceError
from codesign.rtl_sim import characterize

HW_PARAMS = ("pe_type", "array_rows", "array_cols", "glb_kb", "pe_buf_bytes", "dram_gbps", "clock_mhz")


def hardware_arrays(designs: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """Hardware parameters of every design as arrays (``pe_type`` as an object array); a
    :class:`SpaceError` when one is missing, not > 0, or names no registered PE type."""
    out: dict[str, list[Any]] = {p: [] for p in HW_PARAMS}
    for d in designs:
        for p in HW_PARAMS:
            if p not in d:
                raise SpaceError(f"design must set hardware parameter {p!r}; it has {sorted(d)[:8]}")
            out[p].append(d[p])
    arrays = {p: np.asarray(v, dtype=float) for p, v in out.items() if p != "pe_type"}
    for p, v in arrays.items():
        if v.size and not np.all(v > 0):
            raise SpaceError(f"{p} must be > 0, but got {v[v <= 0][0]!r}")
    names = characterize.PE_NAMES  # read at call time: PE types registered later are accepted
    for pe in set(out["pe_type"]):
        if pe not in names:
            close = difflib.get_close_matches(str(pe), names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise SpaceError(f"pe_type must be one of {names}, but got {pe!r}{hint}")
    arrays["pe_type"] = np.asarray(out["pe_type"], dtype=object)
    return arrays


def hardware_key(design: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The design's hardware point as a hashable key (``HW_PARAMS`` order)."""
    return tuple((p, design[p]) for p in HW_PARAMS)
