"""Compiled core of the loop-nest cost model: access counts, energy and latency per mapping row.

The equations are those of :mod:`codesign.evaluators.cost.model` (its docstring states them);
this module evaluates them one mapping row at a time in scalar loops compiled by numba, so a
row costs a few hundred floating-point operations instead of the hundreds of small-array
NumPy calls a vectorized formulation needs (measured by ``codesign bench cost``). Rows may
belong to different loop problems of one structure (a row's strides, input limits, words per
element and MAC count are its own), so the layers of a network are scored in one call.

Inputs are plain arrays prepared by :mod:`codesign.evaluators.cost.model`:

- problem structure: ``kind/pdim/rdim (3, X)`` axis plans per operand (kind 1 = one dim,
  2 = sliding window ``(pdim, rdim)``, 0 = unused), ``rel/win (3, D)`` masks; per row
  ``stride/limit (n, 3, X)``, ``words (n, L, 3)`` words per element at each level (0 where
  the level does not keep the operand), ``macs (n,)``;
- architecture structure: ``keeps (L, 3)``, ``served (L + 1, A)`` (array-dims form, ``A = 0``
  for x/y fanout), ``regs`` (operand registers at the compute units), ``rpt (L,)`` (round
  per transfer), ``instances (L,)``;
- mapping rows: ``T, rank, SX, SY (n, L, D)``, ``S (n, A, D)``;
- ports: streams ``(level, operand, direction)`` with direction 0 read (to the level below),
  1 fill (from above), 2 update (from below), 3 drain (to above); ``eport (L, 3, 4)`` the port
  whose block and energies a stream is charged at (-1: not charged); ``bw_level/bw_op/bw_dir/
  bw_port`` list the streams each port's bandwidth carries; ``block (P,)``; per row ``bw (n, P)``
  and ``pj (n, P, 3)`` (energy per block for read/drain, fill, update).
"""

from __future__ import annotations

import numpy as np

from codesign.evaluators.cost.jit import compiled

READ, FILL, UPDATE, DRAIN = 0, 1, 2, 3
PJ_KIND = (0, 1, 2, 0)  # energy entry of each direction: a drain is a read


@compiled
def smallest_prime(n):
    """Smallest prime factor of a positive integer (1 for 1)."""
    p = 2
    while p * p <= n:
        if n % p == 0:
            return p
        p += 1
    return n


@compiled(inline="always")
def footprint(kind, pdim, rdim, stride, limit, op, ext):
    """Elements of operand ``op`` touched by a tile with extents ``ext`` (D,)."""
    out = 1.0
    for a in range(kind.shape[1]):
        k = kind[op, a]
        if k == 1:
            out = out * ext[pdim[op, a]]
        elif k == 2:
            p = ext[pdim[op, a]]
            r = ext[rdim[op, a]]
            out = out * min(min(p * r, stride[op, a] * (p - 1.0) + r), limit[op, a])
    return out


@compiled(inline="always")
def footprint_row(kind, pdim, rdim, stride, limit, op, ext2, row):
    """:func:`footprint` of row ``row`` of a 2-D extents array (no view: a view costs a reference count)."""
    out = 1.0
    for a in range(kind.shape[1]):
        k = kind[op, a]
        if k == 1:
            out = out * ext2[row, pdim[op, a]]
        elif k == 2:
            p = ext2[row, pdim[op, a]]
            r = ext2[row, rdim[op, a]]
            out = out * min(min(p * r, stride[op, a] * (p - 1.0) + r), limit[op, a])
    return out


@compiled(inline="always")
def _first_relevant(op, start, nf, fd, rel):
    """Index of the first loop in ``f[start:nf]`` relevant to ``op`` (-1 if none)."""
    for k in range(start, nf):
        if rel[op, fd[k]]:
            return k
    return -1


