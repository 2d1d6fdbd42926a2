"""``codesign bench agents``: every agent × seeds on one or more problems, one budget.

    codesign bench agents --problem digits-accel --problem fmnist-accel --budget 200 --seeds 5 \
        --jobs 2 --out docs/results            # the committed tables
    codesign bench agents --smoke              # CI: small budget, 2 seeds, a few agents, no files
    codesign bench agents --render --out docs/results   # the tables again from their JSON, no runs

Per problem: normalized hypervolume (the problem's fixed normalization,
:meth:`codesign.evaluators.composite.Problem.objective_bounds`) after each evaluation, median,
IQR and range over seeds; the ratio to the best-known front (the union of every run of the
invocation, plus the exact front when the space has at most ``--enumerate-limit`` designs), and
that of the union of the agent's own seeds;
evaluations and modelled seconds to 95% of it; agent overhead per evaluation; the margin over
``random`` against the seed spread; fallbacks agents recorded; an ArchGym-style lottery over
:data:`LOTTERY_GRID` when ``--lottery-budget`` > 0. Files (``agents-<problem>.md/.png/.json``
and ``agents-summary.md``) are written only under ``--out``; each row records the fingerprint of
the agent code that measured it (:func:`agent_fingerprint`), and every table of the directory is
rendered again with the rows whose agent code has changed since marked. Runs of one problem
share a store (``--store``, default a temporary directory), so identical designs are evaluated
once.
Progress goes to stderr, one line per finished run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import shlex
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

SMOKE_AGENTS = ("random", "tpe", "mcts", "qlearning", "botorch", "marl")
DEFAULT_PROBLEM = "digits-accel"

# ArchGym's lottery: a small grid per agent (label -> agent kwargs), run at seed 0
LOTTERY_GRID: dict[str, dict[str, dict[str, Any]]] = {
    "tpe": {"startup=5": {"n_startup_trials": 5}, "startup=20": {"n_startup_trials": 20}},
    "nsga2": {"pop=10": {"population_size": 10}, "pop=40": {"population_size": 40}},
    "optuna-gp": {"startup=5": {"n_startup_trials": 5}, "startup=20": {"n_startup_trials": 20}},
    "botorch": {"init=5": {"n_init": 5}, "init=20": {"n_init": 20}, "refit=1": {"refit_every": 1}},
    "mcts": {"c=0.2": {"exploration": 0.2}, "c=1.5": {"exploration": 1.5}, "eps=1": {"rollout_epsilon": 1.0}},
    "qlearning": {"lr=0.1": {"lr": 0.1}, "lr=0.6": {"lr": 0.6}, "lam=0.5": {"lam": 0.5}},
    "sb3-ppo": {"lr=1e-3": {"learning_rate": 1e-3}, "lr=1e-4": {"learning_rate": 1e-4}},
    "sb3-dqn": {"lr=3e-4": {"learning_rate": 3e-4}, "lr=3e-3": {"learning_rate": 3e-3}},
    "sb3-sac": {"lr=3e-4": {"learning_rate": 3e-4}, "lr=3e-3": {"learning_rate": 3e-3}},
    "haq": {"sigma=0.1": {"noise_sigma": 0.1}, "sigma=0.5": {"noise_sigma": 0.5}},
    "marl": {"lr=0.1": {"lr": 0.1}, "lr=0.6": {"lr": 0.6}, "epsmin=0.1": {"epsilon_min": 0.1}},
    "marl-independent": {"lr=0.1": {"lr": 0.1}, "lr=0.6": {"lr": 0.6}, "epsmin=0.1": {"epsilon_min": 0.1}},
    "hasco": {"levels=6": {"budget_levels": [0, 0.2, 0.4, 0.6, 0.8, 1.0]}},
}


def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--problem", action="append", default=None,
                   help=f"registered problem; repeat for several (default {DEFAULT_PROBLEM})")
    p.add_argument("--budget", type=int, default=200, help="evaluations per run (default 200)")
    p.add_argument("--seeds", type=int, default=5, help="seeds per agent (default 5)")
    p.add_argument("--first-seed", type=int, default=0, help="the first seed; the runs use seeds FIRST_SEED .. FIRST_SEED+SEEDS-1 (default 0)")
    p.add_argument("--variant", action="append", default=None, metavar="AGENT:KEY=VALUE[,KEY=VALUE]",
                   help="one more row: AGENT with these arguments (VALUE is JSON, else a string), e.g. "
                        "haq:noise_sigma=0.35; repeat for several")
    p.add_argument("--agents", default=None, help="comma-separated agents (default: every registered agent)")
    p.add_argument("--batch-size", type=int, default=4, help="designs per ask for ask/tell agents (default 4)")
    p.add_argument("--lottery-budget", type=int, default=0, help="budget of lottery runs (default 0: none)")
    p.add_argument("--enumerate-limit", type=int, default=20000, help="enumerate spaces up to this size (default 20000)")
    p.add_argument("--jobs", type=int, default=1, help="parallel processes (default 1)")
    p.add_argument("--out", default=None, help="directory of the tables, plots and JSON (default: none written)")
    p.add_argument("--store", default=None,
                   help="directory of the runs' stores, one subdirectory per problem; a later invocation with the "
                        "same --store resumes the finished runs of unchanged agents (default: a temporary one)")
    p.add_argument("--render", action="store_true",
                   help="run nothing: render the tables and the summary under --out again from their JSON, marking "
                        "rows measured with agent code that has changed since")
    p.add_argument("--smoke", action="store_true", help="CI: budget 30, 2 seeds, 6 agents, no lottery, no files")
    p.add_argument("--overhead", action="store_true",
                   help="measure seconds per ask after --observations told designs instead (default agents "
                        "botorch,optuna-gp,tpe)")
    p.add_argument("--observations", default="50,200", help="history sizes of --overhead (default 50,200)")
    p.add_argument("--asks", type=int, default=3, help="asks timed per agent and history size (default 3)")
    p.add_argument("--probe-device", default=None,
                   help="where real-accuracy probes measure: cpu (default) or cuda[:N] (sets $CODESIGN_PROBE_DEVICE "
                        "for every worker; fmnist and moe probes)")
    p.add_argument("--json", action="store_true", help="print one JSON document")


def _one(problem: str, agent: str, seed: int, budget: int, batch: int, store: str, kwargs: dict[str, Any],
         label: str, jobs: int = 1) -> dict[str, Any]:
    """Run one agent × seed (in a worker process, one of ``jobs`` in parallel); return its records
    and timings.

    The timings of a finished run are kept beside the store (``bench-<run>.json``) with the
    machine they were measured on, so a later invocation on the same ``--store`` resumes the
    finished run (nothing evaluated again), reports the timings it was measured with and says
    (``resumed``) where they come from."""
    from codesign.runner import run

    # the agent's code in the name: a kept --store never resumes a run of an agent since edited
    name = f"{problem}/{agent}{label}@{agent_fingerprint(agent, kwargs)}/seed{seed}"
    sidecar = os.path.join(store, "bench-" + "".join(c if c.isalnum() or c in "-_.@=" else "_" for c in name) + ".json")
    kept = None
    if os.path.isfile(sidecar):
        with open(sidecar) as fh:
            kept = json.load(fh)
    stamps: list[float] = []
    t0 = time.perf_counter()
    try:
        res = run(problem, agent, budget=budget, seed=seed, store=store, batch_size=batch, agent_kwargs=kwargs,
                  name=name, on_record=lambda rec, done, total: stamps.append(time.perf_counter() - t0))
    except Exception as exc:  # one broken agent must not end the benchmark
        return {"problem": problem, "agent": agent, "seed": seed, "label": label,
                "error": f"{type(exc).__name__}: {exc}"}
    out = {"problem": problem, "agent": agent, "seed": seed, "label": label, "records": res.records}
    if kept is not None and len(res.records) == kept.get("evaluations") and not stamps:
        return {**out, **{k: kept[k] for k in ("wall_s", "overhead_s", "agent_time", "describe")},
                "resumed": {k: kept.get(k) for k in ("jobs", "cpus", "probe_device")}}
    wall = time.perf_counter() - t0
    recs = res.records
    evals = sum(r.eval_seconds for r in recs)
    spent, agent_time = 0.0, []  # cumulative agent-side seconds at each record
    for rec, stamp in zip(recs, stamps):
        spent += rec.eval_seconds
        agent_time.append(max(0.0, stamp - spent))
    timing = {"wall_s": wall, "overhead_s": max(0.0, wall - evals) / max(1, len(recs)), "agent_time": agent_time,
              "describe": json.loads(json.dumps(res.agent, default=str))}
    if len(stamps) == len(recs):  # a complete measurement (not a resumed run)
        with open(sidecar, "w") as fh:
            json.dump({"evaluations": len(recs), **timing, "jobs": jobs, "cpus": os.cpu_count(),
                       "probe_device": _probe_device(describe=True)}, fh)
    return {**out, **timing}


# the search side whose code a bench run's result depends on beside the problem (whose version
# covers the evaluators): an edit to a module here that the agent imports starts its runs anew
FINGERPRINT_SCOPE = ("codesign.agents", "codesign.envs", "codesign.allocation", "codesign.spaces")


def agent_fingerprint(agent: str, kwargs: dict[str, Any]) -> str:
    """Digest of ``kwargs`` and of the code of the modules registered ``agent`` runs: those
    that define its class and the codesign classes it derives from, and every module of
    :data:`FINGERPRINT_SCOPE` they import, transitively (imports inside functions too, e.g. an
    RL agent's env and reward): a bench run of a changed agent is a new run. The code is the
    source less its docstrings, comments and blank lines (:func:`code_text`), so a reworded
    docstring leaves every measured row in step."""
    import ast
    import hashlib

    import codesign

    factory = codesign.registry("agent").spec(agent).load()
    todo = sorted({c.__module__ for c in getattr(factory, "__mro__", (factory,)) if c.__module__.startswith("codesign")})
    sources: dict[str, str] = {}
    seen: set[str] = set()  # names looked up, modules or not
    while todo:
        mod = todo.pop()
        src = None if mod in seen else _module_source(mod)
        seen.add(mod)
        if src is None:
            continue
        sources[mod] = src
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            todo += [n for n in names if n.startswith(FINGERPRINT_SCOPE)]
    code = sorted((mod, code_text(src)) for mod, src in sources.items())
    return hashlib.sha1(json.dumps([code, kwargs], sort_keys=True, default=str).encode()).hexdigest()[:8]


def code_text(src: str) -> str:
    """Python source ``src`` less its docstrings (of the module, classes and functions),
    comments, trailing blanks and blank lines: what a fingerprint digests. The lines inside a
    multi-line string that is no docstring are kept as they are (their blanks are data). Token
    and node positions are the same on every Python version, so one source (read with universal
    newlines, as :func:`_module_source` does) gives one text everywhere (unlike ``ast.dump``,
    whose node fields grow between versions). Lines are split at ``\\n`` alone, as the tokenizer
    does (not at the form feeds or separators ``str.splitlines`` also breaks at)."""
    import ast
    import io
    import tokenize

    lines = io.StringIO(src).readlines()

    def char(line: int, byte: int) -> int:  # ast columns count UTF-8 bytes
        return len(lines[line - 1].encode()[:byte].decode())

    tree = ast.parse(src)
    spans: list[tuple[tuple[int, int], tuple[int, int]]] = []  # ((line, char), (line, char)), 1-based lines
    docs: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) or not body:
            continue
        doc = body[0]
        if isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant) and isinstance(doc.value.value, str):
            docs.add(id(doc.value))
            spans.append(((doc.lineno, char(doc.lineno, doc.col_offset)),
                          (doc.end_lineno, char(doc.end_lineno, doc.end_col_offset))))
    inside = {line for node in ast.walk(tree)  # lines after the first of a kept multi-line string
              if isinstance(node, (ast.Constant, ast.JoinedStr)) and id(node) not in docs
              and node.end_lineno is not None and node.end_lineno > node.lineno
              for line in range(node.lineno + 1, node.end_lineno + 1)}
    spans += [(t.start, t.end) for t in tokenize.generate_tokens(io.StringIO(src).readline)
              if t.type == tokenize.COMMENT]
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    kept, at = [], 0
    for (l0, c0), (l1, c1) in sorted(spans):
        a, b = starts[l0 - 1] + c0, starts[l1 - 1] + c1
        kept.append(src[at:max(at, a)] + "\n" * src[max(at, a):b].count("\n"))  # the lines stay where they were
        at = max(at, b)
    kept.append(src[at:])
    return "\n".join(line if n in inside else line.rstrip()
                     for n, line in enumerate("".join(kept).split("\n"), 1) if n in inside or line.strip())


def _module_source(name: str) -> str | None:
    """Source of module ``name``, or None where it is no Python module (``from pkg.mod import
    function`` also names ``pkg.mod.function``)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin).read_text(encoding="utf-8")


