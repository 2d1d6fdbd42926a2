"""Safe arithmetic/boolean expressions over named values.

Used for named space constraints (``"array_rows * array_cols <= 4096"``) and for problem
constraints on metrics (``"area_mm2 <= 2.0"``). Expressions are plain strings, so spaces and
problems stay value objects with a JSON form. Only literals, names (dotted names such as ``w_bits.conv1`` are one name; ``p("name")``
reads any parameter name), arithmetic, comparisons,
``and``/``or``/``not``, conditional expressions and a few functions are allowed; anything else
is rejected when the expression is compiled, not when it is evaluated.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from codesign.errors import ConfigError

MAX_POW_BITS = 4096  # bound on int ** int results: ``10 ** 10 ** 10`` must not hang the process


def _numbers_only(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Arithmetic on numbers only (``"a" * 10**9`` would exhaust memory)."""

    def checked(a: Any, b: Any) -> Any:
        if isinstance(a, (str, bytes, tuple, list)) or isinstance(b, (str, bytes, tuple, list)):
            raise ConfigError(f"arithmetic needs numbers, but got {type(a).__name__} and {type(b).__name__}")
        return op(a, b)

    return checked


def _bounded_pow(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1 and abs(a).bit_length() * b > MAX_POW_BITS:
        raise ConfigError(f"power results must have at most {MAX_POW_BITS} bits, but got {a!r} ** {b!r}")
    return operator.pow(a, b)


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: _numbers_only(operator.add),
    ast.Sub: _numbers_only(operator.sub),
    ast.Mult: _numbers_only(operator.mul),
    ast.Div: _numbers_only(operator.truediv),
    ast.FloorDiv: _numbers_only(operator.floordiv),
    ast.Mod: _numbers_only(operator.mod),
    ast.Pow: _numbers_only(_bounded_pow),
}
_CMPOPS: dict[type, Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": min,
    "max": max,
    "abs": abs,
    "log2": math.log2,
    "ceil": math.ceil,
    "floor": math.floor,
    "int": int,
}


class Expr:
    """A compiled safe expression; ``names`` are the free variables it reads."""

    def __init__(self, source: str) -> None:
        if not isinstance(source, str) or not source.strip():
            raise ConfigError(f"expression must be a non-empty string, but got {source!r}")
        self.source = source.strip()
        self._tree, self.names = _compile(self.source)
        self._fn = _closure_of(self.source)

    def __call__(self, env: Mapping[str, Any]) -> Any:
        try:
            return self._fn(env)
        except (ArithmeticError, TypeError, ValueError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"expression {self.source!r} cannot be evaluated: {exc}") from None

    def __repr__(self) -> str:
        return f"Expr({self.source!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expr) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)

    def slack(self, env: Mapping[str, Any]) -> float:
        """For a single comparison ``lhs OP rhs``: the amount of violation (0 when it holds).

        Other expressions give 0 when true and 1 when false.
        """
        node = self._tree.body
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in (
            ast.Lt, ast.LtE, ast.Gt, ast.GtE
        ):
            lhs = float(_closure(node.left, self.source)(env))
            rhs = float(_closure(node.comparators[0], self.source)(env))
            if isinstance(node.ops[0], (ast.Lt, ast.LtE)):
                gap = lhs - rhs
            else:
                gap = rhs - lhs
            if _CMPOPS[type(node.ops[0])](lhs, rhs):
                return 0.0
            return max(gap, 1e-12)
        return 0.0 if self(env) else 1.0


_ALLOWED_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Constant,
                  ast.Load, ast.Tuple, ast.List, ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd) + tuple(_BINOPS) + tuple(_CMPOPS)


@lru_cache(maxsize=1024)
def _compile(source: str) -> tuple[ast.Expression, frozenset[str]]:
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ConfigError(f"expression {source!r} is not valid: {exc.msg}") from None
    names: set[str] = set()
    _check(tree, source, names)
    return tree, frozenset(names)


