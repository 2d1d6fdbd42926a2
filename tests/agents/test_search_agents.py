"""The issue-6 agents beyond the conformance suite: runner-driven RL, nested HASCO, bit model,
and the agents benchmark's metrics."""

from __future__ import annotations

import itertools
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "envs"))
from envs_testlib import make_tiny_problem  # noqa: E402

import codesign  # noqa: E402
from codesign.agents.bits import BitModel  # noqa: E402
from codesign.runner import run  # noqa: E402
from codesign.types import EvalState  # noqa: E402


@pytest.fixture(scope="module")
def tiny():
    return make_tiny_problem()


@pytest.mark.parametrize("agent", ["marl", "sb3-ppo", "sb3-dqn", "haq", "mcts", "qlearning", "hasco"])
def test_runner_records_every_evaluation_once(agent, tiny, tmp_path) -> None:
    kwargs = {"outer_kwargs": {"n_init": 4, "fit_maxiter": 10, "enumerate_limit": 0, "n_candidates": 64}} if agent == "hasco" else {}
    res = run(tiny, agent, budget=12, seed=1, store=str(tmp_path / "s"), agent_kwargs=kwargs)
    assert len(res.records) == 12
    assert all(p.contains(r.design[p.name]) for r in res.records for p in tiny.space.params)


def test_driven_agent_receives_the_problem(tiny, tmp_path) -> None:
    res = run(tiny, "haq", budget=6, seed=0, store=str(tmp_path / "s"))
    assert res.agent["name"] == "haq"


def test_knapsack_is_exact_against_brute_force(tiny) -> None:
    bits = BitModel(tiny.space, tiny.workload)
    assert [g.key for g in bits.groups] == ["conv1", "dw2", "fc"]
    budget = bits.budget(0.4)
    got = bits.knapsack(budget)
    assert bits.cost(got) <= budget + 1e-6

    def err(v):
        return sum(g.weights * 4.0 ** -v[g.w_param] + g.inputs * 4.0 ** -v[g.a_param] for g in bits.groups)

    params = [p for g in bits.groups for p in (g.w_param, g.a_param)]
    best = min((dict(zip(params, combo)) for combo in itertools.product(*(tiny.space[p].values for p in params))
                if bits.cost(dict(zip(params, combo))) <= budget), key=err)
    assert err(got) == pytest.approx(err(best), rel=1e-9)


def test_action_wall_fits_the_budget(tiny) -> None:
    bits = BitModel(tiny.space, tiny.workload)
    design = tiny.space.sample(np.random.default_rng(0))
    top = codesign.Design({**design.to_dict(), **{p: 8 for g in bits.groups for p in (g.w_param, g.a_param)}})
    walled = bits.action_wall(top, bits.budget(0.3))
    assert bits.cost(walled) <= bits.budget(0.3)
    assert walled["w_bits.conv1"] == 8 or walled["a_bits.fc"] < 8  # lowered from the last layer first


def test_hasco_uses_the_mapper_hook(tiny) -> None:
    from codesign.agents.hasco import HASCOAgent

    seen = []

    def mapper(partial, mapping_space):
        seen.append(partial)
        return mapping_space.default().to_dict()

    agent = HASCOAgent(tiny.space, tiny.objectives, seed=0, problem=tiny, mapper=mapper,
                       outer_kwargs={"n_init": 3})
    designs = agent.ask(3)
    assert len(seen) == 3
    default = tiny.space.subspace("mapping").default()
    assert all(d[k] == default[k] for d in designs for k in default)
    agent.tell([codesign.types.EvalRecord(d, m, EvalState.COMPLETE if m.feasible else EvalState.INFEASIBLE)
                for d, m in zip(designs, tiny.evaluate_many(designs))])
    assert len(agent.outer.history) == 3