def _probe_device(describe: bool = False) -> str:
    """Where this process's probes measure (``--probe-device`` sets it for the workers); with
    ``describe``, a GPU device carries its model (``cuda (NVIDIA H100 80GB HBM3)``), since the
    tables' timings depend on it."""
    from codesign.evaluators.accuracy.probe import DEVICE_ENV

    device = os.environ.get(DEVICE_ENV) or "cpu"
    if describe and device.startswith("cuda"):
        try:
            import torch

            return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
        except Exception:  # no usable GPU here: the probes themselves say so
            return device
    return device


def parse_variant(spec: str, known: list[str]) -> tuple[str, dict[str, Any], str]:
    """``AGENT:KEY=VALUE[,KEY=VALUE]`` -> ``(agent, arguments, row label)``, the label
    ``[KEY=VALUE,...]`` as given; a VALUE that does not parse as JSON is a string. A JSON list
    value may hold commas (``budgets=[0.25,1]``)."""
    agent, sep, rest = spec.partition(":")
    if not sep or agent not in known or not rest:
        raise ValueError(f"--variant must be AGENT:KEY=VALUE[,KEY=VALUE] with a known AGENT, but got {spec!r}")
    kwargs: dict[str, Any] = {}
    for part in re.split(r",(?![^\[]*\])", rest):  # commas outside brackets
        key, eq, raw = part.partition("=")
        if not eq or not key.strip().isidentifier():
            raise ValueError(f"--variant must be AGENT:KEY=VALUE[,KEY=VALUE] with a known AGENT, but got {spec!r}")
        try:
            kwargs[key.strip()] = json.loads(raw)
        except ValueError:
            kwargs[key.strip()] = raw
    return agent, kwargs, f"[{rest}]"


