"""Every registered agent passes the shipped conformance suite."""

from __future__ import annotations

import pytest

import codesign
from codesign.testing import check_agent

AGENTS = codesign.registry("agent").names()


@pytest.mark.parametrize("name", AGENTS)
def test_agent_conformance(name: str) -> None:
    check_agent(name)


def test_conformance_suite_catches_a_broken_agent() -> None:
    from codesign.agents.random import RandomAgent

    class Unseeded(RandomAgent):
        def _ask(self, n):  # ignores the seed: not reproducible
            import numpy as np

            return [self.space.sample(np.random.default_rng()) for _ in range(n)]

    with pytest.raises(AssertionError, match="same seed"):
        check_agent(Unseeded)


def test_unknown_agent_kwargs_rejected() -> None:
    from codesign.testing import conformance_space

    with pytest.raises(codesign.ConfigError, match="unknown"):
        codesign.make_agent("tpe", space=conformance_space(), objectives=["a"], seed=0, n_startup=3)
