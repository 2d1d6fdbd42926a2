"""Fast bit-exact functional simulation of a PE array computing an integer GEMM.

:func:`simulate_gemm` computes ``O = A·W`` block by block with the family's kernel
(:mod:`codesign.rtl_sim.kernels`), under a memory budget, and walks the array's tile
schedule to count cycles and events.

Events (all int):
    macs: useful multiply-accumulates ``M·N·K``.
    multiplies: lane products (full, or operand × k-bit digit); bit-parallel / k-serial PEs.
    and_popcounts: one AND-popcount of a ``lanes``-bit plane pair per PE per cycle (both-serial).
    lookups: table lookups (LUT); lut_mirrored: lookups that read ``T[~idx]`` and negate
        (data-dependent); table_builds / table_adds: half tables built and their add/subs
        (``(g-1)`` per entry, T-MAC); bias_adds: per PE per step, the ``ΣA`` bias term.
    shift_adds: essential terms added as shifted activations (zero-bit skipping; data-dependent).
    brick_mults: 2-bit BitBrick products (Bit Fusion).
    scale_muls: group-scale multiplies of a group's partial sum (serial PE with group scales).
    adds: additions of lane results into partial sums (= multiplies, and_popcounts, lookups,
        shift_adds or brick_mults).
    shifts: Horner shifts of a PE's step accumulator.
    reg_writes: operand (or table-entry) words latched into the array's registers.
    buf_reads_a / buf_reads_w: words read from the global buffer; the array keeps the last
        activation row block and the last weight column block, so a block is re-read only when
        the tile order leaves it. buf_writes_out: output words written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from codesign.errors import ConfigError
from codesign.rtl_sim.bits import check_int_range, check_values, num_digits, term_counts
from codesign.rtl_sim.essential import EssentialPE, step_phases
from codesign.rtl_sim.families import make_pe
from codesign.rtl_sim.fusion import BitFusionPE
from codesign.rtl_sim.kernels import digit_gemm, lut_gemm, max_exact_k, term_gemm
from codesign.rtl_sim.pes import PE, BitSerialPE, GemmShape, LutPE, Precision
from codesign.rtl_sim.serial import SerialPE

__all__ = ["SimResult", "simulate_gemm", "DEFAULT_MEM_BUDGET_BYTES", "tile_schedule"]

DEFAULT_MEM_BUDGET_BYTES = 256 * 2**20
"""Default bound on the temporaries of one block (inputs and the output excluded)."""

_F64_BYTES = 8


@dataclass
class SimResult:
    """Result of :func:`simulate_gemm`.

    Attributes:
        output: ``(M, N)`` int64 exact product.
        cycles: total cycles ``= compute_cycles + overhead_cycles``.
        events: event counts (see module docstring).
        blocks: number of ``(m, n, k)`` blocks the kernel ran on.
        block_bytes: estimated temporary bytes of the largest block (≤ the memory budget).
    """

    output: np.ndarray
    cycles: int
    compute_cycles: int
    overhead_cycles: int
    events: dict[str, int]
    pe: PE
    precision: Precision
    array: tuple[int, int]
    order: str
    blocks: int = 0
    block_bytes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (no output matrix)."""
        p = self.precision
        m, n = self.output.shape
        return {
            "pe": self.pe.key,
            "w_bits": p.w_bits,
            "a_bits": p.a_bits,
            "w_signed": p.w_signed,
            "a_signed": p.a_signed,
            "array": list(self.array),
            "order": self.order,
            "cycles": self.cycles,
            "compute_cycles": self.compute_cycles,
            "overhead_cycles": self.overhead_cycles,
            "cycles_per_mac": self.cycles / max(1, self.events["macs"]),
            "events": dict(self.events),
            "blocks": self.blocks,
        }