def _check_variant(agent: str, kwargs: dict[str, Any], problem: Any) -> str | None:
    """Why ``agent`` cannot be built with ``kwargs`` on ``problem`` (None if it can)."""
    from codesign.errors import CodesignError
    from codesign.results.records import reason
    from codesign.runner import make_agent

    try:
        built = make_agent(problem, agent, 0, kwargs)
    except CodesignError as exc:  # a bad argument name or value: the agent's own message
        return reason(exc)
    getattr(built, "close", lambda: None)()
    return None


def _fail(msg: str) -> int:
    print(f"codesign bench agents: {msg}", file=sys.stderr)
    return 2


def bench_agents_command(args: argparse.Namespace) -> int:
    import codesign
    from codesign.cli.common import print_json
    from codesign.errors import CodesignError
    from codesign.results.agent_bench import markdown_table, summary_table

    problems = list(dict.fromkeys(args.problem or [DEFAULT_PROBLEM]))
    if args.overhead:
        from codesign.cli.agents_overhead import overhead_command

        return overhead_command(args, problems)
    if args.render:
        if not args.out:
            return _fail("--render needs --out (the directory of the tables to render again)")
        if not list(Path(args.out).glob("agents-*.json")):
            return _fail(f"--render needs agents-<problem>.json tables in --out, but {args.out} has none")
        _write([], args)
        return 0
    if args.smoke:
        args.budget, args.seeds, args.lottery_budget = min(args.budget, 30), min(args.seeds, 2), 0
        args.agents = args.agents or ",".join(SMOKE_AGENTS)
        args.out = None
    for label, value in (("budget", args.budget), ("seeds", args.seeds), ("batch-size", args.batch_size), ("jobs", args.jobs)):
        if value < 1:
            return _fail(f"--{label} must be >= 1, but got {value}")
    if args.first_seed < 0:
        return _fail(f"--first-seed must be >= 0, but got {args.first_seed}")
    if args.lottery_budget < 0:
        return _fail(f"--lottery-budget must be >= 0, but got {args.lottery_budget}")
    known = codesign.registry("agent").names()
    agents = [a.strip() for a in args.agents.split(",")] if args.agents else known
    unknown = [a for a in agents if a not in known]
    if unknown:
        return _fail(f"unknown agents {unknown} (known: {', '.join(known)})")
    try:
        variants = [parse_variant(v, known) for v in args.variant or []]
    except ValueError as exc:
        return _fail(str(exc))
    known_problems = codesign.registry("problem").names()
    bad = [p for p in problems if p not in known_problems]
    if bad:
        return _fail(f"unknown problems {bad} (known: {', '.join(known_problems)})")
    if args.probe_device is not None:
        from codesign.evaluators.accuracy.probe import DEVICE_ENV, DEVICE_PATTERN

        if not re.fullmatch(DEVICE_PATTERN, args.probe_device):
            return _fail(f"--probe-device must be cpu, cuda or cuda:N, but got {args.probe_device!r}")
        os.environ[DEVICE_ENV] = args.probe_device  # the workers inherit it
    store = args.store or tempfile.mkdtemp(prefix="codesign-bench-")
    try:
        prepared = {p: _prepare(p, args.enumerate_limit) for p in problems}
    except CodesignError as exc:
        return _fail(str(exc))
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for a, kw, label in variants:  # a bad argument fails here, once, rather than in every run
        bad = _check_variant(a, kw, prepared[problems[0]]["problem"])
        if bad:
            return _fail(f"--variant {a}:{label[1:-1]}: {bad}")
    jobs = [(p, a, s, args.budget, {}, "") for p in problems for a in agents for s in seeds]
    jobs += [(p, a, s, args.budget, kw, label) for p in problems for a, kw, label in variants for s in seeds]
    if args.lottery_budget:
        jobs += [(p, a, 0, args.lottery_budget, kw, f"@{lab}") for p in problems for a in agents
                 for lab, kw in LOTTERY_GRID.get(a, {}).items()]
    outs = _run_all(jobs, args.batch_size, store, args.jobs)
    command = _command(args, problems, agents)
    rows = {a: (a, {}) for a in agents} | {a + label: (a, kw) for a, kw, label in variants}
    docs = [_problem_doc(prepared[p], [o for o in outs if o["problem"] == p], rows, args, command) for p in problems]
    if args.out:
        _write(docs, args)
    for d in docs:
        d.pop("_results", None)
    if args.json:
        print_json(docs[0] if len(docs) == 1 else {"problems": docs})
    else:
        for d in docs:
            print(markdown_table(d["agents"], f"Agents benchmark: {d['problem']}"))
        if len(docs) > 1:
            print(summary_table(docs))
    return 0


