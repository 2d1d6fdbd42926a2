"""The heuristic mapper scores each mapping once: repeated bottom-up candidates and children equal
to a mapping scored in an earlier round are dropped before scoring, and the result is the same
as scoring them (the best of a set does not change when repeats leave it)."""

from __future__ import annotations

import numpy as np

from codesign.evaluators.cost import mapper as MP
from codesign.evaluators.cost import model
from codesign.evaluators.cost import problem as P
from codesign.evaluators.cost.bench import load_arch
from codesign.evaluators.cost.candidates import score

KW = {"samples": 0, "greedy": 120, "rounds": 4, "keep": 8, "children": 6}
CONV = {"op": "conv", "dims": {"B": 1, "C": 32, "M": 64, "R": 3, "S": 3, "P": 14, "Q": 14}}


def test_row_keys_ignore_the_order_of_unit_loops_and_tell_real_changes_apart():
    arch = load_arch("zigzag")
    arr = MP.sample_greedy(P.from_dict(CONV), arch, 50, np.random.default_rng(0))
    seg = np.zeros(len(arr["T"]), dtype=np.int64)
    keys = MP.row_keys(arr, seg)
    moved = {k: v.copy() for k, v in arr.items()}
    unit = moved["T"][0] == 1  # reorder only loops of factor 1: the same mapping
    moved["rank"][0][unit] = moved["rank"][0][unit][::-1] + 100
    assert MP.row_keys(moved, seg)[0] == keys[0]
    other = {k: v.copy() for k, v in arr.items()}
    li, d = np.argwhere(other["T"][0] > 1)[0]
    other["T"][0, li, d] /= 2  # a different tiling
    assert MP.row_keys(other, seg)[0] != keys[0]
    assert MP.row_keys(arr, seg + 1)[0] != keys[0]  # another problem's row


def test_equal_rows_get_equal_keys_wherever_they_sit_in_a_batch():
    """A BLAS product rounds a row by its position in the batch; the keys must not."""
    arch = load_arch("zigzag")
    arr = MP.sample_greedy(P.from_dict(CONV), arch, 37, np.random.default_rng(5))
    for n in (1, 3, 50, 203, 1000):
        rows = np.random.default_rng(n).integers(0, 37, n)
        keys = MP.row_keys(MP.take(arr, rows), np.zeros(n, dtype=np.int64))
        alone = MP.row_keys(arr, np.zeros(37, dtype=np.int64))
        np.testing.assert_array_equal(keys, alone[rows])


def test_each_mapping_is_scored_once_per_search(monkeypatch):
    arch = load_arch("zigzag")
    problems = [P.from_dict(CONV), P.from_dict({"op": "gemm", "dims": {"M": 8, "N": 64, "K": 64}})]
    scored: list[np.ndarray] = []
    real = MP.count_arrays

    def spy(problem, arch_, arr, problems=None, rows=None, **kw):
        seg = np.zeros(len(arr["T"]), dtype=np.int64) if rows is None else np.asarray(rows)
        scored.append(MP.row_keys(arr, seg) + 1e6 * problem_arrays_id(problems or [problem], seg))
        return real(problem, arch_, arr, problems=problems, rows=rows, **kw)

    ids: dict[int, int] = {}

    def problem_arrays_id(probs, seg):
        return np.array([ids.setdefault(id(probs[s]), len(ids)) for s in seg], dtype=float)

    monkeypatch.setattr(MP, "count_arrays", spy)
    for p in problems:
        ids.clear()
        scored.clear()
        r = MP.heuristic(p, arch, "edp", **KW)
        search = np.concatenate(scored)  # every candidate counted (the final choice is re-scored apart)
        assert len(np.unique(search)) == len(search) == r.evaluated
        assert r.feasible


def test_dropping_repeats_keeps_every_distinct_score():
    arch = load_arch("zigzag")
    p = P.from_dict(CONV)
    base = MP.sample_greedy(p, arch, 100, np.random.default_rng(3))
    arr = MP.concat([base, MP.take(base, np.random.default_rng(4).integers(0, 100, 60))])  # 60 repeats
    keys = MP.row_keys(arr, np.zeros(len(arr["T"]), dtype=np.int64))
    seen: set[float] = set()
    unique = MP._fresh(keys, seen)
    assert len(unique) <= 100 and list(unique) == sorted(unique)
    full = score(model.evaluate_arrays(p, arch, arr))
    kept = score(model.evaluate_arrays(p, arch, MP.take(arr, unique)))
    assert kept.min() == full.min()
    assert set(full.tolist()) == set(kept.tolist())
    assert seen == set(keys[unique].tolist())
    again = MP._fresh(keys, seen)  # everything scored before: nothing is new
    assert len(again) == 0


def _moves_reference(arr, u):
    """The local moves written with NumPy array operations (the mapper's earlier implementation)."""
    out = {k: v.copy() for k, v in arr.items()}
    n, nl, nd = out["T"].shape
    rows = np.arange(n)
    m = max(nl, 2) - 1
    shift = 1 + np.minimum((u[:, -5] * m).astype(np.int64), m - 1)
    level, a, b = ((u[:, -k] * size).astype(np.int64) for k, size in ((4, nl), (3, nd), (2, nd)))
    pick = np.argmax(np.where(out["T"].reshape(n, -1) > 1, u[:, :nl * nd], -1.0), axis=1)
    src, d = pick // nd, pick % nd
    dst = (src + shift) % nl if nl > 1 else src
    ft = out["T"][rows, src, d]
    primes = np.array([float(next((p for p in range(2, int(f) + 1) if int(f) % p == 0), 1)) for f in ft])
    out["T"][rows, src, d] = ft / primes
    out["T"][rows, dst, d] *= primes
    swap = u[:, -1] < 0.5
    ra, rb = out["rank"][rows, level, a].copy(), out["rank"][rows, level, b].copy()
    out["rank"][rows[swap], level[swap], a[swap]] = rb[swap]
    out["rank"][rows[swap], level[swap], b[swap]] = ra[swap]
    return out


def test_compiled_local_moves_match_the_array_formulation():
    arch = load_arch("zigzag")
    arr = MP.sample_greedy(P.from_dict(CONV), arch, 300, np.random.default_rng(8))
    arr["T"][:5] = 1.0  # rows with no loop to move keep their factors
    n, nl, nd = arr["T"].shape
    u = np.random.default_rng(9).random((n, nl * nd + 5))
    want = _moves_reference(arr, u)
    got = MP._mutate({k: v.copy() for k, v in arr.items()}, u)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k])
    assert np.all(np.prod(got["T"], axis=1) == np.prod(arr["T"], axis=1))  # factors moved, none lost
    assert (got["T"] != arr["T"]).any(axis=(1, 2))[5:].all()