def _block_bytes(pe: PE, prec: Precision, mb: int, nb: int, kb: int) -> int:
    """Temporary bytes of one block (float64 digits, products, int64 partials)."""
    if isinstance(pe, LutPE):
        ent = (kb // pe.g + 1) * pe.table_entries
        words = mb * ent + ent * prec.w_bits * nb + 3 * mb * prec.w_bits * nb + kb * nb
    else:
        ta, tw = _digit_counts(pe, prec)
        words = ta * mb * kb + tw * kb * nb + 2 * ta * tw * mb * nb + mb * kb + kb * nb
    return (words + 2 * mb * nb) * _F64_BYTES


def _digit_counts(pe: PE, prec: Precision) -> tuple[int, int]:
    if isinstance(pe, EssentialPE):
        return 1, prec.w_bits + 1
    a_bits, k_a, w_bits, k_w = pe.digit_split(prec)
    return (1 if k_a is None else num_digits(a_bits, k_a)), (1 if k_w is None else num_digits(w_bits, k_w))


def _choose_blocks(
    pe: PE, prec: Precision, shape: GemmShape, budget: int
) -> tuple[int, int, int, int]:
    """Halve the largest of (m, n, k) block sizes until the block fits ``budget``."""
    align = pe.g if isinstance(pe, LutPE) else pe.group_size if isinstance(pe, SerialPE) and pe.group_size else 1
    lhs_max = (pe.g if isinstance(pe, LutPE) else 1) << prec.a_bits
    k_cap = max_exact_k(lhs_max, 1 << prec.w_bits)
    mb, nb = shape.m, shape.n
    kb = min(-(-shape.k // align) * align, max(align, k_cap // align * align))
    while _block_bytes(pe, prec, mb, nb, kb) > budget:
        if kb >= max(mb, nb) and kb > align:
            kb = max(align, (kb // 2) // align * align)
        elif mb >= nb and mb > 1:
            mb = -(-mb // 2)
        elif nb > 1:
            nb = -(-nb // 2)
        elif kb > align:
            kb = max(align, (kb // 2) // align * align)
        else:
            raise ConfigError(
                f"`mem_budget_bytes` must be at least {_block_bytes(pe, prec, 1, 1, align)} "
                f"for this PE, but got {budget}"
            )
    return mb, nb, kb, _block_bytes(pe, prec, mb, nb, kb)


def _kernel(pe: PE, a: np.ndarray, w: np.ndarray, prec: Precision) -> tuple[np.ndarray, int]:
    """Exact block product and the block's mirrored-lookup count (LUT only)."""
    if isinstance(pe, LutPE):
        pad = -a.shape[1] % pe.g
        if pad:
            a = np.pad(a, ((0, 0), (0, pad)))
            w = np.pad(w, ((0, pad), (0, 0)))
        return lut_gemm(a, w, prec.w_bits, prec.w_signed, pe.g, pe.w_code)
    if isinstance(pe, EssentialPE):
        return term_gemm(a, w, prec.w_bits, pe.encoding), 0
    a_bits, k_a, w_bits, k_w = pe.digit_split(prec)
    return digit_gemm(a, w, a_bits, w_bits, k_a, k_w), 0


def _scaled_kernel(pe: SerialPE, a: np.ndarray, w: np.ndarray, scales: np.ndarray, k0: int,
                   prec: Precision) -> np.ndarray:
    """``Σ_groups scale[g, n]·(A_g·W_g)`` over the block's part of each group (``k0``: block start)."""
    g = pe.group_size
    out = np.zeros((a.shape[0], w.shape[1]), dtype=np.int64)
    for lo in range(0, a.shape[1], g):  # blocks start on group boundaries (see _choose_blocks)
        part, _ = _kernel(pe, a[:, lo:lo + g], w[lo:lo + g], prec)
        out += part * scales[(k0 + lo) // g][None, :]
    return out


def _check_scales(pe: PE, w_scales: np.ndarray | None, shape: GemmShape) -> np.ndarray | None:
    if w_scales is None:
        return None
    if not isinstance(pe, SerialPE) or not pe.group_size:
        raise ConfigError("`w_scales` needs a serial PE with group_size > 0")
    s = np.asarray(w_scales)
    want = (pe.groups(shape.k), shape.n)
    if s.shape != want:
        raise ConfigError(f"`w_scales` must have shape {want} (groups, N), but got {s.shape}")
    check_values("w_scales", s, pe.scale_bits, False)
    return s.astype(np.int64)


def tile_schedule(shape: GemmShape, array: tuple[int, int], order: str) -> list[tuple[int, int]]:
    """Output tiles ``(m_tile, n_tile)`` in execution order (``mn``: m outer, ``nm``: n outer)."""
    mt, nt = -(-shape.m // array[0]), -(-shape.n // array[1])
    if order == "mn":
        return [(i, j) for i in range(mt) for j in range(nt)]
    return [(i, j) for j in range(nt) for i in range(mt)]


def _schedule_events(
    pe: PE, prec: Precision, shape: GemmShape, array: tuple[int, int], order: str,
    w: np.ndarray | None = None,
) -> tuple[int, int, dict[str, int]]:
    """Walk the tile schedule: ``(compute_cycles, overhead_cycles, events)``; a data-dependent
    family takes each step's cycles from the weights ``w``."""
    rows, cols = array
    m, n, k = shape.m, shape.n, shape.k
    steps = -(-k // pe.k_step(prec))
    phases = pe.phases(prec)
    ev = dict.fromkeys(("reg_writes", "buf_reads_a", "buf_reads_w", "shifts"), 0)
    lane_ops = 0
    if isinstance(pe, LutPE):
        ev.update(table_builds=0, bias_adds=0)
    if isinstance(pe, SerialPE) and pe.group_size:
        ev["scale_muls"] = 0
    tile_phases = tile_terms = None
    if isinstance(pe, EssentialPE):  # per n-tile: Σ_s P_s and the tile's weights' terms
        assert w is not None
        tile_phases = step_phases(w, pe.lanes, cols, pe.encoding).sum(axis=1)
        t = term_counts(w, pe.encoding).sum(axis=0, dtype=np.int64)
        tile_terms = np.add.reduceat(t, np.arange(0, n, cols))
    resident_a = resident_w = -1
    compute = overhead = 0
    for ti, tj in tile_schedule(shape, array, order):
        r = min(rows, m - ti * rows)
        c = min(cols, n - tj * cols)
        compute += steps * phases if tile_phases is None else int(tile_phases[tj])
        overhead += 1
        if ti != resident_a:
            ev["buf_reads_a"] += r * k
            resident_a = ti
        if tj != resident_w:
            ev["buf_reads_w"] += k * c
            resident_w = tj
        ev["shifts"] += r * c * steps * pe.shifts_per_step(prec)
        if isinstance(pe, LutPE):
            groups = -(-k // pe.g)
            ev["table_builds"] += r * groups
            ev["reg_writes"] += r * groups * pe.table_entries + k * c
            ev["bias_adds"] += r * c * steps
            lane_ops += r * c * groups * prec.w_bits
            continue
        ev["reg_writes"] += r * k + k * c
        if isinstance(pe, BitSerialPE) and pe.serial == "both":
            lane_ops += r * c * steps * phases
        elif tile_terms is not None:
            lane_ops += r * int(tile_terms[tj])
        elif isinstance(pe, BitFusionPE):
            d_a, d_w = pe.brick_digits(prec)
            lane_ops += r * c * k * d_a * d_w
        else:
            lane_ops += r * c * k * phases
        if "scale_muls" in ev:
            ev["scale_muls"] += r * c * pe.groups(k)  # type: ignore[attr-defined]
    name = "multiplies"
    if isinstance(pe, LutPE):
        name = "lookups"
        ev["table_adds"] = (pe.g - 1) * pe.table_entries * ev["table_builds"]
    elif isinstance(pe, BitSerialPE) and pe.serial == "both":
        name = "and_popcounts"
    elif isinstance(pe, EssentialPE):
        name = "shift_adds"
    elif isinstance(pe, BitFusionPE):
        name = "brick_mults"
    ev[name] = ev["adds"] = lane_ops
    ev["macs"] = shape.macs
    ev["buf_writes_out"] = m * n
    return compute, overhead, ev


def simulate_gemm(
    a: np.ndarray,
    w: np.ndarray,
    pe: PE | str = "bit_parallel",
    *,
    w_bits: int = 4,
    a_bits: int = 8,
    w_signed: bool = True,
    a_signed: bool = True,
    array: tuple[int, int] = (16, 16),
    order: str = "mn",
    mem_budget_bytes: int = DEFAULT_MEM_BUDGET_BYTES,
    w_scales: np.ndarray | None = None,
) -> SimResult:
    """Simulate ``O = A·W`` on an ``array = (R, C)`` of ``pe`` PEs, bit-exactly.

    Args:
        a: ``(M, K)`` integer activations, ``a_bits`` wide (signed iff ``a_signed``).
        w: ``(K, N)`` integer weights, ``w_bits`` wide (signed iff ``w_signed``).
        pe: a :class:`~codesign.rtl_sim.pes.PE` or a family name (``bit_serial:both``...).
        array: PE rows (over M) and columns (over N).
        order: tile order, ``mn`` (m outer) or ``nm`` (n outer).
        mem_budget_bytes: bound on one block's temporaries; the GEMM is split over M, N
            and K until a block fits (inputs and the ``(M, N)`` int64 output excluded).
        w_scales: ``(ceil(K/group_size), N)`` unsigned ``scale_bits`` integer group scales of a
            ``serial`` PE with groups; the output is then ``Σ_g scale[g]·(A_g·W_g)``. None: 1.

    Returns:
        :class:`SimResult` with the exact int64 output, cycles
        ``ceil(M/R)·ceil(N/C)·(S·P + 1)`` and event counts.
    """
    pe_obj = make_pe(pe) if isinstance(pe, str) else pe
    prec = Precision(w_bits, a_bits, bool(w_signed), bool(a_signed))
    a = np.asarray(a)
    w = np.asarray(w)
    if a.ndim != 2 or w.ndim != 2 or a.shape[1] != w.shape[0]:
        raise ConfigError(
            f"`a` and `w` must be (M, K) and (K, N) matrices, but got {a.shape} and {w.shape}"
        )
    check_values("a", a, a_bits, a_signed)
    check_values("w", w, w_bits, w_signed)
    if len(array) != 2:
        raise ConfigError(f"`array` must be (rows, cols), but got {array!r}")
    array = (check_int_range("array rows", array[0], 1, 1 << 16),
             check_int_range("array cols", array[1], 1, 1 << 16))
    if order not in ("mn", "nm"):
        raise ConfigError(f"`order` must be 'mn' or 'nm', but got {order!r}")
    shape = GemmShape(int(a.shape[0]), int(w.shape[1]), int(a.shape[1]))
    scales = _check_scales(pe_obj, w_scales, shape)
    mb, nb, kb, block_bytes = _choose_blocks(pe_obj, prec, shape, int(mem_budget_bytes))
    a64 = a.astype(np.int64, copy=False)
    w64 = w.astype(np.int64, copy=False)
    out = np.zeros((shape.m, shape.n), dtype=np.int64)
    mirrored = blocks = 0
    for n0 in range(0, shape.n, nb):
        for k0 in range(0, shape.k, kb):
            wblk = w64[k0 : k0 + kb, n0 : n0 + nb]
            for m0 in range(0, shape.m, mb):
                ablk = a64[m0 : m0 + mb, k0 : k0 + kb]
                if scales is not None:
                    part, mir = _scaled_kernel(pe_obj, ablk, wblk, scales[:, n0 : n0 + nb], k0, prec), 0  # type: ignore[arg-type]
                else:
                    part, mir = _kernel(pe_obj, ablk, wblk, prec)
                out[m0 : m0 + mb, n0 : n0 + nb] += part
                mirrored += mir
                blocks += 1
    compute, overhead, events = _schedule_events(pe_obj, prec, shape, array, order,
                                                 w64 if pe_obj.data_dependent else None)
    if isinstance(pe_obj, LutPE):
        events["lut_mirrored"] = mirrored
    return SimResult(
        output=out,
        cycles=compute + overhead,
        compute_cycles=compute,
        overhead_cycles=overhead,
        events=events,
        pe=pe_obj,
        precision=prec,
        array=array,
        order=order,
        blocks=blocks,
        block_bytes=block_bytes,
        extra={"block_shape": (mb, nb, kb)},
    )
