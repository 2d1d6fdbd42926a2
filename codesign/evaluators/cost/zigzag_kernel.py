"""Compiled part of ZigZag's latency model (:mod:`codesign.evaluators.cost.zigzag_latency` states it).

One mapping row at a time: merged level boundaries and periods per operand, the four streams
per memory level, double buffering, real and allowed cycles, stall per port (with the union of
the update windows of a port's streams), on-/off-loading per port and their combination.
"""

from __future__ import annotations

import numpy as np

from codesign.evaluators.cost.jit import compiled

READ, FILL, UPDATE, DRAIN = 0, 1, 2, 3  # ZigZag: rd_out_to_low, wr_in_by_high, wr_in_by_low, rd_out_to_high


@compiled
def _covered(j, x, per, allow, full):
    """Measure of ``[0, x)`` covered by the windows ``[0, allow[q])`` repeating every ``per[q]``,
    ``q <= j`` (periods ascending, each dividing the next; ``full[q]`` the measure of one period
    ``per[q]`` covered by windows ``0..q``). Iterative: ``g_j(x) = ⌊x/P_j⌋·full_j + h_j(x mod P_j)``,
    ``h_j(y) = min(y, A_j) + [y > A_j]·(g_{j−1}(y) − g_{j−1}(A_j))``."""
    m = per.shape[0]
    sj = np.empty(2 * m + 2, dtype=np.int64)
    sx = np.empty(2 * m + 2)
    sc = np.empty(2 * m + 2)
    top = 0
    sj[0], sx[0], sc[0] = j, x, 1.0
    total = 0.0
    while top >= 0:
        q, y, c = sj[top], sx[top], sc[top]
        top -= 1
        if q < 0 or y <= 0:
            continue
        whole = np.floor(y / per[q])
        rest = y - whole * per[q]
        total += c * (whole * full[q] + min(rest, allow[q]))
        if rest > allow[q]:
            top += 1
            sj[top], sx[top], sc[top] = q - 1, rest, c
            top += 1
            sj[top], sx[top], sc[top] = q - 1, allow[q], -c
    return total


@compiled
def window_union(per_in, allow_in, count_in):
    """ZigZag's memory-updating-window union of a port's activities (``__calc_mem_updating_window_union``)."""
    m = per_in.shape[0]
    for q in range(m):
        if per_in[q] == allow_in[q]:
            return per_in[q] * count_in[q]
    order = np.argsort(per_in, kind="mergesort")
    per = np.empty(m)
    allow = np.empty(m)
    full = np.empty(m)
    for q in range(m):
        per[q] = per_in[order[q]]
        allow[q] = allow_in[order[q]]
    for q in range(m):  # one period of each, covered by the windows up to it
        a = min(allow[q], per[q])
        full[q] = a + (_covered(q - 1, per[q], per, allow, full) - _covered(q - 1, a, per, allow, full))
    big = 0
    for q in range(m):  # the first activity of the largest period
        if per_in[q] > per_in[big]:
            big = q
    return full[m - 1] * count_in[big]


@compiled
def reduce_ordered(c, mn, s, out_rem, out_red):
    """ZigZag's ``reduce_ordered``: reduce the largest first, each down to its minimum, by ``s`` in all."""
    m = c.shape[0]
    order = np.argsort(-c, kind="mergesort")
    for q in range(m):
        out_rem[q] = c[q]
        out_red[q] = 0.0
    for q in range(m):
        if s <= 0:
            break
        k = order[q]
        r = min(max(0.0, c[k] - mn[k]), s)
        out_rem[k] = c[k] - r
        out_red[k] += r
        s -= r