@compiled(inline="always")
def _count(op, ext, base, start, j, nf, stationary, f, fd, suf, win, kind, pdim, rdim, stride, limit, tmp):
    """Elements of ``op`` loaded with tile extents ``ext`` (footprint ``base``) under the loops
    ``f[start:nf]`` (inner → outer; ``j`` the first relevant to ``op``), and the transfers they
    arrive in (see the model's stationarity and halo rules)."""
    if start >= nf:
        return base, 1.0
    if not stationary:
        return base * suf[start], suf[start]
    if j < 0:
        return base, 1.0
    dj = fd[j]
    if win[op, dj]:
        for x in range(ext.shape[0]):
            tmp[x] = ext[x]
        tmp[dj] = tmp[dj] * f[j]
        return footprint(kind, pdim, rdim, stride, limit, op, tmp) * suf[j + 1], suf[j]
    return base * suf[j], suf[j]


@compiled
def sequence(t, rank, f, fd, suf, order, start):
    """The temporal loops of factor > 1, inner → outer (levels L-1..0, each ordered by rank,
    highest innermost), into ``f``/``fd``; suffix products ``suf[k] = Π f[k:]``; ``start[c]`` =
    where the loops above level ``c`` begin (``start[L] = 0``). Returns the number of loops."""
    nl, nd = t.shape
    k = 0
    start[nl] = 0
    for li in range(nl - 1, -1, -1):
        for x in range(nd):
            order[x] = x
        for x in range(1, nd):  # insertion sort by rank descending (stable)
            y = order[x]
            z = x - 1
            while z >= 0 and rank[li, order[z]] < rank[li, y]:
                order[z + 1] = order[z]
                z -= 1
            order[z + 1] = y
        for x in range(nd):
            v = t[li, order[x]]
            if v != 1.0:
                f[k] = v
                fd[k] = order[x]
                k += 1
        start[li] = k
    suf[k] = 1.0
    for x in range(k - 1, -1, -1):
        suf[x] = suf[x + 1] * f[x]
    return k


@compiled
def spatial(sx, sy, s, served, inside, used):
    """Spatial factors inside one instance's tile ``inside (L + 1, D)`` and instances in use
    ``used (L + 1,)`` of one row (x/y fanout, or array dims when ``served`` has columns)."""
    nl1, nd = inside.shape
    nl = nl1 - 1
    na = served.shape[1]
    if na == 0:
        for x in range(nd):
            inside[nl, x] = 1.0
        for li in range(nl - 1, -1, -1):
            for x in range(nd):
                inside[li, x] = inside[li + 1, x] * (sx[li, x] * sy[li, x])
        used[0] = 1.0
        for li in range(1, nl + 1):
            p = 1.0
            for x in range(nd):
                p = p * (sx[li - 1, x] * sy[li - 1, x])
            used[li] = used[li - 1] * p
        return
    for li in range(nl + 1):
        u = 1.0
        for x in range(nd):
            v = 1.0
            for a in range(na):
                if served[li, a]:
                    v = v * s[a, x]
            inside[li, x] = v
        for a in range(na):
            if not served[li, a]:
                for x in range(nd):
                    u = u * s[a, x]
        used[li] = u


@compiled
def _reduction_after(rel, f, fd, nf, start):
    """A loop irrelevant to outputs in ``f[start:nf]`` beyond the innermost run of such loops (which
    keeps an output stationary where it is, so it sums in place)."""
    m = start
    while m < nf and not rel[2, fd[m]]:
        m += 1
    for q in range(m, nf):
        if not rel[2, fd[q]]:
            return True
    return False