def test_bench_metrics() -> None:
    from codesign.results.agent_bench import AgentResult, evals_to_reach, lottery_spread, markdown_table, summarize

    r = AgentResult("a", traces=[[0.1, 0.5, 1.0], [0.2, 0.96]], overhead_s=[0.001], wall_s=[1.0],
                    lottery={"x": 1.0, "y": 0.5}, agent_time=[[0.1, 0.2, 0.3], [0.1, 0.4]])
    base = AgentResult("random", traces=[[0.1, 0.2, 0.3], [0.1, 0.2, 0.5]])
    rows = summarize([r, base], 3, best_hv=1.0, eval_s=1.0)
    assert rows[0]["ratio_median"] == pytest.approx(0.98)
    assert rows[0]["evals_to_95"] == pytest.approx(2.5)
    assert rows[0]["seconds_to_95"] == pytest.approx(((0.3 + 3) + (0.4 + 2)) / 2)  # overhead + k × eval_s
    assert rows[0]["vs_random"] == pytest.approx(0.98 - 0.4) and rows[0]["beats_random"]
    assert evals_to_reach([0, 0.5, 1], 0.9) == 3 and evals_to_reach([0], 1) is None
    assert lottery_spread({"x": 1.0, "y": 0.5}) == pytest.approx(0.5)
    table = markdown_table(rows, "t")
    assert "| `a` |" in table and "beats (+0.5800" in table


def test_bench_agents_cli(tmp_path, capsys) -> None:
    import json

    from codesign.cli.main import main

    rc = main(["bench", "agents", "--problem", "digits-accel-small", "--agents", "random,mcts", "--budget", "6",
               "--seeds", "1", "--lottery-budget", "0", "--out", str(tmp_path), "--json"])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert 0 < doc["exact_hv"] <= doc["best_known_hv"] <= 1 and {r["agent"] for r in doc["agents"]} == {"random", "mcts"}
    assert doc["problem_version"] == codesign.make_problem("digits-accel-small").version
    assert (tmp_path / "agents-digits-accel-small.md").exists() and (tmp_path / "agents-digits-accel-small.json").exists()
    assert doc["probe_device"] == "cpu" and doc["cpus"] >= 1 and doc["jobs"] == 1
    assert "probes on cpu" in (tmp_path / "agents-digits-accel-small.md").read_text()
    # the most one run of 6 evaluations can hold of the pooled front: its best 6 points
    assert 0 < doc["best_known_budget_hv"] <= doc["best_known_hv"]
    assert "Its best 6 points (chosen greedily for HV) hold" in (tmp_path / "agents-digits-accel-small.md").read_text()


def test_bench_variant_is_a_row_of_its_own_on_the_seeds_asked(tmp_path, capsys) -> None:
    """``--variant AGENT:KEY=VALUE`` adds a row of that agent with those arguments (its own code
    fingerprint), ``--first-seed`` moves the seeds, and the table's command says both."""
    import json

    from codesign.cli import agents_bench
    from codesign.cli.main import main

    rc = main(["bench", "agents", "--problem", "digits-accel-small", "--agents", "random", "--variant",
               "haq:noise_sigma=0.35,budgets=[0.25,1]", "--budget", "6", "--seeds", "2", "--first-seed", "3",
               "--store", str(tmp_path / "store"), "--out", str(tmp_path / "out"), "--json"])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    row = next(r for r in doc["agents"] if r["agent"] == "haq[noise_sigma=0.35,budgets=[0.25,1]]")
    assert row["base"] == "haq" and row["kwargs"] == {"noise_sigma": 0.35, "budgets": [0.25, 1]} and row["seeds"] == 2
    assert row["fingerprint"] == agents_bench.agent_fingerprint("haq", row["kwargs"]) != agents_bench.agent_fingerprint("haq", {})
    for r in doc["agents"]:  # the seeds' designs together dominate each seed's, and lie within the best-known front
        assert r["ratio_max"] - 1e-12 <= r["union_ratio"] <= 1 + 1e-12, r
    sidecars = sorted(p.name for p in (tmp_path / "store").rglob("bench-*.json"))
    assert len(sidecars) == 4 and all(n.endswith(("seed3.json", "seed4.json")) for n in sidecars), sidecars
    text = (tmp_path / "out" / "agents-digits-accel-small.md").read_text()
    assert "2 seeds (3–4)" in text and "--first-seed 3 --variant 'haq:noise_sigma=0.35,budgets=[0.25,1]'" in text
    assert doc["first_seed"] == 3