@compiled
def zigzag_rows(sx_all, sy_all, s_all, keeps, rel, win, seq_f, seq_d, seq_n, seq_start, low_all, high_all, fp_tile,
                fp_inside, bits_all, psum_bits, wbits, size_all, cpm, op_order, memory, z_port, z_level, z_op, z_dir,
                zport, port_wbits, port_two, bw_all, systolic, which, out):
    """ZigZag's latency terms of rows ``which`` into ``out (len(which), 6)``: full latency,
    computation phase, stall, on-loading, off-loading, systolic drain (see the module docstring). The loop sequence,
    partial-sum flags and footprints come from :func:`codesign.evaluators.cost.kernel.counts_rows`
    (this module's compiled code calls no other module's, so numba's cache stays valid)."""
    nl = low_all.shape[1]
    npt = port_wbits.shape[0]
    suf = np.empty(seq_f.shape[1] + 1)
    chain = np.empty((3, nl), dtype=np.int64)
    nk = np.zeros(3, dtype=np.int64)
    memlv = -np.ones((3, nl), dtype=np.int64)  # an operand's memory level index at each of our levels
    for op in range(3):
        for c in range(nl - 1, -1, -1):
            if keeps[c, op]:
                chain[op, nk[op]] = c
                memlv[op, c] = nk[op]
                nk[op] += 1
    pfirst = np.zeros(npt + 1, dtype=np.int64)  # streams are sorted by port: port p's are pfirst[p]:pfirst[p + 1]
    for z in range(z_port.shape[0]):
        pfirst[z_port[z] + 1] += 1
    for p in range(npt):
        pfirst[p + 1] += pfirst[p]
    ce = np.empty((3, nl + 1))  # cycles per period at arch level a (a = 0: the MACs)
    data = np.empty((3, nl + 1))  # elements per unit at arch level a
    prec = np.empty((3, nl + 1))  # bits per element at arch level a
    boost = np.ones((3, nl + 1))
    topir = np.ones((3, nl + 1))
    topr = np.ones((3, nl + 1))
    amount = np.zeros((3, nl, 4))
    period = np.zeros((3, nl, 4))
    count = np.zeros((3, nl, 4))
    window = np.zeros((3, nl, 4))
    bwav = np.zeros((3, nl, 4))
    dprec = np.zeros((3, nl, 4))
    real = np.zeros((3, nl, 4))
    allowed = np.zeros((3, nl, 4))
    util_ind = np.zeros((3, nl))
    util_sh = np.zeros((3, nl))
    db = np.zeros((3, nl + 1), dtype=np.bool_)
    loadcc = np.zeros((3, nl, 4))
    loadsh = np.zeros((3, nl, 4), dtype=np.bool_)
    acts = np.empty(z_port.shape[0], dtype=np.int64)
    pa = np.empty(z_port.shape[0])
    pb = np.empty(z_port.shape[0])
    pc = np.empty(z_port.shape[0])
    rem = np.empty(z_port.shape[0])
    red = np.empty(z_port.shape[0])
    for k_row in range(which.shape[0]):
        i = which[k_row]
        cpo = cpm[i]
        fin, ps = bits_all[i, 2], psum_bits[i]
        f, fd, nf, starts, low, high = seq_f[i], seq_d[i], seq_n[i], seq_start[i], low_all[i], high_all[i]
        suf[nf] = 1.0
        for x in range(nf - 1, -1, -1):
            suf[x] = suf[x + 1] * f[x]
        total = suf[0]
        for op in range(3):
            k_n = nk[op]
            # 1. merged level boundaries (after the bottom irrelevant loops of the level above merge down)
            m = 0
            while m < nf and not rel[op, fd[m]]:
                m += 1
            ce[op, 0] = suf[0] / suf[m] if op != 2 else 1.0
            lo = 0
            for k in range(k_n):
                hi = nf
                if k < k_n - 1:
                    hi = starts[chain[op, k]]
                    while hi < nf and not rel[op, fd[hi]]:
                        hi += 1
                ce[op, k + 1] = suf[0] / suf[hi]
                q = hi - 1  # outermost runs of irrelevant / relevant (non-window) loops of the merged level
                v = 1.0
                while q >= lo and not rel[op, fd[q]]:
                    v *= f[q]
                    q -= 1
                topir[op, k + 1] = v
                q = hi - 1
                v = 1.0
                while q >= lo and rel[op, fd[q]] and not win[op, fd[q]]:
                    v *= f[q]
                    q -= 1
                topr[op, k + 1] = v
                lo = hi
            # data per unit, precision per arch level, distinct-data fan-out (spatial loops only)
            data[op, 0] = 1.0
            prev_sp = 1.0
            for k in range(k_n):
                c = chain[op, k]
                data[op, k + 1] = fp_tile[i, op, c]
                fs = fp_inside[i, op, c]
                boost[op, k] = np.round(fs / prev_sp)
                prev_sp = fs
            boost[op, k_n] = 1.0
            for a in range(k_n + 1):
                if op != 2:
                    prec[op, a] = bits_all[i, op]
                elif a == 0:
                    prec[op, a] = ps if low[chain[op, 0]] else fin
                else:
                    prec[op, a] = ps if high[chain[op, a - 1]] else fin
            # 2. the four streams per memory level
            for k in range(k_n):
                c = chain[op, k]
                for d in range(4):
                    amount[op, k, d] = 0.0
                    period[op, k, d] = 0.0
                    count[op, k, d] = 0.0
                    bwav[op, k, d] = 0.0
                    dprec[op, k, d] = 0.0
                low_raw = data[op, k] * prec[op, k] / ce[op, k]
                high_raw = low_raw * boost[op, k]
                up_raw = data[op, k + 1] * prec[op, k + 1] / ce[op, k + 1]
                if op != 2:
                    dl, dh = READ, FILL
                    amount[op, k, READ] = data[op, k] * boost[op, k]
                    amount[op, k, FILL] = data[op, k + 1]
                    dprec[op, k, READ] = bits_all[i, op]
                    dprec[op, k, FILL] = bits_all[i, op]
                else:
                    dl, dh = UPDATE, DRAIN
                    amount[op, k, UPDATE] = np.floor(data[op, k] * boost[op, k])
                    amount[op, k, DRAIN] = data[op, k + 1]
                    low_partial, high_partial = low[c], high[c]
                    dprec[op, k, UPDATE] = ps if low_partial else fin
                    dprec[op, k, DRAIN] = ps if high_partial else fin
                    dprec[op, k, READ] = ps if low_partial else 0.0
                    dprec[op, k, FILL] = ps if high_partial else 0.0
                bwav[op, k, dl] = np.floor(high_raw)
                period[op, k, dl] = ce[op, k]
                count[op, k, dl] = np.floor(total / ce[op, k])
                bwav[op, k, dh] = np.floor(up_raw)
                period[op, k, dh] = ce[op, k + 1]
                count[op, k, dh] = np.floor(total / ce[op, k + 1])
                if op == 2:
                    if low_partial:
                        amount[op, k, READ] = amount[op, k, UPDATE]
                        bwav[op, k, READ] = bwav[op, k, UPDATE]
                        period[op, k, READ] = period[op, k, UPDATE]
                        count[op, k, READ] = count[op, k, UPDATE]
                    if high_partial:
                        amount[op, k, FILL] = amount[op, k, DRAIN]
                        bwav[op, k, FILL] = bwav[op, k, DRAIN]
                        period[op, k, FILL] = period[op, k, DRAIN]
                        count[op, k, FILL] = count[op, k, DRAIN]
                for d in range(4):
                    scale = topir[op, k] if d == READ or d == UPDATE else topir[op, k + 1]
                    window[op, k, d] = np.floor(period[op, k, d] / scale)
                if k == k_n - 1:  # the top level's traffic with the outside world is not modelled
                    for d in (FILL, DRAIN):
                        amount[op, k, d] = 0.0
                        period[op, k, d] = 0.0
                        count[op, k, d] = 0.0
                        bwav[op, k, d] = 0.0
                        window[op, k, d] = 0.0
                        dprec[op, k, d] = 0.0
                # memory utilization of the data a level holds (its outermost relevant loops excluded)
                size_bits = size_all[i, c] * wbits[c]
                eff = np.floor(np.round(data[op, k + 1]) * prec[op, k + 1] / topr[op, k + 1])
                util_ind[op, k] = eff / size_bits if size_bits < np.inf else 0.0
        # 3. double buffering, operands in ZigZag's order, memories shared by operands counted together
        for op in range(3):
            for k in range(nk[op]):
                tot = 0.0
                mem = memory[chain[op, k]]
                for o2 in range(3):
                    for k2 in range(nk[o2]):
                        if memory[chain[o2, k2]] == mem:
                            tot += util_ind[o2, k2]
                util_sh[op, k] = tot
        for q in range(3):
            op = op_order[q]
            db[op, 0] = False
            for k in range(nk[op]):
                if util_sh[op, k] <= 0.5:
                    db[op, k + 1] = True
                elif util_ind[op, k] <= 1 - util_sh[op, k]:
                    db[op, k + 1] = True
                    mem = memory[chain[op, k]]
                    for o2 in range(3):  # every operand level of that memory (itself included) now has less room
                        for k2 in range(nk[o2]):
                            if memory[chain[o2, k2]] == mem:
                                util_sh[o2, k2] += util_ind[op, k]
                else:
                    db[op, k + 1] = False
        # 4. real and allowed cycles per stream
        for op in range(3):
            for k in range(nk[op]):
                c = chain[op, k]
                for d in range(4):
                    p = zport[c, op, d]
                    bwb = bw_all[i, p] * port_wbits[p] if p >= 0 else 0.0
                    real[op, k, d] = np.ceil(amount[op, k, d] * dprec[op, k, d] / bwb) if bwb > 0 and \
                        bwb < np.inf else 0.0
                    use_db = db[op, k] if d == READ or d == UPDATE else db[op, k + 1]
                    attr = period[op, k, d] if use_db else window[op, k, d]
                    allowed[op, k, d] = np.ceil(attr * cpo)
        # 5. stall/slack per port
        stall = 0.0
        for p in range(npt):
            na = 0
            for z in range(pfirst[p], pfirst[p + 1]):
                op, c, d = z_op[z], z_level[z], z_dir[z]
                k = memlv[op, c]
                if count[op, k, d] == 0:
                    continue
                acts[na] = z
                pa[na] = np.ceil(period[op, k, d] * cpo)
                pb[na] = allowed[op, k, d]
                pc[na] = count[op, k, d]
                na += 1
            if na == 0:
                continue
            if na == 1:
                z = acts[0]
                op, c, d = z_op[z], z_level[z], z_dir[z]
                k = memlv[op, c]
                ss = (real[op, k, d] - pb[0]) * (pc[0] - 1)
            else:
                pos = 0.0
                neg = 0.0
                muw = 0.0
                for q in range(na):
                    z = acts[q]
                    op, c, d = z_op[z], z_level[z], z_dir[z]
                    k = memlv[op, c]
                    v = (real[op, k, d] - pb[q]) * (pc[q] - 1)
                    if v > 0:
                        pos += v
                    else:
                        neg += v
                    muw += pb[q] * (pc[q] - 1)
                union = window_union(pa[:na], pb[:na], pc[:na])
                ss = pos + max(0.0, neg + muw - union)
            stall = max(stall, ss)
        ideal = total * cpo
        comp_cycles = np.ceil(total * cpo) + stall
        # 6. on-/off-loading per port
        for op in range(3):
            for k in range(nl):
                for d in range(4):
                    loadcc[op, k, d] = 0.0
                    loadsh[op, k, d] = False
        for p in range(npt):
            need = 0.0
            n1 = 0
            bwb = 0.0
            for z in range(pfirst[p], pfirst[p + 1]):
                op, c, d = z_op[z], z_level[z], z_dir[z]
                if op == 2 and (d == READ or d == FILL):
                    continue
                k = memlv[op, c]
                bwb = bw_all[i, p] * port_wbits[p]
                if count[op, k, d] == 0:
                    continue
                if count[op, k, d] == 1:
                    acts[n1] = z
                    n1 += 1
                else:
                    need += np.ceil(bwav[op, k, d] / cpo)
                    loadcc[op, k, d] = real[op, k, d]
                    loadsh[op, k, d] = port_two[p]
            if n1 == 0:
                continue
            for q in range(n1):
                z = acts[q]
                op, c, d = z_op[z], z_level[z], z_dir[z]
                k = memlv[op, c]
                pa[q] = real[op, k, d]
                pb[q] = np.ceil(np.round(data[op, 1]) * prec[op, 1] / bwb) if bwb < np.inf else 0.0
            surplus = max(0.0, (bwb - need) / bwb * comp_cycles) if bwb < np.inf else comp_cycles
            reduce_ordered(pa[:n1], pb[:n1], surplus, rem, red)
            for q in range(n1):
                z = acts[q]
                op, c, d = z_op[z], z_level[z], z_dir[z]
                k = memlv[op, c]
                loadcc[op, k, d] = rem[q]
                loadsh[op, k, d] = port_two[p]
        ind = np.zeros(3)
        half = np.zeros(3)
        shr = np.zeros(3)
        for op in range(2):
            for k in range(nk[op] - 1):
                e1, s1 = loadcc[op, k, FILL], loadsh[op, k, FILL]
                e2, s2 = loadcc[op, k + 1, READ], loadsh[op, k + 1, READ]
                longest = max(e1, e2)
                if s1 and s2:
                    shr[op] += longest
                elif not s1 and not s2:
                    ind[op] += longest
                else:
                    half[op] = longest
        o1, o2 = op_order[1], op_order[2]
        p1 = shr[o1] + max(shr[o2] + half[o2] + ind[o2], half[o1] + ind[o1])
        p2 = shr[o2] + max(shr[o1] + half[o1] + ind[o1], half[o2] + ind[o2])
        onload = min(p1, p2)
        offload = 0.0
        for k in range(nk[2] - 1):
            offload += max(loadcc[2, k, DRAIN], loadcc[2, k + 1, UPDATE])
        drain = 0.0
        for a in range(systolic.shape[0]):
            drain += max(np.ceil(systolic_util(sx_all[i], sy_all[i], s_all[i], systolic[a])) - 1.0, 0.0)
        out[k_row, 0] = ideal + stall + onload + offload + drain
        out[k_row, 1] = ideal + stall
        out[k_row, 2] = stall
        out[k_row, 3] = onload
        out[k_row, 4] = offload
        out[k_row, 5] = drain


@compiled
def systolic_util(sx, sy, s, axis):
    """Units in use along a systolic axis: ``axis`` -1 = x, -2 = y (x/y fanout), else an array dim."""
    v = 1.0
    if axis == -1 or axis == -2:
        a = sx if axis == -1 else sy
        for li in range(a.shape[0]):
            for x in range(a.shape[1]):
                v *= a[li, x]
        return v
    for x in range(s.shape[1]):
        v *= s[axis, x]
    return v
