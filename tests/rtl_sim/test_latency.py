"""Latency with floor terms: the fit recovers known tables and reports its error; the table hook."""

from __future__ import annotations

import numpy as np
import pytest

from codesign.errors import ConfigError
from codesign.rtl_sim.latency import FloorLatency, LatencyTable, fit_floor_latency

W, A = (g.ravel() for g in np.meshgrid(np.arange(1, 9), np.arange(1, 9)))


def test_fit_recovers_a_table_of_its_own_shape() -> None:
    true = FloorLatency(c0=500.0, k_wa=100.0, k_a=300.0, k_w=150.0)
    model, rep = fit_floor_latency(W, A, true.cycles(W, A))
    assert rep["rmse_rel"] < 1e-9 and rep["r2"] == pytest.approx(1.0)
    for field in ("c0", "k_wa", "k_a", "k_w"):
        assert getattr(model, field) == pytest.approx(getattr(true, field), rel=1e-6)
    assert set(rep["binding"]) == {"w·a", "a", "w"} and all(v > 0 for v in rep["binding"].values())


def test_fit_on_noisy_table_reports_its_error() -> None:
    true = FloorLatency(c0=1000.0, k_wa=50.0, k_a=300.0, k_w=0.0)
    noise = 1 + 0.02 * np.random.default_rng(0).standard_normal(W.size)
    model, rep = fit_floor_latency(W, A, true.cycles(W, A) * noise)
    assert 0.005 < rep["rmse_rel"] < 0.04 and rep["max_abs_rel_err"] < 0.1
    assert model.k_wa == pytest.approx(50.0, rel=0.1)
    # a pure w*a model (no floors) fits the same table worse
    pure = FloorLatency(0.0, float(np.median(true.cycles(W, A) / (W * A))), 0.0, 0.0)
    assert np.sqrt(np.mean((pure.cycles(W, A) / (true.cycles(W, A) * noise) - 1) ** 2)) > 5 * rep["rmse_rel"]


def test_latency_table_is_a_cost_model_hook() -> None:
    fit = FloorLatency(100.0, 10.0, 0.0, 0.0)
    table = LatencyTable({"fc": fit}, {"fc": 1000.0}, "bit_serial_both", lanes=16)
    hw = {"pe_type": "bit_serial_both"}
    assert table("fc", 4, 8, hw) == pytest.approx((100 + 320) * 16 / 1000)
    assert table("fc", 4, 8, {"pe_type": "lut"}) is None and table("conv", 4, 8, hw) is None


def test_bad_tables_are_rejected() -> None:
    with pytest.raises(ConfigError, match=">= 4 points"):
        fit_floor_latency([1, 2], [1, 2], [3, 4])
    with pytest.raises(ConfigError, match="> 0"):
        fit_floor_latency([1, 2, 3, 4], [1, 2, 3, 4], [1, 0, 2, 3])
    with pytest.raises(ConfigError, match="MACs"):
        LatencyTable({"fc": FloorLatency(0, 1, 0, 0)}, {}, "x", 1)
