"""An allocation problem: groups, their options, per-option tables, budgets and side constraints.

Decision variables: one binary ``x[g, j]`` per group ``g`` and option ``j`` of that group, with
``Σ_j x[g, j] = 1`` (each group takes exactly one option; the members of a group — tied
layers — share it). Every per-option quantity is a **table** with one value per ``(g, j)``:
``loss`` (what is minimized by default), any number of costs (``size_bytes``, ``bops``,
``latency_ms``, a user table, ...), and the built-in ``w_bits``, ``a_bits``, ``w_eff_bits`` of the
options (an operand an option leaves unquantized counts :data:`FLOAT_BITS`).

Tables are given in any of these forms (:func:`table_values`):

- a callable ``f(group, option) -> float`` (:class:`Group`, :class:`~codesign.allocation.options.Option`);
- an array ``[G, O]`` in group and option order (all groups with the same options);
- a mapping keyed by **option name**, each value a list with one entry per layer (in layer
  order) — HAWQ's per-bit-width vectors;
- a mapping keyed by **group or layer name**, each value a list (one per option) or a mapping
  ``{option name: value}``;
- ``{"product": [factor, ...]}``: the elementwise product of factors, each a list with one
  value per layer, a mapping ``{option name: scalar}``, or any per-layer form above — e.g.
  HAWQ-V3's loss ``(Hessian trace / parameters)_l · ‖W_l − Q_j(W_l)‖²`` or a size
  ``parameters_l · bits_j / 8``.

Values given per layer are summed over the members of each group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from codesign.allocation.expr import SideConstraint, parse_constraint
from codesign.allocation.options import Option, parse_option
from codesign.errors import ConfigError

__all__ = ["AllocationProblem", "Budget", "FLOAT_BITS", "Group", "SideConstraint", "make_groups", "table_values"]

FLOAT_BITS = 16  # bits counted for an operand an option leaves unquantized (fp16)
BUILTIN_TABLES = ("w_bits", "a_bits", "w_eff_bits")


@dataclass(frozen=True)
class Group:
    """One allocation unit: its name, the layers that share its choice, and its options."""

    name: str
    members: tuple[str, ...]
    options: tuple[Option, ...]


@dataclass(frozen=True)
class Budget:
    """``Σ table ≤ value``; or ``fraction`` f of HAWQ's range ``lo + f · (hi − lo)`` where
    ``lo``/``hi`` are the sums of each group's cheapest / dearest option."""

    table: str
    value: float | None = None
    fraction: float | None = None

    @staticmethod
    def parse(table: str, spec: Any) -> Budget:
        if isinstance(spec, Mapping):
            if set(spec) != {"fraction"}:
                raise ConfigError(f"budget `{table}` must be a number or {{fraction: f}}, but got {dict(spec)!r}")
            f = spec["fraction"]
            if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 <= f <= 1:
                raise ConfigError(f"budget `{table}`: fraction must be a number in [0, 1], but got {f!r}")
            return Budget(table, fraction=float(f))
        if isinstance(spec, bool) or not isinstance(spec, (int, float)) or not np.isfinite(spec):
            raise ConfigError(f"budget `{table}` must be a finite number or {{fraction: f}}, but got {spec!r}")
        return Budget(table, value=float(spec))


def make_groups(layers: Sequence[str] | None = None, ties: Sequence[Sequence[str]] = (),
                groups: Any = None, options: Sequence[Any] = ()) -> list[Group]:
    """Groups from ``layers`` (one per layer) merged by ``ties`` (a tied group is named by its
    members joined with ``+``), or from explicit ``groups`` — a list of names, of
    ``{name, members, options}`` mappings or of :class:`Group` s, or a mapping ``name -> members``. ``options`` is the
    default option list of every group."""
    default = tuple(parse_option(o) for o in _names(options, "options", parse=False))
    out: list[Group] = []
    if groups is not None:
        items = list(groups.items()) if isinstance(groups, Mapping) else list(groups)
        for item in items:
            if isinstance(item, Group):
                out.append(item)
            elif isinstance(item, tuple) and len(item) == 2:  # from a name -> members mapping
                out.append(Group(str(item[0]), tuple(_names(item[1], f"members of group {item[0]!r}")), default))
            elif isinstance(item, Mapping):
                extra = sorted(set(item) - {"name", "members", "options"})
                if extra or "name" not in item:
                    raise ConfigError(f"a group must be a name or {{name, members, options}}, but got {dict(item)!r}")
                opts = (tuple(parse_option(o) for o in _names(item["options"], "options", parse=False))
                        if "options" in item else default)
                members = _names(item.get("members", [item["name"]]), f"members of group {item['name']!r}")
                out.append(Group(str(item["name"]), tuple(members), opts))
            else:
                out.append(Group(str(item), (str(item),), default))
    elif layers is not None:
        layers = _names(layers, "layers")
        if len(set(layers)) != len(layers):
            raise ConfigError(f"`layers` must be unique, but {sorted({n for n in layers if layers.count(n) > 1})} repeat")
        parent = {n: n for n in layers}

        def root(n: str) -> str:
            while parent[n] != n:
                n = parent[n]
            return n

        for tie in _names(ties, "ties", parse=False):
            tie = _names(tie, "a tie")
            unknown = [n for n in tie if n not in parent]
            if unknown or len(tie) < 2:
                raise ConfigError(f"a tie must list >= 2 known layers, but got {tie} (unknown: {unknown})")
            for n in tie[1:]:
                parent[root(n)] = root(tie[0])
        members: dict[str, list[str]] = {}
        for n in layers:
            members.setdefault(root(n), []).append(n)
        out = [Group("+".join(ms), tuple(ms), default) for ms in members.values()]
    else:
        raise ConfigError("an allocation needs `layers` (optionally with `ties`) or `groups`")
    _check_groups(out)
    return out


