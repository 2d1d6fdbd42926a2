"""stable-baselines3 agents trained on the codesign gymnasium envs.

========  =============================================  ============================
agent     env                                            action space
========  =============================================  ============================
sb3-ppo   :class:`~codesign.envs.design.DesignEnv`       ``MultiDiscrete`` (one full design / step)
sb3-dqn   :class:`~codesign.envs.layerwise.LayerwiseEnv`  ``Discrete`` (one decision / step)
sb3-sac   ``LayerwiseEnv(action_type="continuous")``     ``Box(0, 1, (1,))``
========  =============================================  ============================

(DQN needs a ``Discrete`` action and SAC a ``Box``, hence the layerwise env for them.) Reward:
the env's ``"front"`` reward (:mod:`codesign.envs.reward`: hypervolume added to the front of
everything evaluated so far, or minus the distance to it; Wang & Sebag 2012, REFERENCES.md §9)
on the problem's fixed normalization (``bounds="problem"``), so the reward does not favour one
trade-off and its scale does not drift. Every env evaluation goes through the runner's
recorder (``drive``) or the ask/tell bridge (:mod:`codesign.agents.rl.loop`).

Hyperparameters are one documented default per algorithm for every problem (no per-problem
tuning): SB3's defaults where they fit a run of a few hundred evaluations, and where they do
not (SB3's PPO collects 2048 steps before its first update, more than a whole run here) a
value sized by the budget, with the reason beside it in each class docstring.
``algo_kwargs`` overrides any of them.
Schedules that depend on the run length (DQN's ε decay) use ``expected_evaluations`` (the
runner's remaining budget when driven, else the ``expected_evaluations`` argument). torch runs
on the CPU with one thread (``torch_threads``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from codesign.agents.rl.loop import EvaluateFn, LoopAgent
from codesign.errors import ConfigError
from codesign.spaces.space import Space
from codesign.types import Objective


class SB3Agent(LoopAgent):
    """Common part of the SB3 agents.

    Args:
        problem: the Problem (passed by the runner).
        learning_rate: optimizer step size (default 3e-4; 1e-3 for DQN/SAC).
        net_arch: hidden layer sizes of the policy / value networks (default (64, 64)).
        reward: env reward, ``"scalarized"`` (default) or ``"hypervolume"``.
        expected_evaluations: run length used by schedules in ask/tell mode (default 200).
        torch_threads: torch intra-op threads (default 1).
    """

    name = "sb3"
    algo = ""
    default_lr = 3e-4

    def __init__(self, space: Space, objectives: Sequence[Objective | str], seed: int = 0, problem: Any = None,
                 learning_rate: float | None = None, net_arch: Sequence[int] = (64, 64), reward: str = "front",
                 expected_evaluations: int = 200, torch_threads: int = 1, algo_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__(space, objectives, seed, problem)
        self.algo_overrides = dict(algo_kwargs or {})
        self.learning_rate = float(learning_rate if learning_rate is not None else self.default_lr)
        if not self.learning_rate > 0:
            raise ConfigError(f"learning_rate must be > 0, but got {learning_rate!r}")
        self.net_arch = [int(h) for h in net_arch]
        self.reward = reward
        self.default_expected = int(expected_evaluations)
        self.torch_threads = torch_threads

    # --- per algorithm ---------------------------------------------------------------------
    def _env(self, evaluate: EvaluateFn) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _algo_kwargs(self, total_steps: int) -> dict[str, Any]:
        return {}

    def _algo_class(self, sb3: Any) -> Any:
        return getattr(sb3, self.algo)

    def _steps_per_evaluation(self, env: Any) -> int:
        return len(env.unwrapped.form) if hasattr(env.unwrapped, "form") else 1

    def _learn(self, evaluate: EvaluateFn) -> None:
        import stable_baselines3 as sb3
        import torch

        torch.set_num_threads(self.torch_threads)
        env = self._env(evaluate)
        total = max(1, self.expected_evaluations or self.default_expected) * self._steps_per_evaluation(env)
        algo = self._algo_class(sb3)
        self.model = model = algo("MlpPolicy", env, learning_rate=self.learning_rate, seed=self.seed, device="cpu", verbose=0,
                     policy_kwargs={"net_arch": list(self.net_arch)},
                     **{**self._algo_kwargs(total), **self.algo_overrides})
        while True:  # until evaluate raises (budget spent / agent closed)
            model.learn(total_timesteps=total, reset_num_timesteps=False)

    def describe(self) -> dict[str, Any]:
        model = getattr(self, "model", None)
        return {"name": self.name, "seed": self.seed, "learning_rate": self.learning_rate,
                "net_arch": self.net_arch, "reward": self.reward, **self.algo_overrides,
                "updates": int(getattr(model, "_n_updates", 0)), "env_steps": int(getattr(model, "num_timesteps", 0)),
                "repeats_answered": self.repeats_answered}


class PPOAgent(SB3Agent):
    """PPO on DesignEnv (horizon 16).

    ``n_steps=8``, ``batch_size=8`` (25 policy updates in 200 evaluations; SB3's 2048 would
    allow none), ``n_epochs=10`` (SB3's default), ``gamma=0`` (a step's reward depends on that
    step's design only: each step is a one-step decision, so no return is bootstrapped),
    ``ent_coef=0`` (SB3's default), learning rate 1e-3 (SB3's 3e-4 moves the policy too little
    in a few dozen updates). Measured (200 evaluations, seeds 0-4, median normalized HV; random
    0.2525 on ``digits-accel``, 0.2319 on ``digits-accel-small``): the former 16-step rollouts
    with an entropy bonus of 0.01 gave 0.2563 and 0.2498; ``ent_coef=0`` 0.2668 and 0.2509;
    ``ent_coef=0`` with 8-step rollouts 0.2768 and 0.2510. The bonus kept the factored
    categorical policy near uniform, i.e. near random search, for the whole run; the front
    reward itself keeps rewarding new trade-offs, and repeats of known designs are free
    (:mod:`codesign.agents.rl.loop`)."""

    name = "sb3-ppo"
    algo = "PPO"
    default_lr = 1e-3

    def _env(self, evaluate: EvaluateFn) -> Any:
        from codesign.envs.design import DesignEnv

        return DesignEnv(self.problem, evaluate=evaluate, reward=self.reward, horizon=16, bounds="problem")

    def _algo_kwargs(self, total_steps: int) -> dict[str, Any]:
        return {"n_steps": 8, "batch_size": 8, "n_epochs": 10, "gamma": 0.0, "ent_coef": 0.0}


class DQNAgent(SB3Agent):
    """DQN on LayerwiseEnv (discrete).

    ``train_freq=4`` and ``exploration_final_eps=0.05`` (SB3's defaults); replay 10k (a run has
    a few thousand steps; SB3 keeps 1M), ``learning_starts`` = 10 designs' steps and a target
    update every 5 designs (SB3's 100 and 10,000 steps are sized for millions of steps), ε from
    1 to 0.05 over the first half of the expected run (SB3: the first 10%, too short to see
    each decision's choices), batch 64, ``gamma=1`` (the reward comes after the last decision of
    a design and must reach the first)."""

    name = "sb3-dqn"
    algo = "DQN"
    default_lr = 1e-3

    def _env(self, evaluate: EvaluateFn) -> Any:
        from codesign.envs.layerwise import LayerwiseEnv

        return LayerwiseEnv(self.problem, evaluate=evaluate, order="subsystem", action_type="discrete", reward=self.reward,
                            bounds="problem")

    def _algo_kwargs(self, total_steps: int) -> dict[str, Any]:
        t = max(1, total_steps // max(1, self.expected_evaluations or self.default_expected))
        return {"buffer_size": 10_000, "learning_starts": 10 * t, "batch_size": 64, "train_freq": 4,
                "target_update_interval": 5 * t, "exploration_fraction": 0.5, "exploration_final_eps": 0.05,
                "gamma": 1.0}


class SACAgent(SB3Agent):
    """SAC on LayerwiseEnv (continuous).

    One gradient step per env step and automatic entropy tuning (SB3's defaults); replay 10k,
    ``learning_starts`` = 10 designs' steps (SB3's 100 steps is less than one design's
    decisions on large spaces, its 1M buffer more than a run), batch 64, ``gamma=1`` (the reward
    comes after the last decision of a design)."""

    name = "sb3-sac"
    algo = "SAC"
    default_lr = 1e-3

    def _env(self, evaluate: EvaluateFn) -> Any:
        from codesign.envs.layerwise import LayerwiseEnv

        return LayerwiseEnv(self.problem, evaluate=evaluate, order="subsystem", action_type="continuous", reward=self.reward,
                            bounds="problem")

    def _algo_kwargs(self, total_steps: int) -> dict[str, Any]:
        t = max(1, total_steps // max(1, self.expected_evaluations or self.default_expected))
        return {"buffer_size": 10_000, "learning_starts": 10 * t, "batch_size": 64, "train_freq": 1,
                "gradient_steps": 1, "gamma": 1.0}
