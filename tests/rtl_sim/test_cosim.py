"""RTL (Amaranth) co-simulation: bit-for-bit and cycle-for-cycle against the fast model."""

from __future__ import annotations

import pytest

from codesign.rtl_sim.cosim import cosim_pe, default_configs, verify_all

CONFIGS = [(fam, pe) for fam, pes in default_configs().items() for pe in pes]


@pytest.mark.parametrize("fam, pe", CONFIGS, ids=[f"{f}-{i}" for i, (f, _) in enumerate(CONFIGS)])
def test_rtl_matches_fast_model(fam: str, pe) -> None:
    rep = cosim_pe(pe, n_cases=8, seed=11)
    assert rep.family == fam and rep.cases == 8 and rep.rtl_macs > 0
    assert rep.output_mismatches == 0 and rep.cycle_mismatches == 0, rep.failures


def test_cosim_detects_a_wrong_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """A model off by one in one output element or one cycle is caught."""
    from codesign.rtl_sim import cosim

    real = cosim.simulate_gemm

    def off_by_one(*args, **kwargs):
        res = real(*args, **kwargs)
        res.output[0, 0] += 1
        res.cycles += 1
        return res

    monkeypatch.setattr(cosim, "simulate_gemm", off_by_one)
    rep = cosim_pe(default_configs()["lut"][0], n_cases=3, seed=0)
    assert rep.output_mismatches == 3 and rep.cycle_mismatches == 3


@pytest.mark.slow
def test_rtl_sweep_every_family() -> None:
    reports = verify_all(cases_per_family=200, seed=7)
    assert set(reports) == set(default_configs())
    for rep in reports.values():
        assert rep.cases == 200
        assert rep.output_mismatches == 0 and rep.cycle_mismatches == 0, rep.failures


def test_cosim_detects_a_wrong_data_dependent_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    """One extra cycle in one step of the zero-bit-skipping schedule is caught."""
    from codesign.rtl_sim import cosim

    real = cosim.step_phases

    def longer(*args, **kwargs):
        p = real(*args, **kwargs)
        p[0, 0] += 1
        return p

    monkeypatch.setattr(cosim, "step_phases", longer)
    rep = cosim_pe(default_configs()["essential"][0], n_cases=3, seed=0)
    assert rep.output_mismatches == 0 and rep.cycle_mismatches == 3
