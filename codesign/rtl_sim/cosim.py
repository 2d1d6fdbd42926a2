"""Co-simulation: drive the Amaranth RTL with random GEMMs and compare with the fast model.

For each case (random shape, precisions, signedness, weight code, tile order) the testbench
feeds the RTL array tile by tile in the fast model's tile order, one step of operands each
time the array raises ``in_ready``, and records the cycle of every operand acceptance, every
tile's outputs and the cycle of the last ``out_valid``. A case matches when the output equals
:func:`~codesign.rtl_sim.simulate.simulate_gemm`'s output bit for bit, and the total cycles
and the full acceptance trace equal the model's schedule (``tile·(S·P + 1) + s·P``; for the
zero-bit-skipping family each step's ``P`` comes from
:func:`~codesign.rtl_sim.essential.step_phases` on the case's weights).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from codesign.rtl_sim.bits import value_range
from codesign.rtl_sim.essential import EssentialPE, step_phases
from codesign.rtl_sim.fusion import BitFusionPE
from codesign.rtl_sim.pes import A_BITS_MAX, PE, W_BITS_MAX, BitParallelPE, BitSerialPE, GemmShape, LutPE, Precision
from codesign.rtl_sim.serial import SerialPE
from codesign.rtl_sim.simulate import simulate_gemm, tile_schedule

__all__ = ["CosimReport", "cosim_pe", "verify_all", "default_configs"]


@dataclass
class CosimReport:
    """Cases run and mismatches for one PE family (summed over its hardware configs)."""

    family: str
    cases: int = 0
    output_mismatches: int = 0
    cycle_mismatches: int = 0
    rtl_cycles: int = 0
    rtl_macs: int = 0
    rtl_seconds: float = 0.0
    configs: list[str] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)

    def merge(self, other: CosimReport) -> None:
        self.cases += other.cases
        self.output_mismatches += other.output_mismatches
        self.cycle_mismatches += other.cycle_mismatches
        self.rtl_cycles += other.rtl_cycles
        self.rtl_macs += other.rtl_macs
        self.rtl_seconds += other.rtl_seconds
        self.configs += other.configs
        self.failures += other.failures

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rtl_seconds_per_mac"] = self.rtl_seconds / max(1, self.rtl_macs)
        d["failures"] = self.failures[:5]
        return d


def _random_case(rng: np.random.Generator, pe: PE, max_mnk: tuple[int, int, int]) -> dict[str, Any]:
    m, n, k = (int(rng.integers(1, d + 1)) for d in max_mnk)
    w_bits, a_bits = int(rng.integers(1, W_BITS_MAX + 1)), int(rng.integers(1, A_BITS_MAX + 1))
    w_signed, a_signed = bool(rng.integers(2)), bool(rng.integers(2))
    wl, wh = value_range(w_bits, w_signed)
    al, ah = value_range(a_bits, a_signed)
    model_pe = pe
    if isinstance(pe, LutPE):
        model_pe = replace(pe, w_code=str(rng.choice(["offset_binary", "twos_complement"])))
    w = rng.integers(wl, wh + 1, size=(k, n))
    if isinstance(pe, EssentialPE) and rng.integers(3) == 0:  # sparse weights: many short steps
        w = np.where(rng.random((k, n)) < 0.7, 0, w)
    scales = None
    if isinstance(pe, SerialPE) and pe.group_size:
        scales = rng.integers(0, 1 << pe.scale_bits, size=(pe.groups(k), n))
    return {
        "a": rng.integers(al, ah + 1, size=(m, k)),
        "w": w,
        "scales": scales,
        "shape": GemmShape(m, n, k),
        "prec": dict(w_bits=w_bits, a_bits=a_bits, w_signed=w_signed, a_signed=a_signed),
        "pe": model_pe,
        "order": str(rng.choice(["mn", "nm"])),
    }


def cosim_pe(
    pe: PE,
    n_cases: int,
    seed: int = 0,
    array: tuple[int, int] = (2, 2),
    max_mnk: tuple[int, int, int] = (5, 5, 24),
) -> CosimReport:
    """Run ``n_cases`` random GEMMs through the RTL of ``pe`` and compare with the model."""
    from amaranth.sim import Simulator

    from codesign.rtl_sim.hdl.build import build_rtl

    rows, cols = array
    dut = build_rtl(pe, rows, cols, max_k=max(64, max_mnk[2]))
    rng = np.random.default_rng(seed)
    cases = [_random_case(rng, pe, max_mnk) for _ in range(n_cases)]
    report = CosimReport(family=pe.key, configs=[repr(pe)])
    ports = pe.k_per_step

    def drive(ctx: Any, case: dict[str, Any], tile: tuple[int, int], step: int) -> None:
        a, w, ks = case["a"], case["w"], case["k_step"]
        k0 = step * ks
        for r in range(rows):
            for i in range(ports):
                mi, ki = tile[0] * rows + r, k0 + i
                ok = i < ks and mi < a.shape[0] and ki < a.shape[1]
                ctx.set(dut.a_in[r][i], int(a[mi, ki]) if ok else 0)
        for i in range(ports):
            for c in range(cols):
                ki, ni = k0 + i, tile[1] * cols + c
                ok = i < ks and ki < w.shape[0] and ni < w.shape[1]
                ctx.set(dut.w_in[i][c], int(w[ki, ni]) if ok else 0)
        if case["scales"] is not None:
            for c in range(cols):
                ni = tile[1] * cols + c
                g = k0 // case["pe"].group_size
                ctx.set(dut.scale_in[c], int(case["scales"][g, ni]) if ni < w.shape[1] else 0)

    async def bench(ctx: Any) -> None:
        for case in cases:
            t0 = time.perf_counter()
            shape, prec = case["shape"], case["prec"]
            case["k_step"] = pe.k_step(Precision(**prec))
            steps = -(-shape.k // case["k_step"])
            for name in ("w_bits", "a_bits", "w_signed", "a_signed"):
                ctx.set(getattr(dut, name), int(prec[name]))
            ctx.set(dut.w_offset, int(getattr(case["pe"], "w_code", "") == "offset_binary"))
            ctx.set(dut.steps, steps)
            tiles = tile_schedule(shape, array, case["order"])
            out = np.zeros((shape.m, shape.n), dtype=np.int64)
            accepts, cycle, ti, step = [0], 0, 0, 1
            drive(ctx, case, tiles[0], 0)
            ctx.set(dut.start, 1)
            limit = len(tiles) * (steps * A_BITS_MAX * W_BITS_MAX + 2) + 8
            while cycle < limit:
                await ctx.tick()
                cycle += 1
                ctx.set(dut.start, 0)
                if ctx.get(dut.out_valid):
                    tm, tn = tiles[ti]
                    for r in range(min(rows, shape.m - tm * rows)):
                        for c in range(min(cols, shape.n - tn * cols)):
                            out[tm * rows + r, tn * cols + c] = ctx.get(dut.out[r][c])
                    ti += 1
                    if ti == len(tiles):
                        break
                    drive(ctx, case, tiles[ti], 0)
                    ctx.set(dut.start, 1)
                    accepts.append(cycle)
                    step = 1
                elif ctx.get(dut.in_ready):
                    drive(ctx, case, tiles[ti], step)
                    accepts.append(cycle)
                    step += 1
            report.rtl_seconds += time.perf_counter() - t0
            _compare(case, out, cycle, accepts, array, report)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return report


def _expected_accepts(case: dict[str, Any], array: tuple[int, int], precision: Precision) -> list[int]:
    """Operand-acceptance cycles of the model's schedule: tile ``t`` starts at the sum of the
    earlier tiles' ``Σ_s P_s + 1``; its step ``s`` is accepted ``Σ_{s' < s} P_s'`` later."""
    pe, shape = case["pe"], case["shape"]
    steps = -(-shape.k // pe.k_step(precision))
    if pe.data_dependent:
        per_tile = step_phases(case["w"], pe.lanes, array[1], pe.encoding)
    else:
        per_tile = np.full((-(-shape.n // array[1]), steps), pe.phases(precision))
    out, t0 = [], 0
    for _, tn in tile_schedule(shape, array, case["order"]):
        p = per_tile[tn]
        out += [t0 + int(x) for x in np.concatenate(([0], np.cumsum(p)[:-1]))]
        t0 += int(p.sum()) + 1
    return out


def _compare(case: dict[str, Any], out: np.ndarray, cycles: int, accepts: list[int],
             array: tuple[int, int], report: CosimReport) -> None:
    model = simulate_gemm(case["a"], case["w"], case["pe"], array=array, order=case["order"],
                          w_scales=case["scales"], **case["prec"])
    pe, shape = case["pe"], case["shape"]
    expected = _expected_accepts(case, array, model.precision)
    report.cases += 1
    report.rtl_cycles += cycles
    report.rtl_macs += shape.macs
    out_ok = np.array_equal(out, model.output)
    cyc_ok = cycles == model.cycles and accepts == expected
    report.output_mismatches += not out_ok
    report.cycle_mismatches += not cyc_ok
    if not (out_ok and cyc_ok):
        report.failures.append({"pe": repr(pe), "shape": asdict(shape), **case["prec"],
                                "order": case["order"], "rtl_cycles": cycles,
                                "model_cycles": model.cycles, "output_ok": out_ok})


def default_configs() -> dict[str, list[PE]]:
    """Hardware configurations verified per family (varied lanes, k and g)."""
    return {
        "bit_parallel": [BitParallelPE(lanes=3), BitParallelPE(lanes=1)],
        "bit_serial:weight": [BitSerialPE(serial="weight", bits_per_cycle=1, lanes=3),
                              BitSerialPE(serial="weight", bits_per_cycle=2, lanes=2),
                              BitSerialPE(serial="weight", bits_per_cycle=3, lanes=2)],
        "bit_serial:activation": [BitSerialPE(serial="activation", bits_per_cycle=1, lanes=3),
                                  BitSerialPE(serial="activation", bits_per_cycle=4, lanes=2)],
        "bit_serial:both": [BitSerialPE(serial="both", lanes=3),
                            BitSerialPE(serial="both", lanes=1)],
        "lut": [LutPE(g=4, lanes=2), LutPE(g=2, lanes=2), LutPE(g=3, lanes=1)],
        "serial": [SerialPE(w_bits_per_cycle=2, a_bits_per_cycle=16, lanes=4, group_size=8, scale_bits=8),
                   SerialPE(w_bits_per_cycle=3, a_bits_per_cycle=5, lanes=2),
                   SerialPE(w_bits_per_cycle=1, a_bits_per_cycle=8, lanes=1, group_size=3, scale_bits=2)],
        "essential": [EssentialPE(lanes=3), EssentialPE(lanes=1)],
        "essential:csd": [EssentialPE(lanes=2, encoding="csd"), EssentialPE(lanes=1, encoding="csd")],
        "bit_fusion": [BitFusionPE(lanes=1)],
    }


def verify_all(cases_per_family: int = 200, seed: int = 0,
               families: list[str] | None = None) -> dict[str, CosimReport]:
    """Co-simulate every family (its configs share ``cases_per_family`` random cases)."""
    reports: dict[str, CosimReport] = {}
    for idx, (fam, configs) in enumerate(default_configs().items()):
        if families is not None and fam not in families:
            continue
        rep = CosimReport(family=fam)
        per = [cases_per_family // len(configs)] * len(configs)
        per[0] += cases_per_family - sum(per)
        for j, (pe, n) in enumerate(zip(configs, per)):
            if n:
                rep.merge(cosim_pe(pe, n, seed=seed * 1000 + idx * 10 + j))
        reports[fam] = rep
    return reports
