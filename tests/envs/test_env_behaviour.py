"""Semantics of the envs: the evaluate hook, rewards, determinism, layerwise mapping and features."""

from __future__ import annotations

import numpy as np
import pytest
from envs_testlib import CountingEvaluate, make_tiny_problem

from codesign.envs.design import DesignEnv
from codesign.envs.features import PREV_ACTION
from codesign.envs.layerwise import LayerwiseEnv
from codesign.envs.multiagent import MultiAgentDesignEnv
from codesign.envs.reward import HV_REF, RewardModel
from codesign.errors import ConfigError
from codesign.spaces.convert.gym import gym_encode
from codesign.types import Metrics, Objective


def _forbid_direct_evaluation(env, monkeypatch) -> None:
    def fail(designs):  # the env must score only through its evaluate hook
        raise AssertionError("env called problem.evaluate_many instead of its evaluate hook")

    monkeypatch.setattr(env.problem, "evaluate_many", fail)


@pytest.fixture
def hook() -> CountingEvaluate:
    return CountingEvaluate(make_tiny_problem())  # its own Problem, so the env's can be forbidden


def _pair(space):
    """(a, b): b equals a with a smaller global buffer, so b strictly dominates a."""
    a = space.from_indices([0] * len(space)).replace(glb_kb=64)
    return a, a.replace(glb_kb=16)


# --- the evaluate hook ------------------------------------------------------------------------
def test_design_env_calls_hook_once_per_step(hook, monkeypatch) -> None:
    env = DesignEnv(make_tiny_problem(), evaluate=hook, horizon=5)
    _forbid_direct_evaluation(env, monkeypatch)
    env.reset(seed=0)
    env.action_space.seed(0)
    infos = [env.step(env.action_space.sample())[-1] for _ in range(5)]
    assert [len(c) for c in hook.calls] == [1] * 5
    assert [d.to_dict() for d in hook.designs] == [i["design"] for i in infos]


def test_layerwise_env_calls_hook_once_per_design(hook, monkeypatch) -> None:
    env = LayerwiseEnv(make_tiny_problem(), evaluate=hook, horizon=2)
    _forbid_direct_evaluation(env, monkeypatch)
    env.reset(seed=0)
    env.action_space.seed(0)
    steps, terminated, rewards = 0, False, []
    while not terminated:
        _, r, terminated, _, info = env.step(env.action_space.sample())
        steps += 1
        rewards.append(r)
        assert len(hook.calls) == steps // len(env.decisions)
    assert steps == 2 * len(env.decisions) and len(hook.designs) == 2
    assert info["design"] == hook.designs[-1].to_dict()
    ends = {len(env.decisions) - 1, 2 * len(env.decisions) - 1}
    assert all(r == 0.0 for t, r in enumerate(rewards) if t not in ends)


def test_multiagent_env_calls_hook_once_per_step(hook, monkeypatch) -> None:
    env = MultiAgentDesignEnv(make_tiny_problem(), evaluate=hook, horizon=3)
    _forbid_direct_evaluation(env, monkeypatch)
    env.reset(seed=0)
    while env.agents:
        _, _, _, _, infos = env.step({a: env.action_space(a).sample() for a in env.agents})
    assert [len(c) for c in hook.calls] == [1] * 3
    assert infos["hw"]["design"] == hook.designs[-1].to_dict()


def test_multiagent_missing_agent_keeps_its_part(tiny_problem) -> None:
    env = MultiAgentDesignEnv(tiny_problem, horizon=3)
    env.reset(seed=0)
    _, _, _, _, infos = env.step({a: env.action_space(a).sample() for a in env.agents})
    first = infos["quant"]["design"]
    _, _, _, _, infos = env.step({"hw": env.action_space("hw").sample()})
    quant_names = [p.name for p in tiny_problem.space.params_of("quant")]
    assert {n: infos["quant"]["design"][n] for n in quant_names} == {n: first[n] for n in quant_names}


