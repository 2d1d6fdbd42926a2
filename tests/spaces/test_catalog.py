"""Every registered space (and the variants of conftest) is a well-formed value object.

Spaces registered after collection (plugins loaded by other tests' fixtures) are checked too,
by :func:`test_spaces_registered_later_round_trip`, which reads the registry at run time.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

import codesign
from codesign.builtins import _BUILTINS
from codesign.spaces import Space
from codesign.spaces.convert import (
    gym_decode,
    gym_encode,
    merge_designs,
    optuna_decode,
    optuna_encode,
    split_design,
    to_botorch,
    to_sequence,
)

from .conftest import CASES, same, tiny_cnn


def test_every_builtin_space_is_covered() -> None:
    covered = {case.split("[")[0].split("+")[0] for case in CASES}
    assert set(_BUILTINS["space"]) <= covered


def test_space_is_a_value_object(space: Space) -> None:
    again = Space.from_json(space.to_json())
    assert again == space and hash(again) == hash(space)
    assert len(set(space.names)) == len(space) > 0
    assert space.size == math.prod(p.size for p in space.params)


def test_sample_and_default_are_valid(space: Space) -> None:
    for seed in range(5):
        assert space.contains(space.sample(seed))
    assert space.contains(space.default())


def check_round_trips(space: Space, n: int = 5) -> None:
    """Every conversion round-trips on ``n`` sampled designs (the non-hypothesis version)."""
    forms = [to_botorch(space), to_botorch(space, onehot=True)]
    seqs = [to_sequence(space), to_sequence(space, "subsystem")]
    rng = np.random.default_rng(0)
    for _ in range(n):
        d = space.sample(rng)
        assert same(gym_decode(space, gym_encode(space, d)), d)
        assert same(optuna_decode(space, optuna_encode(space, d)), d)
        assert all(same(f.decode(f.encode(d)), d) for f in forms)
        assert all(same(s.decode(s.encode(d)), d) for s in seqs)
        assert same(merge_designs(space, split_design(space, d)), d)


def test_spaces_registered_later_round_trip() -> None:
    reg = codesign.registry("space")
    built = {case.split("[")[0].split("+")[0] for case in CASES}
    for name in reg.names():
        if name in built:
            continue
        takes_workload = "workload" in inspect.signature(reg.spec(name).load()).parameters
        check_round_trips(codesign.make_space(name, **({"workload": tiny_cnn()} if takes_workload else {})))
