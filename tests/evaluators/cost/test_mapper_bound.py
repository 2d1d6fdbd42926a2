"""The heuristic mapper runs ZigZag's latency model only on candidates that can still win: the
counts phase bounds every row's energy and cycles from below (:meth:`Counted.lower_bounds`),
and a row whose bound is worse than the elite it would have to enter is dropped. The bound must
hold on every architecture and mapping, and the search must return what it returned without it."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from codesign.evaluators.cost import arch as A
from codesign.evaluators.cost import mapper as MP
from codesign.evaluators.cost import model as M
from codesign.evaluators.cost import problem as P
from codesign.evaluators.cost.bench import load_arch
from codesign.evaluators.cost.canonical import canonical
from codesign.evaluators.cost.validate import REFERENCES

KW = {"samples": 0, "greedy": 120, "rounds": 4, "keep": 8, "children": 6}
CONV = {"op": "conv", "dims": {"B": 1, "C": 32, "M": 64, "R": 3, "S": 3, "P": 14, "Q": 14}}


def _cases() -> list:
    """One ZigZag reference case per architecture (edge TPU, generic array, meta prototype, Tesla
    NPU, TPU): their problems and hardware as the latency model's reference runs give them."""
    by_arch: dict[str, object] = {}
    for f in sorted(REFERENCES.glob("zigzag-*.yaml")):
        by_arch.setdefault(f.name.split("-")[1], f)
    return sorted(by_arch.values())


@pytest.mark.parametrize("case", _cases(), ids=lambda f: f.name.split("-")[1])
def test_lower_bounds_never_exceed_the_evaluation(case):
    d = yaml.safe_load(case.read_text())
    arch = A.from_dict({**d["arch"], "latency": "zigzag"})
    problem = P.from_dict(d["problem"])
    rng = np.random.default_rng(7)
    arr = MP.concat([MP.sample(problem, arch, 300, rng), MP.sample_greedy(problem, arch, 100, rng)])
    counted = M.count_arrays(problem, arch, arr)
    energy, cycles = counted.lower_bounds()
    full = counted.finish()
    assert np.all(cycles <= full["cycles"]) and np.all(energy <= full["energy_pj"])
    assert np.any(cycles < full["cycles"])  # the bound is not the evaluation itself here
    keep = rng.permutation(len(cycles))[:57]
    part = counted.totals(keep)  # the latency model run on a subset gives those rows' own results
    for k in ("energy_pj", "cycles", "capacity_over"):
        np.testing.assert_array_equal(part[k], full[k][keep])
    sub = counted.finish(keep)
    np.testing.assert_array_equal(sub["counts4"], full["counts4"][keep])
    np.testing.assert_array_equal(sub["latency_terms"]["stall"], full["latency_terms"]["stall"][keep])


def test_bounds_are_the_evaluation_under_timeloop_latency():
    arch = load_arch("timeloop")
    problem = P.from_dict(CONV)
    counted = M.count_arrays(problem, arch, MP.sample(problem, arch, 200, np.random.default_rng(1)))
    energy, cycles = counted.lower_bounds()
    full = M.evaluate_arrays(problem, arch, MP.sample(problem, arch, 200, np.random.default_rng(1)))
    assert counted.exact
    np.testing.assert_array_equal(energy, full["energy_pj"])
    np.testing.assert_array_equal(cycles, full["cycles"])


@pytest.mark.parametrize("objective", ["edp", "cycles", "energy"])
def test_the_search_returns_what_it_returned_without_the_bound(monkeypatch, objective):
    arch = load_arch("zigzag")
    problems = [P.from_dict(CONV), P.from_dict({**CONV, "dims": {**CONV["dims"], "C": 64, "P": 7, "Q": 7}}),
                P.from_dict({"op": "gemm", "dims": {"M": 8, "N": 64, "K": 64}})]
    latency_rows = []
    real = M.Counted.totals

    def spy(self, keep=None):
        latency_rows.append(len(self.titer) if keep is None else len(keep))
        return real(self, keep)

    monkeypatch.setattr(M.Counted, "totals", spy)
    pruned = MP.heuristic_many(problems, arch, objective, **KW)
    counted = sum(r.evaluated for r in pruned)
    ran = sum(latency_rows)
    monkeypatch.setattr(MP, "_bound", lambda counted, objective: np.full(len(counted.titer), -np.inf))
    plain = MP.heuristic_many(problems, arch, objective, **KW)
    for a, b in zip(pruned, plain):
        assert (a.mapping, a.score, a.cycles, a.energy_pj, a.evaluated) == (b.mapping, b.score, b.cycles, b.energy_pj,
                                                                            b.evaluated)
    assert ran < counted  # some candidates were dropped before the latency model


def test_mixed_canonical_mappings_pair_each_array_dataflow_with_every_stationarity():
    arch = load_arch("zigzag")
    problem = P.from_dict(CONV)
    plain, mixed = canonical(problem, arch), canonical(problem, arch, mixed=True)
    assert len(mixed["T"]) == 3 * len(plain["T"])
    for k in plain:  # the plain dataflows first, unchanged
        np.testing.assert_array_equal(mixed[k][:len(plain[k])], plain[k])
    keys = MP.row_keys(mixed, np.zeros(len(mixed["T"]), dtype=np.int64))
    assert len(set(keys.tolist())) > len(plain["T"])


@pytest.mark.parametrize("layer", ["layer2-layer2-0-conv1", "layer3-layer3-0-conv1"])
def test_mixed_canonical_seeds_hold_zigzags_weight_stationary_array_under_output_stationary_loops(layer):
    """ResNet-18 on tpu_like: LOMA's mapping unrolls M x C on the array (weight stationary) with
    R, S, C innermost (outputs stationary). No plain canonical mapping pairs the two; a mixed
    one does, and scores LOMA's EDP under our model."""
    from codesign.evaluators.cost import mapping as Mp
    from codesign.evaluators.cost.candidates import score

    d = yaml.safe_load((REFERENCES / f"zigzag-tpu_like-resnet18-{layer}-conv.yaml").read_text())
    arch, problem = A.from_dict({**d["arch"], "latency": "zigzag"}), P.from_dict(d["problem"])
    theirs = M.evaluate(problem, arch, Mp.from_list(d["mapping"]))
    edp = theirs["energy_pj"] * theirs["cycles"]
    assert score(M.evaluate_arrays(problem, arch, canonical(problem, arch))).min() > 1.2 * edp
    assert score(M.evaluate_arrays(problem, arch, canonical(problem, arch, mixed=True))).min() <= edp * (1 + 1e-9)
