"""Property-based round trips of every conversion over every space of the catalogue."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codesign.spaces import Space
from codesign.spaces.convert import (
    gym_decode,
    gym_dict_decode,
    gym_dict_encode,
    gym_encode,
    merge_designs,
    optuna_decode,
    optuna_encode,
    split,
    split_design,
    to_botorch,
    to_gymnasium,
    to_gymnasium_dict,
    to_optuna,
    to_sequence,
)

from .conftest import designs, same

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def in_domain(space: Space, design) -> bool:
    return list(design) == list(space.names) and all(space[n].contains(v) for n, v in design.items())


@SETTINGS
@given(data=st.data())
def test_gym_round_trip(space: Space, data: st.DataObject) -> None:
    d = data.draw(designs(space))
    md, dd = to_gymnasium(space), to_gymnasium_dict(space)
    x = gym_encode(space, d)
    assert x.dtype == np.int64 and x.shape == (len(space),)
    assert md.contains(x)
    assert same(gym_decode(space, x), d)
    xd = gym_dict_encode(space, d)
    assert list(xd) == list(dd.spaces) == list(space.names)
    assert dd.contains(xd)
    assert same(gym_dict_decode(space, xd), d)
    md.seed(data.draw(st.integers(0, 2**31)))
    assert in_domain(space, gym_decode(space, md.sample()))
    dd.seed(data.draw(st.integers(0, 2**31)))
    assert in_domain(space, gym_dict_decode(space, dd.sample()))


@SETTINGS
@given(data=st.data())
def test_optuna_round_trip(space: Space, data: st.DataObject) -> None:
    d = data.draw(designs(space))
    dists = to_optuna(space)
    enc = optuna_encode(space, d)
    assert list(dists) == list(enc) == list(space.names)
    for name, dist in dists.items():
        assert dist._contains(dist.to_internal_repr(enc[name])), (name, enc[name], dist)
    assert same(optuna_decode(space, enc), d)


@SETTINGS
@given(data=st.data(), onehot=st.booleans())
def test_botorch_round_trip(space: Space, data: st.DataObject, onehot: bool) -> None:
    form = to_botorch(space, onehot=onehot)
    lo, hi = form.bounds
    d = data.draw(designs(space))
    x = form.encode(d)
    assert x.shape == (form.dim,) and np.all(lo <= x) and np.all(x <= hi)
    assert np.all(x[form.integer_dims] == np.round(x[form.integer_dims]))
    for dim in form.categorical_dims:
        assert x[dim] == round(x[dim])
    for start, k in form.onehot_features.items():
        assert sorted(x[start : start + k]) == [0.0] * (k - 1) + [1.0]
    assert same(form.decode(x), d)
    X = form.encode_many([d, d])
    assert X.shape == (2, form.dim) and all(same(e, d) for e in form.decode_many(X))
    # any point of (and around) the box decodes into the domain, and decoding is idempotent
    u = np.array(data.draw(st.lists(st.floats(-0.25, 1.25), min_size=form.dim, max_size=form.dim)))
    y = form.decode(lo + u * (hi - lo))
    assert in_domain(space, y)
    assert same(form.decode(form.encode(y)), y)


@SETTINGS
@given(data=st.data())
def test_sequence_round_trip(space: Space, data: st.DataObject) -> None:
    d = data.draw(designs(space))
    perm = data.draw(st.permutations(space.names))
    for order in (None, "subsystem", list(reversed(space.names)), perm):
        form = to_sequence(space, order)
        idx = form.encode(d)
        assert len(idx) == len(form) == len(space)
        assert all(0 <= i < dec.size for i, dec in zip(idx, form.decisions))
        assert same(form.decode(idx), d)
        k = data.draw(st.integers(0, len(form)))
        prefix = idx[:k]
        assert form.decode_prefix(prefix) == {n: d[n] for n in form.names[:k]}
        assert form.prefix_violations(prefix) == []
        if k < len(form):
            assert idx[k] in form.allowed(prefix)
        done = form.complete(prefix, data.draw(st.integers(0, 2**31)))
        assert space.contains(done) and form.encode(done)[:k] == prefix
    grouped = to_sequence(space, "subsystem")
    subs = [dec.subsystem for dec in grouped.decisions]
    assert subs == sorted(subs, key=list(space.subsystems).index)


@SETTINGS
@given(data=st.data())
def test_subspace_round_trip(space: Space, data: st.DataObject) -> None:
    d = data.draw(designs(space))
    subs = split(space)
    parts = split_design(space, d)
    assert list(subs) == list(parts) == list(space.subsystems)
    for name, part in parts.items():
        assert subs[name].contains(part)
    assert same(merge_designs(space, parts), d)
