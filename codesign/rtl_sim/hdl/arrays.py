"""Amaranth RTL of the PE arrays: one shared controller, one datapath per family.

Interface (all families): ``start``, ``steps`` (S), runtime precision ports ``w_bits``,
``a_bits``, ``w_signed``, ``a_signed`` (and ``w_offset`` for LUT), operand ports ``a_in``
(``R × K_step`` activations) and ``w_in`` (``K_step × C`` weights) driven with sign-extended
values, ``in_ready``, ``out`` (``R × C``) and ``out_valid``. The widest operands the RTL takes
are ``w_max`` / ``a_max`` bits (default 8 / 16; synthesis for area uses the widths it needs).
The families added later (zero-bit skipping, Bit Fusion, group scales) are in
:mod:`codesign.rtl_sim.hdl.families`; :func:`codesign.rtl_sim.hdl.build.build_rtl` picks one.

Schedule: while idle, ``in_ready`` is high; ``start`` latches the first step's operands and
clears the accumulators (cycle 0). Cycles ``1 … S·P`` execute one phase each from the latched
registers; the last phase of a step raises ``in_ready`` again and latches the next step. The
cycle after the last phase shows ``out_valid`` (and may start the next tile), so a tile takes
``S·P + 1`` cycles: the fast model's schedule (:mod:`codesign.rtl_sim.pes`).
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Array, Cat, Const, Elaboratable, Module, Mux, Signal, signed

from codesign.rtl_sim.bits import num_digits
from codesign.rtl_sim.pes import A_BITS_MAX, PE, W_BITS_MAX, LutPE, Precision

__all__ = ["PEArrayRTL", "BitParallelRTL", "DigitSerialRTL", "BothSerialRTL", "LutRTL"]


class PEArrayRTL(Elaboratable):
    """An ``R × C`` array of ``pe`` PEs with the shared start / step / done controller."""

    def __init__(self, pe: PE, rows: int = 2, cols: int = 2, max_k: int = 4096,
                 w_max: int = W_BITS_MAX, a_max: int = A_BITS_MAX) -> None:
        self.pe, self.rows, self.cols = pe, rows, cols
        self.w_max, self.a_max = w_max, a_max
        self.k_step = pe.k_per_step
        self.acc_bits = a_max + w_max + 4 + max(1, (max_k - 1).bit_length()) + self.extra_acc_bits()
        self.start = Signal()
        self.steps = Signal(range(max_k + 1))
        self.w_bits = Signal(range(w_max + 1))
        self.a_bits = Signal(range(a_max + 1))
        self.w_signed = Signal()
        self.a_signed = Signal()
        self.w_offset = Signal()
        self.a_in = [[Signal(signed(a_max + 1), name=f"a_{r}_{i}")
                      for i in range(self.k_step)] for r in range(rows)]
        self.w_in = [[Signal(signed(w_max + 1), name=f"w_{i}_{c}")
                      for c in range(cols)] for i in range(self.k_step)]
        self.in_ready = Signal()
        self.out_valid = Signal()
        self.out = [[Signal(signed(self.acc_bits), name=f"out_{r}_{c}")
                     for c in range(cols)] for r in range(rows)]

    def ports(self) -> list[Signal]:
        """Every top-level port (for Verilog export)."""
        flat = [s for row in self.a_in for s in row] + [s for row in self.w_in for s in row]
        outs = [s for row in self.out for s in row]
        return [self.start, self.steps, self.w_bits, self.a_bits, self.w_signed, self.a_signed,
                self.w_offset, *flat, *self.extra_ports(), self.in_ready, self.out_valid, *outs]

    def extra_ports(self) -> list[Signal]:
        """Family-specific input ports (group scales)."""
        return []

    def extra_acc_bits(self) -> int:
        return 0

    # -- controller ------------------------------------------------------------------------
    def elaborate(self, platform: object) -> Module:
        m = Module()
        busy = Signal()
        remaining = Signal.like(self.steps)
        first = Signal()  # first phase of a step
        last = Signal()  # last phase of a step (set by the datapath)
        load = Signal()  # latch a step's operands this cycle
        acc = [[Signal(signed(self.acc_bits), name=f"acc_{r}_{c}") for c in range(self.cols)]
               for r in range(self.rows)]
        step_sum = [[Signal(signed(self.acc_bits), name=f"ss_{r}_{c}") for c in range(self.cols)]
                    for r in range(self.rows)]
        m.d.comb += [
            self.in_ready.eq(~busy | (last & (remaining != 0))),
            load.eq(self.in_ready & (busy | self.start)),
        ]
        for r in range(self.rows):
            for c in range(self.cols):
                m.d.comb += self.out[r][c].eq(self.out_value(acc[r][c]))
        with m.If(~busy):
            with m.If(self.start):
                m.d.sync += [busy.eq(1), remaining.eq(self.steps - 1), first.eq(1),
                             self.out_valid.eq(0)]
                m.d.sync += [acc[r][c].eq(0) for r in range(self.rows) for c in range(self.cols)]
        with m.Else():
            m.d.sync += first.eq(last)
            with m.If(last):
                self.accumulate(m, acc, step_sum, remaining)
                with m.If(remaining != 0):
                    m.d.sync += remaining.eq(remaining - 1)
                with m.Else():
                    m.d.sync += [busy.eq(0), self.out_valid.eq(1)]
        self.datapath(m, busy, first, last, load, step_sum)
        return m

    def out_value(self, acc: Signal) -> object:
        return acc

    def accumulate(self, m: Module, acc: list[list[Signal]], step_sum: list[list[Signal]],
                   remaining: Signal) -> None:
        """At a step's last cycle: ``acc += step_sum`` (inside ``If(last)``)."""
        m.d.sync += [acc[r][c].eq(acc[r][c] + step_sum[r][c])
                     for r in range(self.rows) for c in range(self.cols)]

    def datapath(self, m: Module, busy: Signal, first: Signal, last: Signal, load: Signal,
                 step_sum: list[list[Signal]]) -> None:
        """Drive ``last`` and ``step_sum[r][c]`` (valid when ``last``); latch on ``load``."""
        raise NotImplementedError

    def _latch(self, m: Module, load: Signal) -> tuple[list[list[Signal]], list[list[Signal]]]:
        """Operand registers loaded from the ports on ``load``."""
        a_reg = [[Signal.like(s, name=f"ar_{r}_{i}") for i, s in enumerate(row)]
                 for r, row in enumerate(self.a_in)]
        w_reg = [[Signal.like(s, name=f"wr_{i}_{c}") for c, s in enumerate(row)]
                 for i, row in enumerate(self.w_in)]
        with m.If(load):
            m.d.sync += [d.eq(s) for dr, sr in zip(a_reg, self.a_in) for d, s in zip(dr, sr)]
            m.d.sync += [d.eq(s) for dr, sr in zip(w_reg, self.w_in) for d, s in zip(dr, sr)]
        return a_reg, w_reg

    def _horner(self, m: Module, busy: Signal, first: Signal, shift: object, term: object,
                r: int, c: int, step_sum: list[list[Signal]]) -> None:
        """``step_sum = (first ? 0 : step_acc << shift) + term``; step_acc follows it."""
        step_acc = Signal(signed(self.acc_bits), name=f"sa_{r}_{c}")
        m.d.comb += step_sum[r][c].eq(Mux(first, 0, step_acc << shift) + term)
        with m.If(busy):
            m.d.sync += step_acc.eq(step_sum[r][c])


