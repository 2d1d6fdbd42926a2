"""Reinforcement-learning views of a co-design Problem.

- :class:`~codesign.envs.design.DesignEnv` (``codesign/Design-v0``): one full design per step.
- :class:`~codesign.envs.layerwise.LayerwiseEnv` (``codesign/Layerwise-v0``): one decision per
  step, HAQ-style.
- :class:`~codesign.envs.multiagent.MultiAgentDesignEnv` (``codesign/MultiAgent-v0`` in the
  codesign env registry): PettingZoo ParallelEnv, one agent per subsystem.

Importing this package registers the gymnasium ids (:func:`register_envs`), so
``gymnasium.make("codesign/Design-v0", problem=...)`` works after ``import codesign.envs``
(or directly with ``gymnasium.make("codesign.envs:codesign/Design-v0", ...)``). Every env
takes ``problem`` (a Problem or registered name) and ``evaluate`` (the only function used to
score designs); rewards come from :mod:`codesign.envs.reward`.
"""

from __future__ import annotations

from typing import Any

GYM_ENVS = {
    "codesign/Design-v0": "codesign.envs.design:DesignEnv",
    "codesign/Layerwise-v0": "codesign.envs.layerwise:LayerwiseEnv",
}


def register_envs() -> None:
    """Register the gymnasium ids of :data:`GYM_ENVS` (idempotent)."""
    import gymnasium

    for env_id, entry_point in GYM_ENVS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point=entry_point)


register_envs()


def __getattr__(name: str) -> Any:
    lazy = {
        "DesignEnv": "codesign.envs.design",
        "LayerwiseEnv": "codesign.envs.layerwise",
        "MultiAgentDesignEnv": "codesign.envs.multiagent",
        "RewardModel": "codesign.envs.reward",
    }
    if name in lazy:
        import importlib

        return getattr(importlib.import_module(lazy[name]), name)
    raise AttributeError(f"module 'codesign.envs' has no attribute {name!r}")


__all__ = ["GYM_ENVS", "register_envs", "DesignEnv", "LayerwiseEnv", "MultiAgentDesignEnv", "RewardModel"]