def _names(values: Any, what: str, parse: bool = True) -> list[Any]:
    """A list from a YAML list (strings when ``parse``), else a one-line :class:`ConfigError`."""
    if isinstance(values, (str, bytes, Mapping)) or not hasattr(values, "__iter__"):
        raise ConfigError(f"`{what}` must be a list, but got {values!r}")
    out = list(values)
    if parse and any(not isinstance(v, (str, int)) or isinstance(v, bool) for v in out):
        raise ConfigError(f"`{what}` must be a list of names, but got {out!r}")
    return [str(v) for v in out] if parse else out


def _check_groups(groups: Sequence[Group]) -> None:
    if not groups:
        raise ConfigError("an allocation needs at least one group")
    seen: set[str] = set()
    owners: dict[str, str] = {}
    for g in groups:
        if g.name in seen:
            raise ConfigError(f"group names must be unique, but {g.name!r} appears twice")
        seen.add(g.name)
        if not g.options:
            raise ConfigError(f"group {g.name!r} has no options (give `options: [w4a8, w8a8, ...]`)")
        names = [o.name for o in g.options]
        if len(set(names)) != len(names):
            raise ConfigError(f"group {g.name!r}: option names must be unique, but got {names}")
        for m in g.members:
            if m in owners:
                raise ConfigError(f"layer {m!r} is a member of two groups ({owners[m]!r}, {g.name!r})")
            owners[m] = g.name


TableSpec = Any  # callable | array | mapping (see table_values)