class BitParallelRTL(PEArrayRTL):
    """``lanes`` full multipliers and an adder tree per PE; one cycle per step."""

    def datapath(self, m, busy, first, last, load, step_sum):  # type: ignore[no-untyped-def]
        a_reg, w_reg = self._latch(m, load)
        m.d.comb += last.eq(1)
        for r in range(self.rows):
            for c in range(self.cols):
                m.d.comb += step_sum[r][c].eq(
                    sum(a_reg[r][i] * w_reg[i][c] for i in range(self.k_step)))


def digit_of(m: Module, x: Any, idx: Signal, top: Any, k: int, n_max: int, name: str) -> Any:
    """Digit ``idx`` (k bits) of the sign-extended register ``x`` as a ``(k+1)``-bit signed value:
    ``x[idx·k : idx·k+k]`` zero-extended, or for the top digit ``x >> idx·k`` (a ``(k+1)``-bit
    signed slice: it carries the operand's sign). Only narrow slices are multiplexed, so the
    multiplier behind it is ``(k+1)`` bits wide, not the operand's full width."""
    ext = Signal(signed(n_max * k + 1), name=f"{name}_ext")
    m.d.comb += ext.eq(x)
    sel = Signal(k + 1, name=f"{name}_sel")
    m.d.comb += sel.eq(Array([ext[t * k:t * k + k + 1] for t in range(n_max)])[idx])
    return Mux(idx == top, sel.as_signed(), Cat(sel[:k], Const(0, 1)).as_signed())