@compiled
def output_flags(keeps, rel, f, fd, nf, starts, inside, low, high):
    """Where partial sums remain (ZigZag's precision rule): at an output level ``c`` with child
    ``b`` (the next output level below, or the compute units) and parent ``p``, ``low[c]`` if a
    reduction (a loop irrelevant to outputs) remains at or above ``c`` (temporal loops beyond
    ``b``'s stationary run, spatial loops above ``c``), ``high[c]`` if one remains above ``c``
    (temporal loops beyond ``c``'s stationary run, spatial loops above ``p``)."""
    nl1, nd = inside.shape
    nl = nl1 - 1
    child = -1
    for c in range(nl - 1, -1, -1):
        if not keeps[c, 2]:
            continue
        parent = -1
        for q in range(c - 1, -1, -1):
            if keeps[q, 2]:
                parent = q
                break
        lo = _reduction_after(rel, f, fd, nf, 0 if child < 0 else starts[child])
        hi = _reduction_after(rel, f, fd, nf, starts[c])
        for x in range(nd):
            if not rel[2, x]:
                if inside[0, x] > inside[c, x]:
                    lo = True
                if parent >= 0 and inside[0, x] > inside[parent, x]:
                    hi = True
        low[c] = lo
        high[c] = hi
        child = c


@compiled
def output_words(keeps, rel, f, fd, nf, starts, inside, wpsum, wfinal, owords, low, high):
    """``final_outputs``: reads to and updates from below carry partial sums (``wpsum``) where
    ``low``, else final outputs (``wfinal``); fills, drains and the words held where ``high``
    (:func:`output_flags`)."""
    output_flags(keeps, rel, f, fd, nf, starts, inside, low, high)
    for c in range(keeps.shape[0]):
        if keeps[c, 2]:
            wl = wpsum[c] if low[c] else wfinal[c]
            wh = wpsum[c] if high[c] else wfinal[c]
            owords[c, READ] = wl
            owords[c, UPDATE] = wl
            owords[c, FILL] = wh
            owords[c, DRAIN] = wh


