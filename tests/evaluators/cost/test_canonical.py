"""Canonical seeds of the mappers on small PE buffers; every space PE type in both hardware models."""

from __future__ import annotations

import numpy as np
import pytest

from codesign.evaluators.cost import arch as A
from codesign.evaluators.cost import canonical as C
from codesign.evaluators.cost import candidates as CA
from codesign.evaluators.cost import mapper as MP
from codesign.evaluators.cost import mapping as Mp
from codesign.evaluators.cost import problem as P
from codesign.evaluators.cost import model as M
from codesign.evaluators.cost.model import evaluate_arrays

BASE_HW = {"pe_type": "bit_parallel", "dram_gbps": 25.6, "clock_mhz": 1000}
# small-PE-buffer points of experiments/hasco_codesign.py's grid
SMALL_BUF = [{**BASE_HW, "array_rows": r, "array_cols": c, "glb_kb": g, "pe_buf_bytes": 16}
             for r, c, g in ((8, 8, 32), (8, 64, 32), (64, 8, 128), (32, 32, 512))]


def _layers() -> list:
    from codesign.workloads.zoo import llama2_7b, resnet18

    cnn = resnet18(batch=1).layers
    llm = [l for l in llama2_7b(tokens=256).layers if l.name.endswith(("q_proj", "qk", "down_proj"))]
    return [cnn[0], cnn[5], cnn[12], *llm[:3]]


def _canonical_best(problem: P.LoopProblem, arch: A.Architecture) -> tuple[bool, float]:
    res = evaluate_arrays(problem, arch, C.canonical(problem, arch))
    s = CA.score(res)
    return bool(np.isfinite(s).any()), float(s.min())


@pytest.mark.parametrize("hw", SMALL_BUF, ids=lambda h: f"{h['array_rows']}x{h['array_cols']}-{h['glb_kb']}k")
def test_mapper_feasible_and_no_worse_than_canonical_on_small_buffers(hw: dict) -> None:
    arch = A.from_hw(hw)
    for layer in _layers():
        problem = P.from_layer(layer)
        ok, best = _canonical_best(problem, arch)
        assert ok, layer.name  # a plain stationary mapping fits a 16-byte PE buffer
        for r in (MP.heuristic(problem, arch, samples=100, rounds=1),
                  MP.find_mapping(problem, arch, "qlearning", episodes=100, batch=50)):
            assert r.feasible and np.isfinite(r.score), layer.name
            assert r.score <= best * (1 + 1e-9), layer.name
            M.check_mapping(r.mapping, problem, arch)


def test_canonical_dataflows_keep_their_operand_stationary() -> None:
    arch = A.from_hw({**BASE_HW, "array_rows": 4, "array_cols": 4, "glb_kb": 64, "pe_buf_bytes": 64})
    gemm = P.from_dict({"op": "gemm", "dims": {"M": 16, "N": 32, "K": 64}})
    arr = C.canonical(gemm, arch)
    assert arr["T"].shape == (len(C.DATAFLOWS) * len(C.VARIANTS), 3, 3)
    sizes = np.array([16, 32, 64])
    assert np.all((arr["T"] * arr["SX"] * arr["SY"]).prod(axis=1) == sizes)
    pe = arr["T"][:, 2]  # innermost level grows only the dims irrelevant to the stationary operand
    for row, df in zip(pe[::2], C.DATAFLOWS):
        grown = {"MNK"[j] for j in np.nonzero(row > 1)[0]}
        assert grown <= {"ws": {"M"}, "os": {"K"}, "is": {"N"}}[df], (df, grown)
    # spatial: ws unrolls K on rows (y) and N on columns (x), like the flat ws mapping
    assert arr["SY"][0, 1, 2] == 4 and arr["SX"][0, 1, 1] == 4


def test_nothing_fits_is_reported_not_hidden() -> None:
    from codesign.evaluators.cost.evaluator import CostModelEvaluator
    from codesign.workloads.layer import Workload, gemm

    # one weight, one input and one output byte (8-bit partial sums here) need 3 bytes: 2 hold no tile
    hw = {**BASE_HW, "array_rows": 4, "array_cols": 4, "glb_kb": 64, "pe_buf_bytes": 2}
    problem = P.from_dict({"op": "gemm", "dims": {"M": 8, "N": 8, "K": 8}})
    for r in (MP.heuristic(problem, A.from_hw(hw), samples=50, rounds=1),
              MP.find_mapping(problem, A.from_hw(hw), "qlearning", episodes=50, batch=50)):
        assert not r.feasible and r.score == np.inf and r.capacity_over["pe_buf"] > 0
        assert r.capacity_over["pe_buf"] == pytest.approx(3 / 2 - 1)  # least overflow: the all-ones tile
    m = CostModelEvaluator(Workload("g", [gemm("fc", 8, 8, 8)]), mapper_kwargs={"samples": 50, "rounds": 1}).evaluate(hw)
    assert not m.feasible and "capacity:fc:pe_buf" in m.violations


@pytest.mark.parametrize("pe_type", __import__("codesign.spaces.builders", fromlist=["PE_TYPES"]).PE_TYPES)
def test_every_space_pe_type_runs_in_roofline_and_cost_model(pe_type: str) -> None:
    from codesign.evaluators.cost.evaluator import CostModelEvaluator
    from codesign.evaluators.roofline import RooflineEvaluator
    from codesign.spaces.builders import hardware_space
    from codesign.workloads.layer import Workload, gemm

    assert pe_type in hardware_space()["pe_type"].values
    wl = Workload("g", [gemm("fc", 16, 16, 32)])
    d = {**BASE_HW, "pe_type": pe_type, "array_rows": 4, "array_cols": 4, "glb_kb": 16, "pe_buf_bytes": 64,
         "w_bits.fc": 4, "a_bits.fc": 4}
    for ev in (RooflineEvaluator(wl), CostModelEvaluator(wl, mapper_kwargs={"samples": 50, "rounds": 1})):
        m = ev.evaluate(d)
        assert m.values["latency_cycles"] > 0 and m.values["energy_uj"] > 0 and m.values["area_mm2"] > 0


def test_stripes_pays_activation_bits_not_weight_bits_in_cost_model() -> None:
    w4a8 = A.compute_from_pe("bit_serial_act", 4, 8, 16)
    w8a4 = A.compute_from_pe("bit_serial_act", 8, 4, 16)
    assert w4a8.cycles_per_mac == 8.0 and w8a4.cycles_per_mac == 4.0
    assert A.compute_from_pe("bit_serial", 8, 4, 16).cycles_per_mac == 8.0