class DigitSerialRTL(PEArrayRTL):
    """Digit-serial datapath: ``k_a`` activation bits and ``k_w`` weight bits per cycle
    (``None``: that operand whole), activation digits outer, weight digits inner, both MSB
    first, two-level Horner: ``inner = (inner << k_w) + Σ_lanes a_i·w_j``, and at the last weight
    digit ``outer = (outer << k_a) + inner`` (BISMO/BitMoD weight-serial, Stripes activation-
    serial, and the configurable ``serial`` PE). Digit ``t`` of an operand is
    ``(x >> t·k) & (2^k-1)``, the top one ``x >> t·k`` (signed)."""

    def _digits(self, m: Module, bits: Signal, k: int | None, b_max: int, name: str) -> tuple[Any, Signal, int]:
        """``(top index expr, index register, digit count)`` of one operand's digit counter."""
        n_max = 1 if k is None or k >= b_max else num_digits(b_max, k)
        top = Array([max(0, num_digits(b, k) - 1) if n_max > 1 else 0 for b in range(b_max + 1)])[bits]
        return top, Signal(range(n_max + 1), name=f"{name}_idx"), n_max

    def datapath(self, m, busy, first, last, load, step_sum):  # type: ignore[no-untyped-def]
        _, k_a, _, k_w = self.pe.digit_split(Precision())
        a_reg, w_reg = self._latch(m, load)
        top_a, i, na = self._digits(m, self.a_bits, k_a, self.a_max, "ad")
        top_w, j, nw = self._digits(m, self.w_bits, k_w, self.w_max, "wd")
        with m.If(load):
            m.d.sync += [i.eq(top_a), j.eq(top_w)]
        with m.Elif(busy):
            with m.If(j == 0):
                m.d.sync += [j.eq(top_w), i.eq(i - 1)]
            with m.Else():
                m.d.sync += j.eq(j - 1)
        m.d.comb += last.eq((i == 0) & (j == 0))

        def dig(x: Any, idx: Signal, top: Any, k: int | None, n: int, name: str) -> Any:
            return x if n == 1 else digit_of(m, x, idx, top, k, n, name)  # type: ignore[arg-type]

        a_d = [[dig(a_reg[r][x], i, top_a, k_a, na, f"a{r}_{x}") for x in range(self.k_step)]
               for r in range(self.rows)]
        w_d = [[dig(w_reg[x][c], j, top_w, k_w, nw, f"w{x}_{c}") for c in range(self.cols)]
               for x in range(self.k_step)]
        for r in range(self.rows):
            for c in range(self.cols):
                term = sum(a_d[r][x] * w_d[x][c] for x in range(self.k_step))
                inner_acc = Signal(signed(self.acc_bits), name=f"in_{r}_{c}")
                outer_acc = Signal(signed(self.acc_bits), name=f"out_{r}_{c}")
                inner = Signal(signed(self.acc_bits), name=f"inner_{r}_{c}")
                m.d.comb += inner.eq(Mux(j == top_w, 0, inner_acc << (k_w or 0)) + term)
                m.d.comb += step_sum[r][c].eq(Mux(i == top_a, 0, outer_acc << (k_a or 0)) + inner)
                with m.If(busy):
                    m.d.sync += inner_acc.eq(inner)
                    with m.If(j == 0):
                        m.d.sync += outer_acc.eq(step_sum[r][c])