@compiled
def counts_rows(t_all, rank_all, sx_all, sy_all, s_all, keeps, served, regs, rel, win, kind, pdim, rdim,
                stride_all, limit_all, words_all, final_outputs, wpsum_all, wfinal_all, counts, trans, used_out,
                tile_out, capacity, titer, owords, export, seq_f, seq_d, seq_n, seq_start, low_out, high_out, fp_tile,
                fp_inside):
    """Access counts of every row: ``counts/trans (n, 3, L, 4)`` totals over all instances per
    operand, level and direction; ``used_out (n, L + 1)``, ``tile_out (n, L + 1, D)``,
    ``capacity (n, L)`` words each level holds, ``titer (n,)`` temporal iterations, and
    ``owords (n, L, 4)`` the words of an output element per level and direction: ``words[:, :, 2]``,
    or with ``final_outputs`` (ZigZag's precision rule) partial sums (``wpsum``) where a
    reduction remains (:func:`output_words`) and final outputs (``wfinal``) elsewhere.

    Also per row, each kept operand's footprint of every level's tile ``fp_tile (n, 3, L)``; and
    with ``export``, for latency models that follow transfers per period: the temporal loops of
    factor > 1 inner → outer ``seq_f/seq_d (n, L·D)`` (``seq_n`` of them), where the loops above
    each level start ``seq_start (n, L + 1)``, the partial-sum flags ``low_out/high_out (n, L)``
    (:func:`output_flags`), and each kept operand's footprint of the spatial loops inside every
    level's tile ``fp_inside (n, 3, L)``."""
    n, nl, nd = t_all.shape
    f = np.empty(nl * nd)
    fd = np.empty(nl * nd, dtype=np.int64)
    suf = np.empty(nl * nd + 1)
    inside = np.empty((nl + 1, nd))
    used = np.empty(nl + 1)
    ttile = np.ones((nl + 1, nd))
    tile = np.empty((nl + 1, nd))
    above = np.ones((nl + 1, nd))
    group = np.empty(nd)
    ext = np.empty(nd)
    tmp = np.empty(nd)
    order = np.empty(nd, dtype=np.int64)
    starts = np.empty(nl + 1, dtype=np.int64)
    low = np.zeros(nl, dtype=np.bool_)
    high = np.zeros(nl, dtype=np.bool_)
    for i in range(n):
        t = t_all[i]
        stride, limit, words = stride_all[i], limit_all[i], words_all[i]
        spatial(sx_all[i], sy_all[i], s_all[i], served, inside, used)
        for x in range(nd):
            ttile[nl, x] = 1.0
            above[0, x] = 1.0
        for li in range(nl - 1, -1, -1):
            for x in range(nd):
                ttile[li, x] = ttile[li + 1, x] * t[li, x]
        for li in range(1, nl + 1):
            for x in range(nd):
                above[li, x] = above[li - 1, x] * t[li - 1, x]
        it = 1.0
        for li in range(nl):
            for x in range(nd):
                it = it * t[li, x]
        titer[i] = it
        nf = sequence(t, rank_all[i], f, fd, suf, order, starts)
        for li in range(nl + 1):
            used_out[i, li] = used[li]
            for x in range(nd):
                tile[li, x] = ttile[li, x] * inside[li, x]
                tile_out[i, li, x] = tile[li, x]
        for li in range(nl):
            for d in range(4):
                owords[i, li, d] = words[li, 2]
        if final_outputs:
            output_words(keeps, rel, f, fd, nf, starts, inside, wpsum_all[i], wfinal_all[i], owords[i], low, high)
        else:
            output_flags(keeps, rel, f, fd, nf, starts, inside, low, high)
        for li in range(nl):
            cap = 0.0
            for op in range(3):
                if keeps[li, op]:
                    fp = footprint_row(kind, pdim, rdim, stride, limit, op, tile, li)
                    fp_tile[i, op, li] = fp
                    w = words[li, op] if op != 2 else owords[i, li, FILL]
                    cap += fp * w
            capacity[i, li] = cap
        if export:
            seq_n[i] = nf
            for x in range(nf):
                seq_f[i, x] = f[x]
                seq_d[i, x] = fd[x]
            for li in range(nl + 1):
                seq_start[i, li] = starts[li]
            for li in range(nl):
                low_out[i, li] = low[li]
                high_out[i, li] = high[li]
                for op in range(3):
                    if keeps[li, op]:
                        fp_inside[i, op, li] = footprint_row(kind, pdim, rdim, stride, limit, op, inside, li)
        for op in range(3):
            prev = -1
            for c in range(nl + 1):
                if c < nl and not keeps[c, op]:
                    continue
                if prev >= 0:
                    p = prev
                    start = starts[c]
                    j = _first_relevant(op, start, nf, fd, rel)
                    for x in range(nd):
                        group[x] = ttile[c, x] * inside[p, x]
                    stat = c < nl or (op != 2 and regs)
                    g, gtr = _count(op, group, footprint(kind, pdim, rdim, stride, limit, op, group), start, j, nf, stat,
                                    f, fd, suf, win, kind, pdim, rdim, stride, limit, tmp)
                    if op != 2:
                        counts[i, op, p, READ] += g * used[p]
                        trans[i, op, p, READ] += gtr * used[p]
                        if c < nl:
                            fc, ftr = _count(op, tile[c], fp_tile[i, op, c], start, j, nf, True, f, fd, suf, win, kind,
                                             pdim, rdim, stride, limit, tmp)
                            counts[i, op, c, FILL] += fc * used[c]
                            trans[i, op, c, FILL] += ftr * used[c]
                    else:
                        for x in range(nd):
                            ext[x] = group[x] * above[c, x]
                        dg = footprint(kind, pdim, rdim, stride, limit, op, ext)
                        counts[i, op, p, UPDATE] += g * used[p]
                        trans[i, op, p, UPDATE] += gtr * used[p]
                        counts[i, op, p, READ] += (g - dg) * used[p]
                        trans[i, op, p, READ] += gtr * (1 - dg / g) * used[p]
                        if c < nl:
                            dr, dtr = _count(op, tile[c], fp_tile[i, op, c], start, j, nf, True, f, fd, suf, win, kind,
                                             pdim, rdim, stride, limit, tmp)
                            for x in range(nd):
                                ext[x] = tile[c, x] * above[c, x]
                            dist = footprint(kind, pdim, rdim, stride, limit, op, ext)
                            counts[i, op, c, FILL] += (dr - dist) * used[c]
                            trans[i, op, c, FILL] += dtr * (1 - dist / dr) * used[c]
                            counts[i, op, c, DRAIN] += dr * used[c]
                            trans[i, op, c, DRAIN] += dtr * used[c]
                prev = c


