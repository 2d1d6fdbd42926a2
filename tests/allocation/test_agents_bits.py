"""The agents' bit allocation goes through the public allocator: measured losses, side constraints."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "envs"))
from envs_testlib import make_tiny_problem  # noqa: E402

from codesign.agents.bits import BitModel  # noqa: E402
from codesign.allocation import allocate  # noqa: E402


@pytest.fixture(scope="module")
def tiny():
    return make_tiny_problem()


def test_bitmodel_knapsack_is_the_public_allocation(tiny) -> None:
    bits = BitModel(tiny.space, tiny.workload)
    budget = bits.budget(0.5)
    got = bits.knapsack(budget)
    groups = [{"name": g.key, "options": [o.name for o in ag.options]} for g, ag in zip(bits.groups, bits.problem.groups)]
    loss = {g.key: [g.weights * 4.0 ** -o.w_bits + g.inputs * 4.0 ** -o.a_bits for o in ag.options]  # the noise proxy
            for g, ag in zip(bits.groups, bits.problem.groups)}
    bops = {g.key: [g.macs * o.w_bits * o.a_bits for o in ag.options] for g, ag in zip(bits.groups, bits.problem.groups)}
    direct = allocate(groups=groups, loss=loss, costs={"bops": bops}, budgets={"bops": budget})
    assert got == {p: v for g, o in zip(bits.groups, direct.options().values())
                   for p, v in ((g.w_param, o.w_bits), (g.a_param, o.a_bits))}
    assert bits.cost(got) == pytest.approx(direct.totals["bops"])


def test_measured_loss_and_constraints_reach_hasco(tiny) -> None:
    from codesign.agents.hasco import HASCOAgent

    # a "measured" loss that makes fc the only sensitive layer, and a constraint keeping conv1 at <= 4 weight bits
    loss = lambda g, o: (100.0 if g.name == "fc" else 1.0) * 2.0 ** -o.w_bits  # noqa: E731
    agent = HASCOAgent(tiny.space, tiny.objectives, seed=0, problem=tiny, loss=loss,
                       constraints=["count(conv1, w5*) + count(conv1, w6*) + count(conv1, w7*) + count(conv1, w8*) == 0"],
                       mapper=lambda partial, ms: ms.default().to_dict(), outer_kwargs={"n_init": 2})
    designs = agent.ask(2)
    for d in designs:
        assert d["w_bits.conv1"] <= 4
    mid = agent._bits_for(0.5)
    assert mid["w_bits.fc"] == max(tiny.space["w_bits.fc"].values)  # the sensitive layer keeps its bits
    assert agent.describe()["loss"] == "given"


def test_bitmodel_budget_table_and_fallback(tiny) -> None:
    bits = BitModel(tiny.space, tiny.workload)
    lo, hi = bits.budget(0.0), bits.budget(1.0)
    assert lo < hi and bits.budget(-1) == lo and bits.budget(2) == hi
    assert bits.knapsack(lo / 2) == bits._extreme(0)  # nothing fits: every group at its cheapest
    top = bits.knapsack(hi)
    assert all(top[p] == max(tiny.space[p].values) for p in top)
    assert np.isclose(bits.cost(top), hi)
