"""Benchmark of the fast model: against int64 matmul, against RTL simulation, and scaling.

:func:`bench_sim` runs, in one process, on one GEMM (default 256×256×256):

- per PE family: median wall time of :func:`simulate_gemm` ÷ median time of
  ``A.astype(int64) @ W.astype(int64)``; the goal for serial PEs is a ratio of at most
  ``1.5 ×`` the work units the kernel does per MAC (serialized bits or digit pairs; term
  planes for zero-bit skipping; brick pairs for Bit Fusion), LUT and bit-parallel comparable;
- per family: RTL co-simulation seconds per MAC (small random GEMMs through the Amaranth
  simulator) ÷ fast-model seconds per MAC (goal ≥ 1000×);
- cycle scaling: weight-serial compute cycles from 4 to 8 weight bits (×2 expected), LUT
  lookups at 2, 4, 8 weight bits (linear expected).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from codesign.rtl_sim.bits import value_range
from codesign.rtl_sim.essential import EssentialPE
from codesign.rtl_sim.families import PE_FAMILIES
from codesign.rtl_sim.fusion import BitFusionPE
from codesign.rtl_sim.pes import PE, BitSerialPE, Precision
from codesign.rtl_sim.serial import SerialPE
from codesign.rtl_sim.simulate import simulate_gemm

__all__ = ["bench_sim"]

SERIAL_RATIO_GOAL = 1.5  # issue #3: bit-serial time ≤ 1.5 × serialized bits × int64 matmul
RTL_SPEEDUP_GOAL = 1000.0  # issue #3: fast model ≥ 1000× faster than RTL sim per MAC


def work_units(pe: PE, prec: Precision) -> int | None:
    """Kernel work units per MAC the speed goal scales with (None: no goal)."""
    if isinstance(pe, (BitSerialPE, SerialPE)):
        return pe.serialized_bits(prec)
    if isinstance(pe, EssentialPE):
        return prec.w_bits + (pe.encoding == "csd")  # term planes
    if isinstance(pe, BitFusionPE):
        d_a, d_w = pe.brick_digits(prec)
        return d_a * d_w
    return None


def _median_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def bench_sim(
    m: int = 256,
    n: int = 256,
    k: int = 256,
    w_bits: int = 4,
    a_bits: int = 8,
    repeats: int = 5,
    rtl_cases: int = 10,
    array: tuple[int, int] = (16, 16),
    seed: int = 0,
) -> dict[str, Any]:
    """Run the benchmark; returns a JSON-ready dict (see module docstring)."""
    rng = np.random.default_rng(seed)
    wl, wh = value_range(w_bits, True)
    al, ah = value_range(a_bits, True)
    a = rng.integers(al, ah + 1, size=(m, k), dtype=np.int64)
    w = rng.integers(wl, wh + 1, size=(k, n), dtype=np.int64)
    ref = a.astype(np.int64) @ w.astype(np.int64)
    t_ref = _median_seconds(lambda: a.astype(np.int64) @ w.astype(np.int64), repeats)
    prec = Precision(w_bits, a_bits, True, True)
    families: dict[str, Any] = {}
    for key, pe in PE_FAMILIES.items():
        run = lambda pe=pe: simulate_gemm(a, w, pe, w_bits=w_bits, a_bits=a_bits, array=array)
        res = run()
        t_sim = _median_seconds(run, repeats)
        units = work_units(pe, prec)
        entry: dict[str, Any] = {
            "seconds": t_sim,
            "ratio_to_int64_matmul": t_sim / t_ref,
            "work_units_per_mac": units,
            "verified": bool(np.array_equal(res.output, ref)),
            "cycles": res.cycles,
            "cycles_per_mac": res.cycles / (m * n * k),
        }
        if units is not None:
            entry["goal_ratio_max"] = SERIAL_RATIO_GOAL * units
            entry["meets_goal"] = entry["ratio_to_int64_matmul"] <= entry["goal_ratio_max"]
        families[key] = entry
    if rtl_cases > 0:
        from codesign.rtl_sim.cosim import cosim_pe

        for key, pe in PE_FAMILIES.items():
            rep = cosim_pe(pe, rtl_cases, seed=seed)
            rtl_per_mac = rep.rtl_seconds / max(1, rep.rtl_macs)
            fast_per_mac = families[key]["seconds"] / (m * n * k)
            families[key].update(
                rtl_seconds_per_mac=rtl_per_mac,
                fast_seconds_per_mac=fast_per_mac,
                speedup_vs_rtl=rtl_per_mac / fast_per_mac,
                rtl_cases=rep.cases,
                rtl_mismatches=rep.output_mismatches + rep.cycle_mismatches,
            )
            families[key]["meets_rtl_goal"] = families[key]["speedup_vs_rtl"] >= RTL_SPEEDUP_GOAL
    return {
        "gemm": {"m": m, "n": n, "k": k, "w_bits": w_bits, "a_bits": a_bits,
                 "array": list(array), "repeats": repeats},
        "int64_matmul_seconds": t_ref,
        "load_average": list(os.getloadavg()),
        "serial_ratio_goal": SERIAL_RATIO_GOAL,
        "rtl_speedup_goal": RTL_SPEEDUP_GOAL,
        "families": families,
        "scaling": _scaling(rng, array),
    }


def _scaling(rng: np.random.Generator, array: tuple[int, int]) -> dict[str, Any]:
    """Cycle / event scaling with weight bits on a 64×64×64 GEMM."""
    a = rng.integers(-128, 128, size=(64, 64))
    out: dict[str, Any] = {}
    ws, lut = PE_FAMILIES["bit_serial:weight"], PE_FAMILIES["lut"]
    comp: dict[int, int] = {}
    looks: dict[int, int] = {}
    for b in (2, 4, 8):
        lo, hi = value_range(b, True)
        w = rng.integers(lo, hi + 1, size=(64, 64))
        comp[b] = simulate_gemm(a, w, ws, w_bits=b, a_bits=8, array=array).compute_cycles
        looks[b] = simulate_gemm(a, w, lut, w_bits=b, a_bits=8, array=array).events["lookups"]
    out["weight_serial_compute_cycles"] = comp
    out["weight_serial_cycles_ratio_8_over_4"] = comp[8] / comp[4]
    out["lut_lookups"] = looks
    out["lut_lookups_per_weight_bit"] = {b: looks[b] / b for b in looks}
    return out
