"""Amaranth RTL of the later PE families: zero-bit skipping, Bit Fusion, group-scaled serial.

Same controller and interface as :mod:`codesign.rtl_sim.hdl.arrays`; see the family modules
(:mod:`codesign.rtl_sim.essential`, :mod:`codesign.rtl_sim.fusion`,
:mod:`codesign.rtl_sim.serial`) for the arithmetic each one implements.
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed

from codesign.rtl_sim.essential import EssentialPE
from codesign.rtl_sim.fusion import BRICKS, FUSED_MAX, BitFusionPE
from codesign.rtl_sim.hdl.arrays import DigitSerialRTL, PEArrayRTL
from codesign.rtl_sim.serial import SerialPE

__all__ = ["EssentialRTL", "BitFusionRTL", "GroupScaledSerialRTL"]


class EssentialRTL(PEArrayRTL):
    """Zero-bit skipping: each weight register holds its remaining term positions (``|w|``'s set
    bits, or the digits of its non-adjacent form with a negative-digit mask); every cycle each
    lane takes its lowest remaining term ``j`` (a priority encoder), adds ``±(a << j)`` through a
    barrel shifter and clears it. The step ends in the cycle after which no lane of the array
    has a term left (lockstep: ``P = max(1, max terms)``)."""

    def datapath(self, m, busy, first, last, load, step_sum):  # type: ignore[no-untyped-def]
        pe = self.pe
        assert isinstance(pe, EssentialPE)
        width = self.w_max + 1  # a NAF may carry a digit above the top bit
        a_reg = [[Signal.like(s, name=f"ar_{r}_{i}") for i, s in enumerate(row)]
                 for r, row in enumerate(self.a_in)]
        rem = [[Signal(width, name=f"rem_{x}_{c}") for c in range(self.cols)] for x in range(self.k_step)]
        negm = [[Signal(width, name=f"neg_{x}_{c}") for c in range(self.cols)] for x in range(self.k_step)]
        sgn = [[Signal(name=f"sgn_{x}_{c}") for c in range(self.cols)] for x in range(self.k_step)]
        with m.If(load):
            m.d.sync += [d.eq(s) for dr, sr in zip(a_reg, self.a_in) for d, s in zip(dr, sr)]
            for x in range(self.k_step):
                for c in range(self.cols):
                    w = self.w_in[x][c]
                    neg = w < 0
                    mag = Signal(width, name=f"mag_{x}_{c}")
                    m.d.comb += mag.eq(Mux(neg, -w, w))
                    if pe.encoding == "binary":
                        pos_d, neg_d = mag, Const(0, width)
                    else:  # non-adjacent form: h = |w| >> 1, t = |w| + h, c = h ^ t
                        h = mag >> 1
                        t = Signal(width + 1, name=f"t_{x}_{c}")
                        m.d.comb += t.eq(mag + h)
                        cc = h ^ t
                        pos_d, neg_d = (t & cc)[:width], (h & cc)[:width]
                    m.d.sync += [rem[x][c].eq(pos_d | neg_d), negm[x][c].eq(neg_d), sgn[x][c].eq(neg)]
        done = []
        for x in range(self.k_step):
            for c in range(self.cols):
                v = rem[x][c]
                done.append((v & (v - 1))[:width] == 0)  # at most one term left
                with m.If(busy & ~load):
                    m.d.sync += v.eq(v & (v - 1))
        m.d.comb += last.eq(Cat(*done).all())
        pos = [[Signal(range(width), name=f"j_{x}_{c}") for c in range(self.cols)] for x in range(self.k_step)]
        for x in range(self.k_step):
            for c in range(self.cols):
                for b in reversed(range(width)):  # lowest set bit wins
                    with m.If(rem[x][c][b]):
                        m.d.comb += pos[x][c].eq(b)
        for r in range(self.rows):
            for c in range(self.cols):
                terms = []
                for x in range(self.k_step):
                    j = pos[x][c]
                    has = rem[x][c].any()
                    neg = sgn[x][c] ^ negm[x][c].bit_select(j, 1)
                    shifted = Signal(signed(self.a_max + width + 1), name=f"sh_{r}_{x}_{c}")
                    m.d.comb += shifted.eq(a_reg[r][x] << j)
                    terms.append(Mux(has, Mux(neg, -shifted, shifted), 0))
                self._horner(m, busy, first, 0, sum(terms), r, c, step_sum)


class BitFusionRTL(PEArrayRTL):
    """Fusion units of 16 BitBricks (3-bit signed × 3-bit signed multipliers). The runtime
    precision picks one of 9 fusions (``f_a, f_w ∈ {2, 4, 8}``); brick ``b`` of a unit then
    serves product ``p = b // (n_a·n_w)`` with digits ``i, j`` (``n = f/2`` bricks per operand),
    shifted by ``2(i+j)``; one shift-add tree sums the unit's bricks. Activations above 8 bits take
    two passes (top pass first, Horner shift 8)."""

    def datapath(self, m, busy, first, last, load, step_sum):  # type: ignore[no-untyped-def]
        pe = self.pe
        assert isinstance(pe, BitFusionPE)
        a_reg, w_reg = self._latch(m, load)
        fa_idx, fw_idx = Signal(range(3)), Signal(range(3))
        m.d.comb += [fa_idx.eq(Mux(self.a_bits <= 2, 0, Mux(self.a_bits <= 4, 1, 2))),
                     fw_idx.eq(Mux(self.w_bits <= 2, 0, Mux(self.w_bits <= 4, 1, 2)))]
        cfg = Signal(range(9))
        m.d.comb += cfg.eq(fa_idx * 3 + fw_idx)
        two_pass = self.a_bits > FUSED_MAX
        ps = Signal()  # current pass (1 = the top byte of a wide activation)
        with m.If(load):
            m.d.sync += ps.eq(two_pass)
        with m.Elif(busy):
            m.d.sync += ps.eq(0)
        m.d.comb += last.eq(ps == 0)

        def brick(x: Any, d: Any, top: Any, signed_op: Any, name: str) -> Signal:
            """3-bit signed brick operand: digit ``d`` of ``x``, sign-extended when it is the
            top digit of a signed operand."""
            s = Signal(signed(3), name=name)
            pair = x.bit_select(d * 2, 2)
            m.d.comb += s.eq(Cat(pair, top & signed_op & pair[1]).as_signed())
            return s

        units = pe.lanes
        for r in range(self.rows):
            for c in range(self.cols):
                terms = []
                for u in range(units):
                    for b in range(BRICKS):
                        plan = [_brick_plan(b, fa, fw) for fa in (2, 4, 8) for fw in (2, 4, 8)]
                        perf = [p[4] for p in plan]
                        a_idx = Array([u * pf + p[0] for p, pf in zip(plan, perf)])[cfg]
                        w_idx = Array([u * pf + p[0] for p, pf in zip(plan, perf)])[cfg]
                        i = Array([p[1] for p in plan])[cfg]
                        j = Array([p[2] for p in plan])[cfg]
                        ni = Array([p[3][0] for p in plan])[cfg]
                        nj = Array([p[3][1] for p in plan])[cfg]
                        a_x = Array([a_reg[r][q] for q in range(self.k_step)])[a_idx]
                        w_x = Array([w_reg[q][c] for q in range(self.k_step)])[w_idx]
                        a_top = (i == ni - 1) & (ps | ~two_pass)
                        ab = brick(a_x, i + Mux(ps, 4, 0), a_top, self.a_signed, f"ba_{r}_{c}_{u}_{b}")
                        wb = brick(w_x, j, j == nj - 1, self.w_signed, f"bw_{r}_{c}_{u}_{b}")
                        prod = Signal(signed(6), name=f"bp_{r}_{c}_{u}_{b}")
                        m.d.comb += prod.eq(ab * wb)
                        terms.append(prod << ((i + j) * 2))
                self._horner(m, busy, first, FUSED_MAX, sum(terms), r, c, step_sum)


def _brick_plan(b: int, fa: int, fw: int) -> tuple[int, int, int, tuple[int, int], int]:
    """``(product, a digit, w digit, (n_a, n_w), products per unit)`` of brick ``b``."""
    na, nw = fa // 2, fw // 2
    p, rest = divmod(b, na * nw)
    return p, rest // nw, rest % nw, (na, nw), BRICKS // (na * nw)


class GroupScaledSerialRTL(DigitSerialRTL):
    """The digit-serial datapath with per-group weight scales: ``scale_in[c]`` (unsigned,
    ``scale_bits``) is latched with each step; a group accumulator sums the steps of a group
    (``group_size / lanes`` steps, the last group possibly shorter) and at its last step
    ``acc += scale × (group_acc + step_sum)``."""

    def __init__(self, pe: SerialPE, *args: Any, **kwargs: Any) -> None:
        self.scale_bits = pe.scale_bits
        super().__init__(pe, *args, **kwargs)
        self.scale_in = [Signal(pe.scale_bits, name=f"scale_{c}") for c in range(self.cols)]
        self._scale = [Signal(pe.scale_bits, name=f"sr_{c}") for c in range(self.cols)]
        self._per = pe.group_size // pe.lanes  # steps per group
        self._gidx = Signal(range(self._per + 1))
        self._gacc = [[Signal(signed(self.acc_bits), name=f"ga_{r}_{c}") for c in range(self.cols)]
                      for r in range(self.rows)]

    def extra_ports(self) -> list[Signal]:
        return list(self.scale_in)

    def extra_acc_bits(self) -> int:
        return self.scale_bits

    def datapath(self, m, busy, first, last, load, step_sum):  # type: ignore[no-untyped-def]
        super().datapath(m, busy, first, last, load, step_sum)
        with m.If(load):
            m.d.sync += [d.eq(s) for d, s in zip(self._scale, self.scale_in)]
        with m.If(self.start & ~busy):
            m.d.sync += [self._gidx.eq(0)] + [g.eq(0) for row in self._gacc for g in row]

    def accumulate(self, m, acc, step_sum, remaining):  # type: ignore[no-untyped-def]
        end = (self._gidx == self._per - 1) | (remaining == 0)
        with m.If(end):
            m.d.sync += self._gidx.eq(0)
            for r in range(self.rows):
                for c in range(self.cols):
                    part = self._gacc[r][c] + step_sum[r][c]
                    m.d.sync += [acc[r][c].eq(acc[r][c] + part * self._scale[c]),
                                 self._gacc[r][c].eq(0)]
        with m.Else():
            m.d.sync += self._gidx.eq(self._gidx + 1)
            m.d.sync += [self._gacc[r][c].eq(self._gacc[r][c] + step_sum[r][c])
                         for r in range(self.rows) for c in range(self.cols)]
