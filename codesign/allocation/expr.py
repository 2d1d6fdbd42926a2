"""Side constraints: linear expressions over the option indicators ``x[g, j]``.

Grammar (whitespace free; patterns are globs over group names, ``*`` and ``?``)::

    constraint := expr ("<=" | ">=" | "==") expr
    expr       := ["-"] term (("+" | "-") term)*
    term       := number | [number "*"] atom
    atom       := count(GROUPS [, OPTIONS])   Σ x[g, j] over groups g ~ GROUPS, options j ~ OPTIONS
                | sum(TABLE [, GROUPS])       Σ TABLE[g, j] · x[g, j] over groups g ~ GROUPS
                | mean(TABLE [, GROUPS])      the same divided by the number of matched groups

A group matches ``GROUPS`` when its name or one of its members does. A placeholder ``{name}`` in
a pattern matches one dot-free name part and makes the constraint hold **for each** value it
takes (values taken by every atom that uses it), e.g. at least one expert at 3 bits and one at
2 bits in every MoE layer::

    count(layers.{i}.mlp.e*, w3*) >= 1
    count(layers.{i}.mlp.e*, w2*) >= 1

Other examples: ``count(fc*, w8a8) == count(conv*, w8a8)``, ``mean(w_eff_bits) <= 4.25``,
``sum(size_bytes, layers.0.*) <= 0.3 * sum(size_bytes)``.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from codesign.errors import ConfigError

if TYPE_CHECKING:  # the problem hands itself in; this module never imports it at run time
    from codesign.allocation.problem import AllocationProblem

__all__ = ["SideConstraint", "parse_constraint"]


@dataclass(frozen=True)
class SideConstraint:
    """``lo ≤ Σ coef · x ≤ hi`` over the option indicators (``coef`` has one entry per variable)."""

    text: str
    coef: np.ndarray
    lo: float
    hi: float

_CMP = re.compile(r"(<=|>=|==)")
_ATOM = re.compile(r"(count|sum|mean)\(([^()]*)\)")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_TOKEN = re.compile(r"\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+|@\d+|[-+*]")


def _glob_regex(pattern: str) -> re.Pattern[str]:
    out, pos = [], 0
    for m in _PLACEHOLDER.finditer(pattern):
        out.append(fnmatch.translate(pattern[pos:m.start()])[4:-3])  # strip "(?s:" and ")\Z"
        out.append(f"(?P<{m.group(1)}>[^.]+)")
        pos = m.end()
    out.append(fnmatch.translate(pattern[pos:])[4:-3])
    return re.compile("^" + "".join(out) + "$")


class _Atom:
    def __init__(self, kind: str, args: list[str], text: str) -> None:
        self.kind, self.text = kind, text
        if kind == "count":
            if not 1 <= len(args) <= 2:
                raise ConfigError(f"`{text}`: count takes (GROUPS[, OPTIONS])")
            self.groups, self.options, self.table = args[0], args[1] if len(args) > 1 else "*", None
        else:
            if not 1 <= len(args) <= 2:
                raise ConfigError(f"`{text}`: {kind} takes (TABLE[, GROUPS])")
            self.table, self.groups, self.options = args[0], args[1] if len(args) > 1 else "*", "*"
        self.placeholders = set(_PLACEHOLDER.findall(self.groups))

    def matches(self, problem: AllocationProblem, binding: dict[str, str]) -> list[int]:
        pattern = _PLACEHOLDER.sub(lambda m: binding.get(m.group(1), m.group(0)), self.groups)
        rx = _glob_regex(pattern)
        return [i for i, g in enumerate(problem.groups) if any(rx.match(n) for n in (g.name, *g.members))]

    def values(self, problem: AllocationProblem) -> dict[str, set[str]]:
        rx = _glob_regex(self.groups)
        out: dict[str, set[str]] = {p: set() for p in self.placeholders}
        for g in problem.groups:
            for n in (g.name, *g.members):
                m = rx.match(n)
                if m:
                    for p in self.placeholders:
                        out[p].add(m.group(p))
        return out

    def row(self, problem: AllocationProblem, binding: dict[str, str]) -> np.ndarray:
        idx = self.matches(problem, binding)
        if not idx:
            raise ConfigError(f"`{self.text}` matches no group (groups: {[g.name for g in problem.groups][:4]} ...)")
        row = np.zeros(problem.n)
        table = problem.check_table(self.table) if self.table else None
        for i in idx:
            sl = problem.group_slice(i)
            if table is None:
                opts = [fnmatch.fnmatchcase(o.name, self.options) for o in problem.groups[i].options]
                row[sl] += np.asarray(opts, dtype=float)
            else:
                row[sl] += table[sl]
        if table is None and not row.any():
            raise ConfigError(f"`{self.text}`: no option of the matched groups matches {self.options!r}")
        return row / len(idx) if self.kind == "mean" else row


def _side(text: str, atoms: list[_Atom]) -> list[tuple[float, int | None]]:
    """``[(coef, atom index or None for a constant)]`` of one side: signed products of numbers
    with at most one atom each."""
    def sub(m: re.Match[str]) -> str:
        atoms.append(_Atom(m.group(1), [a.strip() for a in m.group(2).split(",")], m.group(0)))
        return f" @{len(atoms) - 1} "

    body = _ATOM.sub(sub, text)
    tokens = _TOKEN.findall(body)
    if "".join(tokens) != "".join(body.split()):
        raise ConfigError(f"cannot read {text.strip()!r} (terms are numbers, count(...), sum(...), mean(...), "
                          "optionally times a number: 2*count(...))")
    out: list[tuple[float, int | None]] = []
    i, sign = 0, 1.0
    while i < len(tokens):
        while i < len(tokens) and tokens[i] in "+-":
            sign *= -1.0 if tokens[i] == "-" else 1.0
            i += 1
        coef, atom = sign, None
        while True:
            if i >= len(tokens) or tokens[i] in "+-*":
                raise ConfigError(f"{text.strip()!r} has an operator without an operand")
            if tokens[i].startswith("@"):
                if atom is not None:
                    raise ConfigError(f"{text.strip()!r} multiplies two atoms (the expression must be linear)")
                atom = int(tokens[i][1:])
            else:
                coef *= float(tokens[i])
            i += 1
            if i < len(tokens) and tokens[i] == "*":
                i += 1
                continue
            break
        out.append((coef, atom))
        if i < len(tokens) and tokens[i] not in "+-":
            raise ConfigError(f"{text.strip()!r}: expected + or - before {tokens[i]!r}")
        sign = 1.0
    if not out:
        raise ConfigError("an empty side")
    return out


def parse_constraint(text: str, problem: AllocationProblem) -> list[SideConstraint]:
    """The side constraint(s) of ``text`` (one per placeholder binding)."""

    parts = _CMP.split(text)
    if len(parts) != 3:
        raise ConfigError(f"a side constraint must be `expr <= expr`, `>=` or `==`, but got {text!r}")
    try:
        atoms: list[_Atom] = []
        lhs, rhs = _side(parts[0], atoms), _side(parts[2], atoms)
        terms = lhs + [(-c, a) for c, a in rhs]
        const = -sum(c for c, a in terms if a is None)
        names = sorted({p for a in atoms for p in a.placeholders})
        values: dict[str, set[str]] = {p: set() for p in names}
        for a in atoms:
            for p, vs in a.values(problem).items():
                values[p] |= vs
        bindings = [dict(zip(names, combo)) for combo in itertools.product(*(sorted(values[p]) for p in names))]
        bindings = [b for b in bindings if all(a.matches(problem, b) for a in atoms)]
        if names and not bindings:
            raise ConfigError(f"placeholders {names} take no value shared by every pattern")
        out = []
        for b in bindings or [{}]:
            coef = np.zeros(problem.n)
            for c, a in terms:
                if a is not None:
                    coef += c * atoms[a].row(problem, b)
            label = text if not b else f"{text} [{', '.join(f'{k}={v}' for k, v in b.items())}]"
            lo, hi = {"<=": (-np.inf, const), ">=": (const, np.inf), "==": (const, const)}[parts[1]]
            out.append(SideConstraint(label, coef, lo, hi))
        return out
    except ConfigError as exc:
        raise ConfigError(f"side constraint {text!r}: {exc}") from None

