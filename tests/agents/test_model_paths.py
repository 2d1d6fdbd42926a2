"""No silent fallbacks: every model-based agent proves its model path ran, and an agent that
degrades records how often and why (``describe()["fallbacks"]``, shown by ``codesign show``)."""

from __future__ import annotations

import warnings

import pytest

from codesign.registry import REGISTRIES
from codesign.testing.agents import OBJECTIVES, conformance_space, synthetic_record
from codesign.testing.learning import needle_problem, run_in_memory


def _loop(agent, budget: int = 24, **kw):
    a = REGISTRIES["agent"].make(agent, space=conformance_space(), objectives=list(OBJECTIVES), seed=0, **kw)
    done = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        while done < budget:
            designs = a.ask(4)
            a.tell([synthetic_record(d) for d in designs])
            done += len(designs)
    return a


def test_botorch_uses_its_gp_and_records_no_fallback() -> None:
    a = _loop("botorch", n_init=8, fit_maxiter=20, n_candidates=64, n_local=16, mc_samples=16)
    d = a.describe()
    assert d["model_steps"] >= 3 and d["fallbacks"] == {}


def test_botorch_records_a_failed_step(monkeypatch) -> None:
    from codesign.agents.botorch_agent import BotorchAgent

    monkeypatch.delenv("CODESIGN_DEBUG", raising=False)

    def boom(self, *args, **kwargs):
        raise RuntimeError("not positive definite")

    monkeypatch.setattr(BotorchAgent, "_acquire", boom)
    d = _loop("botorch", n_init=8, fit_maxiter=5, n_candidates=32, n_local=8, mc_samples=8).describe()
    ((reason, count),) = d["fallbacks"].items()
    assert "BO step failed (RuntimeError)" in reason and count >= 3


@pytest.mark.parametrize("agent, kw", [("tpe", {"n_startup_trials": 8}),
                                       ("optuna-gp", {"n_startup_trials": 16, "n_preliminary_samples": 64})])
def test_optuna_samplers_use_their_model(agent, kw) -> None:
    d = _loop(agent, budget=20, **kw).describe()
    assert d["model_steps"] >= 2 and d["fallbacks"] == {}


@pytest.mark.parametrize("agent, key", [("mcts", "iterations"), ("qlearning", "updates"), ("marl", "updates"),
                                        ("marl-independent", "updates")])
def test_learners_learn(agent, key) -> None:
    problem = needle_problem()
    a = REGISTRIES["agent"].make(agent, space=problem.space, objectives=list(problem.objectives), seed=0,
                                 problem=problem)
    run_in_memory(a, problem, 12)
    d = a.describe()
    assert d[key] >= 12 and d["fixed_normalization" if "fixed_normalization" in d else key], d


@pytest.mark.slow
@pytest.mark.parametrize("agent", ["sb3-ppo", "sb3-dqn", "sb3-sac", "haq"])
def test_rl_agents_update_their_networks(agent) -> None:
    problem = needle_problem()
    a = REGISTRIES["agent"].make(agent, space=problem.space, objectives=list(problem.objectives), seed=0,
                                 problem=problem)
    run_in_memory(a, problem, 40)
    d = a.describe()
    assert d["updates"] >= 1 and d["env_steps"] >= 40, d


def test_optuna_gp_says_at_start_what_it_will_cost() -> None:
    """The warning at start states a cost per design no lower than the committed overhead table
    measured at 200 observations (4 objectives), so regenerating that table with a slower GP
    fails here until the stated figure follows."""
    import re
    from pathlib import Path

    from codesign.agents.optuna_agents import EXPECTED_ASK_S

    table = (Path(__file__).parents[2] / "docs/results/agents-overhead-digits-accel.md").read_text()
    (row,) = [r for r in table.splitlines() if re.match(r"\| `optuna-gp` \| 200 \|", r)]
    measured = float(row.split("|")[4])  # the "s per design" column
    assert measured <= EXPECTED_ASK_S, (measured, EXPECTED_ASK_S)
    stated = rf"expect up to about {EXPECTED_ASK_S} s per design .*{len(OBJECTIVES)} objectives here"
    with pytest.warns(UserWarning, match=stated):
        REGISTRIES["agent"].make("optuna-gp", space=conformance_space(), objectives=list(OBJECTIVES), seed=0)
