"""Fixtures of the environment tests (the problem itself lives in :mod:`envs_testlib`)."""

from __future__ import annotations

import pytest
from envs_testlib import make_tiny_problem

from codesign.evaluators.composite import Problem


@pytest.fixture(scope="session")
def tiny_problem() -> Problem:
    return make_tiny_problem()
