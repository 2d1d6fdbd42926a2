"""One-line errors instead of tracebacks or silent exits for bad run inputs (issue 14, item 10),
and a bounded stored reason for a huge exception text (item 4)."""

from __future__ import annotations

import os
import pathlib

import pytest

from codesign.cli.main import main

PLUGIN = str(pathlib.Path(__file__).parent.parent / "plugins" / "synth_plugin.py")


def _run(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    store = tmp_path / "store"
    code = main(["run", "--plugin", PLUGIN, "--problem", "synth-test", "--budget", "3", "--quiet",
                 "--store", str(store), *extra])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "1e-9"])
def test_bad_eval_timeouts_are_one_line(tmp_path, capsys, value) -> None:
    code, err = _run(tmp_path, capsys, "--eval-timeout", value)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "--eval-timeout must be a finite number of seconds" in err and repr(float(value)) in err
    assert not (tmp_path / "store").exists()


def test_a_tiny_timeout_fails_evaluations_but_not_the_run(tmp_path, synth_plugin) -> None:
    import codesign
    from codesign.executors import InlineExecutor

    res = codesign.run("synth-test", "random", budget=4, seed=0, store=str(tmp_path), executor=InlineExecutor(1e-3))
    assert len(res.records) == 4  # a timeout firing at once is a failed record, never the end of the run


@pytest.mark.parametrize("opts", [["--agent", "nsga2", "--agent-opt", "population_size=-1"],
                                  ["--agent", "tpe", "--agent-opt", "n_startup_trials=1e400"]])
def test_bad_agent_options_are_one_line(tmp_path, capsys, opts) -> None:
    code, err = _run(tmp_path, capsys, *opts)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert opts[1] in err and opts[3].split("=")[0] in err


@pytest.mark.parametrize("body,expect", [("raise RuntimeError('boom')", "failed while loading: RuntimeError: boom"),
                                         ("import sys\nsys.exit(3)", "called sys.exit(3)"),
                                         ("raise SystemExit", "called sys.exit(None)")])
def test_a_plugin_that_raises_or_exits_at_import(tmp_path, capsys, body, expect) -> None:
    plugin = tmp_path / "bad_plugin.py"
    plugin.write_text(body + "\n")
    code = main(["run", "--plugin", str(plugin), "--budget", "2", "--quiet", "--store", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and expect in err, err


def test_a_space_the_problem_cannot_build(tmp_path, capsys) -> None:
    # found by tests/cli/test_fuzz.py on main: a workload-based space for a problem without a workload
    code, err = _run(tmp_path, capsys, "--space", "quant")
    assert code == 2 and "space 'quant' cannot be built for problem 'synth-test'" in err, err
    assert not (tmp_path / "store").exists()


def test_a_huge_exception_text_is_stored_bounded(tmp_path, synth_plugin) -> None:
    import codesign
    from codesign.evaluators.composite import Problem
    from codesign.testing.agents import OBJECTIVES, conformance_space

    from codesign.evaluators.base import BaseEvaluator

    class HugeError(BaseEvaluator):
        name = "huge"
        metrics = ("quality", "cost")

        def evaluate(self, design):  # type: ignore[no-untyped-def]
            raise ValueError("head-" + "x" * 5_000_000 + "-tail")

    problem = Problem("huge", conformance_space(), [HugeError()], OBJECTIVES)
    res = codesign.run(problem, "random", budget=2, seed=0, store=str(tmp_path))
    err = res.records[0].error
    assert err.startswith("ValueError: head-") and err.endswith("-tail")
    assert len(err) < 4000 and "characters omitted" in err and "5000010" in err
    size = sum(f.stat().st_size for f in tmp_path.rglob("*") if f.is_file())
    assert size < 10**6, f"the store holds {size} bytes for two bounded failures"
