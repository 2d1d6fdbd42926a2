"""HAQ's exploration: uniform actions during the warm-up, then a normal around the actor's output
truncated to the action box (never clipped onto the bounds), with σ decaying per design; and the
budget of each design, drawn per design and shown to the policy as the last observation column."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

sb3 = pytest.importorskip("stable_baselines3")

from codesign.agents.rl.haq import truncated_ddpg  # noqa: E402


class OneStep(gym.Env):
    observation_space = gym.spaces.Box(0.0, 1.0, (2,), dtype=np.float32)
    action_space = gym.spaces.Box(0.0, 1.0, (1,), dtype=np.float32)

    def reset(self, seed=None, options=None):
        return np.zeros(2, dtype=np.float32), {}

    def step(self, action):
        return np.zeros(2, dtype=np.float32), float(-abs(action[0] - 0.9)), True, False, {}


def _model(sigma: float, decay: float, warmup: int = 0):
    algo = truncated_ddpg(sb3.DDPG)
    return algo("MlpPolicy", OneStep(), learning_starts=warmup, seed=0, device="cpu",
                haq_noise=(sigma, decay, 1, 0))


def _actions(model, n: int, learning_starts: int) -> np.ndarray:
    model._last_obs = np.zeros((1, 2), dtype=np.float32)
    out = []
    for _ in range(n):
        action, buffer = model._sample_action(learning_starts)
        assert np.all(np.abs(buffer) <= 1.0)
        assert np.shape(action) == np.shape(buffer) == (1, 1)
        out.append(float(np.ravel(action)[0]))
        model.num_timesteps += 1
    return np.array(out)


def test_a_wide_sigma_is_truncated_not_piled_on_the_bounds():
    acts = _actions(_model(0.5, 1.0), 400, 0)
    assert acts.min() >= 0.0 and acts.max() <= 1.0
    at_bounds = np.mean((acts <= 1e-6) | (acts >= 1 - 1e-6))
    assert at_bounds < 0.01  # clipping N(mu, (2*0.5)^2) would put about a third of them there
    assert acts.std() > 0.2


def test_sigma_decays_per_design_after_the_warm_up():
    model = _model(0.5, 0.9)
    early = _actions(model, 40, 0)
    late = _actions(model, 40, 0)  # σ = 0.5 * 0.9^40..80 < 0.01
    assert late.std() < 0.05 < early.std()


def test_the_warm_up_is_uniform():
    acts = _actions(_model(0.01, 1.0, warmup=500), 300, 500)
    assert acts.std() > 0.25  # uniform on [0, 1]: 0.29; the narrow σ would give ~0.01


# --- the budget per design, shown to the policy ------------------------------------------------

def _tiny():
    import os
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "envs"))
    from envs_testlib import make_tiny_problem

    return make_tiny_problem()


def _haq(problem, **kwargs):
    from codesign.agents.rl.haq import HAQAgent

    return HAQAgent(problem.space, list(problem.objectives), seed=3, problem=problem, **kwargs)


def _build_designs(agent, problem, n: int, rng: np.random.Generator):
    """Step the agent's env through ``n`` designs with random actions; per design, the budget
    column at every step and the design that reached the evaluator."""
    evaluated = []

    def evaluate(designs):
        evaluated.extend(designs)
        return problem.evaluate_many(designs)

    env = agent._env(evaluate)
    shown = []
    for _ in range(n):
        obs, _ = env.reset()
        column = [float(obs[-1])]
        while True:
            obs, _, done, _, _ = env.step(rng.uniform(0, 1, size=1).astype(np.float32))
            if done:
                break
            column.append(float(obs[-1]))
        shown.append(column)
    return shown, evaluated


def test_each_design_is_walled_to_the_budget_its_observation_showed() -> None:
    problem = _tiny()
    agent = _haq(problem)
    env = agent._env(problem.evaluate_many)  # LayerwiseEnv's observation plus the budget column
    assert env.observation_space.shape[0] == env.unwrapped.observation_space.shape[0] + 1
    shown, evaluated = _build_designs(agent, problem, 12, np.random.default_rng(0))
    assert len(evaluated) == 12
    for column, design in zip(shown, evaluated):
        assert len(set(column)) == 1 and 0.0 <= column[0] <= 1.0  # one budget for the whole design
        assert agent.bits.cost(design.to_dict()) <= agent.bits.budget(column[0]) * (1 + 1e-9) or all(
            design[p] == min(problem.space[p].values) for g in agent.bits.groups for p in (g.w_param, g.a_param) if p)
    budgets = [c[0] for c in shown]
    assert len(set(budgets)) == 12  # drawn anew per design, not a short cycle
    again, _ = _build_designs(_haq(problem), problem, 12, np.random.default_rng(1))
    assert [c[0] for c in again] == budgets  # the draws depend on the seed only, not on the actions


def test_cycled_budgets_are_shown_in_turn() -> None:
    problem = _tiny()
    shown, _ = _build_designs(_haq(problem, budgets=(0.25, 1.0)), problem, 4, np.random.default_rng(0))
    assert [c[0] for c in shown] == [0.25, 1.0, 0.25, 1.0]


@pytest.mark.parametrize("budgets", [(), (0.5, 1.5), ("half",), "uniform"])
def test_bad_budgets_say_what_must_hold(budgets) -> None:
    from codesign.errors import ConfigError

    with pytest.raises(ConfigError, match=r"budgets must be None or fractions in \[0, 1\], but got"):
        _haq(_tiny(), budgets=budgets)
