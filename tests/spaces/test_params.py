"""Parameter kinds: domains, index lookups, validation messages, dict round trip."""

from __future__ import annotations

import math

import numpy as np
import pytest

from codesign.errors import SpaceError
from codesign.spaces import PARAM_TYPES, Bitwidth, Categorical, Integer, Ordinal, PowerOfTwo, param_from_dict

PARAMS = [
    Categorical("pe", "hw", ("lut", "bit_serial", 3, True)),
    Integer("n", "hw", -4, 8, step=4),
    Bitwidth("w", "quant", 2, 8),
    PowerOfTwo("rows", "hw", 4, 64),
    Ordinal("clk", "hw", (200, 400.5, 800)),
]


def test_domains() -> None:
    assert PARAMS[0].values == ("lut", "bit_serial", 3, True)
    assert PARAMS[1].values == (-4, 0, 4, 8)
    assert PARAMS[2].values == tuple(range(2, 9))
    assert PARAMS[3].values == (4, 8, 16, 32, 64)
    assert PARAMS[4].values == (200, 400.5, 800)
    assert [p.size for p in PARAMS] == [4, 4, 7, 5, 3]
    assert [p.ordered for p in PARAMS] == [False, True, True, True, True]
    assert PowerOfTwo("one", "hw", 1, 1).values == (1,)


@pytest.mark.parametrize("p", PARAMS, ids=lambda p: p.kind)
def test_index_inverts_values(p) -> None:
    assert [p.index(v) for v in p.values] == list(range(p.size))
    assert all(p.contains(v) for v in p.values)


@pytest.mark.parametrize("p", PARAMS, ids=lambda p: p.kind)
def test_dict_round_trip(p) -> None:
    q = param_from_dict(p.to_dict())
    assert q == p and q.values == p.values and type(q) is type(p)
    assert p.to_dict()["type"] in PARAM_TYPES


def test_numbers_of_other_types_are_accepted() -> None:
    assert PARAMS[1].index(4.0) == 2 and PARAMS[1].index(np.int64(8)) == 3
    assert PARAMS[3].index(np.int32(16)) == 2 and PARAMS[4].index(np.float64(400.5)) == 1
    assert PARAMS[2].index(np.uint8(8)) == 6


@pytest.mark.parametrize(
    ("p", "value", "match"),
    [
        (PARAMS[0], "bit_parallel", r"^pe must be one of \{'lut', 'bit_serial', 3, True\}, but got 'bit_parallel'$"),
        (PARAMS[0], 1, r"pe must be one of .*, but got 1$"),  # True is not 1
        (PARAMS[1], 2, r"^n must be in \[-4, 8\] step 4, but got 2$"),
        (PARAMS[1], 12, r"^n must be in \[-4, 8\] step 4, but got 12$"),
        (PARAMS[1], 2.5, r"^n must be an integer in \[-4, 8\] step 4, but got 2.5$"),
        (PARAMS[1], "4", r"^n must be an integer in .*, but got '4'$"),
        (PARAMS[2], True, r"^w must be an integer in \[2, 8\], but got True$"),
        (PARAMS[2], math.nan, r"^w must be an integer in \[2, 8\], but got nan$"),
        (PARAMS[2], math.inf, r"^w must be an integer in \[2, 8\], but got inf$"),
        (PARAMS[2], 9, r"^w must be in \[2, 8\], but got 9$"),
        (PARAMS[3], 12, r"^rows must be a power of two in \[4, 64\], but got 12$"),
        (PARAMS[3], 128, r"^rows must be a power of two in \[4, 64\], but got 128$"),
        (PARAMS[3], None, r"^rows must be a power of two in \[4, 64\], but got None$"),
        (PARAMS[4], 300, r"^clk must be one of \{200, 400.5, 800\}, but got 300$"),
        (PARAMS[4], False, r"^clk must be one of .*, but got False$"),
    ],
)
def test_index_errors(p, value, match: str) -> None:
    with pytest.raises(SpaceError, match=match):
        p.index(value)
    assert not p.contains(value)


def test_long_domains_are_summarized() -> None:
    p = Ordinal("f", "hw", tuple(range(1, 20)))
    with pytest.raises(SpaceError, match=r"f must be one of \[1 .. 19\] \(19 values\), but got 0"):
        p.index(0)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Categorical("", "hw", ("a",)), "parameter name must be a non-empty string"),
        (lambda: Categorical("x", "", ("a",)), "x: subsystem must be a non-empty string"),
        (lambda: Categorical("x", "hw", ()), "x: domain must not be empty"),
        (lambda: Categorical("x", "hw", ("a", "a")), r"choices must be distinct, but got \['a', 'a'\]"),
        (lambda: Categorical("x", "hw", ([1],)), "choices must be str/int/float/bool"),
        (lambda: Integer("x", "hw", 0, 5, step=2), "high - low must be a multiple of step"),
        (lambda: Integer("x", "hw", 5, 0), "high must be >= low, but got low=5, high=0"),
        (lambda: Integer("x", "hw", 0, 5, step=0), "step must be >= 1, but got 0"),
        (lambda: Integer("x", "hw", 0.5, 5), "low must be an integer, but got 0.5"),
        (lambda: Bitwidth("x", "quant", 0, 8), r"1 <= low <= high <= 32, but got low=0, high=8"),
        (lambda: Bitwidth("x", "quant", 2, 33), r"1 <= low <= high <= 32, but got low=2, high=33"),
        (lambda: PowerOfTwo("x", "hw", 3, 8), "low must be a power of two >= 1, but got 3"),
        (lambda: PowerOfTwo("x", "hw", 16, 8), "high must be >= low"),
        (lambda: Ordinal("x", "hw", (1, 1)), "strictly increasing"),
        (lambda: Ordinal("x", "hw", ("a",)), "ordinal values must be numbers"),
        (lambda: param_from_dict({"type": "float", "name": "x"}), r"parameter type must be one of .*, but got 'float'"),
        (lambda: param_from_dict({"type": "integer", "name": "x", "lo": 1}), "parameter 'x' of type 'integer'"),
        (lambda: param_from_dict([1]), "a parameter must be a mapping"),
    ],
)
def test_construction_errors(make, match: str) -> None:
    with pytest.raises(SpaceError, match=match) as info:
        make()
    assert "\n" not in str(info.value)