def _prepare(name: str, enumerate_limit: int) -> dict[str, Any]:
    """The problem, its fixed normalization and (for a small space) its exact front."""
    import numpy as np

    import codesign
    from codesign.results.pareto import Normalization, non_dominated_mask

    problem = codesign.make_problem(name)
    t0 = time.perf_counter()
    norm = Normalization.from_dict(problem.objective_bounds())
    out: dict[str, Any] = {"name": name, "problem": problem, "norm": norm, "bounds_s": time.perf_counter() - t0,
                           "exact_front": None, "exact_size": None}
    if problem.space.size <= enumerate_limit:
        designs = list(problem.space.enumerate(enumerate_limit))
        ok = [m for m in problem.evaluate_many(designs) if m.feasible]
        pts = np.array([problem.objective_values(m) for m in ok], dtype=float).reshape(len(ok), len(problem.objectives))
        out["exact_front"] = pts[non_dominated_mask(pts, problem.directions)]
        out["exact_size"] = int(problem.space.size)
    return out


def _problem_doc(prep: dict[str, Any], outs: list[dict[str, Any]], rows_of: dict[str, tuple[str, dict[str, Any]]],
                 args: argparse.Namespace, command: str) -> dict[str, Any]:
    """The benchmark document of one problem; ``rows_of``: row name -> (agent, arguments)."""
    import numpy as np

    from codesign.results.agent_bench import AgentResult, summarize
    from codesign.results.pareto import (greedy_hypervolume_subset, normalized_hypervolume,
                                         normalized_hypervolume_trace)
    from codesign.results.summary import feasible, objective_matrix

    problem, norm = prep["problem"], prep["norm"]
    objectives = list(problem.objectives)
    fronts = [] if prep["exact_front"] is None else [prep["exact_front"]]
    uncached: list[float] = []
    results = {a: AgentResult(a) for a in rows_of}
    for o in outs:
        lottery = o["label"].startswith("@")  # a lottery run (a variant's label starts with "[")
        r = results[o["agent"] if lottery or not o["label"] else o["agent"] + o["label"]]
        if "error" in o:
            r.errors.append(f"seed {o['seed']}{o['label']}: {o['error']}")
            continue
        recs = o["records"]
        ok = np.array([rec.state.value == "complete" for rec in recs])
        pts = np.array([[float(rec.metrics.values.get(ob.name, np.nan)) for ob in objectives] for rec in recs])
        pts = np.where(np.isfinite(pts), pts, 0.0).reshape(len(recs), len(objectives))
        trace = normalized_hypervolume_trace(pts, norm, ok).tolist()
        fronts.append(objective_matrix(feasible(recs), objectives))
        if not lottery:
            r.fronts.append(fronts[-1])
        uncached += [rec.eval_seconds for rec in recs if not rec.cached and rec.eval_seconds > 0]
        if lottery:
            r.lottery[o["label"][1:]] = trace[-1] if trace else 0.0
            continue
        r.traces.append(trace)
        r.overhead_s.append(o["overhead_s"])
        r.wall_s.append(o["wall_s"])
        r.agent_time.append(o["agent_time"])
        for reason, count in (o["describe"].get("fallbacks") or {}).items():
            r.degraded.append(f"seed {o['seed']}: {count} × {reason}")
    for r in results.values():  # the default setting is one point of the lottery grid
        if r.lottery and r.traces:
            r.lottery["default"] = float(np.median([t[min(args.lottery_budget, len(t)) - 1] for t in r.traces if t]))
    best = np.unique(_pooled(fronts, problem.directions), axis=0)
    best_hv = normalized_hypervolume(best, norm) if len(best) else None
    # the most one run can hold of the pooled front: its best `budget` points (greedy)
    ceiling_hv = greedy_hypervolume_subset(best, norm, args.budget)[1] if len(best) else None
    for r in results.values():  # every seed's front together: how near the agent gets with seeds × budget
        union = _pooled(r.fronts, problem.directions)
        r.union_hv = normalized_hypervolume(union, norm) if len(union) else None
    eval_s = float(np.median(uncached)) if uncached else 0.0
    rows = summarize(list(results.values()), args.budget, best_hv, eval_s)
    for r in rows:  # the code each row was measured with: a later render marks it once the code moves
        agent, kwargs = rows_of[r["agent"]]
        if kwargs:
            r.update(base=agent, kwargs=kwargs)
        r["fingerprint"] = agent_fingerprint(agent, kwargs)
    doc: dict[str, Any] = {
        "problem": prep["name"], "problem_version": problem.version, "budget": args.budget, "seeds": args.seeds,
        "first_seed": args.first_seed,
        "batch_size": args.batch_size, "normalization": norm.to_dict(), "best_known_hv": best_hv,
        "best_known_front_size": int(len(best)),
        "best_known_budget_hv": ceiling_hv,
        "exact_hv": normalized_hypervolume(prep["exact_front"], norm) if prep["exact_front"] is not None else None,
        "exact_space_size": prep["exact_size"], "eval_s_median": eval_s, "lottery_budget": args.lottery_budget,
        "objectives": [o.to_dict() for o in objectives], "agents": rows, "command": command,
        "load_avg": list(os.getloadavg()), "cpus": os.cpu_count(), "jobs": args.jobs,
        "probe_device": _probe_device(describe=True), "_results": results,
        "resumed": _resumed(outs),
    }
    scored = [r for r in rows if r.get("ratio_median") is not None]
    if scored:
        top = max(scored, key=lambda r: r["ratio_median"])
        doc["best_agent"] = {"agent": top["agent"], "ratio_median": top["ratio_median"]}
    return doc


