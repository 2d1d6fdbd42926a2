"""ZigZag's latency semantics (``latency: zigzag``): every term against ZigZag's own on its
example runs, the window union against brute force, and the Timeloop default left alone."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.evaluators.cost import arch as A
from codesign.evaluators.cost import mapping as Mp
from codesign.evaluators.cost import model as M
from codesign.evaluators.cost import problem as P
from codesign.evaluators.cost.validate import REFERENCES, run_all
from codesign.evaluators.cost.zigzag_kernel import window_union

ZIGZAG = sorted(REFERENCES.glob("zigzag-*.yaml"))


def test_every_latency_term_matches_zigzag():
    """Stall, on-loading, off-loading and systolic drain of each ZigZag case, term by term."""
    assert len(ZIGZAG) >= 70
    worst = 0.0
    for f in ZIGZAG:
        d = yaml.safe_load(f.read_text())
        arch = A.from_dict({**d["arch"], "latency": "zigzag"})
        r = M.evaluate(P.from_dict(d["problem"]), arch, Mp.from_list(d["mapping"]))
        ours, ref = r["latency_terms"], d["reference"]
        for k, z in (("stall", "stall_slack_comb"), ("onloading", "onloading"), ("offloading", "offloading"),
                     ("systolic_drain", "systolic_drain")):
            assert ours[k] == pytest.approx(ref[z], abs=1.0), (f.name, k)
        worst = max(worst, abs(r["cycles"] / ref["latency_total2"] - 1))
    assert worst < 1e-9


def test_latency_family_matches_cycles_and_keeps_timeloop_default():
    rows = run_all(["zigzag-latency"])
    assert all(abs(r["cycles_err"]) <= 0.01 for r in rows) and not [r for r in rows if r["status"] == "miss"]
    assert all(r["case"].endswith("@zigzag-latency") for r in rows)
    default = {r["case"]: r for r in run_all(["zigzag"])}
    assert sum(abs(r["cycles_err"]) > 0.01 for r in default.values()) >= 20  # the port-period misses remain there
    assert all(r["zigzag"]["compute_phase_err"] == pytest.approx(0.0, abs=1e-9) for r in rows)


def _brute_union(per, allow, count):
    big = int(max(per))
    covered = np.zeros(big, dtype=bool)
    for p, a in zip(per, allow):
        for start in range(0, big, int(p)):
            covered[start:start + int(a)] = True
    return covered.sum() * count[int(np.argmax(per))]


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=2, max_size=5), st.data())
def test_window_union_equals_brute_force(factors, data):
    periods = np.cumprod(factors).astype(float)  # nested periods, as prefix products of one loop nest
    chosen = data.draw(st.lists(st.sampled_from(list(periods)), min_size=2, max_size=5))
    per = np.array(chosen)
    allow = np.array([data.draw(st.integers(0, int(p) - 1)) for p in per], dtype=float)
    count = np.full(len(per), 5.0)
    assert window_union(per, allow, count) == _brute_union(per, allow, count)