# --- rewards ------------------------------------------------------------------------------------
@pytest.mark.parametrize("order", ["worse-first", "better-first"])
def test_strictly_better_design_gets_higher_scalarized_reward(tiny_problem, order) -> None:
    env = DesignEnv(tiny_problem, horizon=4)
    env.reset(seed=0)
    a, b = _pair(tiny_problem.space)
    first, second = (a, b) if order == "worse-first" else (b, a)
    r1 = env.step(gym_encode(tiny_problem.space, first))[1]
    r2 = env.step(gym_encode(tiny_problem.space, second))[1]
    r_a, r_b = (r1, r2) if order == "worse-first" else (r2, r1)
    assert r_b > r_a
    assert -1.0 <= min(r1, r2) and max(r1, r2) <= 0.0


def test_fixed_bounds_reward_is_history_free(tiny_problem) -> None:
    bounds = {"latency_cycles": (0, 1e5), "area_mm2": (0, 2), "quant_error": (0, 2)}
    a, b = _pair(tiny_problem.space)
    rewards = []
    for design in (a, b):
        env = DesignEnv(tiny_problem, bounds=bounds, weights={"area_mm2": 1.0})
        env.reset(seed=0)
        rewards.append(env.step(gym_encode(tiny_problem.space, design))[1])
    m_a, m_b = tiny_problem.evaluate_many([a, b])
    assert rewards[0] == pytest.approx(-m_a["area_mm2"] / 2) and rewards[1] == pytest.approx(-m_b["area_mm2"] / 2)


def test_infeasible_design_gets_penalty(tiny_problem) -> None:
    design = tiny_problem.space.from_indices([0] * len(tiny_problem.space)).replace(array_rows=16, array_cols=16)
    for reward, expected in (("scalarized", -1.0 - 0.5), ("hypervolume", -0.5)):
        env = DesignEnv(tiny_problem, reward=reward, infeasible_penalty=0.5)
        env.reset(seed=0)
        _, r, _, _, info = env.step(gym_encode(tiny_problem.space, design))
        assert not info["feasible"] and "space:max_pes" in info["violations"]  # evaluated, not repaired
        assert r == pytest.approx(expected)


def test_hypervolume_reward_is_improvement(tiny_problem) -> None:
    env = DesignEnv(tiny_problem, reward="hypervolume", horizon=4)
    env.reset(seed=0)
    a, b = _pair(tiny_problem.space)
    r_a = env.step(gym_encode(tiny_problem.space, a))[1]
    assert r_a == pytest.approx(0.6**3)  # lone point: every coordinate normalized to 0.5
    assert env.step(gym_encode(tiny_problem.space, a))[1] == 0.0  # nothing new
    assert env.step(gym_encode(tiny_problem.space, b))[1] > 0.0  # b dominates a
    assert len(env.scorer.model.archive) == 1
    env.reset()  # unseeded: the archive stays
    assert len(env.scorer.model.archive) == 1
    env.reset(seed=1)  # seeded: cleared
    assert len(env.scorer.model.archive) == 0


def test_reward_model_normalization_and_hypervolume() -> None:
    objs = [Objective("latency_ms", "min"), Objective("accuracy", "max")]
    model = RewardModel(objs, "hypervolume", bounds={"accuracy": (0.0, 1.0)})
    r1 = model(Metrics({"latency_ms": 2.0, "accuracy": 0.75}))
    # latency: running, degenerate -> 0.5; accuracy: 0.75 -> minimization -0.75 on [-1, 0] -> 0.25
    assert np.allclose(model.normalize(model.minimization(Metrics({"latency_ms": 2.0, "accuracy": 0.75}))), [0.5, 0.25])
    assert r1 == pytest.approx((HV_REF - 0.5) * (HV_REF - 0.25))
    r2 = model(Metrics({"latency_ms": 1.0, "accuracy": 0.5}))  # a trade-off: both stay in the archive
    assert r2 > 0 and len(model.archive) == 2
    r3 = model(Metrics({"latency_ms": 100.0, "accuracy": 0.1}, violations={"area_mm2 <= 4": 1.0}))
    assert r3 == -1.0 and model.normalize(np.array([1.0, -0.5]))[0] == 0.0  # bounds not widened
    scalar = RewardModel(objs, weights=[3, 1], bounds={"latency_ms": (0, 4), "accuracy": (0, 1)})
    assert scalar(Metrics({"latency_ms": 2.0, "accuracy": 1.0})) == pytest.approx(-(0.75 * 0.5 + 0.25 * 0.0))


