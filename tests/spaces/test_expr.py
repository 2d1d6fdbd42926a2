"""Safe expressions: what they may do, what they must reject (security), slack values."""

from __future__ import annotations

import pytest

from codesign.errors import ConfigError
from codesign.spaces import Expr

ENV = {"rows": 32, "cols": 64, "w": 4, "a": 8, "pe": "lut", "bw": 12.8}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("rows * cols <= 4096", True),
        ("rows * cols", 2048),
        ("rows + cols - w", 92),
        ("cols / rows", 2.0),
        ("cols // 5", 12),
        ("cols % 5", 4),
        ("2 ** w", 16),
        ("-w + +a", 4),
        ("1 < w < a", True),
        ("w == 4 and a != 4", True),
        ("w > 4 or not a > 4", False),
        ("pe in ('lut', 'bit_serial')", True),
        ("pe not in ['lut']", False),
        ("a if pe == 'lut' else w", 8),
        ("min(rows, cols) + max(w, a, 1)", 40),
        ("abs(w - a)", 4),
        ("log2(cols)", 6.0),
        ("ceil(bw) + floor(bw) + int(bw)", 37),
        ("bw >= 12.8", True),
    ],
)
def test_allowed(source: str, expected: object) -> None:
    assert Expr(source)(ENV) == expected


def test_names_and_value_semantics() -> None:
    e = Expr("  min(rows, cols) * w <= max_pes ")
    assert e.names == frozenset({"rows", "cols", "w", "max_pes"})  # functions are not free names
    assert e.source == "min(rows, cols) * w <= max_pes" and repr(e) == f"Expr({e.source!r})"
    assert e == Expr("min(rows, cols) * w <= max_pes") and hash(e) == hash(Expr(e.source))
    assert e != Expr("rows < 1")


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("rows.__class__", "names with '__' are not allowed"),
        ("__builtins__", "names with '__' are not allowed"),
        ("().__class__.__bases__[0].__subclasses__()", "may only call"),
        ("().__class__.__bases__", "uses Attribute"),
        ("(1).real", "uses Attribute"),
        ("'lut'.upper", "uses Attribute"),
        ("p(pe)", "may only call"),
        ("p('a', 'b')", "may only call"),
        ("__import__('os').system('echo hi')", "may only call"),
        ("open('/etc/passwd')", "may only call"),
        ("eval('1')", "may only call"),
        ("getattr(rows, 'real')", "may only call"),
        ("(max if rows else min)(1, 2)", "may only call"),
        ("max(rows, key=abs)", "with positional arguments"),
        ("max(*[rows, cols])", "uses Starred"),
        ("(lambda: 1)()", "may only call"),
        ("lambda: 1", "uses Lambda"),
        ("[x for x in (1, 2)]", "uses ListComp"),
        ("sum(x for x in (1, 2))", "may only call"),
        ("{'a': 1}", "uses Dict"),
        ("{1, 2}", "uses Set"),
        ("(1, 2)[0]", "uses Subscript"),
        ("(y := 3)", "uses NamedExpr"),
        ("f'{rows}'", "uses JoinedStr"),
        ("rows << 40", "uses LShift"),
        ("rows & 1", "uses BitAnd"),
        ("rows is None", "uses Is"),
        ("import os", "is not valid"),
        ("rows = 3", "is not valid"),
        ("", "must be a non-empty string"),
    ],
)
def test_rejected_at_compile_time(source: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match) as info:
        Expr(source)
    assert "\n" not in str(info.value)


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("10 ** 10 ** 10", "power results must have at most"),
        ("2 ** (rows * cols * 1000)", "power results must have at most"),
        ("'a' * 10 ** 9 == ''", "arithmetic needs numbers"),
        ("(1, 2) * 10 ** 9 == ()", "arithmetic needs numbers"),
        ("'%s' % pe", "arithmetic needs numbers"),
    ],
)
def test_resource_exhaustion_is_refused(source: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Expr(source)(ENV)


def test_dotted_names_are_single_names_not_attribute_access() -> None:
    e = Expr("w_bits.conv1 * 2 + p('map.fc-1.tile_m')")
    assert e.names == frozenset({"w_bits.conv1", "map.fc-1.tile_m"})
    assert e({"w_bits.conv1": 3, "map.fc-1.tile_m": 4}) == 10
    # ``pe.upper`` is looked up as the name "pe.upper": no attribute of the value is ever read
    with pytest.raises(ConfigError, match=r"reads 'pe.upper', which is not defined"):
        Expr("pe.upper")(ENV)


def test_undefined_name_at_evaluation() -> None:
    with pytest.raises(ConfigError, match=r"expression 'rows < y' reads 'y', which is not defined"):
        Expr("rows < y")(ENV)


@pytest.mark.parametrize(
    ("source", "slack"),
    [
        ("rows * cols <= 4096", 0.0),
        ("rows * cols <= 1024", 1024.0),
        ("rows * cols < 2048", 1e-12),  # violated on the boundary: a tiny positive slack
        ("w >= 6", 2.0),
        ("w > 2", 0.0),
        ("bw >= 25.6", 25.6 - 12.8),
        ("w == 5", 1.0),
        ("w == 4", 0.0),
        ("1 < w < 3", 1.0),
        ("pe == 'lut' and w < 8", 0.0),
    ],
)
def test_slack(source: str, slack: float) -> None:
    assert Expr(source).slack(ENV) == pytest.approx(slack)
    assert (Expr(source).slack(ENV) == 0.0) == bool(Expr(source)(ENV))
