"""Per-problem objective bounds: declared or derived from the problem alone, cached, fixed."""

from __future__ import annotations

import json

import numpy as np
import pytest

from codesign.errors import ConfigError
from codesign.evaluators import bounds as B
from codesign.evaluators.composite import Problem
from codesign.results.pareto import Normalization, normalized_hypervolume
from codesign.testing.agents import OBJECTIVES, conformance_space, synthetic_metrics
from codesign.types import Metrics


class _Synth:
    name, version, metrics = "synth", "1", ("quality", "cost")

    def __init__(self) -> None:
        self.calls = 0

    def evaluate_many(self, designs):  # noqa: ANN001, ANN201
        self.calls += len(designs)
        return [Metrics(synthetic_metrics(d).values) for d in designs]


def _problem(**kw) -> Problem:  # noqa: ANN003
    return Problem("synth-bounds", conformance_space(), [_Synth()], OBJECTIVES, **kw)


def test_derived_bounds_are_deterministic_cached_and_from_the_problem_alone(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CODESIGN_CACHE", str(tmp_path))
    p = _problem()
    a = p.objective_bounds()
    evals = p.evaluators[0].calls
    assert evals == B.SAMPLES + 1
    b = _problem().objective_bounds()  # a fresh problem object of the same version: read from the cache
    assert a == b
    assert list((tmp_path / "bounds").iterdir())
    c = B.objective_bounds(_problem(), cache=False)  # derived again: identical
    assert c == a
    by = {o["name"]: o for o in a["objectives"]}
    assert by["quality"]["ideal"] > by["quality"]["nadir"]  # max objective
    assert by["cost"]["ideal"] < by["cost"]["nadir"]
    assert by["cost"]["scale"] == "log"  # cost spans decades in this space
    # every sampled design lies inside the box on the nadir side
    designs = [p.space.default()] + [p.space.sample(np.random.default_rng([B.SAMPLE_SEED, i])) for i in range(B.SAMPLES)]
    y = np.array([[synthetic_metrics(d).values[o.name] for o in OBJECTIVES] for d in designs])
    n = Normalization.from_dict(a).normalize(y)
    assert np.all(n < 1.0)
    assert 0.0 < normalized_hypervolume(y, Normalization.from_dict(a)) < 1.0


def test_declared_bounds_win_and_skip_sampling(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CODESIGN_CACHE", str(tmp_path))
    decl = {"quality": {"ideal": 1.0, "nadir": 0.0}, "cost": {"ideal": 0.1, "nadir": 1e4, "scale": "log"}}
    p = _problem(bounds=decl)
    out = p.objective_bounds()
    assert p.evaluators[0].calls == 0
    assert out["rule"] == "declared" and all(o["source"] == "declared" for o in out["objectives"])
    assert out["objectives"][1]["scale"] == "log"
    half = _problem(bounds={"quality": {"ideal": 1.0, "nadir": 0.0}}).objective_bounds()
    assert [o["source"] for o in half["objectives"]] == ["declared", "derived"]
    assert p.with_space(p.space).bounds == p.bounds


@pytest.mark.parametrize("bad, match", [
    ({"nope": {"ideal": 0, "nadir": 1}}, "unknown"),
    ({"cost": {"ideal": 5, "nadir": 1}}, "ideal better than nadir"),
    ({"cost": {"ideal": 0, "nadir": 1, "scale": "log"}}, "positive on a log scale"),
    ({"cost": (0, 1)}, "must be"),
])
def test_bad_declared_bounds(bad, match) -> None:  # noqa: ANN001
    with pytest.raises(ConfigError, match=match):
        _problem(bounds=bad)


def test_derive_rule() -> None:
    from codesign.types import Objective

    lin = B.derive(Objective("e", "min"), np.array([2.0, 4.0, 6.0]))
    assert lin == {"ideal": 0.0, "nadir": pytest.approx(6.4), "scale": "linear"}  # 2 − 0.5·4 clamped at 0
    acc = B.derive(Objective("a", "max"), np.array([0.5, 0.9]))
    assert acc["ideal"] == pytest.approx(1.1) and acc["nadir"] == pytest.approx(0.46)
    lg = B.derive(Objective("l", "min"), np.array([1e-3, 1.0]))
    assert lg["scale"] == "log" and lg["ideal"] == pytest.approx(10 ** -4.5) and lg["nadir"] == pytest.approx(10 ** 0.3)


def test_cache_file_names_the_version(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CODESIGN_CACHE", str(tmp_path))
    p = _problem()
    p.objective_bounds()
    (f,) = (tmp_path / "bounds").iterdir()
    assert json.loads(f.read_text())["version"] == p.version
