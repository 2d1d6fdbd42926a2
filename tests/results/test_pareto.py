from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.errors import ConfigError
from codesign.results.pareto import hypervolume, hypervolume_trace, non_dominated_mask, pareto_ranks


def brute_mask(y: np.ndarray) -> np.ndarray:
    n = len(y)
    return np.array([not any(np.all(y[j] <= y[i]) and np.any(y[j] < y[i]) for j in range(n) if j != i)
                     for i in range(n)], dtype=bool)


points = st.integers(1, 30).flatmap(
    lambda n: st.lists(st.lists(st.integers(0, 6), min_size=3, max_size=3), min_size=n, max_size=n)
)


@settings(max_examples=80, deadline=None)
@given(points)
def test_non_dominated_matches_brute_force(pts: list[list[int]]) -> None:
    y = np.array(pts, dtype=float)
    assert (non_dominated_mask(y, ["min"] * 3) == brute_mask(y)).all()
    # max directions flip the sign
    assert (non_dominated_mask(-y, ["max"] * 3) == brute_mask(y)).all()


def grid_hv(y: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume of integer points by counting unit cells (exact for integer coordinates)."""
    lo = y.min(axis=0).astype(int)
    hi = ref.astype(int)
    count = 0
    for cell in itertools.product(*(range(a, b) for a, b in zip(lo, hi))):
        c = np.array(cell)
        if np.any(np.all(y <= c, axis=1)):
            count += 1
    return float(count)


@settings(max_examples=40, deadline=None)
@given(points)
def test_hypervolume_matches_cell_count(pts: list[list[int]]) -> None:
    y = np.array(pts, dtype=float)
    ref = np.array([7.0, 7.0, 7.0])
    assert hypervolume(y, ["min"] * 3, ref) == pytest.approx(grid_hv(y, ref))


def test_hypervolume_mixed_directions_and_errors() -> None:
    # maximize accuracy, minimize latency: points (0.9, 2) and (0.5, 1), ref (0, 4)
    hv = hypervolume(np.array([[0.9, 2.0], [0.5, 1.0]]), ["max", "min"], [0.0, 4.0])
    assert hv == pytest.approx(0.9 * 2 + 0.5 * 1)
    assert hypervolume(np.zeros((0, 2)), ["min", "min"], [1, 1]) == 0.0
    with pytest.raises(ConfigError, match="directions must be"):
        hypervolume(np.ones((1, 2)), ["min", "up"], [2, 2])


def test_ranks_and_trace() -> None:
    y = np.array([[1, 1], [2, 2], [3, 3], [1, 3]], dtype=float)
    assert pareto_ranks(y, ["min", "min"]).tolist() == [0, 1, 2, 1]
    trace = hypervolume_trace(y, ["min", "min"], [4, 4], feasible=np.array([False, True, True, True]))
    assert trace.tolist() == [0.0, 4.0, 4.0, 5.0]  # (1,3) adds the cell [1,2]x[3,4]
    assert (np.diff(hypervolume_trace(y, ["min", "min"], [4, 4])) >= 0).all()


@settings(max_examples=40, deadline=None)
@given(points)
def test_pareto_ranks_match_repeated_brute_force(pts: list[list[int]]) -> None:
    y = np.array(pts, dtype=float)
    expected = np.full(len(y), -1)
    remaining = np.arange(len(y))
    rank = 0
    while remaining.size:
        front = brute_mask(y[remaining])
        expected[remaining[front]] = rank
        remaining = remaining[~front]
        rank += 1
    assert pareto_ranks(y, ["min"] * 3).tolist() == expected.tolist()
    assert pareto_ranks(-y, ["max"] * 3).tolist() == expected.tolist()


def test_masks_and_ranks_come_from_moocore(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pareto masks and ranks are moocore's, not a hand-written loop (issue 16, item 12)."""
    import moocore

    calls = []
    real_nd, real_rank = moocore.is_nondominated, moocore.pareto_rank
    monkeypatch.setattr(moocore, "is_nondominated", lambda *a, **k: calls.append("nd") or real_nd(*a, **k))
    monkeypatch.setattr(moocore, "pareto_rank", lambda *a, **k: calls.append("rank") or real_rank(*a, **k))
    y = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 3.0]])
    assert non_dominated_mask(y, ["min", "min"]).tolist() == [True, True, False]
    assert pareto_ranks(y, ["min", "min"]).tolist() == [0, 0, 1]
    assert calls == ["nd", "rank"]
    assert non_dominated_mask(np.zeros((0, 2)), ["min", "min"]).shape == (0,)
