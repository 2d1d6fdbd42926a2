"""Groups and shape-derived cost tables of a :class:`~codesign.workloads.layer.Workload`.

Groups follow the parameter keys of :func:`codesign.spaces.builders.quant_space` (granularity
``layer``, ``expert`` or ``uniform``), so an allocation's :meth:`~Allocation.design` is a design of
that space. Tables, per group ``g`` and option ``(w, a)`` with effective weight bits ``w_eff``,
summed over the group's layers ``l`` (each repeated ``count_l`` times)::

    size_bytes  = Σ_l count_l · weight_elems_l · w_eff / 8                  (model size)
    bops        = Σ_l count_l · MACs_l · w · a                              (HAQ / HAWQ-V3 bit operations)

An operand an option leaves unquantized counts :data:`~codesign.allocation.problem.FLOAT_BITS`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from codesign.allocation.options import Option, parse_option
from codesign.allocation.problem import FLOAT_BITS, Group
from codesign.errors import ConfigError
from codesign.spaces.builders import quant_keys
from codesign.workloads.layer import Workload

__all__ = ["SHAPE_TABLES", "shape_table", "workload_groups"]

SHAPE_TABLES = ("size_bytes", "bops")


def workload_groups(workload: Workload, options: Sequence[Any], granularity: str = "layer",
                    skip: Sequence[str] = (), ties: Sequence[Sequence[str]] = ()) -> list[Group]:
    """One group per bit-width key of ``workload`` (quantizable layers only; ``skip`` leaves layers
    out); ``ties`` merges keys (a tied group is named by its keys joined with ``+``)."""
    opts = tuple(parse_option(o) for o in options)
    keys: dict[str, list[str]] = {}
    for layer, key in quant_keys(workload, granularity).items():
        if layer not in skip:
            keys.setdefault(key, []).append(layer)
    if not keys:
        raise ConfigError(f"workload {workload.name!r} has no quantizable layer to allocate")
    merged: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    for tie in ties:
        unknown = [k for k in tie if k not in keys]
        if unknown or len(tie) < 2:
            raise ConfigError(f"a tie must list >= 2 keys of {workload.name!r}, but got {list(tie)} (unknown: {unknown})")
        if any(k in owner for k in tie):
            raise ConfigError(f"a key may be tied once, but {list(tie)} repeats one")
        for k in tie:
            owner[k] = tie[0]
        merged[tie[0]] = list(tie)
    out = []
    for key, layers in keys.items():
        if key in owner and owner[key] != key:
            continue
        group_keys = merged.get(key, [key])
        members = tuple(m for k in group_keys for m in keys[k])
        out.append(Group("+".join(group_keys), members, opts))
    return out


def shape_table(workload: Workload, name: str) -> Callable[[Group, Option], float]:
    """The callable table ``name`` (one of :data:`SHAPE_TABLES`) of ``workload``'s layers."""
    if name not in SHAPE_TABLES:
        raise ConfigError(f"shape table must be one of {SHAPE_TABLES}, but got {name!r}")
    layers = {l.name: l for l in workload.layers}

    def value(group: Group, option: Option) -> float:
        w = float(option.w_eff_bits if option.w_eff_bits is not None else FLOAT_BITS)
        wi = float(option.w_bits if option.w_bits is not None else FLOAT_BITS)
        a = float(option.a_bits if option.a_bits is not None else FLOAT_BITS)
        total = 0.0
        for m in group.members:
            if m not in layers:
                raise ConfigError(f"group {group.name!r}: {m!r} is not a layer of workload {workload.name!r}")
            layer = layers[m]
            total += layer.count * (layer.weight_elems * w / 8 if name == "size_bytes" else layer.macs * wi * a)
        return total

    return value
