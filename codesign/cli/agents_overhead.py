"""``codesign bench agents --overhead``: an agent's own cost per ask at a given history size.

    codesign bench agents --overhead --problem digits-accel --agents botorch,optuna-gp,tpe \\
        --observations 50,200 --asks 3 [--out DIR] [--json]

For each history size ``n`` the agents are told the same ``n`` evaluated designs (seeded random
designs of the problem, told as replayed history, as a resumed run would), then asked ``--asks``
times for ``--batch-size`` designs, each ask's designs evaluated and told before the next. Per
agent and ``n``: median wall seconds per ask and per design, median CPU seconds of this process
per ask (less sensitive to a shared machine's load), and the ratio to ``tpe`` (the baseline,
measured in the same run, agents interleaved per ``n``). The load average is printed with it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from typing import Any

DEFAULT = ("botorch", "optuna-gp", "tpe")
BASELINE = "tpe"


def _records(problem: Any, designs: list[Any]) -> list[Any]:
    from codesign.types import EvalRecord, EvalState

    return [EvalRecord(d, m, EvalState.COMPLETE if m.feasible else EvalState.INFEASIBLE)
            for d, m in zip(designs, problem.evaluate_many(designs))]


def measure(problem: Any, agent: str, history: list[Any], asks: int, batch: int) -> dict[str, Any]:
    """Tell ``history``, then time ``asks`` asks of ``batch`` designs."""
    import numpy as np

    from codesign.registry import REGISTRIES

    factory = REGISTRIES["agent"].spec(agent).load()
    import inspect

    extra = {"problem": problem} if "problem" in inspect.signature(factory).parameters else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = REGISTRIES["agent"].make(agent, space=problem.space, objectives=list(problem.objectives), seed=0, **extra)
        a.tell(history)
        wall, cpu = [], []
        for _ in range(asks):
            t0, c0 = time.perf_counter(), time.process_time()
            designs = a.ask(batch)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            a.tell(_records(problem, designs))
    d = a.describe()
    return {"agent": agent, "observations": len(history), "ask_s": float(np.median(wall)),
            "design_s": float(np.median(wall)) / batch, "cpu_s": float(np.median(cpu)), "asks": asks,
            "model_steps": d.get("model_steps"), "fallbacks": d.get("fallbacks") or {}, "load_avg": os.getloadavg()[0]}


def overhead_command(args: argparse.Namespace, problems: list[str]) -> int:
    import numpy as np

    import codesign
    from codesign.cli.common import print_json

    agents = [a.strip() for a in args.agents.split(",")] if args.agents else list(DEFAULT)
    known = codesign.registry("agent").names()
    bad = [a for a in agents if a not in known]
    try:
        sizes = [int(x) for x in args.observations.split(",")]
    except ValueError:
        sizes = []
    if bad or not sizes or min(sizes) < 1 or args.asks < 1:
        print(f"codesign bench agents: --overhead needs known agents and --observations like 50,200 and --asks >= 1, "
              f"but got agents {agents}, observations {args.observations!r}, asks {args.asks}", file=sys.stderr)
        return 2
    if BASELINE not in agents:
        agents.append(BASELINE)
    docs = []
    for name in problems:
        problem = codesign.make_problem(name)
        rng = np.random.default_rng([0xC057, max(sizes)])
        history = _records(problem, [problem.space.sample(rng) for _ in range(max(sizes))])
        rows = []
        for n in sizes:
            for agent in agents:  # interleaved: every agent at this n before the next n
                rows.append(measure(problem, agent, history[:n], args.asks, args.batch_size))
                r = rows[-1]
                print(f"{name} {agent} n={n}: {r['ask_s']:.3f} s per ask of {args.batch_size} "
                      f"(cpu {r['cpu_s']:.3f} s, load {r['load_avg']:.1f})", file=sys.stderr, flush=True)
        for r in rows:
            base = next(x for x in rows if x["agent"] == BASELINE and x["observations"] == r["observations"])
            r["vs_tpe"] = r["ask_s"] / base["ask_s"] if base["ask_s"] > 0 else None
        docs.append({"problem": name, "batch_size": args.batch_size, "rows": rows, "load_avg": list(os.getloadavg()),
                     "command": f"codesign bench agents --overhead --problem {name} --agents {','.join(agents)} "
                                f"--observations {args.observations} --asks {args.asks} --batch-size {args.batch_size}"})
    text = "\n".join(overhead_table(d) for d in docs)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        for d in docs:
            with open(os.path.join(args.out, f"agents-overhead-{d['problem']}.md"), "w") as fh:
                fh.write(overhead_table(d))
    if args.json:
        print_json(docs[0] if len(docs) == 1 else {"problems": docs})
    else:
        print(text)
    return 0


def overhead_table(doc: dict[str, Any]) -> str:
    lines = [f"# Agent overhead per ask: {doc['problem']}", "",
             f"Seconds the agent itself takes per `ask({doc['batch_size']})` after being told `n` evaluated designs "
             f"(median of the timed asks; CPU = this process's CPU seconds). TPE measured in the same run. "
             f"Load average at the end: {', '.join(f'{v:.2f}' for v in doc['load_avg'])} (2 cores, shared).", "",
             f"Regenerate: `{doc['command']}`", "",
             "| agent | n | s per ask | s per design | CPU s per ask | × TPE | model steps | fallbacks |",
             "|---|---|---|---|---|---|---|---|"]
    for r in doc["rows"]:
        fb = "; ".join(f"{c} × {k}" for k, c in r["fallbacks"].items()) or "none"
        lines.append(f"| `{r['agent']}` | {r['observations']} | {r['ask_s']:.3f} | {r['design_s']:.3f} | {r['cpu_s']:.3f} | "
                     f"{'—' if r['vs_tpe'] is None else format(r['vs_tpe'], '.1f')} | {r['model_steps']} | {fb} |")
    return "\n".join(lines) + "\n"
