"""The Space value object: container, equality/JSON, designs, sampling, composition."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from codesign.errors import ConfigError, SpaceError
from codesign.spaces import Bitwidth, Categorical, Constraint, PowerOfTwo, Space, compose

from .conftest import mixed_space


def small() -> Space:
    return Space(
        [Bitwidth("w", "quant", 2, 4), Bitwidth("a", "quant", 2, 4), PowerOfTwo("rows", "hw", 4, 16),
         Categorical("pe", "hw", ("lut", "bit_serial"))],
        [Constraint("wa", "w >= a"), Constraint("lut_rows", "pe != 'lut' or rows * w <= 32")],
        name="small",
    )


def test_container() -> None:
    s = small()
    assert len(s) == 4 and s.names == ("w", "a", "rows", "pe") and [p.name for p in s] == list(s.names)
    assert "rows" in s and "cols" not in s and s["rows"].values == (4, 8, 16)
    assert s.subsystems == ("quant", "hw") and [p.name for p in s.params_of("hw")] == ["rows", "pe"]
    assert s.size == 3 * 3 * 3 * 2
    assert repr(s) == "Space('small', 4 params [quant:2, hw:2], 2 constraints)"
    with pytest.raises(SpaceError, match=r"space 'small' has no parameter 'row'; did you mean 'rows'\?"):
        s["row"]


def test_value_object() -> None:
    s = small()
    assert s == small() and hash(s) == hash(small())
    assert Space.from_json(s.to_json()) == s and Space.from_dict(s.to_dict()) == s
    assert s != Space(s.params, s.constraints, "other")
    assert s != Space(reversed(s.params), s.constraints, "small")
    assert s != s.with_constraints(Constraint("more", "rows >= 8"))
    assert len({s, small(), mixed_space()}) == 2
    m = mixed_space()
    assert Space.from_json(m.to_json()) == m  # mixed-type categoricals and float ordinals survive JSON


def test_from_dict_errors() -> None:
    with pytest.raises(SpaceError, match="a space must be a mapping with 'params'"):
        Space.from_dict([])
    with pytest.raises(SpaceError, match="a constraint must have exactly 'name' and 'expr'"):
        Space.from_dict({"params": [], "constraints": [{"name": "c"}]})


def test_construction_errors() -> None:
    w = Bitwidth("w", "quant")
    with pytest.raises(SpaceError, match=r"parameter names must be unique, but 'w' appears twice"):
        Space([w, Bitwidth("w", "hw")])
    with pytest.raises(SpaceError, match="space parameters must be Param objects"):
        Space([w, "x"])  # type: ignore[list-item]
    with pytest.raises(SpaceError, match=r"constraint 'c' must only read parameters of the space, but reads \['x'\]"):
        Space([w], [Constraint("c", "x < w")])
    with pytest.raises(SpaceError, match=r"constraint names must be unique, but 'c' appears twice"):
        Space([w], [Constraint("c", "w < 4"), Constraint("c", "w > 2")])
    with pytest.raises(SpaceError, match="constraint name must be a non-empty string"):
        Constraint("", "w < 4")
    with pytest.raises(ConfigError, match="uses Attribute, which is not allowed"):
        Constraint("c", "(1).real < 4")
    with pytest.raises(SpaceError, match=r"constraint 'c' must only read parameters of the space, but reads \['w.real'\]"):
        Space([w], [Constraint("c", "w.real < 4")])  # a dotted name, not an attribute of w


def test_validate_and_contains() -> None:
    s = small()
    good = {"w": 4, "a": 2, "rows": 8, "pe": "lut"}
    assert s.validate(good) == good and s.contains(good)
    assert list(s.validate(dict(reversed(good.items())))) == list(s.names)  # space order
    cases = [
        ({k: v for k, v in good.items() if k != "pe"}, r"must set every parameter of 'small'; missing \['pe'\]"),
        ({**good, "zz": 1}, r"sets parameters not in space 'small': \['zz'\]"),
        ({**good, "rows": 12}, r"rows must be a power of two in \[4, 16\], but got 12"),
        ({**good, "w": 2, "a": 3}, r"violates constraint\(s\) \['wa'\] of space 'small'"),
        ({**good, "rows": 16}, r"violates constraint\(s\) \['lut_rows'\]"),
    ]
    for design, match in cases:
        assert not s.contains(design)
        with pytest.raises(SpaceError, match=match):
            s.validate(design)
    assert s.violations({**good, "w": 2, "a": 3, "rows": 16}) == ["wa"]  # 16 * 2 <= 32 holds


def test_indices() -> None:
    s = small()
    d = s.from_indices([2, 0, 1, 0])
    assert dict(d) == {"w": 4, "a": 2, "rows": 8, "pe": "lut"} and s.to_indices(d) == [2, 0, 1, 0]
    assert s.from_indices(np.array([2, 0, 1, 0])) == d
    with pytest.raises(SpaceError, match="expected 4 indices, but got 3"):
        s.from_indices([0, 0, 0])
    with pytest.raises(SpaceError, match=r"index of 'pe' must be in \[0, 1\], but got -1"):
        s.from_indices([0, 0, 0, -1])
    with pytest.raises(SpaceError, match=r"index of 'rows' must be in \[0, 2\], but got 3"):
        s.from_indices([0, 0, 3, 0])


def test_sample_respects_constraints() -> None:
    s = mixed_space()
    draws = [s.sample(rng) for rng in [np.random.default_rng(0)] * 300]
    assert all(s.contains(d) for d in draws)
    assert len({d.key for d in draws}) > 250  # really random
    assert s.sample(7) == s.sample(7)
    assert s.contains(s.default()) and s.default() == s.default()
    never = Space([Bitwidth("w", "q", 2, 4)], [Constraint("never", "w > 4")], name="never")
    with pytest.raises(SpaceError, match="the constraints of 'never' cannot all hold"):
        never.sample(0, max_tries=20)


def test_sample_finds_designs_rejection_would_not() -> None:
    """30 independent constraints that each hold for 1 value in 8: rejection needs ~8^30 draws."""
    params = [Bitwidth(f"b{i}", "q", 1, 8) for i in range(30)]
    cons = [Constraint(f"c{i}", f"b{i} == {1 + i % 8}") for i in range(30)]
    s = Space(params, cons, name="needle")
    d = s.sample(3)
    assert s.contains(d) and d == s.sample(3)
    pair = Space([Bitwidth("a", "q", 1, 8), Bitwidth("b", "q", 1, 8)],  # needs backtracking over `a`
                 [Constraint("sum", "a + b == 16")], name="pair")
    assert pair.sample(0, rejection_tries=0) == {"a": 8, "b": 8}


def test_enumerate_small_space() -> None:
    s = small()
    got = list(s.enumerate())
    brute = [s.from_indices(i) for i in itertools.product(*(range(p.size) for p in s.params))]
    assert got == [d for d in brute if s.contains(d)]
    assert len(got) == 6 * 3 + (6 + 6 + 1)  # bit_serial: 6 (w, a) pairs x 3 rows; lut: rows * w <= 32
    assert len({d.key for d in got}) == len(got)
    with pytest.raises(SpaceError, match="space 'small' has 54 points; enumerate needs <= 10"):
        list(s.enumerate(limit=10))


def test_subspace_keeps_only_evaluable_constraints() -> None:
    s = small()
    q = s.subspace("quant")
    assert q.names == ("w", "a") and [c.name for c in q.constraints] == ["wa"] and q.name == "small/quant"
    hw = s.subspace("hw")
    assert hw.names == ("rows", "pe") and hw.constraints == ()  # lut_rows also reads w
    with pytest.raises(SpaceError, match=r"has no subsystem 'mem'; it has \['quant', 'hw'\]"):
        s.subspace("mem")


def test_compose() -> None:
    q, hw = small().subspace("quant"), small().subspace("hw")
    joint = compose(q, hw, constraints=[Constraint("lut_rows", "pe != 'lut' or rows * w <= 32")], name="small")
    assert joint.names == small().names and [c.name for c in joint.constraints] == ["wa", "lut_rows"]
    assert compose(q, hw).name == "small/quant+small/hw"
    with pytest.raises(SpaceError, match=r"parameter names must be unique, but 'w' appears twice"):
        compose(q, q)
    with pytest.raises(SpaceError, match=r"constraint names must be unique, but 'wa' appears twice"):
        compose(q, Space([Bitwidth("x", "q")], [Constraint("wa", "x > 2")]))