@compiled(inline="always")
def _round6(x):
    return np.rint(x * 1e6) / 1e6


@compiled
def cost_rows(counts, trans, used_all, titer, words_all, owords_all, rpt, instances, eport, block, bw_level, bw_op, bw_dir,
              bw_port, bw_all, pj_all, leak_all, cpm, mac_pj, macs, compute, cycles, e_level, e_op, e_compute,
              energy, read_words, write_words):
    """Energy per level and operand, compute cycles and the bandwidth-limited cycles of every row
    (Timeloop's steady-state latency: each port's demand per instance against its bandwidth,
    ``cycles = compute / min(1, min over ports of bw / demand)``)."""
    n = counts.shape[0]
    nl = counts.shape[2]
    npt = block.shape[0]
    demand = np.empty(npt)
    for i in range(n):
        words, owords, used, pj = words_all[i], owords_all[i], used_all[i], pj_all[i]
        comp = titer[i] * cpm[i]
        compute[i] = comp
        ec = macs[i] * mac_pj[i]
        e_compute[i] = ec
        for li in range(nl):
            u = used[li]
            el = 0.0
            rd = 0.0
            wr = 0.0
            for op in range(3):
                eo = 0.0
                for d in range(4):
                    w = words[li, op] if op != 2 else owords[li, d]
                    pe = eport[li, op, d]
                    if pe < 0:
                        continue
                    c = counts[i, op, li, d]
                    if rpt[li]:
                        tr = trans[i, op, li, d]
                        per = c * w / block[pe] / tr if tr > 0 else 0.0
                        blocks = np.ceil(_round6(per)) * tr
                    else:
                        blocks = np.ceil(_round6(c / u * w / block[pe])) * u
                    kind = 0 if d == READ or d == DRAIN else (1 if d == FILL else 2)
                    eo = eo + blocks * pj[pe, kind]
                e_op[i, li, op] = eo
                el = el + eo
                if op != 2:
                    w = words[li, op]
                    rd += counts[i, op, li, READ] * w
                    wr += (counts[i, op, li, FILL] + counts[i, op, li, UPDATE]) * w
                else:
                    rd += counts[i, op, li, READ] * owords[li, READ]
                    wr += counts[i, op, li, FILL] * owords[li, FILL] + counts[i, op, li, UPDATE] * owords[li, UPDATE]
            e_level[i, li] = el
            read_words[i, li] = rd
            write_words[i, li] = wr
        for p in range(npt):
            demand[p] = 0.0
        for k in range(bw_port.shape[0]):  # streams grouped by (port, level): words per instance
            li = bw_level[k]
            w = words[li, bw_op[k]] if bw_op[k] != 2 else owords[li, bw_dir[k]]
            demand[bw_port[k]] += counts[i, bw_op[k], li, bw_dir[k]] * w / used[li] / comp
        slow = 1.0
        for p in range(npt):
            if demand[p] > 0:
                slow = min(slow, min(1.0, bw_all[i, p] / max(demand[p], 1e-30)))
        cyc = comp / slow
        cycles[i] = cyc
        total = 0.0 + ec
        for li in range(nl):
            e_level[i, li] = e_level[i, li] + leak_all[i, li] * cyc * instances[li]
            total = total + e_level[i, li]
        energy[i] = total
