"""HAQ's exploration: uniform actions during the warm-up, then a normal around the actor's output
truncated to the action box (never clipped onto the bounds), with σ decaying per design."""

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
