"""Normalized hypervolume: a fixed per-problem box, values in [0, 1], unit-free."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.errors import ConfigError
from codesign.results.pareto import (
    Normalization,
    greedy_hypervolume_subset,
    hypervolume,
    normalized_hypervolume,
    normalized_hypervolume_trace,
)

NORM = Normalization(("acc", "lat"), ("max", "min"), (1.0, 0.0), (0.5, 10.0), (False, False))

coords = st.lists(st.tuples(st.floats(0.3, 1.2), st.floats(-2.0, 12.0)), min_size=1, max_size=20)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(coords)
def test_in_unit_interval_and_equal_to_raw_hv_over_box(pts: list[tuple[float, float]]) -> None:
    y = np.array(pts)
    nhv = normalized_hypervolume(y, NORM)
    assert 0.0 <= nhv <= 1.0
    # inside the box, the value is the raw hypervolume (reference = nadir) over the box volume
    inside = np.clip(y, [0.5, 0.0], [1.0, 10.0])
    raw = hypervolume(inside, ["max", "min"], [0.5, 10.0])
    assert nhv == pytest.approx(raw / (0.5 * 10.0), abs=1e-12)


def test_corners_and_units() -> None:
    assert normalized_hypervolume(np.array([[1.0, 0.0]]), NORM) == pytest.approx(1.0)
    assert normalized_hypervolume(np.array([[0.5, 5.0]]), NORM) == 0.0  # at the nadir in one objective
    assert normalized_hypervolume(np.zeros((0, 2)), NORM) == 0.0
    # the same front in other units, with the box in those units, gives the same value
    pts = np.array([[0.9, 2.0], [0.7, 1.0]])
    ms = Normalization(("acc", "lat"), ("max", "min"), (100.0, 0.0), (50.0, 10_000.0), (False, False))
    assert normalized_hypervolume(pts * [100, 1000], ms) == pytest.approx(normalized_hypervolume(pts, NORM))


def test_log_scale() -> None:
    norm = Normalization(("lat",), ("min",), (1e-3,), (1e1,), (True,))
    # log10: ideal -3, nadir 1; 1e-1 sits at (−1 + 3) / 4 = 0.5 of the box
    assert normalized_hypervolume(np.array([[1e-1]]), norm) == pytest.approx(0.5)
    assert normalized_hypervolume(np.array([[1e-5]]), norm) == pytest.approx(1.0)  # beyond the ideal
    assert normalized_hypervolume(np.array([[0.0]]), norm) == pytest.approx(1.0)  # non-positive: below all
    assert normalized_hypervolume(np.array([[1e2]]), norm) == 0.0


def test_trace_is_monotone_and_skips_infeasible() -> None:
    pts = np.array([[0.6, 8.0], [0.9, 1.0], [0.95, 0.5], [0.8, 5.0]])
    tr = normalized_hypervolume_trace(pts, NORM, np.array([True, True, False, True]))
    assert np.all(np.diff(tr) >= 0)
    assert tr[2] == tr[1]  # the infeasible point does not count
    assert tr[-1] == pytest.approx(normalized_hypervolume(pts[[0, 1, 3]], NORM))


def test_round_trip_and_bad_input() -> None:
    assert Normalization.from_dict(NORM.to_dict()) == NORM
    with pytest.raises(ConfigError, match="nadir must be worse"):
        Normalization(("lat",), ("min",), (5.0,), (1.0,), (False,))
    with pytest.raises(ConfigError, match="log scale"):
        Normalization(("lat",), ("min",), (0.0,), (1.0,), (True,))
    with pytest.raises(ConfigError, match="normalization must be"):
        Normalization.from_dict({"objectives": [{"name": "x"}]})
    with pytest.raises(ConfigError, match="columns"):
        NORM.normalize(np.zeros((2, 3)))


NORM3 = Normalization(("acc", "lat", "area"), ("max", "min", "min"), (1.0, 0.0, 0.0), (0.0, 1.0, 1.0),
                      (False, False, False))
coords3 = st.lists(st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(0.0, 1.0)), min_size=1, max_size=9)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(coords3, st.integers(1, 4))
def test_greedy_subset_is_the_plain_greedy_and_near_the_best_subset(pts: list[tuple[float, ...]], k: int) -> None:
    """The lazy greedy choice holds the plain greedy one's HV (largest HV gain each step; the
    points may differ on ties), its reported HV is its points' HV, and it holds at least 1 − 1/e
    of the best k-subset's."""
    import itertools

    y = np.array(pts)
    chosen, hv = greedy_hypervolume_subset(y, NORM3, k)
    assert hv == pytest.approx(normalized_hypervolume(y[chosen], NORM3), abs=1e-12)
    assert len(set(chosen)) == len(chosen) <= k
    plain: list[int] = []
    for _ in range(k):
        gains = {i: normalized_hypervolume(y[plain + [i]], NORM3) for i in range(len(y)) if i not in plain}
        if not gains or max(gains.values()) <= normalized_hypervolume(y[plain], NORM3):
            break
        plain.append(max(gains, key=lambda i: (gains[i], -i)))
    assert hv == pytest.approx(normalized_hypervolume(y[plain], NORM3), abs=1e-12)
    best = max(normalized_hypervolume(y[list(c)], NORM3) for c in itertools.combinations(range(len(y)), min(k, len(y))))
    assert hv >= (1 - 1 / np.e) * best - 1e-12
    # with room for every point the choice holds the whole front
    assert greedy_hypervolume_subset(y, NORM3, len(y))[1] == pytest.approx(normalized_hypervolume(y, NORM3), abs=1e-12)


def test_greedy_subset_takes_the_gains_in_order() -> None:
    y = np.array([[0.5, 0.5, 0.5], [0.9, 0.9, 0.9], [0.9, 0.1, 0.1], [0.2, 0.2, 0.2]])  # (max, min, min)
    chosen, hv = greedy_hypervolume_subset(y, NORM3, 2)
    assert chosen == [2] and hv == pytest.approx(0.9 ** 3)  # the others lie in its box: no gain, not taken
    y[1] = [0.95, 0.5, 0.05]  # now outside it: the second pick
    assert greedy_hypervolume_subset(y, NORM3, 2)[0] == [2, 1]
    assert greedy_hypervolume_subset(y, NORM3, 0) == ([], 0.0)
    assert greedy_hypervolume_subset(np.zeros((0, 3)), NORM3, 3) == ([], 0.0)
