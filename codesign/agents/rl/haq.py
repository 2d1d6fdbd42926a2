"""``haq``: HAQ-style DDPG (Wang et al., CVPR 2019; REFERENCES.md §5) on LayerwiseEnv.

- MDP: :class:`~codesign.envs.layerwise.LayerwiseEnv` with ``action_type="continuous"`` and
  ``order="subsystem"`` — one step per layer per operand (HAQ's 10 layer features are columns
  2–13 of the env's observation), then the remaining (hardware / mapping) decisions.
- Agent: DDPG (stable-baselines3) with Gaussian exploration noise σ = ``noise_sigma``
  (HAQ uses truncated normal noise decayed over episodes; SB3's noise is not decayed).
- **Action wall**: before a design is evaluated, its bit widths are lowered from the last
  layer backwards until the hardware-cost proxy fits the budget (:meth:`BitModel.action_wall`;
  the proxy is BOPs ``Σ MACs · w · a``, since agents see no cost model). The evaluated (walled)
  design is what is recorded and rewarded. HAQ trains for one budget; to cover a Pareto front
  the budget fraction cycles over ``budgets`` per evaluated design (``1.0`` = no wall).
- Reward: the env's scalarized multi-objective reward (HAQ's ``0.1 · (acc_q − acc_fp)`` is the
  single-objective special case).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from codesign.agents.bits import BitModel
from codesign.agents.rl.loop import EvaluateFn
from codesign.agents.rl.sb3 import SB3Agent
from codesign.errors import ConfigError
from codesign.spaces.space import Space
from codesign.types import Design, Metrics, Objective


class HAQAgent(SB3Agent):
    """HAQ-style DDPG with the budget action wall (module docstring).

    Args:
        budgets: budget fractions of the BOPs range cycled per design (default (0.25, 0.5, 0.75, 1.0)).
        noise_sigma: std of the Gaussian action noise (default 0.3; actions lie in [0, 1]).
        warmup_designs: designs of random actions before learning (default 10).

    The other arguments are :class:`SB3Agent`'s (learning rate default 1e-3).
    """

    name = "haq"
    algo = "DDPG"
    default_lr = 1e-3

    def __init__(self, space: Space, objectives: Sequence[Objective | str], seed: int = 0, problem: Any = None,
                 budgets: Sequence[float] = (0.25, 0.5, 0.75, 1.0), noise_sigma: float = 0.3,
                 warmup_designs: int = 10, learning_rate: float | None = None, net_arch: Sequence[int] = (64, 64),
                 reward: str = "front", expected_evaluations: int = 200, torch_threads: int = 1) -> None:
        super().__init__(space, objectives, seed, problem, learning_rate, net_arch, reward, expected_evaluations, torch_threads)
        self.budgets = [float(b) for b in budgets]
        if not self.budgets or any(not 0 <= b <= 1 for b in self.budgets):
            raise ConfigError(f"budgets must be fractions in [0, 1], but got {list(budgets)}")
        self.noise_sigma, self.warmup_designs = float(noise_sigma), int(warmup_designs)
        self.bits = BitModel(space, getattr(self.problem, "workload", None))
        self._walled = 0

    def wall(self, design: Design) -> Design:
        """The design after the action wall for the current budget of the cycle."""
        fraction = self.budgets[self._walled % len(self.budgets)]
        self._walled += 1
        if not self.bits or fraction >= 1.0:
            return design
        return self.bits.action_wall(design, self.bits.budget(fraction))

    def _env(self, evaluate: EvaluateFn) -> Any:
        from codesign.envs.layerwise import LayerwiseEnv

        def walled(designs: list[Design]) -> list[Metrics]:
            return evaluate([self.wall(d) for d in designs])

        return LayerwiseEnv(self.problem, evaluate=walled, order="subsystem", action_type="continuous", reward=self.reward,
                            bounds="problem")

    def _algo_kwargs(self, total_steps: int) -> dict[str, Any]:
        import numpy as np
        from stable_baselines3.common.noise import NormalActionNoise

        t = max(1, total_steps // max(1, self.expected_evaluations or self.default_expected))
        return {"buffer_size": 10_000, "learning_starts": self.warmup_designs * t, "batch_size": 64,
                "gamma": 1.0, "train_freq": 1, "gradient_steps": 1,
                "action_noise": NormalActionNoise(np.zeros(1), self.noise_sigma * np.ones(1))}

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "budgets": self.budgets, "noise_sigma": self.noise_sigma}
