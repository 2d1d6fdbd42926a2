"""The public API a new user meets (issue 16): exports, gymnasium registration, the env list,
the documented plugin example, DataFrames of results."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

import codesign

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _python(code: str, cwd: pathlib.Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300,
                          cwd=cwd or ROOT)


def test_problem_and_base_evaluator_are_exported() -> None:
    from codesign import BaseEvaluator, ParamUse, Problem  # noqa: F401

    for name in ("Problem", "BaseEvaluator", "Evaluator", "ParamUse", "Space", "Workload", "open_store", "RunResult",
                 "register_problem", "register_evaluator"):
        assert name in codesign.__all__
        assert getattr(codesign, name) is not None


@pytest.mark.parametrize("code", [
    # codesign first, gymnasium later: the first import of gymnasium registers the ids
    "import codesign, gymnasium; env = gymnasium.make('codesign/Design-v0', problem='digits-accel-small')",
    # gymnasium first
    "import gymnasium, codesign; env = gymnasium.make('codesign/Layerwise-v0', problem='digits-accel-small')",
    # no codesign import at all: gymnasium's module-prefixed id imports it
    "import gymnasium; env = gymnasium.make('codesign:codesign/Design-v0', problem='digits-accel-small')",
])
def test_gymnasium_make_without_importing_codesign_envs(code: str) -> None:
    proc = _python(code + "; print(type(env.unwrapped).__name__)")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() in ("DesignEnv", "LayerwiseEnv")


def test_import_codesign_does_not_import_gymnasium() -> None:
    proc = _python("import sys, codesign; print('gymnasium' in sys.modules)")
    assert proc.returncode == 0 and proc.stdout.strip() == "False", proc.stderr


def test_listed_envs_build_the_way_the_list_says(capsys) -> None:
    import gymnasium

    from codesign.cli.main import main

    assert main(["list", "envs", "--json"]) == 0
    envs = json.loads(capsys.readouterr().out)["envs"]
    assert {e["name"] for e in envs} >= {"codesign/Design-v0", "codesign/Layerwise-v0", "codesign/MultiAgent-v0"}
    for e in envs:
        if e["build"] == "gymnasium.make":
            env = gymnasium.make(e["name"], problem="digits-accel-small")
        else:
            assert e["build"].startswith("codesign.make_env")
            env = codesign.make_env(e["name"], problem="digits-accel-small")
        env.close()
    multi = next(e for e in envs if e["name"] == "codesign/MultiAgent-v0")
    assert "PettingZoo" in multi["build"]
    with pytest.raises(gymnasium.error.Error, match="codesign.make_env"):
        gymnasium.make("codesign/MultiAgent-v0", problem="digits-accel-small")


def _python_blocks(page: pathlib.Path) -> str:
    return "\n\n".join(re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S))


def test_custom_page_is_a_complete_runnable_plugin(tmp_path: pathlib.Path) -> None:
    """The docs' plugin example names every parameter its evaluators read (no ``...``), registers
    a space, an evaluator and a problem, and runs."""
    code = _python_blocks(ROOT / "docs" / "guide" / "custom.md")
    assert "..." not in code.replace("problem=...", "")
    plugin = tmp_path / "my_plugin.py"
    plugin.write_text(code.split("result = codesign.run")[0], encoding="utf-8")
    check = (
        "import warnings, codesign\n"
        "from codesign.errors import ParameterWarning\n"
        f"codesign.load_plugin({str(plugin)!r})\n"
        "warnings.simplefilter('error', ParameterWarning)\n"
        "p = codesign.make_problem('digits-accel').with_space(codesign.make_space('my-edge'))\n"
        "assert 'peak-throughput' in codesign.registry('evaluator')\n"
        f"r = codesign.run('my-edge-digits', agent='random', budget=6, seed=0, store={str(tmp_path / 's')!r})\n"
        "df = r.dataframe(); front = r.front()\n"
        "assert len(df) == 6 and {'metric.peak_gops', 'param.w_bits.conv1', 'state'} <= set(df.columns)\n"
        "assert 1 <= len(front) <= 6 and set(front['state']) == {'complete'}\n"
        "print('ok')\n"
    )
    proc = _python(check, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stderr[-3000:]


def test_dataframes_of_runs_and_stores(tmp_path: pathlib.Path, synth_plugin: str) -> None:
    result = codesign.run("synth-test", agent="random", budget=10, seed=1, store=str(tmp_path / "s"))
    df = result.dataframe()
    assert len(df) == 10 and list(df["number"]) == sorted(df["number"])
    assert {"param.pe_type", "metric.quality", "metric.cost"} <= set(df.columns)
    front = result.front()
    assert len(front) == len(result.pareto())
    assert list(front["metric.quality"]) == sorted(front["metric.quality"], reverse=True)  # quality is max
    store = codesign.open_store(str(tmp_path / "s"))
    run = store.open_run(result.name)
    assert run.dataframe().equals(df)
    assert run.front()["design_key"].tolist() == front["design_key"].tolist()
    assert len(store.dataframe()) == 10


def test_missing_extra_is_one_line_naming_it() -> None:
    from codesign.errors import MissingExtra, require

    with pytest.raises(MissingExtra, match=r"pip install 'codesign\[dashboard\]'"):
        require("no_such_package_xyz", "dashboard", "codesign dashboard")