def _check(node: ast.AST, source: str, names: set[str]) -> None:
    """Validate ``node`` recursively and collect the names it reads."""
    dotted = _dotted(node)
    if dotted is not None:
        if "__" in dotted:
            raise ConfigError(f"expression {source!r} reads {dotted!r}; names with '__' are not allowed")
        if dotted not in FUNCTIONS:
            names.add(dotted)
        return
    if isinstance(node, ast.Call):
        ref = _param_ref(node)
        if ref is not None:
            names.add(ref)
            return
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
            raise ConfigError(
                f"expression {source!r} may only call {sorted(FUNCTIONS)} (and p('name')) with positional arguments"
            )
        for arg in node.args:
            _check(arg, source, names)
        return
    if not isinstance(node, _ALLOWED_NODES):
        raise ConfigError(f"expression {source!r} uses {type(node).__name__}, which is not allowed")
    for child in ast.iter_child_nodes(node):
        _check(child, source, names)


def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` (a chain of attributes on a name) as the single dotted name ``"a.b.c"``.

    Parameter names such as ``w_bits.conv1`` read naturally in expressions; no attribute is
    ever accessed on an object, the whole dotted string is looked up as one name.
    """
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _param_ref(node: ast.Call) -> str | None:
    """``p("any.name-with.0.dots")``: a parameter whose name is not a Python dotted name."""
    if (isinstance(node.func, ast.Name) and node.func.id == "p" and len(node.args) == 1 and not node.keywords
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
        return node.args[0].value
    return None


@lru_cache(maxsize=4096)
def _closure_of(source: str) -> Callable[[Mapping[str, Any]], Any]:
    """The validated tree of ``source`` as nested closures: the same semantics as :func:`_eval`
    (checked arithmetic, short-circuit ``and``/``or``, chained comparisons), without re-dispatching
    on node types at every evaluation (space constraints are evaluated millions of times while
    sampling flat mapping spaces)."""
    return _closure(_compile(source)[0].body, source)


def _closure(node: ast.AST, source: str) -> Callable[[Mapping[str, Any]], Any]:
    if isinstance(node, ast.Constant):
        value = node.value
        return lambda env: value
    name = _dotted(node)
    if name is None and isinstance(node, ast.Call):
        name = _param_ref(node)
    if name is not None:
        if name in FUNCTIONS:
            func = FUNCTIONS[name]
            return lambda env: func

        def look(env: Mapping[str, Any], name: str = name) -> Any:
            try:
                return env[name]
            except KeyError:
                raise ConfigError(f"expression {source!r} reads {name!r}, which is not defined") from None
        return look
    if isinstance(node, ast.BinOp):
        op, left, right = _BINOPS[type(node.op)], _closure(node.left, source), _closure(node.right, source)
        return lambda env: op(left(env), right(env))
    if isinstance(node, ast.UnaryOp):
        operand = _closure(node.operand, source)
        if isinstance(node.op, ast.Not):
            return lambda env: not operand(env)
        if isinstance(node.op, ast.USub):
            return lambda env: -operand(env)
        return lambda env: +operand(env)
    if isinstance(node, ast.BoolOp):
        parts = [_closure(v, source) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda env: all(p(env) for p in parts)
        return lambda env: any(p(env) for p in parts)
    if isinstance(node, ast.Compare):
        first = _closure(node.left, source)
        chain = [(_CMPOPS[type(op)], _closure(c, source)) for op, c in zip(node.ops, node.comparators)]
        if len(chain) == 1:
            (cmp, rhs), = chain
            return lambda env: bool(cmp(first(env), rhs(env)))

        def compare(env: Mapping[str, Any]) -> bool:
            left = first(env)
            for cmp, rhs in chain:
                right = rhs(env)
                if not cmp(left, right):
                    return False
                left = right
            return True
        return compare
    if isinstance(node, ast.IfExp):
        test, body, orelse = _closure(node.test, source), _closure(node.body, source), _closure(node.orelse, source)
        return lambda env: body(env) if test(env) else orelse(env)
    if isinstance(node, (ast.Tuple, ast.List)):
        elts = [_closure(e, source) for e in node.elts]
        return lambda env: tuple(e(env) for e in elts)
    if isinstance(node, ast.Call):
        func = FUNCTIONS[node.func.id]  # type: ignore[attr-defined]
        args = [_closure(a, source) for a in node.args]
        return lambda env: func(*(a(env) for a in args))
    raise ConfigError(f"expression {source!r} uses {type(node).__name__}, which is not allowed")
