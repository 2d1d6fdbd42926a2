"""Bit Fusion PE: 2-bit BitBricks fused spatially into 2/4/8-bit multipliers.

Sharma et al., ISCA 2018 (REFERENCES.md §2; repo hsharma35/bitfusion). A fusion unit holds 16
BitBricks, each a 2-bit × 2-bit multiplier (3-bit signed operands: the top brick of a signed
operand is signed). Operands are fused at width ``f(b) = 2, 4, 8`` for ``b ≤ 2, ≤ 4, ≤ 8``; a
product of ``f_a × f_w`` bits uses ``(f_a/2)·(f_w/2)`` bricks, so a unit computes
``perf = (8/f_a)·(8/f_w) = floor(8/max(a,2))·floor(8/max(w,2))`` products per cycle
(8×8 → 1, 8×4 → 2, 4×4 → 4, 4×2 → 8, 2×2 → 16). Brick ``(i, j)`` of a product contributes
``a_i·w_j << 2(i+j)`` (``a_i``, ``w_j`` the 2-bit digits); the unit's shift-add tree sums the
bricks of all its products, which are consecutive reduction elements of one output (a dot
product of ``perf`` products per cycle).

Activations wider than 8 bits run in ``ceil(a/8)`` temporal passes of the 8-bit fused datapath
(the low pass unsigned, the top one signed), combined with a Horner shift of 8.

Here a PE has ``lanes`` fusion units, so a step consumes ``k_step = lanes·perf`` reduction
elements in ``P = ceil(a/8)`` cycles.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from codesign.rtl_sim.pes import PE, Precision

__all__ = ["BitFusionPE", "fused_bits", "BRICKS"]

BRICKS = 16  # BitBricks per fusion unit
BRICK_BITS = 2
FUSED_MAX = 8


def fused_bits(bits: int) -> int:
    """Fused operand width: 2, 4 or 8 (8 for every width above 4)."""
    return 2 if bits <= 2 else 4 if bits <= 4 else FUSED_MAX


@dataclass(frozen=True)
class BitFusionPE(PE):
    """Bit Fusion PE of ``lanes`` fusion units (see the module docstring)."""

    lanes: int = 1
    family: str = field(default="bit_fusion", init=False)

    @property
    def k_per_step(self) -> int:
        return self.lanes * BRICKS  # the most products per step (2-bit x 2-bit)

    def fusion(self, prec: Precision) -> tuple[int, int, int]:
        """``(f_a, f_w, passes)``: fused widths and activation passes."""
        return fused_bits(prec.a_bits), fused_bits(prec.w_bits), -(-prec.a_bits // FUSED_MAX)

    def products_per_cycle(self, prec: Precision) -> int:
        """``perf`` of one fusion unit."""
        fa, fw, _ = self.fusion(prec)
        return (FUSED_MAX // fa) * (FUSED_MAX // fw)

    def k_step(self, prec: Precision) -> int:
        return self.lanes * self.products_per_cycle(prec)

    def phases(self, prec: Precision) -> int:
        return self.fusion(prec)[2]

    def digit_split(self, prec: Precision) -> tuple[int, int | None, int, int | None]:
        fa, fw, passes = self.fusion(prec)  # bricks: 2-bit digits of the fused (padded) widths
        return fa * passes, BRICK_BITS, fw, BRICK_BITS

    def brick_digits(self, prec: Precision) -> tuple[int, int]:
        """``(d_a, d_w)``: 2-bit digits per product over all passes (bricks = ``d_a·d_w``)."""
        fa, fw, passes = self.fusion(prec)
        return fa // BRICK_BITS * passes, fw // BRICK_BITS
