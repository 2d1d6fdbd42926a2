"""The cost model's hook for data-dependent PE cycles (a zero-bit-skipping PE on real weights)."""

from __future__ import annotations

import pytest

from codesign.evaluators.cost.evaluator import CostModelEvaluator
from codesign.workloads.layer import Workload, gemm

HW = {"pe_type": "essential", "array_rows": 4, "array_cols": 4, "glb_kb": 64, "pe_buf_bytes": 64,
      "dram_gbps": 51.2, "clock_mhz": 500, "w_bits.all": 8, "a_bits.all": 8}
WL = Workload("two", [gemm("fc1", M=32, N=64, K=64), gemm("fc2", M=32, N=16, K=64)])


def _flat(design: dict) -> dict:
    out = dict(design)
    for layer in WL.layers:  # a fixed mapping, so cycles compare one to one
        m, n, k = layer.gemm_shape
        out.update({f"map.{layer.name}.dataflow": "os", f"map.{layer.name}.tile_m": m,
                    f"map.{layer.name}.tile_n": n, f"map.{layer.name}.tile_k": k})
    return out


def test_measured_cycles_replace_the_worst_case_and_scale_energy() -> None:
    calls = []

    def hook(layer, w_bits, a_bits, hw):
        calls.append((layer.name, w_bits, a_bits, hw["array_cols"]))
        return 3.5 if layer.name == "fc1" else None  # fc2 keeps the closed form (7 at 8 bits)

    base = CostModelEvaluator(WL).evaluate(_flat(HW))
    ev = CostModelEvaluator(WL, pe_cycles=hook)
    got = ev.evaluate(_flat(HW))
    assert ("fc1", 8, 8, 4) in calls and ev.version != base_version()
    b, g = base.breakdown["layers"], got.breakdown["layers"]
    assert g["fc1"]["latency_cycles"] == pytest.approx(b["fc1"]["latency_cycles"] * 3.5 / 7)
    assert g["fc2"]["latency_cycles"] == pytest.approx(b["fc2"]["latency_cycles"])
    be, ge = base.breakdown["energy_uj_by_level"]["compute"], got.breakdown["energy_uj_by_level"]["compute"]
    fc1 = 32 * 64 * 64 / (32 * 64 * 64 + 32 * 16 * 64)  # MAC share of fc1: its PE energy halves
    assert ge == pytest.approx(be * (1 - fc1 / 2))


def test_non_data_dependent_pe_keeps_its_energy() -> None:
    hw = {**HW, "pe_type": "bit_serial"}
    base = CostModelEvaluator(WL).evaluate(_flat(hw))
    got = CostModelEvaluator(WL, pe_cycles=lambda *a: 16.0).evaluate(_flat(hw))
    assert got.values["latency_cycles"] > base.values["latency_cycles"]
    assert got.breakdown["energy_uj_by_level"]["compute"] == pytest.approx(base.breakdown["energy_uj_by_level"]["compute"])


def base_version() -> str:
    return CostModelEvaluator.version
