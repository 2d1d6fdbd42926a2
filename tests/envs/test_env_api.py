"""API conformance of every registered env: gymnasium's check_env / PettingZoo's parallel_api_test."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo import ParallelEnv
from pettingzoo.test import parallel_api_test

import codesign
import codesign.envs
from codesign.envs.design import DesignEnv
from codesign.envs.layerwise import LayerwiseEnv
from codesign.envs.multiagent import MultiAgentDesignEnv
from codesign.errors import ConfigError

ENV_IDS = codesign.registry("env").names()


def _check(env: object, horizon: int) -> None:
    if isinstance(env, gymnasium.Env):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "no spec" render warning for a bare instance
            check_env(env, skip_render_check=True)
    elif isinstance(env, ParallelEnv):
        parallel_api_test(env, num_cycles=horizon + 2)
    else:
        pytest.fail(f"env is neither a gymnasium.Env nor a PettingZoo ParallelEnv: {type(env)}")


def test_registered_ids_are_the_three_envs() -> None:
    assert {"codesign/Design-v0", "codesign/Layerwise-v0", "codesign/MultiAgent-v0"} <= set(ENV_IDS)


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("reward", ["scalarized", "hypervolume"])
def test_registered_env_passes_api_checker(env_id: str, reward: str, tiny_problem) -> None:
    env = codesign.make_env(env_id, problem=tiny_problem, reward=reward, horizon=3)
    _check(env, 3)
    if isinstance(env, LayerwiseEnv):
        _check(codesign.make_env(env_id, problem=tiny_problem, reward=reward, action_type="continuous"), 3)


@pytest.mark.parametrize("order", [None, "subsystem"])
@pytest.mark.parametrize("action_type", ["discrete", "continuous"])
def test_layerwise_check_env(order, action_type, tiny_problem) -> None:
    env = LayerwiseEnv(tiny_problem, order=order, action_type=action_type, horizon=2, render_mode="ansi")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no render_fps / no spec: irrelevant for "ansi"
        check_env(env)


def test_gymnasium_make(tiny_problem) -> None:
    for env_id in codesign.envs.GYM_ENVS:
        env = gymnasium.make(env_id, problem=tiny_problem)
        obs, info = env.reset(seed=0)
        assert obs in env.observation_space
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert obs in env.observation_space and isinstance(reward, float)
        env.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(gymnasium.make("codesign/Design-v0", problem=tiny_problem, horizon=3).unwrapped)


def test_register_envs_is_idempotent() -> None:
    codesign.envs.register_envs()
    codesign.envs.register_envs()
    for env_id, entry in codesign.envs.GYM_ENVS.items():
        assert gymnasium.spec(env_id).entry_point == entry


def test_multiagent_spaces_and_agents(tiny_problem) -> None:
    env = MultiAgentDesignEnv(tiny_problem, horizon=2)
    assert env.possible_agents == ["quant", "hw", "mapping"]
    assert env.metadata["name"]
    sizes = [int(env.action_space(a).nvec.size) for a in env.possible_agents]
    assert sum(sizes) == len(tiny_problem.space)
    obs, infos = env.reset(seed=0)
    assert set(obs) == set(env.possible_agents)
    assert all(o.shape == env.observation_space(a).shape and o[-1] == 0.0 for a, o in obs.items())
    actions = {a: env.action_space(a).sample() for a in env.agents}
    obs, rewards, terms, truncs, infos = env.step(actions)
    assert len(set(rewards.values())) == 1  # shared reward
    assert all(o[-1] == pytest.approx(0.5) for o in obs.values())
    env.step({a: env.action_space(a).sample() for a in env.agents})
    assert env.agents == []


def test_bad_options_raise_config_error(tiny_problem) -> None:
    with pytest.raises(ConfigError, match="reward must be one of"):
        DesignEnv(tiny_problem, reward="pareto")
    with pytest.raises(ConfigError, match="horizon must be an integer >= 1"):
        DesignEnv(tiny_problem, horizon=0)
    with pytest.raises(ConfigError, match="action_type must be one of"):
        LayerwiseEnv(tiny_problem, action_type="box")
    with pytest.raises(ConfigError, match="weights must have one value per objective"):
        MultiAgentDesignEnv(tiny_problem, weights=[1.0])
    with pytest.raises(ConfigError, match="weights must name objectives"):
        DesignEnv(tiny_problem, weights={"latency_ms": 1.0})
    with pytest.raises(ConfigError, match="render_mode must be None"):
        DesignEnv(tiny_problem, render_mode="human")


def test_render_ansi(tiny_problem) -> None:
    env = DesignEnv(tiny_problem, render_mode="ansi", horizon=2)
    env.reset(seed=0)
    assert "no design" in env.render()
    env.step(env.action_space.sample())
    assert "reward=" in env.render()


def test_observation_layout(tiny_problem) -> None:
    env = DesignEnv(tiny_problem, horizon=2)
    obs, _ = env.reset(seed=0)
    n_params, n_obj = len(tiny_problem.space), len(tiny_problem.objectives)
    assert obs.shape == (n_params + n_obj + 1,)
    assert np.all(obs[n_params:n_params + n_obj] == 1.0) and obs[-1] == 0.0
    action = np.zeros(n_params, dtype=np.int64)  # smallest everything: a feasible design
    obs, *_ , info = env.step(action)
    assert np.all(obs[:n_params] == 0.0) and obs[-1] == float(info["feasible"]) == 1.0
