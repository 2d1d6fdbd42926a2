"""The allocation MILP against brute-force enumeration, its errors, side constraints, Pareto sweeps."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.allocation import (AllocationProblem, InfeasibleAllocation, allocate, build, make_groups, pareto,
                                 parse_option, solve)
from codesign.errors import ConfigError


def _brute(loss: list[np.ndarray], cost: list[np.ndarray], budget: float) -> tuple[float, tuple[int, ...] | None]:
    best, pick = np.inf, None
    for combo in itertools.product(*(range(len(v)) for v in loss)):
        c = sum(cost[g][j] for g, j in enumerate(combo))
        if c <= budget * (1 + 1e-12):
            val = sum(loss[g][j] for g, j in enumerate(combo))
            if val < best - 1e-12:
                best, pick = val, combo
    return best, pick


@st.composite
def problems(draw):
    n_groups = draw(st.integers(1, 4))
    names = ["w2a8", "w3a8", "w4a8", "w8a8"]
    opts = [names[: draw(st.integers(1, 4))] for _ in range(n_groups)]
    floats = st.floats(0.0, 100.0, allow_nan=False, width=32)
    loss = [np.array([draw(floats) for _ in o]) for o in opts]
    cost = [np.array([draw(st.floats(0.5, 50.0, width=32)) for _ in o]) for o in opts]
    frac = draw(st.floats(-0.2, 1.0))
    return opts, loss, cost, frac


@settings(derandomize=True, max_examples=60, deadline=None)
@given(problems())
def test_milp_is_exact_against_brute_force(case) -> None:
    opts, loss, cost, frac = case
    groups = [{"name": f"g{i}", "options": o} for i, o in enumerate(opts)]
    lo, hi = sum(c.min() for c in cost), sum(c.max() for c in cost)
    budget = lo + frac * (hi - lo)
    best, pick = _brute(loss, cost, budget)
    kwargs = dict(groups=groups, loss={f"g{i}": v.tolist() for i, v in enumerate(loss)},
                  costs={"c": {f"g{i}": v.tolist() for i, v in enumerate(cost)}}, budgets={"c": budget})
    if pick is None:
        with pytest.raises(InfeasibleAllocation) as err:
            allocate(**kwargs)
        assert err.value.smallest["c"] == pytest.approx(lo)
        assert "budget on `c` must be >=" in str(err.value)
        return
    a = allocate(**kwargs)
    assert a.loss == pytest.approx(best, rel=1e-9, abs=1e-9)
    assert a.totals["c"] <= budget * (1 + 1e-9)


def test_ties_share_one_choice_and_sum_their_tables() -> None:
    a = allocate(layers=["a", "b", "c"], ties=[["a", "c"]], options=["w4a4", "w8a8"],
                 loss={"w4a4": [1.0, 1.0, 5.0], "w8a8": [0.0, 0.0, 0.0]},
                 costs={"size": {"w4a4": [1, 1, 1], "w8a8": [2, 2, 2]}}, budgets={"size": 5})
    assert [g.name for g in a.problem.groups] == ["a+c", "b"]
    assert a.per_layer() == {"a": "w8a8", "c": "w8a8", "b": "w4a4"}  # a+c loses 6 at 4 bits, b only 1
    assert a.totals == {"loss": 1.0, "size": 5.0}


def test_placeholder_constraints_hold_per_layer() -> None:
    layers = [f"layers.{i}.mlp.e{e}" for i in range(3) for e in range(4)]
    # loss prefers 4 bits everywhere; the constraints force a 2- and a 3-bit expert in every layer
    a = allocate(layers=layers, options=["w2a8", "w3a8", "w4a8"], loss=[[3.0, 2.0, 1.0]] * len(layers),
                 constraints=["count(layers.{i}.mlp.e*, w3*) >= 1", "count(layers.{i}.mlp.e*, w2*) >= 1"])
    for i in range(3):
        picks = [a.choice[f"layers.{i}.mlp.e{e}"] for e in range(4)]
        assert sorted(picks) == ["w2a8", "w3a8", "w4a8", "w4a8"]
    assert len(a.problem.constraints) == 6


def test_constraint_forms() -> None:
    kw = dict(layers=["fc1", "fc2", "conv"], options=["w4a8", "w8a8"], loss=[[1.0, 0.0]] * 3)
    assert allocate(**kw, constraints=["mean(w_bits) <= 4"]).choice == dict.fromkeys(["fc1", "fc2", "conv"], "w4a8")
    a = allocate(**kw, constraints=["count(fc*, w8a8) <= 1", "2*count(conv, w4*) - 1 >= 0.5"])
    assert sum(a.choice[k] == "w8a8" for k in ("fc1", "fc2")) == 1 and a.choice["conv"] == "w4a8"
    a = allocate(**kw, costs={"size": {"w4a8": [1, 1, 1], "w8a8": [2, 2, 2]}},
                 constraints=["sum(size, fc*) <= 0.5 * sum(size)"])
    assert a.totals["size"] == 4.0 and a.choice["conv"] == "w8a8"  # fc1 + fc2 <= conv: both fc at 4 bits
    for bad, msg in [("count(x*) >= 1", "matches no group"), ("count(fc*) >= ", "empty side"),
                     ("count(fc*) ~ 1", "must be `expr <= expr`"), ("count(fc*) * count(conv) <= 1", "linear"),
                     ("sum(nosuch) <= 1", "not defined"), ("count(fc*, w2*) >= 1", "no option")]:
        with pytest.raises(ConfigError, match=msg):
            allocate(**kw, constraints=[bad])


def test_conflicting_side_constraints_are_named() -> None:
    with pytest.raises(InfeasibleAllocation, match=r"conflicting: \['count\(\*, w2\*\) >= 2', 'count\(a, w3\*\) >= 1'\]"):
        allocate(layers=["a", "b"], options=["w2a8", "w3a8"], loss=[[0, 0]] * 2,
                 constraints=["count(*, w2*) >= 2", "count(a, w3*) >= 1", "count(b, *) == 1"])


def test_budget_fraction_matches_hawq_definition() -> None:
    p = build({"layers": ["a", "b"], "options": ["w4a4", "w8a8"], "loss": [[1, 0], [1, 0]],
               "costs": {"size": {"w4a4": [1, 3], "w8a8": [2, 6]}}, "budgets": {"size": {"fraction": 0.5}}})
    assert p.budget_value(p.budgets[0]) == pytest.approx(4 + 0.5 * 4)


def test_exact_pareto_front_equals_brute_force() -> None:
    rng = np.random.default_rng(3)
    loss = rng.uniform(0, 1, (5, 3))
    size = np.sort(rng.uniform(1, 4, (5, 3)), axis=1)
    p = build({"groups": [f"g{i}" for i in range(5)], "options": ["w2a8", "w4a8", "w8a8"], "loss": loss,
               "costs": {"size": size}})
    front = pareto(p, "size")
    pts = []
    for combo in itertools.product(range(3), repeat=5):
        pts.append((sum(size[g, j] for g, j in enumerate(combo)), sum(loss[g, j] for g, j in enumerate(combo))))
    pts.sort()
    exact, best = [], np.inf
    for c, l in pts:
        if l < best - 1e-12:
            exact.append((c, l))
            best = l
    got = [(a.totals["size"], a.objective) for a in front]
    assert len(got) == len(exact)
    assert np.allclose(np.array(got), np.array(exact), rtol=1e-9)
    even = pareto(p, "size", points=4)
    assert 2 <= len(even) <= 4 and even[0].totals["size"] == pytest.approx(size[:, 0].sum())


def test_table_forms_and_errors() -> None:
    groups = make_groups(groups={"x": ["l1", "l2"], "y": ["l3"]}, options=["w4a8", "w8a8"])
    by_callable = lambda g, o: len(g.members) * o.w_bits  # noqa: E731
    p = AllocationProblem(groups, {"loss": by_callable, "bits": {"l1": [1, 2], "l2": [3, 4], "y": {"w4a8": 5, "w8a8": 6}},
                                   "prod": {"product": [[1, 2, 3], {"w4a8": 10, "w8a8": 100}]}})
    assert p.tables["loss"].tolist() == [8, 16, 4, 8]
    assert p.tables["bits"].tolist() == [4, 6, 5, 6]
    assert p.tables["prod"].tolist() == [30, 300, 30, 300]
    with pytest.raises(ConfigError, match="neither a group nor a layer"):
        AllocationProblem(groups, {"loss": {"zz": [1, 2]}})
    with pytest.raises(ConfigError, match="must give every group"):
        AllocationProblem(groups, {"loss": {"x": [1, 2]}})
    with pytest.raises(ConfigError, match=r"\[groups, options\] array"):
        AllocationProblem(groups, {"loss": [[1, 2, 3]]})
    with pytest.raises(ConfigError, match="reserved"):
        AllocationProblem(groups, {"loss": by_callable, "w_bits": by_callable})
    with pytest.raises(ConfigError, match="did you mean 'loss'"):
        AllocationProblem(groups, {"loss": by_callable}, objective="los")


def test_options_and_effective_bits() -> None:
    assert parse_option("w4g128a8").w_eff_bits == pytest.approx(4.25)
    assert parse_option("W4A8").a_bits == 8 and parse_option("w3").a_bits is None
    assert parse_option({"name": "nf4", "w_bits": 4, "w_eff_bits": 4.127}).w_eff_bits == 4.127
    for bad in ("int4", "w0a8", "g128", 4, {"w_bits": 4}):
        with pytest.raises(ConfigError):
            parse_option(bad)


def test_design_maps_groups_to_space_keys() -> None:
    from codesign.spaces.builders import quant_space
    from codesign.workloads.layer import Workload, gemm

    wl = Workload("t", [gemm("fc1", 4, 8, 16), gemm("fc2", 4, 8, 8)])
    a = allocate(workload=wl, options=["w2a8", "w8"], loss=[[1, 0], [1, 0]], costs=["size_bytes", "bops"],
                 budgets={"size_bytes": 8 * 16 * 2 / 8 + 8 * 8})
    assert a.choice == {"fc1": "w2a8", "fc2": "w8"}
    assert a.totals["bops"] == 4 * 8 * 16 * 2 * 8 + 4 * 8 * 8 * 8 * 16  # unquantized activations count 16 bits
    space = quant_space(wl, w_bits=(2, 8), a_bits=(4, 8))
    assert a.design(space=space) == {"w_bits.fc1": 2, "a_bits.fc1": 8, "w_bits.fc2": 8, "a_bits.fc2": 8}
    assert a.design() == {"w_bits.fc1": 2, "a_bits.fc1": 8, "w_bits.fc2": 8}
