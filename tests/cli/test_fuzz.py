"""Hardening: random YAML configs and CLI arguments never give a traceback; a rejected input
exits 2 with one line and writes nothing."""

from __future__ import annotations

import os
import pathlib
import shutil

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codesign.cli.main import main
from codesign.cli.run import CONFIG_KEYS

PLUGIN = str(pathlib.Path(__file__).parent.parent / "plugins" / "synth_plugin.py")

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 4), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["synth-test", "digits-accel", "random", "tpe", "nsga2", "quant", "inline",
                                           "process", "main", "", "../x", "<script>", "nope"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=6)
keys = st.one_of(st.sampled_from(sorted(CONFIG_KEYS)), st.text(max_size=10))
configs = st.one_of(
    st.dictionaries(keys, values, max_size=6),
    st.fixed_dictionaries({}, optional={k: values for k in sorted(CONFIG_KEYS)}),
)

REGRESSIONS = ["space: quant", "eval_timeout: .nan", "agent_kwargs: 5", "plugins: 7", "name: 5", "worker: 3", "agent: {name: tpe, kwargs: 2}",
               "agent_kwargs: {1: 2}", "store: [1]", "problem: {workload: 3, space: q, evaluators: [r], objectives: [a]}"]


def _check(tmp: pathlib.Path, argv: list[str], capsys) -> None:
    store = tmp / "store"
    if store.exists():
        shutil.rmtree(store)
    code = main(argv + ["--store", str(store), "--quiet"])
    out, err = capsys.readouterr()
    assert code in (0, 2), (argv, code, err)
    assert "Traceback" not in err
    if code == 2:
        assert len(err.strip().splitlines()) == 1, err
        assert not store.exists(), f"rejected input {argv} wrote the store"


def test_known_bad_configs(tmp_path, capsys) -> None:
    for text in REGRESSIONS:
        path = tmp_path / "c.yaml"
        path.write_text(text + "\n")
        _check(tmp_path, ["run", str(path), "--plugin", PLUGIN, "--problem", "synth-test", "--budget", "2"], capsys)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cfg=configs)
def test_random_yaml_configs(tmp_path, capsys, cfg) -> None:
    cfg = dict(cfg)
    cfg.setdefault("problem", "synth-test")
    cfg["plugins"] = [PLUGIN]
    if isinstance(cfg.get("budget"), int) and cfg["budget"] > 3:
        cfg["budget"] = 3
    cfg.pop("store", None)
    cfg.pop("executor", None) if cfg.get("executor") in ("process", "ray") else None
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True))
    _check(tmp_path, ["run", str(path)], capsys)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=60))
def test_random_bytes_as_yaml(tmp_path, capsys, raw) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(raw)
    _check(tmp_path, ["run", str(path), "--plugin", PLUGIN, "--budget", "2"], capsys)


flags = st.sampled_from(["--agent", "--budget", "--seed", "--batch-size", "--workers", "--name", "--space",
                         "--problem", "--agent-opt", "--eval-timeout", "--worker", "--executor"])
args = st.lists(st.one_of(flags, st.text(max_size=8), st.integers(-2, 3).map(str)), max_size=6)


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=args)
def test_random_cli_arguments(tmp_path, capsys, argv) -> None:
    argv = list(argv)
    for i, a in enumerate(argv):
        if a == "--budget" and i + 1 < len(argv):
            argv[i + 1] = "2"
        if a in ("--workers", "--executor") and i + 1 < len(argv):
            argv[i + 1] = "inline" if a == "--executor" else "1"
    _check(tmp_path, ["run", "--plugin", PLUGIN, "--problem", "synth-test"] + argv, capsys)