class BothSerialRTL(PEArrayRTL):
    """Bit-plane pairs (Loom/BISMO): AND + popcount over the lanes per cycle; diagonals of
    equal significance ``s = i + j`` most significant first, one Horner shift per new diagonal;
    a pair is negated iff exactly one plane is a signed MSB (XOR)."""

    def datapath(self, m, busy, first, last, load, step_sum):  # type: ignore[no-untyped-def]
        a_reg, w_reg = self._latch(m, load)
        s = Signal(range(self.a_max + self.w_max))
        i = Signal(range(self.a_max))
        a_top, w_top = self.a_bits - 1, self.w_bits - 1
        i_hi = Mux(s < a_top, s, a_top)
        s_next = s - 1
        i_lo_next = Mux(s_next > w_top, s_next - w_top, 0)
        new_diag = Signal()
        with m.If(load):
            m.d.sync += [s.eq(a_top + w_top), i.eq(a_top)]
        with m.Elif(busy):
            with m.If(i < i_hi):
                m.d.sync += i.eq(i + 1)
            with m.Else():
                m.d.sync += [s.eq(s_next), i.eq(i_lo_next)]
        m.d.comb += last.eq(s == 0)
        j = (s - i).as_unsigned()
        neg = (self.a_signed & (i == a_top)) ^ (self.w_signed & (j == w_top))
        shift_now = Signal()  # first pair of a new diagonal (not the step's first)
        with m.If(busy):
            m.d.sync += shift_now.eq(~(i < i_hi))
        m.d.comb += new_diag.eq(shift_now)
        for r in range(self.rows):
            for c in range(self.cols):
                pop = sum((a_reg[r][x].bit_select(i, 1) & w_reg[x][c].bit_select(j, 1))
                          for x in range(self.k_step))
                term = Mux(neg, -pop, pop)
                self._horner(m, busy, first, Mux(new_diag, 1, 0), term, r, c, step_sum)


class LutRTL(PEArrayRTL):
    """T-MAC / LUT Tensor Core PE: a half table per group is built and latched with the step's
    operands; then one weight plane per cycle (MSB first): per group one lookup at the plane's
    index, mirrored (``-T[~idx]``) when bit ``g-1`` is set; Horner over planes; at the last
    plane the bias ``(Σc + 2c_0)·ΣA`` with ``ΣA = -Σ T[0]``. Accumulates ``2·A·W``."""

    def out_value(self, acc: Signal) -> object:
        return acc >> 1

    def datapath(self, m, busy, first, last, load, step_sum):  # type: ignore[no-untyped-def]
        pe = self.pe
        assert isinstance(pe, LutPE)
        g, half, lanes = pe.g, pe.table_entries, pe.lanes
        tbits = self.a_max + 1 + g.bit_length()
        tables = [[[Signal(signed(tbits), name=f"t_{r}_{l}_{h}") for h in range(half)]
                   for l in range(lanes)] for r in range(self.rows)]
        codes = [[Signal(self.w_max + 1, name=f"wc_{x}_{c}") for c in range(self.cols)]
                 for x in range(self.k_step)]
        offset = self.w_signed & self.w_offset
        with m.If(load):
            for r in range(self.rows):
                for l in range(lanes):
                    grp = self.a_in[r][l * g:(l + 1) * g]
                    for h in range(half):
                        m.d.sync += tables[r][l][h].eq(
                            sum(a if (h >> t) & 1 else -a for t, a in enumerate(grp)))
            for x in range(self.k_step):
                for c in range(self.cols):
                    code = Mux(offset, self.w_in[x][c] + (Const(1, 1) << (self.w_bits - 1).as_unsigned()),
                               self.w_in[x][c])
                    m.d.sync += codes[x][c].eq(code)
        plane = Signal(range(self.w_max))
        with m.If(load):
            m.d.sync += plane.eq(self.w_bits - 1)
        with m.Elif(busy):
            m.d.sync += plane.eq(plane - 1)
        m.d.comb += last.eq(plane == 0)
        neg_plane = self.w_signed & ~self.w_offset & (plane == self.w_bits - 1)
        for r in range(self.rows):
            sum_t0 = sum(tables[r][l][0] for l in range(lanes))  # = -ΣA of the step
            bias = Mux(self.w_signed, sum_t0, sum_t0 - (sum_t0 << self.w_bits))
            for c in range(self.cols):
                looked = []
                for l in range(lanes):
                    idx_bits = [codes[l * g + t][c].bit_select(plane, 1) for t in range(g)]
                    top = idx_bits[g - 1]
                    idx = sum(b << t for t, b in enumerate(idx_bits[:g - 1])) if g > 1 else 0
                    h = Mux(top, ~idx & (half - 1), idx) if g > 1 else 0
                    val = Array(tables[r][l])[h] if g > 1 else tables[r][l][0]
                    looked.append(Mux(top, -val, val))
                total = sum(looked)
                term = Mux(neg_plane, -total, total) + Mux(last, bias, 0)
                self._horner(m, busy, first, 1, term, r, c, step_sum)