# --- determinism --------------------------------------------------------------------------------
def _rollout(env, seed: int, steps: int) -> list:
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    out = [obs]
    for _ in range(steps):
        obs, r, term, trunc, info = env.step(env.action_space.sample())
        out.append((obs, r, info))
        if term or trunc:
            obs, _ = env.reset()
    return out


def _same(x, y) -> bool:
    from gymnasium.utils.env_checker import data_equivalence

    return data_equivalence(x, y, exact=True)


@pytest.mark.parametrize("cls", [DesignEnv, LayerwiseEnv])
def test_seeded_runs_are_identical(cls, tiny_problem) -> None:
    env1, env2 = cls(tiny_problem, reward="hypervolume", horizon=3), cls(tiny_problem, reward="hypervolume", horizon=3)
    _rollout(env1, 5, 20)  # history before the seeded reset must not matter
    assert _same(_rollout(env1, 7, 40), _rollout(env2, 7, 40))


def test_seeded_multiagent_runs_are_identical(tiny_problem) -> None:
    from pettingzoo.test import parallel_seed_test

    parallel_seed_test(lambda: MultiAgentDesignEnv(tiny_problem, reward="hypervolume", horizon=5))


def test_multiagent_step_after_episode_end_raises(tiny_problem) -> None:
    env = MultiAgentDesignEnv(tiny_problem, horizon=1)
    env.reset(seed=0)
    env.step({a: env.action_space(a).sample() for a in env.agents})
    with pytest.raises(ConfigError, match="call reset"):
        env.step({})


# --- layerwise mapping and features -------------------------------------------------------------
def test_layerwise_discrete_action_mapping(tiny_problem) -> None:
    env = LayerwiseEnv(tiny_problem)
    big = max(env.decisions, key=lambda d: d.size)
    small = min(env.decisions, key=lambda d: d.size)
    n_max = env.max_choices
    assert [env.choice_index(a, big) for a in range(n_max)] == list(range(big.size))
    mapped = [env.choice_index(a, small) for a in range(n_max)]
    assert mapped == [a * small.size // n_max for a in range(n_max)] and set(mapped) == set(range(small.size))


def test_layerwise_continuous_action_mapping(tiny_problem) -> None:
    env = LayerwiseEnv(tiny_problem, action_type="continuous")
    dec = env.decisions[0]  # w_bits.conv1: 2..8, 7 choices
    assert env.choice_index(np.array([0.0]), dec) == 0
    assert env.choice_index(np.array([1.0]), dec) == dec.size - 1
    assert env.choice_index(np.array([0.5]), dec) == 3
    assert env.choice_index(np.array([7.0]), dec) == dec.size - 1  # clipped


def test_layerwise_haq_features(tiny_problem) -> None:
    env = LayerwiseEnv(tiny_problem)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (17 + 2 * 3,) and obs[0] == 1.0 and obs[12] == 1.0 and obs[PREV_ACTION] == 0.0
    assert 0 < obs[15] <= 1 and obs[16] == 0.0 and not obs[20:].any()  # MACs; no sensitivity; no progress yet
    assert obs[3] == 1.0 and obs[5] == 0.0  # conv1: conv, not depthwise
    obs, *_ = env.step(env.max_choices - 1)  # a_bits.conv1 next; previous action was the top choice
    assert obs[12] == 0.0 and obs[PREV_ACTION] == 1.0 and obs[20] == 1.0  # quant progress: top choice
    obs, *_ = env.step(0)  # w_bits.dw2 next
    assert obs[5] == 1.0 and obs[3] == 0.0 and obs[PREV_ACTION] == 0.0
    rows = {d.name: r for d, r in zip(env.decisions, env._features)}
    assert rows["w_bits.fc"][4] == 1.0 and rows["pe_type"][0] == 0.0 and rows["pe_type"][18] == 1.0
    assert rows["map.fc.tile_k"][19] == 1.0 and rows["pe_type"][15] == 0.0


def test_layerwise_subsystem_order(tiny_problem) -> None:
    names = [p.name for p in tiny_problem.space.params]
    order = names[6:13] + names[:6] + names[13:]
    env = LayerwiseEnv(tiny_problem, order=order)
    assert [d.name for d in env.decisions] == order
