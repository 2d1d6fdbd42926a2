"""Reinforcement-learning views of a co-design Problem.

- :class:`~codesign.envs.design.DesignEnv` (``codesign/Design-v0``): one full design per step.
- :class:`~codesign.envs.layerwise.LayerwiseEnv` (``codesign/Layerwise-v0``): one decision per
  step, HAQ-style.
- :class:`~codesign.envs.multiagent.MultiAgentDesignEnv` (``codesign/MultiAgent-v0`` in the
  codesign env registry): PettingZoo ParallelEnv, one agent per subsystem.

The gymnasium ids are registered as soon as both codesign and gymnasium are imported, in either
order: ``import codesign`` (or ``codesign.envs``) registers them at once when gymnasium is
already loaded, and otherwise the first ``import gymnasium`` does (:func:`install_gym_hook`).
Without importing codesign at all, gymnasium's module-prefixed form works:
``gymnasium.make("codesign:codesign/Design-v0", problem=...)``. (Gymnasium 1.x removed the
entry-point plugin system of gym 0.26, so a package cannot register on ``import gymnasium``
alone.) ``codesign/MultiAgent-v0`` is a PettingZoo env, not a gymnasium one: it is registered
with gymnasium only to say so (as gymnasium does for its own moved envs); build it with
``codesign.make_env("codesign/MultiAgent-v0", problem=...)``. Every env takes ``problem`` (a
Problem or registered name) and ``evaluate`` (the only function used to score designs);
rewards come from :mod:`codesign.envs.reward`.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from typing import Any

GYM_ENVS = {
    "codesign/Design-v0": "codesign.envs.design:DesignEnv",
    "codesign/Layerwise-v0": "codesign.envs.layerwise:LayerwiseEnv",
}
#: ids in codesign's env registry that are PettingZoo ParallelEnvs (``codesign.make_env`` builds them)
PETTINGZOO_ENVS = {"codesign/MultiAgent-v0": "codesign.envs.multiagent:MultiAgentDesignEnv"}


def _not_a_gymnasium_env(*args: Any, **kwargs: Any) -> Any:
    import gymnasium

    raise gymnasium.error.Error(
        "codesign/MultiAgent-v0 is a PettingZoo ParallelEnv, not a gymnasium env: build it with "
        "codesign.make_env('codesign/MultiAgent-v0', problem=...) or codesign.envs.MultiAgentDesignEnv(problem)")


def register_envs() -> None:
    """Register the gymnasium ids of :data:`GYM_ENVS` (idempotent; imports gymnasium)."""
    import gymnasium

    for env_id, entry_point in GYM_ENVS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point=entry_point)
    for env_id in PETTINGZOO_ENVS:
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point=_not_a_gymnasium_env)


class _RegisterAfterImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Runs :func:`register_envs` right after gymnasium's own module has executed."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "gymnasium":
            return None
        sys.meta_path.remove(self)  # one shot; the real finders locate gymnasium
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        self._loader = spec.loader
        spec.loader = self
        return spec

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        register_envs()


def install_gym_hook() -> None:
    """Register the gymnasium ids now if gymnasium is loaded, else when it first is (cheap)."""
    if "gymnasium" in sys.modules:
        register_envs()
    elif not any(isinstance(f, _RegisterAfterImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _RegisterAfterImport())


install_gym_hook()


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


__all__ = ["GYM_ENVS", "PETTINGZOO_ENVS", "install_gym_hook", "register_envs", "DesignEnv", "LayerwiseEnv", "MultiAgentDesignEnv", "RewardModel"]
