from __future__ import annotations

import numpy as np
import pytest

import codesign
from codesign.errors import ConfigError, RegistryError
from codesign.registry import Registry
from codesign.types import Design, EvalRecord, EvalState, Metrics, Objective


def test_design_is_a_value_object() -> None:
    a = Design({"x": 1, "y": "lut"})
    b = Design(y="lut", x=np.int64(1))
    assert a == b and hash(a) == hash(b) and a.key == b.key
    assert Design(x=2.0)["x"] == 2 and isinstance(Design(x=2.0)["x"], int)
    assert Design(x=0.5)["x"] == 0.5
    assert a.replace(x=3)["x"] == 3 and a["x"] == 1
    with pytest.raises(KeyError, match="no parameter 'z'"):
        a["z"]
    assert Design(x=1).key != Design(x=2).key


def test_objective_parse() -> None:
    assert Objective.parse("accuracy:max").direction.value == "max"
    assert Objective.parse("latency").direction.value == "min"
    assert Objective.parse({"name": "a", "direction": "max", "ref": 0}).ref == 0.0
    with pytest.raises(ConfigError, match="direction must be 'min' or 'max', but got 'up'"):
        Objective.parse("a:up")
    with pytest.raises(ConfigError):
        Objective.parse({"nam": "a"})


def test_metrics_and_record_round_trip() -> None:
    m = Metrics({"a": 1.0}, {"layers": {"l": {"x": 2}}}, {"cap": 0.5})
    assert not m.feasible
    rec = EvalRecord(Design(x=1), m, EvalState.INFEASIBLE, "tpe", 3, 0.25)
    back = EvalRecord.from_dict(rec.to_dict())
    assert back.design == rec.design and back.metrics.to_dict() == m.to_dict() and back.state is rec.state
    with pytest.raises(KeyError, match="have: a"):
        m["b"]


def test_registry_register_make_and_suggestions() -> None:
    reg = Registry("space")

    @reg.register("my-space")
    def factory(size: int = 2) -> list[int]:
        """A test space."""
        return list(range(size))

    assert reg.make("my-space", size=3) == [0, 1, 2]
    with pytest.raises(RegistryError, match="did you mean 'my-space'"):
        reg.make("my-spac")
    with pytest.raises(ConfigError, match=r"takes options \['size'\], but got unknown \['sise'\]"):
        reg.make("my-space", sise=3)
    with pytest.raises(ConfigError, match="already registered"):
        reg.register("my-space", lambda: None)
    assert reg.specs()[0].describe() == "A test space."


def test_lazy_entries_load_on_first_make() -> None:
    reg = Registry("agent")
    reg.register("lazy", "codesign.agents.random:RandomAgent")
    assert isinstance(reg.spec("lazy").entry, str)
    assert reg.spec("lazy").load().name == "random"
    reg.register("broken", "codesign.nothing_here:X")
    with pytest.raises(RegistryError, match="cannot be loaded"):
        reg.spec("broken").load()


def test_every_builtin_entry_resolves() -> None:
    for kind in codesign.registry.__globals__["KINDS"]:
        for spec in codesign.registry(kind).specs():
            assert callable(spec.load()), f"{kind} {spec.name} does not load"


def test_import_codesign_is_light() -> None:
    import subprocess
    import sys

    code = "import sys, codesign; print(','.join(m for m in ('torch', 'optuna', 'botorch', 'gymnasium') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"import codesign pulled in heavy modules: {out}"
