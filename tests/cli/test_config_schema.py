"""``codesign run``'s YAML config is validated by a schema (pydantic): one line that names the
exact place in the document and what must hold there (issue 16, item 12)."""

from __future__ import annotations

import pytest

from codesign.cli.main import main

PROBLEM = "problem: {space: quant, workload: digits-cnn, evaluators: EVALS, objectives: [latency_ms]}"


@pytest.mark.parametrize("text, message", [
    ("budget: 0", "budget must be an integer >= 1, but got 0"),
    ("budget: true", "budget must be an integer, but got True"),
    ("seed: 1.5", "seed must be an integer, but got 1.5"),
    ("budgett: 3", "config keys must be among ['agent', 'agent_kwargs', 'batch_size', 'budget', 'constraints', "
                   "'eval_timeout', 'executor', 'max_accuracy_drop', 'name', 'plugins', 'problem', 'ray_address', "
                   "'seed', 'space', 'store', 'worker', 'workers'], but got unknown 'budgett' (did you mean 'budget'?)"),
    ("constraints: [area_mm2 <= 2, 3]", "constraints[1] must be a non-empty string, but got 3"),
    ("agent: {name: tpe, kwargz: {}}", "config agent keys must be among ['kwargs', 'name'], but got unknown 'kwargz' "
                                       "(did you mean 'kwargs'?)"),
    ("agent: {kwargs: {n_startup_trials: 3}}", "agent must have 'name'; given keys ['kwargs']"),
    ("agent: [tpe]", "agent must be a name or a mapping, but got ['tpe']"),
    ("executor: slurm", "executor must be one of inline, process or ray, but got 'slurm'"),
    ("plugins: [a.py, 3]", "plugins[1] must be a non-empty string, but got 3"),
    (PROBLEM.replace("EVALS", "[roofline, {name: cost-model, kwargs: 3}]"),
     "problem.evaluators[1].kwargs must be a mapping, but got 3"),
    (PROBLEM.replace("EVALS", "[roofline, {name: cost-model, kwarg: {}}]"),
     "config problem.evaluators[1] keys must be among ['kwargs', 'name'], but got unknown 'kwarg' "
     "(did you mean 'kwargs'?)"),
    (PROBLEM.replace("EVALS", "[]"), "problem.evaluators must be a non-empty list, but got []"),
    (PROBLEM.replace("EVALS", "[roofline]").replace("objectives", "objectivs"),
     "config problem keys must be among ['bounds', 'constraints', 'description', 'evaluators', 'name', 'objectives', "
     "'space', 'workload'], but got unknown 'objectivs' (did you mean 'objectives'?)"),
    (PROBLEM.replace("EVALS", "[roofline]").replace("[latency_ms]", "[latency_ms, 7]"),
     "problem.objectives[1] must be a name or a mapping, but got 7"),
])
def test_config_errors_name_the_place(tmp_path, capsys, text: str, message: str) -> None:
    cfg = tmp_path / "run.yaml"
    cfg.write_text(text + "\n")
    store = tmp_path / "store"
    code = main(["run", str(cfg), "--store", str(store)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert err == f"codesign: error: {message}\n"
    assert not store.exists()