def _num(value: Any, what: str) -> float:
    """``float(value)`` for a number, else a one-line :class:`ConfigError`."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"`{what}` must hold numbers, but got {value!r}")
    return float(value)


def _nums(values: Any, what: str) -> np.ndarray:
    if isinstance(values, (str, bytes, Mapping)) or not hasattr(values, "__iter__"):
        raise ConfigError(f"`{what}` must be a list of numbers, but got {values!r}")
    return np.array([_num(v, what) for v in values], dtype=float)


def table_values(spec: TableSpec, groups: Sequence[Group], what: str,
                 layer_order: Sequence[str] | None = None) -> list[np.ndarray]:
    """One float array per group (one value per option of the group); see the module docstring."""
    layer_order = list(layer_order) if layer_order is not None else [m for g in groups for m in g.members]
    if callable(spec):
        out = [np.array([_num(spec(g, o), f"{what} of {g.name!r}") for o in g.options]) for g in groups]
    elif isinstance(spec, Mapping) and set(spec) == {"product"}:
        factors = spec["product"]
        if isinstance(factors, (str, bytes, Mapping)) or not isinstance(factors, Sequence) or not factors:
            raise ConfigError(f"`{what}.product` must be a non-empty list of factors, but got {factors!r}")
        per_layer = {m: {g.name: np.ones(len(g.options))} for g in groups for m in g.members}
        for k, f in enumerate(factors):
            fv = _factor(f, groups, layer_order, f"{what}.product[{k}]")
            for m in per_layer:
                g = next(iter(per_layer[m]))
                per_layer[m][g] = per_layer[m][g] * fv[m][g]
        out = [sum(per_layer[m][g.name] for m in g.members) for g in groups]
    elif isinstance(spec, Mapping):
        per = _per_layer(spec, groups, layer_order, what)
        out = [sum(per[m][g.name] for m in g.members) if g.name not in per else per[g.name][g.name] for g in groups]
    else:
        arr = np.asarray(spec, dtype=float) if not isinstance(spec, (str, bytes)) else np.zeros(0)
        widths = {len(g.options) for g in groups}
        if arr.ndim != 2 or arr.shape[0] != len(groups) or len(widths) != 1 or arr.shape[1] != widths.pop():
            raise ConfigError(f"`{what}` must be a callable, a mapping or a [groups, options] array of shape "
                              f"({len(groups)}, {len(groups[0].options)}), but got {_describe(spec)}")
        out = [arr[i] for i in range(len(groups))]
    for g, v in zip(groups, out):
        v = np.asarray(v, dtype=float)
        if v.shape != (len(g.options),) or not np.all(np.isfinite(v)):
            raise ConfigError(f"`{what}` of group {g.name!r} must be {len(g.options)} finite numbers, but got {v.tolist()}")
    return [np.asarray(v, dtype=float) for v in out]


def _describe(spec: Any) -> str:
    shape = getattr(np.asarray(spec, dtype=object), "shape", None)
    return f"{type(spec).__name__} of shape {shape}" if shape else repr(spec)[:60]


def _per_layer_scalar(spec: Any, layer_order: Sequence[str], what: str) -> dict[str, float]:
    if isinstance(spec, Mapping):
        missing = [n for n in layer_order if n not in spec]
        if missing:
            raise ConfigError(f"`{what}` must give every layer, but misses {missing[:3]}")
        return {n: _num(spec[n], what) for n in layer_order}
    vals = list(spec) if not isinstance(spec, (str, bytes)) else []
    if len(vals) != len(layer_order):
        raise ConfigError(f"`{what}` must have one value per layer ({len(layer_order)}), but got {len(vals)}")
    return {n: _num(v, what) for n, v in zip(layer_order, vals)}


def _factor(spec: Any, groups: Sequence[Group], layer_order: Sequence[str],
            what: str) -> dict[str, dict[str, np.ndarray]]:
    """One factor of a product, per layer: ``{layer: {group: values per option}}``."""
    options = {o.name for g in groups for o in g.options}
    owner = {m: g for g in groups for m in g.members}
    if isinstance(spec, Mapping) and spec and set(spec) <= options and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in spec.values()):
        for g in groups:
            missing = [o.name for o in g.options if o.name not in spec]
            if missing:
                raise ConfigError(f"`{what}` must give options {missing} (group {g.name!r})")
        return {m: {g.name: np.array([_num(spec[o.name], what) for o in g.options])} for m, g in owner.items()}
    if isinstance(spec, Mapping):
        per = _per_layer(spec, groups, layer_order, what)
        if any(k not in owner for k in per):
            raise ConfigError(f"`{what}`: a factor of a product must be given per layer, not per group")
        return per
    scalars = _per_layer_scalar(spec, layer_order, what)
    return {m: {g.name: np.full(len(g.options), scalars[m])} for m, g in owner.items()}


def _per_layer(spec: Mapping[str, Any], groups: Sequence[Group], layer_order: Sequence[str],
               what: str) -> dict[str, dict[str, np.ndarray]]:
    """``{layer or group name: {group name: values per option of that group}}``."""
    option_names = {o.name for g in groups for o in g.options}
    by_name = {g.name: g for g in groups}
    owner = {m: g for g in groups for m in g.members}
    out: dict[str, dict[str, np.ndarray]] = {}
    if spec and set(spec) <= option_names:  # column form: option -> one value per layer
        cols = {o: _per_layer_scalar(v, layer_order, f"{what}.{o}") for o, v in spec.items()}
        for m, g in owner.items():
            missing = [o.name for o in g.options if o.name not in cols]
            if missing:
                raise ConfigError(f"`{what}` must give options {missing} (group {g.name!r})")
            out[m] = {g.name: np.array([cols[o.name][m] for o in g.options])}
        return out
    for key, val in spec.items():
        g = by_name.get(key) or owner.get(key)
        if g is None:
            raise ConfigError(f"`{what}` has values for {key!r}, which is neither a group nor a layer")
        if isinstance(val, Mapping):
            missing = [o.name for o in g.options if o.name not in val]
            if missing:
                raise ConfigError(f"`{what}` of {key!r} must give options {missing}")
            vals = np.array([_num(val[o.name], f"{what} of {key!r}") for o in g.options])
        else:
            vals = _nums(val, f"{what} of {key!r}")
            if vals.shape != (len(g.options),):
                raise ConfigError(f"`{what}` of {key!r} must have {len(g.options)} values (one per option), but got {len(vals)}")
        out[key] = {g.name: vals}
    missing = [g.name for g in groups if g.name not in out and any(m not in out for m in g.members)]
    if missing:
        raise ConfigError(f"`{what}` must give every group or all its layers, but misses {missing[:3]}")
    return out


class AllocationProblem:
    """Groups, per-option tables, objective weights, budgets and side constraints.

    Args:
        groups: the groups (each with its options).
        tables: name -> one array per group (values per option), or any form of :func:`table_values`.
        objective: table name, or ``{table: weight}`` (a weighted sum; default ``loss``).
        budgets: ``{table: value or {fraction: f}}`` or :class:`Budget` s (upper bounds on totals).
        constraints: side constraints (strings of :mod:`codesign.allocation.expr`, or
            :class:`SideConstraint`).
        layer_order: order of per-layer lists in the tables (default: members in group order).
    """

    def __init__(self, groups: Sequence[Group], tables: Mapping[str, TableSpec],
                 objective: str | Mapping[str, float] = "loss", budgets: Any = None,
                 constraints: Sequence[Any] = (), layer_order: Sequence[str] | None = None) -> None:

        self.groups = tuple(groups)
        _check_groups(self.groups)
        self.offsets = np.cumsum([0] + [len(g.options) for g in self.groups])
        self.n = int(self.offsets[-1])
        self.tables: dict[str, np.ndarray] = {}
        for name in BUILTIN_TABLES:
            self.tables[name] = np.array([_bits(o, name) for g in self.groups for o in g.options])
        for name, spec in tables.items():
            if name in BUILTIN_TABLES:
                raise ConfigError(f"table name {name!r} is reserved (built-in: {list(BUILTIN_TABLES)})")
            self.tables[str(name)] = np.concatenate(table_values(spec, self.groups, str(name), layer_order))
        if not isinstance(objective, (str, Mapping)):
            raise ConfigError(f"`objective` must be a table name or {{table: weight}}, but got {objective!r}")
        self.objective = ({objective: 1.0} if isinstance(objective, str)
                          else {str(k): _num(v, "objective") for k, v in objective.items()})
        budgets = budgets or {}
        self.budgets = [b if isinstance(b, Budget) else Budget.parse(str(k), b)
                        for k, b in (budgets.items() if isinstance(budgets, Mapping) else ((None, b) for b in budgets))]
        for name in [*self.objective, *(b.table for b in self.budgets)]:
            self.check_table(name)
        if isinstance(constraints, (str, bytes, Mapping)) or not hasattr(constraints, "__iter__"):
            raise ConfigError(f"`constraints` must be a list of expressions, but got {constraints!r}")
        self.constraints = [c if isinstance(c, SideConstraint) else s for c in constraints
                            for s in ([c] if isinstance(c, SideConstraint) else parse_constraint(str(c), self))]

    def check_table(self, name: str) -> np.ndarray:
        if name not in self.tables:
            import difflib

            close = difflib.get_close_matches(name, list(self.tables), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"table {name!r} is not defined{hint} (defined: {sorted(self.tables)})")
        return self.tables[name]

    def group_slice(self, i: int) -> slice:
        return slice(int(self.offsets[i]), int(self.offsets[i + 1]))

    def range_of(self, table: str) -> tuple[float, float]:
        """Sum of each group's smallest / largest value of ``table``."""
        t = self.check_table(table)
        parts = [t[self.group_slice(i)] for i in range(len(self.groups))]
        return float(sum(p.min() for p in parts)), float(sum(p.max() for p in parts))

    def budget_value(self, budget: Budget) -> float:
        if budget.value is not None:
            return budget.value
        lo, hi = self.range_of(budget.table)
        return lo + float(budget.fraction) * (hi - lo)  # type: ignore[arg-type]

    def objective_vector(self) -> np.ndarray:
        return sum(w * self.check_table(t) for t, w in self.objective.items())  # type: ignore[return-value]

    def with_budgets(self, budgets: Mapping[str, Any] | Sequence[Budget], replace_all: bool = False) -> AllocationProblem:
        """A copy whose budgets are ``budgets`` (mapping ``table -> value or {fraction}``, or
        :class:`Budget` s) plus, unless ``replace_all``, this problem's budgets on other tables."""
        import copy

        new = copy.copy(self)
        items = list(budgets.items()) if isinstance(budgets, Mapping) else [(b.table, b) for b in budgets]
        given = [b if isinstance(b, Budget) else Budget.parse(str(k), b) for k, b in items]
        tables = {b.table for b in given}
        new.budgets = ([] if replace_all else [b for b in self.budgets if b.table not in tables]) + given
        for b in new.budgets:
            new.check_table(b.table)
        return new

    def with_constraints(self, constraints: Sequence[SideConstraint]) -> AllocationProblem:
        """A copy with only ``constraints`` as side constraints."""
        import copy

        new = copy.copy(self)
        new.constraints = list(constraints)
        return new


def _bits(o: Option, which: str) -> float:
    v = {"w_bits": o.w_bits, "a_bits": o.a_bits, "w_eff_bits": o.w_eff_bits}[which]
    return float(FLOAT_BITS if v is None else v)

