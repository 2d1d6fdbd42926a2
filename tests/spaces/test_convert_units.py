"""Unit tests of the conversions: exact encodings and one-line errors."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from codesign.errors import SpaceError
from codesign.spaces.convert import (
    Decision,
    cross_constraints,
    gym_decode,
    gym_dict_decode,
    gym_dict_encode,
    gym_encode,
    merge_designs,
    split,
    split_design,
    to_botorch,
    to_gymnasium,
    to_gymnasium_dict,
    to_sequence,
)
from codesign.types import Design

from .conftest import mixed_space

MIXED = mixed_space()
D = MIXED.from_indices([0, 7, 2, 3, 1, 0, 5, 1])  # mode='a', w=8, offset=0, rows=8, bw=12.8, one=8, a=7, df='os'


def test_design_fixture_is_valid() -> None:
    assert MIXED.contains(D) and D["offset"] == 0 and D["rows"] == 8


def test_conversions_import_no_heavy_module() -> None:
    code = (
        "import sys, codesign, codesign.spaces, codesign.spaces.convert; "
        "print([m for m in ('gymnasium', 'optuna', 'torch', 'botorch') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- gymnasium ------------------------------------------------------------------------------
def test_gym_nvec_and_encoding() -> None:
    assert to_gymnasium(MIXED).nvec.tolist() == [p.size for p in MIXED.params]
    assert gym_encode(MIXED, D).tolist() == [0, 7, 2, 3, 1, 0, 5, 1]
    assert list(to_gymnasium_dict(MIXED).spaces) == list(MIXED.names)  # space order, not sorted
    assert {k: int(v) for k, v in gym_dict_encode(MIXED, D).items()} == dict(zip(MIXED.names, [0, 7, 2, 3, 1, 0, 5, 1]))


@pytest.mark.parametrize(
    ("x", "match"),
    [
        ([0, 1, 2], r"must have shape \(8,\), but got \(3,\)"),
        ([[0] * 8], r"must have shape \(8,\)"),
        ([0, 1, 2, 3, 1, 0, 5, 2], r"'df' must be an integer index in \[0, 1\], but got 2"),
        ([-1, 1, 2, 3, 1, 0, 5, 1], r"'mode' must be an integer index in \[0, 3\], but got -1"),
        ([0.5, 1, 2, 3, 1, 0, 5, 1], r"'mode' must be an integer index"),
    ],
)
def test_gym_decode_errors(x: list, match: str) -> None:
    with pytest.raises(SpaceError, match=match):
        gym_decode(MIXED, np.asarray(x))


def test_gym_decode_accepts_integral_floats() -> None:
    assert gym_decode(MIXED, np.array([0, 7, 2, 3, 1, 0, 5, 1], dtype=np.float32)) == D


def test_gym_dict_decode_errors() -> None:
    good = gym_dict_encode(MIXED, D)
    with pytest.raises(SpaceError, match=r"misses \['df'\] and has unknown \['zz'\]"):
        gym_dict_decode(MIXED, {**{k: v for k, v in good.items() if k != "df"}, "zz": 0})
    with pytest.raises(SpaceError, match=r"'rows' must be an integer index in \[0, 10\], but got 11"):
        gym_dict_decode(MIXED, {**good, "rows": 11})
    with pytest.raises(SpaceError, match="must be a mapping"):
        gym_dict_decode(MIXED, [0] * 8)


def test_gym_encode_errors() -> None:
    with pytest.raises(SpaceError, match=r"missing \['w'\]"):
        gym_encode(MIXED, {k: v for k, v in D.items() if k != "w"})
    with pytest.raises(SpaceError, match=r"rows must be a power of two in \[1, 1024\], but got 3"):
        gym_encode(MIXED, D.replace(rows=3))


# --- BoTorch --------------------------------------------------------------------------------
def test_botorch_index_encoding() -> None:
    form = to_botorch(MIXED)
    assert form.names == list(MIXED.names)
    assert form.bounds.tolist() == [[0, 1, -6, 0, 0, 3, 2, 0], [3, 16, 9, 10, 3, 3, 8, 1]]
    assert form.integer_dims == [1, 2, 3, 4, 5, 6]
    assert form.categorical_dims == {0: 4, 7: 2}
    assert form.onehot_features == {}
    assert form.encode(D).tolist() == [0, 8, 0, 3, 1, 3, 7, 1]  # rows 8 -> log2 = 3; bw 12.8 -> index 1
    assert form.discrete_values()[2] == [-6, -3, 0, 3, 6, 9]
    assert form.discrete_values()[3] == list(range(11))
    assert form.cat_values() == {0: [0, 1, 2, 3], 7: [0, 1]}


def test_botorch_onehot_encoding() -> None:
    form = to_botorch(MIXED, onehot=True)
    assert form.names[:4] == ["mode=a", "mode=1", "mode=True", "mode=2.5"] and form.names[-2:] == ["df=ws", "df=os"]
    assert form.dim == 12 and form.onehot_features == {0: 4, 10: 2} and form.categorical_dims == {}
    assert form.integer_dims == [4, 5, 6, 7, 8, 9]
    x = form.encode(D)
    assert x.tolist() == [1, 0, 0, 0, 8, 0, 3, 1, 3, 7, 0, 1]
    x[:4] = [0.1, 0.2, 0.7, 0.3]
    assert form.decode(x)["mode"] is True


def test_botorch_decode_rounds_and_clips() -> None:
    form = to_botorch(MIXED)
    y = form.decode([2.4, 0.2, 1.4, 5.51, 2.49, 3, 99, -5])
    assert dict(y) == {"mode": True, "w": 1, "offset": 0, "rows": 64, "bw": 25.6, "one": 8, "a": 8, "df": "ws"}
    assert all(form.decode(form.bounds[i]) == MIXED.from_indices([0 if i == 0 else p.size - 1 for p in MIXED])
               for i in (0, 1))


def test_botorch_decode_errors() -> None:
    form = to_botorch(MIXED)
    with pytest.raises(SpaceError, match=r"must have shape \(8,\), but got \(7,\)"):
        form.decode(np.zeros(7))
    with pytest.raises(SpaceError, match="must be finite"):
        form.decode([math.nan] + [0] * 7)
    with pytest.raises(SpaceError, match=r"must have shape \(n, 8\)"):
        form.decode_many(np.zeros(8))
    with pytest.raises(SpaceError, match="array of numbers"):
        form.decode(["x"] * 8)
    assert form.encode_many([]).shape == (0, 8)
    assert form.sample_box(5, 0).shape == (5, 8)


# --- sequence -------------------------------------------------------------------------------
def test_sequence_orders() -> None:
    assert to_sequence(MIXED).names == MIXED.names
    assert to_sequence(MIXED, "subsystem").names == ("mode", "offset", "rows", "w", "one", "a", "bw", "df")
    form = to_sequence(MIXED, ["df", "bw", "a", "one", "w", "rows", "offset", "mode"])
    assert form.decisions[0] == Decision("df", ("ws", "os"), "mem")
    assert form.encode(D) == [1, 1, 5, 0, 7, 3, 2, 0]
    assert form.max_choices == 16 and form.decisions[1].size == 4


@pytest.mark.parametrize(
    ("order", "match"),
    [
        ("random", r"order must be None, 'subsystem' or a list"),
        (["mode", "w"], r"misses \['offset'"),
        (list(MIXED.names) + ["nope"], r"has unknown \['nope'\]"),
        (list(MIXED.names) + ["w"], r"repeats \['w'\]"),
    ],
)
def test_sequence_order_errors(order: object, match: str) -> None:
    with pytest.raises(SpaceError, match=match):
        to_sequence(MIXED, order)  # type: ignore[arg-type]


def test_sequence_prefix_helpers() -> None:
    form = to_sequence(MIXED, ["rows", "w", "a", "mode", "offset", "bw", "one", "df"])
    assert form.partial([10]) == form.decode_prefix([10]) == {"rows": 1024}
    assert form.next_decision([10]).name == "w" and form.next_decision(list(range(8))) is None
    assert form.allowed([10]) == [0, 1, 2, 3]  # rows * w <= 4096 -> w <= 4
    assert form.allowed([10, 3]) == [0, 1, 2]  # w >= a (a in 2..8) -> a in {2, 3, 4}
    assert form.prefix_violations([10, 15]) == ["budget"]
    with pytest.raises(SpaceError, match=r"prefix \[10, 15\] violates constraint\(s\) \['budget'\]"):
        form.complete([10, 15], 0)
    done = form.complete([10], 0)
    assert done["rows"] == 1024 and MIXED.contains(done)
    with pytest.raises(SpaceError, match=r"decision 0 \('rows'\) must be an index in \[0, 10\], but got 11"):
        form.decode_prefix([11])
    with pytest.raises(SpaceError, match="at most 8 indices, but got 9"):
        form.decode_prefix([0] * 9)
    with pytest.raises(SpaceError, match="must have 8 indices, but got 2"):
        form.decode([0, 0])


def test_sequence_complete_gives_up() -> None:
    from codesign.spaces import Bitwidth, Constraint, Space

    space = Space([Bitwidth("x", "q", 1, 8), Bitwidth("y", "q", 1, 8)], [Constraint("never", "x + y > 100")])
    with pytest.raises(SpaceError, match="no completion of prefix .* found in 50 random draws"):
        to_sequence(space).complete([], 0, max_tries=50)


# --- sub-spaces -----------------------------------------------------------------------------
def test_split_keeps_inner_constraints_only() -> None:
    subs = split(MIXED)
    assert list(subs) == ["hw", "quant", "mem"]
    assert [c.name for c in subs["quant"].constraints] == ["bits"]
    assert [c.name for c in subs["mem"].constraints] == ["df_bw"]
    assert subs["hw"].constraints == ()
    assert [c.name for c in cross_constraints(MIXED)] == ["budget"]


def test_split_and_merge_errors() -> None:
    parts = split_design(MIXED, D)
    assert parts["mem"] == Design(bw=12.8, df="os")
    with pytest.raises(SpaceError, match=r"misses \['w'\] and has unknown \[\]"):
        split_design(MIXED, {k: v for k, v in D.items() if k != "w"})
    with pytest.raises(SpaceError, match=r"'w' is set by 'quant' and 'extra'"):
        merge_designs(MIXED, {**parts, "extra": {"w": 4}})
    with pytest.raises(SpaceError, match=r"none sets \['bw', 'df'\]"):
        merge_designs(MIXED, {k: v for k, v in parts.items() if k != "mem"})
    with pytest.raises(SpaceError, match=r"part 'mem' sets 'zz', which is not a parameter"):
        merge_designs(MIXED, {**parts, "mem": {**parts["mem"], "zz": 1}})
    with pytest.raises(SpaceError, match=r"bw must be one of"):
        merge_designs(MIXED, {**parts, "mem": {"bw": 7, "df": "os"}})
    # merged designs may violate cross-subsystem constraints; merge does not check them
    hw = dict(parts["hw"], rows=1024)
    assert MIXED.violations(merge_designs(MIXED, {**parts, "hw": hw})) == ["budget"]
