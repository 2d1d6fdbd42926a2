"""stable-baselines3 compatibility: its env checker, and a short PPO run (slow)."""

from __future__ import annotations

import warnings

import pytest
from envs_testlib import CountingEvaluate

from codesign.envs.design import DesignEnv
from codesign.envs.layerwise import LayerwiseEnv

sb3 = pytest.importorskip("stable_baselines3")

ENVS = [
    pytest.param(lambda p, ev: DesignEnv(p, evaluate=ev, horizon=8), id="design"),
    pytest.param(lambda p, ev: LayerwiseEnv(p, evaluate=ev), id="layerwise-discrete"),
    pytest.param(lambda p, ev: LayerwiseEnv(p, evaluate=ev, action_type="continuous", reward="hypervolume"), id="layerwise-continuous"),
]


@pytest.mark.parametrize("make", ENVS)
def test_sb3_check_env(make, tiny_problem) -> None:
    from stable_baselines3.common.env_checker import check_env

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SB3 advises a symmetric [-1, 1] Box; HAQ's is [0, 1]
        check_env(make(tiny_problem, None), warn=True)


@pytest.mark.slow
@pytest.mark.parametrize("make", ENVS)
def test_ppo_smoke(make, tiny_problem) -> None:
    hook = CountingEvaluate(tiny_problem)
    env = make(tiny_problem, hook)
    model = sb3.PPO("MlpPolicy", env, n_steps=64, batch_size=32, n_epochs=2, seed=0, device="cpu", verbose=0)
    model.learn(total_timesteps=256)
    steps_per_design = len(env.decisions) if isinstance(env, LayerwiseEnv) else 1
    assert len(hook.designs) == model.num_timesteps // steps_per_design
    assert all(len(call) == 1 for call in hook.calls)
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, deterministic=True)
    assert env.action_space.contains(action)