def _notes(doc: dict[str, Any]) -> list[str]:
    from codesign.results.agent_bench import budget_share

    objs = ", ".join(f"{o['name']} ({o['direction']}, {o['scale']}: ideal {o['ideal']:.4g}, nadir {o['nadir']:.4g})"
                     for o in doc["normalization"]["objectives"])
    notes = [f"Problem `{doc['problem']}` (version `{doc['problem_version']}`), budget {doc['budget']} evaluations, "
             f"{doc['seeds']} seeds{_seed_range(doc)}, batch size {doc['batch_size']} for ask/tell agents.",
             "",
             f"Normalized HV: the fraction of the problem's fixed ideal–nadir box the front dominates "
             f"(`Problem.objective_bounds()`): {objs}.",
             "",
             f"Best-known front: union of every run of this benchmark"
             + (f" and the exact front (all {doc['exact_space_size']} designs enumerated; normalized HV "
                f"{doc['exact_hv']:.4f})" if doc["exact_hv"] is not None else "")
             + f": {doc['best_known_front_size']} points, normalized HV {doc['best_known_hv'] or 0:.4f}."
             + (f" Its best {doc['budget']} points (chosen greedily for HV) hold {budget_share(doc):.3f} of "
                f"that HV: a run of {doc['budget']} evaluations could hold at least as much, had it found them."
                if budget_share(doc) is not None else ""),
             "",
             "Verdict vs random: `beats` = median margin larger than the seed spread (the larger IQR); "
             "`≥` = median not below random's; `loses` = median below random's. "
             f"Seconds to 95% = agent overhead + evaluations × the median uncached evaluation "
             f"({doc['eval_s_median'] * 1e3:.1f} ms); nHV at TPE's time = the median normalized HV when TPE's "
             f"modelled run time had elapsed. Overhead = (wall − evaluation time) / evaluations. Seeds' union "
             f"÷ best-known = the HV of every seed's designs together ({doc['seeds']} × {doc['budget']} "
             f"evaluations) ÷ the best-known front's.",
             "",
             f"Machine: {doc.get('cpus') or '?'} cores, {doc.get('jobs', '?')} parallel runs, probes on "
             f"{doc.get('probe_device', 'cpu')}; load average at the end: "
             f"{', '.join(f'{v:.2f}' for v in doc['load_avg'])}."
             + (f" {doc['resumed']['text']}" if doc.get("resumed") else ""),
             "",
             f"Regenerate: `{doc['command']}`"]
    return notes


