"""Which design parameters an evaluator reads, and the check that a space and its evaluators agree.

An evaluator declares what it reads with an optional ``param_use()`` method returning a
:class:`ParamUse`:

- ``required``: names every design must set (e.g. the roofline's hardware parameters);
- ``optional``: names it reads when present (``w_bits.<key>`` / ``a_bits.<key>`` with ``<key>`` a
  layer, an MoE expert group or ``all``; ``map.<layer>.*``), so a space may leave them out;
- ``together``: groups of names of which a space sets all or none (``w_bits.conv1`` is read
  with ``a_bits.conv1``; a layer's mapping is four parameters).

:func:`check_params` runs when a :class:`~codesign.evaluators.composite.Problem` is built:

- a parameter some evaluator needs and the space lacks is an error
  (:class:`~codesign.errors.ConfigError`, one line naming them and who reads them);
- a parameter of the space that no evaluator reads is a :class:`~codesign.errors.ParameterWarning`
  naming it (with the closest name an evaluator does read); the CLI makes it an error under
  ``--strict``.

Evaluators without ``param_use`` (user plugins that do not declare) are trusted: nothing is
reported missing for them, and nothing is reported unused while one of them is in the problem.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from codesign.errors import ConfigError, ParameterWarning
from codesign.spaces.builders import bit_keys
from codesign.workloads.layer import Layer

BIT_OPERANDS = ("w_bits", "a_bits")
MAPPING_FIELDS = ("dataflow", "tile_m", "tile_n", "tile_k")


@dataclass(frozen=True)
class ParamUse:
    """The design parameters an evaluator reads (see the module docstring)."""

    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    together: tuple[frozenset[str], ...] = ()
    summary: tuple[str, ...] = field(default=(), compare=False)

    @property
    def reads(self) -> frozenset[str]:
        return self.required | self.optional

    def __or__(self, other: ParamUse) -> ParamUse:
        return ParamUse(self.required | other.required, self.optional | other.optional,
                        self.together + other.together, self.summary + other.summary)


def hardware_use(names: Iterable[str]) -> ParamUse:
    """Required hardware parameters (``pe_type``, ``array_rows``, ...)."""
    names = tuple(names)
    return ParamUse(required=frozenset(names), summary=names)


def bits_use(layers: Iterable[Layer]) -> ParamUse:
    """Optional ``w_bits.<key>`` / ``a_bits.<key>`` for every key that
    :func:`codesign.spaces.builders.layer_bits` looks up for ``layers`` (layer, expert group, ``all``)."""
    return bits_use_keys(bit_keys(layer) for layer in layers)


def bits_use_keys(per_layer_keys: Iterable[Sequence[str]]) -> ParamUse:
    """:func:`bits_use` from the keys each layer reads (e.g. a probe's layer manifest)."""
    keys: list[str] = []
    for layer_keys in per_layer_keys:
        keys += [k for k in layer_keys if k not in keys]
    if "all" in keys:  # shown last
        keys.remove("all")
    keys.append("all")
    groups = tuple(frozenset(f"{op}.{k}" for op in BIT_OPERANDS) for k in keys)
    shown = ", ".join(keys[:6]) + (", ..." if len(keys) > 6 else "")
    return ParamUse(optional=frozenset().union(*groups), together=groups,
                    summary=(f"w_bits.<key>/a_bits.<key> for key in {{{shown}}}",))


def mapping_use(layers: Iterable[Layer]) -> ParamUse:
    """Optional ``map.<layer>.dataflow|tile_m|tile_n|tile_k`` for every layer (all four or none)."""
    groups = tuple(frozenset(f"map.{l.name}.{f}" for f in MAPPING_FIELDS) for l in layers)
    return ParamUse(optional=frozenset().union(*groups), together=groups, summary=("map.<layer>.*",))


def declared_use(evaluator: Any) -> ParamUse | None:
    """The evaluator's :class:`ParamUse`, or None when it does not declare one."""
    method = getattr(evaluator, "param_use", None)
    if not callable(method):
        return None
    use = method()
    if use is not None and not isinstance(use, ParamUse):
        raise ConfigError(f"evaluator {getattr(evaluator, 'name', evaluator)!r}: param_use() must return a ParamUse "
                          f"or None, but returned {type(use).__name__}")
    return use


def check_params(space: Any, evaluators: Sequence[Any], problem: str) -> list[str]:
    """Check that ``space`` sets what ``evaluators`` need; warn about parameters none reads.

    Returns the unused parameter names (also issued as one :class:`ParameterWarning`).
    Raises ConfigError naming the missing parameters and the evaluators that read them.
    """
    names = list(space.names)
    have = set(names)
    uses = [(getattr(e, "name", type(e).__name__), declared_use(e)) for e in evaluators]
    missing: dict[str, list[str]] = {}
    for ev, use in uses:
        if use is None:
            continue
        need = set(use.required)
        for group in use.together:
            if group & have:
                need |= group
        for n in sorted(need - have):
            missing.setdefault(n, []).append(ev)
    space_name = getattr(space, "name", "space")
    if missing:
        by = sorted({ev for evs in missing.values() for ev in evs})
        raise ConfigError(f"problem {problem!r}: space {space_name!r} must set every parameter its evaluators need, "
                          f"but lacks {sorted(missing)} (read by {', '.join(by)})")
    if any(use is None for _, use in uses):
        return []
    read = frozenset().union(*(use.reads for _, use in uses)) if uses else frozenset()
    unused = [n for n in names if n not in read]
    if unused:
        hints = []
        for n in unused:
            close = [f"{n}.all"] if f"{n}.all" in read else difflib.get_close_matches(n, sorted(read), n=1, cutoff=0.6)
            if close:
                hints.append(f"{n!r} -> {close[0]!r}?")
        summary = "; ".join(f"{ev} reads {', '.join(use.summary) or 'nothing'}" for ev, use in uses)
        hint = f" (did you mean {', '.join(hints)})" if hints else ""
        warnings.warn(ParameterWarning(
            f"problem {problem!r}: parameters {unused} of space {space_name!r} are read by no evaluator{hint}; "
            f"{summary}"), stacklevel=3)
    return unused
