"""Quantization options of a group: weight / activation bits, or a named format.

An option is what one group (a layer, an expert, a linear block, tied layers) may be assigned.
Names follow one small grammar, case-insensitive::

    w<b>[g<G>][a<c>]      e.g. "w4a8", "w8a8", "w3" (weights only), "w4g128", "w4g128a8"
    a<c>                  activations only, e.g. "a8"

``g<G>`` means one weight scale per group of ``G`` elements along the reduction dimension;
its **effective weight bits** are ``b + overhead/G`` with ``overhead = 32`` bits per group
(an fp16 scale and an fp16 zero point, the convention of MxMoE's "b + 32/g", REFERENCES.md §5),
e.g. ``w4g128`` = 4.25 bits. A missing operand (``None``) is left as it is (not quantized by
this option). Any other named format is given as a mapping with explicit fields::

    {name: nf4, w_bits: 4, a_bits: 16, w_eff_bits: 4.127}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from codesign.errors import ConfigError

__all__ = ["GROUP_OVERHEAD_BITS", "Option", "parse_option"]

GROUP_OVERHEAD_BITS = 32  # fp16 scale + fp16 zero point per weight group (MxMoE's b + 32/g)
_NAME = re.compile(r"^(?:w(?P<w>\d+)(?:g(?P<g>\d+))?)?(?:a(?P<a>\d+))?$", re.IGNORECASE)


@dataclass(frozen=True)
class Option:
    """One quantization option.

    Attributes:
        name: the option's name (unique among a group's options).
        w_bits: integer weight bits, or None (weights left as they are).
        a_bits: integer activation bits, or None.
        group_size: weight elements per scale group (None: per output channel).
        w_eff_bits: weight bits per element including scale overhead (``w_bits + 32/group_size``).
    """

    name: str
    w_bits: int | None
    a_bits: int | None
    group_size: int | None = None
    w_eff_bits: float | None = None

    def __post_init__(self) -> None:
        for what in ("w_bits", "a_bits"):
            v = getattr(self, what)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 32):
                raise ConfigError(f"option {self.name!r}: `{what}` must be an integer in [1, 32] or absent, but got {v!r}")
        if self.w_bits is None and self.a_bits is None:
            raise ConfigError(f"option {self.name!r} must set `w_bits` or `a_bits`")
        if self.group_size is not None and (isinstance(self.group_size, bool) or not isinstance(self.group_size, int)
                                            or self.group_size < 1 or self.w_bits is None):
            raise ConfigError(f"option {self.name!r}: `group_size` must be an integer >= 1 with `w_bits` set, "
                              f"but got {self.group_size!r}")
        if self.w_eff_bits is None and self.w_bits is not None:
            extra = GROUP_OVERHEAD_BITS / self.group_size if self.group_size else 0.0
            object.__setattr__(self, "w_eff_bits", float(self.w_bits) + extra)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "w_bits": self.w_bits, "a_bits": self.a_bits, "group_size": self.group_size,
                "w_eff_bits": self.w_eff_bits}


def parse_option(spec: Any) -> Option:
    """An :class:`Option` from a name (``"w4a8"``), a mapping with explicit fields, or an Option."""
    if isinstance(spec, Option):
        return spec
    if isinstance(spec, Mapping):
        known = {"name", "w_bits", "a_bits", "group_size", "w_eff_bits"}
        extra = sorted(set(spec) - known)
        if extra or "name" not in spec:
            raise ConfigError(f"an option mapping must have `name` and only {sorted(known)}, but got {sorted(spec)}")
        eff = spec.get("w_eff_bits")
        return Option(str(spec["name"]), spec.get("w_bits"), spec.get("a_bits"), spec.get("group_size"),
                      float(eff) if eff is not None else None)
    if not isinstance(spec, str):
        raise ConfigError(f"an option must be a name like 'w4a8' or a mapping, but got {spec!r}")
    m = _NAME.match(spec.strip())
    if not m or not (m.group("w") or m.group("a")):
        raise ConfigError(f"option name must look like 'w4a8', 'w4', 'a8' or 'w4g128a8', but got {spec!r} "
                          "(give other formats as {name, w_bits, a_bits, w_eff_bits})")
    num = {k: int(v) if v is not None else None for k, v in m.groupdict().items()}
    return Option(spec.strip(), num["w"], num["a"], num["g"])