def _pooled(fronts: list[Any], directions: Any) -> Any:
    """The non-dominated points of several fronts together (no row when they hold none)."""
    import numpy as np

    from codesign.results.pareto import non_dominated_mask

    pts = [f for f in fronts if f.size]
    if not pts:
        return np.zeros((0, len(directions)))
    allpts = np.vstack(pts)
    return allpts[non_dominated_mask(allpts, directions)]


def _seed_range(doc: dict[str, Any]) -> str:
    first = doc.get("first_seed", 0)
    return f" ({first}–{first + doc['seeds'] - 1})" if first else ""


def _resumed(outs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Which runs were resumed from the store, and the machine their timings were measured on."""
    runs = [o for o in outs if "resumed" in o]
    if not runs:
        return None

    def machine(m: dict[str, Any]) -> str:
        if m.get("jobs") is None:
            return "a machine not recorded"
        return f"{m['cpus']} cores, {m['jobs']} parallel runs, probes on {m['probe_device']}"
    by: dict[str, list[str]] = {}
    for o in runs:
        by.setdefault(machine(o["resumed"]), []).append(f"{o['agent']}{o['label']} seed {o['seed']}")
    text = (f"{len(runs)} of {len(outs)} runs were resumed from the store; their overhead and wall seconds were "
            f"measured by an earlier invocation, on " + "; ".join(f"{m} ({len(v)} runs)" for m, v in by.items()) + ".")
    return {"runs": len(runs), "of": len(outs), "machines": by, "text": text}


def _write(docs: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """This run's tables, plots and JSON under ``--out``; then every table of the directory and
    the summary rendered again from their JSON, rows of agents whose code changed since marked."""
    from codesign.results.agent_bench import markdown_table, plot_traces, stale_agents, summary_table

    os.makedirs(args.out, exist_ok=True)
    for d in docs:
        stem = os.path.join(args.out, f"agents-{d['problem']}")
        d["plot"] = stem + ".png" if plot_traces(list(d["_results"].values()), d["budget"], stem + ".png",
                                                 f"{d['problem']}: median normalized HV ÷ best-known, IQR over "
                                                 f"{d['seeds']} seeds", d["best_known_hv"]) else None
        d["table"] = stem + ".md"
        with open(stem + ".json", "w") as fh:
            json.dump({k: v for k, v in d.items() if not k.startswith("_")}, fh, indent=1, default=str)
    every = _tables_in(args.out, docs)
    rows = {r["agent"]: r for d in every for r in d["agents"]}  # one digest per row name, not per table
    current = {name: current_fingerprint(r) for name, r in rows.items()}
    stale = {d["problem"]: stale_agents(d, current) for d in every}
    for d in every:
        with open(os.path.join(args.out, f"agents-{d['problem']}.md"), "w") as fh:
            fh.write(markdown_table(d["agents"], f"Agents benchmark: {d['problem']}", _notes(d), stale[d["problem"]]))
    if len(every) > 1:
        by_command: dict[str, list[str]] = {}
        for d in every:
            by_command.setdefault(d["command"], []).append(f"`{d['problem']}`")
        regenerate = (f"Regenerate: `{next(iter(by_command))}`" if len(by_command) == 1 else
                      "Regenerate each column with the command of its table: "
                      + "; ".join(f"{', '.join(ps)}: `{c}`" for c, ps in by_command.items()))
        with open(os.path.join(args.out, "agents-summary.md"), "w") as fh:
            fh.write("# Agents benchmark: summary\n\nMedian normalized HV over seeds (÷ best-known front); ✓✓ beats "
                     "random by more than the seed spread, ✓ median ≥ random's, ✗ below random's. The last row, "
                     "where measured, is the best-known front's best points as many as one run evaluates (chosen "
                     "greedily for HV): one run could hold at least as much, had it found them.\n\n"
                     + summary_table(every, stale) + f"\n{regenerate}\n")


def current_fingerprint(row: dict[str, Any]) -> str | None:
    """The fingerprint today of the code a table row measured (its agent and arguments), None
    if that agent is no longer registered."""
    try:
        return agent_fingerprint(row.get("base", row["agent"]), row.get("kwargs", {}))
    except Exception:  # a table may name an agent since removed or renamed: not judged
        return None


def _tables_in(out: str, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """This run's documents and those of the other problems already in ``out`` (``agents-<problem>.json``
    of an earlier run), by problem name: the summary covers every table in the directory."""
    by_problem = {}
    for path in sorted(Path(out).glob("agents-*.json")):
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and {"problem", "agents", "command"} <= doc.keys() and path.stem == f"agents-{doc['problem']}":
            by_problem[doc["problem"]] = doc
    by_problem.update({d["problem"]: d for d in docs})
    return [by_problem[k] for k in sorted(by_problem)]


def _command(args: argparse.Namespace, problems: list[str], agents: list[str]) -> str:
    parts = ["codesign bench agents", *(f"--problem {p}" for p in problems), f"--budget {args.budget}",
             f"--seeds {args.seeds}", f"--agents {','.join(agents)}", f"--batch-size {args.batch_size}"]
    if args.first_seed:
        parts.append(f"--first-seed {args.first_seed}")
    parts += [f"--variant {shlex.quote(v)}" for v in args.variant or []]
    if args.lottery_budget:
        parts.append(f"--lottery-budget {args.lottery_budget}")
    parts.append(f"--jobs {args.jobs}")
    if getattr(args, "probe_device", None) not in (None, "cpu"):
        parts.append(f"--probe-device {args.probe_device}")
    if args.out:
        parts.append(f"--out {args.out}")
    return " ".join(parts)


def _run_all(jobs: list[tuple[str, str, int, int, dict[str, Any], str]], batch: int, store: str,
             workers: int) -> list[dict[str, Any]]:
    from codesign.cli.progress import steps

    def where(problem: str) -> str:
        return os.path.join(store, problem.replace("/", "_"))

    def report(step: Any, i: int, o: dict[str, Any]) -> None:
        what = (f"error {o['error']}" if "error" in o else
                f"{len(o['records'])} evaluations, {o['wall_s']:.1f} s"
                + (" (resumed from the store: its measured wall time)" if "resumed" in o else ""))
        step(log=f"[{i}/{len(jobs)}] {o['problem']} {o['agent']}{o['label']} seed {o['seed']}: {what}")

    outs = []
    # a progress bar over the runs (with ETA) on stderr; one line per finished run above it
    with steps(f"bench agents: {len(jobs)} runs", len(jobs)) as step:
        if workers <= 1:
            for i, (p, a, s, b, kw, lab) in enumerate(jobs, 1):
                step(0, status=f"{p} {a}{lab} seed {s}")
                outs.append(_one(p, a, s, b, batch, where(p), kw, lab, 1))
                report(step, i, outs[-1])
            return outs
        # spawned, never forked: a child forked while this process has threads (the progress bar's
        # refresh, torch's OpenMP pool, CUDA) can wait forever on a lock one of them held (seen:
        # every worker of a --jobs 2 fmnist-accel bench idle on a futex); a worker starts once
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            futs = [pool.submit(_one, p, a, s, b, batch, where(p), kw, lab, workers) for p, a, s, b, kw, lab in jobs]
            for i, fut in enumerate(as_completed(futs), 1):
                report(step, i, fut.result())
            return [f.result() for f in futs]
