"""Multi-fidelity accuracy: screening, promotion of front candidates, full-fidelity fronts."""

from __future__ import annotations

from typing import Any

import pytest

from codesign.problems.fidelity import MultiFidelity
from codesign.results.summary import full_fidelity, pareto_records, run_summary
from codesign.types import Design, EvalRecord, EvalState, Metrics, Objective

OBJ = (Objective("accuracy", "max", ref=0.0), Objective("latency_ms", "min"))


class FakeProbe:
    """Accuracy = bits / 10 (+ an offset at the screening size); counts its measurements."""

    primary, higher_is_better, name, version = "accuracy", True, "fake-probe", "1"
    metrics = ("accuracy", "accuracy_degradation")

    def __init__(self, n: int, offset: float = 0.0) -> None:
        self.eval_size, self.offset, self.measured, self._memo = n, offset, 0, {}
        self.float_result = {"n": n, "values": {"accuracy": 0.9}}

    def bit_config(self, d: Any) -> tuple:
        return ((d["w_bits.all"], d["a_bits.all"]),)

    def cached_result(self, config: tuple) -> Any:
        return self._memo.get(config)

    def evaluate(self, d: Any) -> Metrics:
        config = self.bit_config(d)
        cached = config in self._memo
        if not cached:
            self.measured += 1
            self._memo[config] = {"accuracy": d["w_bits.all"] / 10 + self.offset}
        acc = self._memo[config]["accuracy"]
        return Metrics({"accuracy": acc, "accuracy_degradation": 0.9 - acc},
                       {"stderr": 0.001, "n_eval": self.eval_size, "cached": cached})


class FakeCost:
    name, version, metrics = "cost", "1", ("latency_ms",)

    def evaluate_many(self, designs: Any) -> list[Metrics]:
        return [Metrics({"latency_ms": float(d["lat"])}, {"layers": {}}) for d in designs]


def design(w: int, lat: float) -> Design:
    return Design({"w_bits.all": w, "a_bits.all": 8, "lat": lat})


def test_promotes_only_designs_that_could_enter_the_front() -> None:
    screen, full = FakeProbe(100, offset=0.01), FakeProbe(1000)
    mf = MultiFidelity(FakeCost(), screen, full, OBJ)
    first = mf.evaluate(design(8, 5.0))
    assert first["fidelity"] == 1.0 and first["accuracy"] == pytest.approx(0.8)
    assert first["accuracy_screen"] == pytest.approx(0.81) and first.breakdown["fidelity"]["promoted"]
    worse = mf.evaluate(design(4, 6.0))  # less accurate and slower than an archived full point
    assert worse["fidelity"] == pytest.approx(0.1) and worse["accuracy"] == pytest.approx(0.41)
    assert not worse.breakdown["fidelity"]["promoted"]
    faster = mf.evaluate(design(4, 1.0))  # a new trade-off: measured in full
    assert faster["fidelity"] == 1.0 and faster["accuracy"] == pytest.approx(0.4)
    again = mf.evaluate(design(8, 9.0))  # dominated, but its bits are known in full: free full value
    assert again["fidelity"] == 1.0 and again.breakdown["fidelity"]["full_from_cache"]
    assert full.measured == 2 and mf.full_probes == 2


def record(n: int, acc: float, lat: float, fidelity: float | None) -> EvalRecord:
    values = {"accuracy": acc, "latency_ms": lat}
    if fidelity is not None:
        values["fidelity"] = fidelity
    return EvalRecord(Design({"x": n}), Metrics(values), EvalState.COMPLETE, number=n)


def test_fronts_use_full_fidelity_records_only() -> None:
    recs = [record(0, 0.8, 5.0, 1.0), record(1, 0.95, 1.0, 0.1), record(2, 0.7, 2.0, None)]
    assert [r.number for r in full_fidelity(recs)] == [0, 2]
    assert [r.number for r in pareto_records(recs, OBJ)] == [0, 2]  # the screened optimist is no front point
    summary = run_summary(recs, OBJ, [0.0, 10.0])
    assert summary["screened"] == 1 and summary["pareto_size"] == 2


@pytest.mark.slow
def test_fmnist_accel_multi_fidelity_end_to_end() -> None:
    pytest.importorskip("torch")
    from codesign.builtins import register_builtins
    from codesign.registry import REGISTRIES

    register_builtins()
    problem = REGISTRIES["problem"].make("fmnist-accel", fidelity="multi", eval_size=600, screen_eval_size=150)
    d = dict(problem.space.default())
    first = problem.evaluate(d)
    assert first["fidelity"] == 1.0 and first.breakdown["fidelity"]["full_n"] == 600
    low = dict(d, **{k: 2 for k in d if k.startswith(("w_bits.", "a_bits."))}, array_rows=4, array_cols=4)
    m = problem.evaluate(low)  # 2-bit everywhere on a tiny array: worse accuracy, not faster
    if m["fidelity"] < 1.0:
        assert m.breakdown["fidelity"]["screen_n"] == 150 and m["fidelity"] == pytest.approx(0.25)
    assert 0.0 <= m["accuracy"] <= 1.0 and "accuracy_screen" in m.values