@pytest.mark.parametrize("variant, says", [
    ("haq", "must be AGENT:KEY=VALUE[,KEY=VALUE] with a known AGENT, but got 'haq'"),
    ("nosuch:a=1", "with a known AGENT, but got 'nosuch:a=1'"),
    ("haq:noise_sigma=-1", "--variant haq:noise_sigma=-1: ConfigError: haq needs noise_sigma > 0"),
    ("haq:nosuch=1", "--variant haq:nosuch=1: ConfigError: agent 'haq' takes options"),
])
def test_bench_bad_variant_fails_before_any_run(variant, says, tmp_path, capsys) -> None:
    from codesign.cli.main import main

    rc = main(["bench", "agents", "--problem", "digits-accel-small", "--agents", "random", "--variant", variant,
               "--budget", "4", "--seeds", "1", "--store", str(tmp_path / "store"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and says in err[0], err
    assert not (tmp_path / "out").exists() and not list((tmp_path).rglob("bench-*.json"))


def test_bench_agents_probe_device_must_be_cpu_or_cuda(capsys, monkeypatch) -> None:
    from codesign.cli.main import main

    monkeypatch.delenv("CODESIGN_PROBE_DEVICE", raising=False)
    assert main(["bench", "agents", "--probe-device", "gpu", "--budget", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "codesign bench agents: --probe-device must be cpu, cuda or cuda:N, but got 'gpu'"
    assert "CODESIGN_PROBE_DEVICE" not in __import__("os").environ


def test_bench_agents_says_which_runs_were_resumed(tmp_path, capsys, monkeypatch) -> None:
    import json

    from codesign.cli.main import main

    args = ["bench", "agents", "--problem", "digits-accel-small", "--agents", "random", "--budget", "5",
            "--seeds", "2", "--store", str(tmp_path / "store"), "--json"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["resumed"] is None  # every run measured now
    assert main([*args[:5], "random,mcts", *args[6:], "--out", str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert (doc["resumed"]["runs"], doc["resumed"]["of"]) == (2, 4)  # random's two seeds, from the first call
    progress = [ln for ln in captured.err.splitlines() if " seed " in ln and "evaluations" in ln]
    assert sorted("resumed from the store" in ln for ln in progress) == [False, False, True, True]
    assert all("resumed" not in ln for ln in progress if " mcts seed " in ln)
    cpus = __import__("os").cpu_count()
    assert doc["resumed"]["machines"] == {f"{cpus} cores, 1 parallel runs, probes on cpu": ["random seed 0", "random seed 1"]}
    md = (tmp_path / "out" / "agents-digits-accel-small.md").read_text()
    assert "2 of 4 runs were resumed from the store" in md
    # an agent whose code changed since is run again, not resumed
    from codesign.cli import agents_bench

    assert agents_bench.agent_fingerprint("random", {}) != agents_bench.agent_fingerprint("random", {"x": 1})
    monkeypatch.setattr(agents_bench, "agent_fingerprint", lambda agent, kwargs: "edited")
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["resumed"] is None


def test_agent_fingerprint_covers_the_env_and_reward_an_agent_imports(monkeypatch) -> None:
    """An edit to code an agent only calls (haq: its env's reward, imported inside a method)
    makes its bench runs new runs; an agent that never imports it keeps its fingerprint."""
    from pathlib import Path

    from codesign.cli import agents_bench

    before = {a: agents_bench.agent_fingerprint(a, {}) for a in ("haq", "sb3-ppo", "random")}
    read = Path.read_text

    def edit(addition: str) -> dict[str, str]:
        def edited(self: Path, *args, **kwargs) -> str:
            text = read(self, *args, **kwargs)
            return text + addition if self.as_posix().endswith("codesign/envs/reward.py") else text
        monkeypatch.setattr(Path, "read_text", edited)
        return {a: agents_bench.agent_fingerprint(a, {}) for a in before}

    after = edit("\nEDITED = 1\n")
    assert after["haq"] != before["haq"] and after["sb3-ppo"] != before["sb3-ppo"]
    assert after["random"] == before["random"]
    # a comment, a docstring or blank lines are no change of code
    assert edit("\n\n# a comment\ndef _f():\n    'a docstring'\n") == edit("\ndef _f():  # another\n    \"\"\"reworded\"\"\"\n")
    assert edit("\n# only a comment\n\n") == before


def test_code_text_drops_docstrings_comments_and_blank_lines_only() -> None:
    from codesign.cli.agents_bench import code_text

    src = ('"""Module × doc."""\nimport os  # why ÷\n\nclass A:\n    """Class doc\n    on lines."""\n\n'
           '    x = "kept"  # c\n\n    def f(self):\n        \'\'\'f doc\'\'\'\n        return "#kept"\n'
           'def g(): "doc"; return 1\n')
    assert code_text(src).splitlines() == [
        "import os", "class A:", '    x = "kept"', "    def f(self):", '        return "#kept"', "def g(): ; return 1"]
    assert code_text(src.replace("return 1", "return 2")) != code_text(src)
    # ast counts columns in UTF-8 bytes: a non-ASCII docstring before code on its line
    assert code_text('def f(): "é ×"; return 1\n') == "def f(): ; return 1"
    # lines break at \n alone, as the tokenizer's do: a form feed or line separator moves nothing
    assert code_text("x = 1\x0c\n# comment\ny = 2\n") == "x = 1\ny = 2"  # a trailing blank, dropped
    assert code_text("s = 'a\u2028b'\n# c\ny = 2\n") == "s = 'a\u2028b'\ny = 2"
    # inside a multi-line string that is no docstring, blank lines and blanks are data
    assert code_text('X = """a\n\nb"""\n') != code_text('X = """a\nb"""\n') == 'X = """a\nb"""'
    assert code_text('X = f"""{1}\n  \n"""\n') != code_text('X = f"""{1}\n\n"""\n')
    assert code_text('def f():\n    """a\n\n    b"""\n\n    return 1\n') == "def f():\n    return 1"


def test_bench_probe_device_names_the_gpu_model_or_says_only_the_device(monkeypatch) -> None:
    import torch

    from codesign.cli import agents_bench

    monkeypatch.setenv("CODESIGN_PROBE_DEVICE", "cpu")
    assert agents_bench._probe_device(describe=True) == "cpu"
    monkeypatch.setenv("CODESIGN_PROBE_DEVICE", "cuda")
    assert agents_bench._probe_device() == "cuda"
    want = f"cuda ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "cuda"
    assert agents_bench._probe_device(describe=True) == want


@pytest.mark.slow
def test_bench_agents_runs_in_parallel_workers(tmp_path, capsys) -> None:
    """--jobs 2: spawned workers (a forked one hung on a lock of this process's threads) give
    the same normalized HV as one process: the runs are seeded."""
    import json

    from codesign.cli.main import main

    base = ["bench", "agents", "--problem", "digits-accel-small", "--agents", "random,mcts", "--budget", "6",
            "--seeds", "1", "--json"]
    assert main([*base, "--jobs", "2", "--store", str(tmp_path / "a")]) == 0
    parallel = json.loads(capsys.readouterr().out)
    assert main([*base, "--store", str(tmp_path / "b")]) == 0
    serial = json.loads(capsys.readouterr().out)
    for doc in (parallel, serial):
        assert {a["agent"] for a in doc["agents"]} == {"random", "mcts"}
    hv = {d: {a["agent"]: a["hv_median"] for a in doc["agents"]} for d, doc in (("p", parallel), ("s", serial))}
    assert hv["p"] == hv["s"]
