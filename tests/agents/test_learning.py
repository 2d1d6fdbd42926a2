"""Learning, not only the interface: on the separable needle problem (codesign.testing.learning),
each learning agent finds what random search with the same budget does not.

Stated target: 200 evaluations, seeds 0-4, the median best score >= 0.875 (7 of 8 decisions at
their target) and every seed >= 0.75; random's median best score <= 0.625 (measured 0.5 on
every seed; 0.875 has probability 0.7% per random run)."""

from __future__ import annotations

import numpy as np
import pytest

from codesign.testing.learning import best_scores, needle_problem

SEEDS = range(5)


@pytest.fixture(scope="module")
def needle():
    return needle_problem()


def test_the_needle_is_hard_for_random(needle) -> None:
    scores = best_scores("random", needle, seeds=SEEDS)
    assert np.median(scores) <= 0.625, scores


@pytest.mark.parametrize("agent", ["mcts", "qlearning", "marl", "marl-independent"])
def test_learning_agents_find_the_needle(agent, needle) -> None:
    scores = best_scores(agent, needle, seeds=SEEDS)
    assert np.median(scores) >= 0.875 and min(scores) >= 0.75, scores
