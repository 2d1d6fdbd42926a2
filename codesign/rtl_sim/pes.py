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
=========================  ==============================  =========================================

Tile cycles are ``S·P + 1`` with ``S = ceil(K / k_per_step)`` steps: the first step's
operands are latched in the tile's start cycle, and one cycle drains the result (it overlaps
the next tile's start). Total cycles ``= ceil(M/R)·ceil(N/C)·(S·P + 1)``; this is the
schedule of the RTL in :mod:`codesign.rtl_sim.hdl`, checked cycle-for-cycle by
:mod:`codesign.rtl_sim.cosim`.
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
    "PE_FAMILIES",
    "make_pe",
    "closed_form_events",
    "closed_form_cycles",
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
        """Reduction elements consumed per step by one PE."""
        return self.lanes

    def phases(self, prec: Precision) -> int:
        """Cycles per step ``P``."""
        raise NotImplementedError

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


PE_FAMILIES: dict[str, PE] = {
    "bit_parallel": BitParallelPE(),
    "bit_serial:weight": BitSerialPE(serial="weight"),
    "bit_serial:activation": BitSerialPE(serial="activation"),
    "bit_serial:both": BitSerialPE(serial="both"),
    "lut": LutPE(),
}
"""Default instance of every family variant (the catalogue ``codesign list pes`` shows)."""


def make_pe(name: str, **params: object) -> PE:
    """Build a PE by name: ``bit_parallel``, ``bit_serial`` (``serial=...``), ``lut`` or a
    catalogue key such as ``bit_serial:both``. Unknown names raise ConfigError."""
    if name.startswith("bit_serial:"):
        params = {"serial": name.split(":", 1)[1], **params}
        name = "bit_serial"
    classes: dict[str, type[PE]] = {
        "bit_parallel": BitParallelPE,
        "bit_serial": BitSerialPE,
        "lut": LutPE,
    }
    if name not in classes:
        import difflib

        close = difflib.get_close_matches(name, [*classes, *PE_FAMILIES], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"`pe` must be one of {sorted(PE_FAMILIES)}, but got {name!r}{hint}")
    try:
        return classes[name](**params)  # type: ignore[arg-type]
    except TypeError as exc:
        raise ConfigError(f"PE {name!r} parameters must be valid, but got {params}: {exc}") from None


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def closed_form_cycles(
    pe: PE, shape: GemmShape, prec: Precision, array: tuple[int, int]
) -> tuple[int, int]:
    """``(compute_cycles, overhead_cycles)``: ``tiles·S·P`` and ``tiles·1``."""
    rows, cols = array
    tiles = _ceil(shape.m, rows) * _ceil(shape.n, cols)
    steps = _ceil(shape.k, pe.k_per_step)
    return tiles * steps * pe.phases(prec), tiles


def closed_form_events(
    pe: PE, shape: GemmShape, prec: Precision, array: tuple[int, int], order: str = "mn"
) -> dict[str, int]:
    """Data-independent event counts in closed form (see :func:`simulate_gemm` for meanings).

    With ``S = ceil(K / k_per_step)``, ``G = ceil(K / g)``, ``T_w = ceil(w/k)``,
    ``T_a = ceil(a/k)``:
    bit_parallel ``multiplies = adds = M·N·K``; weight-serial ``multiplies = adds = T_w·M·N·K``;
    activation-serial the same with ``T_a``; both-serial ``and_popcounts = adds = a·w·M·N·S``;
    lut ``lookups = adds = w·M·N·G``, ``table_builds = M·G·ceil(N/C)``,
    ``table_adds = (g-1)·2^(g-1)·table_builds``, ``bias_adds = M·N·S``.
    ``shifts = M·N·S·shifts_per_step``. Buffer reads: order ``mn`` keeps the activation row
    block (``buf_reads_a = M·K``, ``buf_reads_w = ceil(M/R)·K·N``), ``nm`` keeps the weight
    column block (``buf_reads_w = K·N``, ``buf_reads_a = ceil(N/C)·M·K``); a factor
    ``ceil(·)`` is 1 when the other operand has a single block.
    """
    m, n, k = shape.m, shape.n, shape.k
    rows, cols = array
    steps = _ceil(k, pe.k_per_step)
    ev: dict[str, int] = {"macs": shape.macs}
    if isinstance(pe, LutPE):
        groups = _ceil(k, pe.g)
        ev["lookups"] = ev["adds"] = prec.w_bits * m * n * groups
        ev["table_builds"] = m * groups * _ceil(n, cols)
        ev["table_adds"] = (pe.g - 1) * pe.table_entries * ev["table_builds"]
        ev["bias_adds"] = m * n * steps
        ev["reg_writes"] = ev["table_builds"] * pe.table_entries + _ceil(m, rows) * k * n
    else:
        if isinstance(pe, BitSerialPE) and pe.serial == "both":
            ev["and_popcounts"] = ev["adds"] = prec.a_bits * prec.w_bits * m * n * steps
        else:
            ev["multiplies"] = ev["adds"] = pe.phases(prec) * m * n * k
        ev["reg_writes"] = m * k * _ceil(n, cols) + _ceil(m, rows) * k * n
    ev["shifts"] = m * n * steps * pe.shifts_per_step(prec)
    m_tiles, n_tiles = _ceil(m, rows), _ceil(n, cols)
    if order == "mn":  # the row block stays; the column block stays only if there is one
        ev["buf_reads_a"] = m * k
        ev["buf_reads_w"] = k * n * (1 if n_tiles == 1 else m_tiles)
    else:
        ev["buf_reads_w"] = k * n
        ev["buf_reads_a"] = m * k * (1 if m_tiles == 1 else n_tiles)
    ev["buf_writes_out"] = m * n
    return ev
