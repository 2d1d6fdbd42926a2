"""PE families: parameters, cycle model and closed-form event counts.

A PE array of ``R × C`` PEs computes an output-stationary GEMM ``O = A·W`` with ``A`` of
shape ``M × K`` (activations, ``a_bits``) and ``W`` of shape ``K × N`` (weights, ``w_bits``).
Output tiles of ``R × C`` are computed one after another; inside a tile the reduction
dimension is streamed in *steps* of ``k_per_step`` elements (``lanes`` multipliers per PE,
or ``lanes`` groups of ``g`` activations for LUT PEs). A step takes ``P`` cycles:

=========================  ==============================  =========================================
family                     cycles per step ``P``            source (REFERENCES.md §2)
=========================  ==============================  =========================================
bit_parallel               1                                baseline MAC
bit_serial, weight         ceil(w_bits / k)                 BISMO / BitMoD (k weight bits per cycle)
bit_serial, activation     ceil(a_bits / k)                 Stripes
bit_serial, both           a_bits · w_bits (plane pairs)    Loom / BISMO
lut                        w_bits (one plane per cycle)     T-MAC / LUT Tensor Core
serial (configurable)      ceil(w/k_w)·ceil(a/k_a)          BitMoD-like (:mod:`.serial`)
essential (zero-bit skip)  max essential terms of the step  Pragmatic / Laconic (:mod:`.essential`)
bit_fusion                 ceil(a/8) (steps of fused        Bit Fusion (:mod:`.fusion`)
                           products per cycle)
=========================  ==============================  =========================================

Tile cycles are ``S·P + 1`` with ``S = ceil(K / k_step)`` steps (``k_step`` may depend on the
precision: Bit Fusion fuses more products per cycle at low bits): the first step's
operands are latched in the tile's start cycle, and one cycle drains the result (it overlaps
the next tile's start). Total cycles ``= ceil(M/R)·ceil(N/C)·(S·P + 1)``; this is the
schedule of the RTL in :mod:`codesign.rtl_sim.hdl`, checked cycle-for-cycle by
:mod:`codesign.rtl_sim.cosim`. A data-dependent family (zero-bit skipping) takes ``P`` per step
from the step's weights; its closed form is the worst case.

The catalogue of family variants, :func:`make_pe` and the closed forms live in
:mod:`codesign.rtl_sim.families`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from codesign.errors import ConfigError
from codesign.rtl_sim.bits import check_int_range, num_digits

__all__ = [
    "W_BITS_MAX",
    "A_BITS_MAX",
    "Precision",
    "GemmShape",
    "PE",
    "BitParallelPE",
    "BitSerialPE",
    "LutPE",
]

W_BITS_MAX = 8  # issue #3: weight bits 1–8
A_BITS_MAX = 16  # issue #3: activation bits 1–16

Serial = Literal["weight", "activation", "both"]


@dataclass(frozen=True)
class Precision:
    """Operand precisions and signedness (signed = two's-complement values)."""

    w_bits: int = 4
    a_bits: int = 8
    w_signed: bool = True
    a_signed: bool = True

    def __post_init__(self) -> None:
        check_int_range("w_bits", self.w_bits, 1, W_BITS_MAX)
        check_int_range("a_bits", self.a_bits, 1, A_BITS_MAX)


@dataclass(frozen=True)
class GemmShape:
    """GEMM sizes: ``A`` is ``M × K``, ``W`` is ``K × N``, the output ``M × N``."""

    m: int
    n: int
    k: int

    def __post_init__(self) -> None:
        for name in ("m", "n", "k"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"`{name}` must be a positive integer, but got {v!r}")

    @property
    def macs(self) -> int:
        return self.m * self.n * self.k


@dataclass(frozen=True)
class PE:
    """Base of every PE family: ``lanes`` reduction lanes per PE (dot-product width)."""

    lanes: int = 4
    family: str = field(default="", init=False)

    def __post_init__(self) -> None:
        check_int_range("lanes", self.lanes, 1, 1024)

    @property
    def key(self) -> str:
        """Catalogue name of the family variant (e.g. ``bit_serial:weight``)."""
        return self.family

    @property
    def k_per_step(self) -> int:
        """Reduction elements consumed per step by one PE at most (the RTL's operand ports)."""
        return self.lanes

    def k_step(self, prec: Precision) -> int:
        """Reduction elements consumed per step at precision ``prec`` (``k_per_step`` unless the
        PE fuses more products per step at low precision)."""
        return self.k_per_step

    def phases(self, prec: Precision) -> int:
        """Cycles per step ``P`` (the worst case for a data-dependent family)."""
        raise NotImplementedError

    def digit_split(self, prec: Precision) -> tuple[int, int | None, int, int | None]:
        """``(a_bits, k_a, w_bits, k_w)`` of the digit kernel: each operand split into digits of
        ``k`` bits over its (possibly widened) width; ``k = None`` keeps the operand whole. Not
        used by the LUT and zero-bit-skipping families."""
        return prec.a_bits, None, prec.w_bits, None

    @property
    def data_dependent(self) -> bool:
        """Whether cycles depend on operand values (then :meth:`phases` is the worst case)."""
        return False

    def serialized_bits(self, prec: Precision) -> int:
        """Bits serialized over cycles (the bench's reference factor); 1 if none."""
        return self.phases(prec)

    def shifts_per_step(self, prec: Precision) -> int:
        """Horner shifts of a PE's step accumulator per step."""
        return self.phases(prec) - 1


@dataclass(frozen=True)
class BitParallelPE(PE):
    """Bit-parallel MAC: ``lanes`` full multipliers + adder tree per PE, one step per cycle."""

    family: str = field(default="bit_parallel", init=False)

    def phases(self, prec: Precision) -> int:
        return 1


@dataclass(frozen=True)
class BitSerialPE(PE):
    """Bit-serial PE.

    Attributes:
        serial: ``weight`` (k weight bits per cycle, BISMO/BitMoD), ``activation`` (Stripes),
            or ``both`` (bit-plane pairs, most-significant diagonal first, Loom/BISMO).
        bits_per_cycle: ``k`` for ``weight`` / ``activation``; must be 1 for ``both``.
    """

    serial: Serial = "weight"
    bits_per_cycle: int = 1
    family: str = field(default="bit_serial", init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.serial not in ("weight", "activation", "both"):
            raise ConfigError(
                f"`serial` must be one of weight, activation, both, but got {self.serial!r}"
            )
        check_int_range("bits_per_cycle", self.bits_per_cycle, 1, A_BITS_MAX)
        if self.serial == "both" and self.bits_per_cycle != 1:
            raise ConfigError(
                f"`bits_per_cycle` must be 1 when serial is 'both', but got {self.bits_per_cycle}"
            )

    @property
    def key(self) -> str:
        return f"bit_serial:{self.serial}"

    def phases(self, prec: Precision) -> int:
        if self.serial == "weight":
            return num_digits(prec.w_bits, self.bits_per_cycle)
        if self.serial == "activation":
            return num_digits(prec.a_bits, self.bits_per_cycle)
        return prec.w_bits * prec.a_bits

    def shifts_per_step(self, prec: Precision) -> int:
        if self.serial == "both":  # one shift per new diagonal of equal significance
            return prec.w_bits + prec.a_bits - 2
        return self.phases(prec) - 1

    def digit_split(self, prec: Precision) -> tuple[int, int | None, int, int | None]:
        k = self.bits_per_cycle
        return (prec.a_bits, k if self.serial in ("activation", "both") else None,
                prec.w_bits, k if self.serial in ("weight", "both") else None)


@dataclass(frozen=True)
class LutPE(PE):
    """LUT PE (T-MAC / LUT Tensor Core).

    Per step: one symmetric half table of ``2^(g-1)`` entries per group of ``g`` activations
    (``lanes`` groups), then one lookup per weight bit-plane and group, one plane per cycle
    (most significant first, Horner). Signed weights use ``w_code``: ``offset_binary``
    (all plane scales ``2^j``) or ``twos_complement`` (MSB plane negated).
    """

    g: int = 4
    w_code: Literal["offset_binary", "twos_complement"] = "offset_binary"
    family: str = field(default="lut", init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int_range("g", self.g, 1, 8)
        if self.w_code not in ("offset_binary", "twos_complement"):
            raise ConfigError(
                "`w_code` must be offset_binary or twos_complement, but got " f"{self.w_code!r}"
            )

    @property
    def k_per_step(self) -> int:
        return self.lanes * self.g

    @property
    def table_entries(self) -> int:
        return 1 << (self.g - 1)

    def phases(self, prec: Precision) -> int:
        return prec.w_bits
