"""``codesign run``: search a problem with an agent, recording into a store."""

from __future__ import annotations

import argparse
import signal
import time
from typing import Any

from codesign.errors import ConfigError

CONFIG_KEYS = {"problem", "space", "agent", "agent_kwargs", "budget", "seed", "store", "batch_size", "plugins", "name",
               "executor", "workers", "worker", "eval_timeout", "ray_address", "constraints", "max_accuracy_drop"}
DEFAULT_PROBLEM = "digits-accel"


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "run", help="run a co-design search",
        description="Search a problem (the built-in default, a registered name, or a YAML config) with an agent; "
        "every evaluation is recorded in the store. An existing run of the same name resumes.",
    )
    p.add_argument("config", nargs="?", help="YAML config (problem, agent, budget, ...); flags override it")
    p.add_argument("--problem", help=f"registered problem name (default {DEFAULT_PROBLEM})")
    p.add_argument("--space", help="search this registered space (e.g. from --plugin) with the problem's evaluators")
    p.add_argument("--agent", help="agent name (default random; see `codesign list agents`)")
    p.add_argument("--agent-opt", action="append", default=[], metavar="KEY=VALUE",
                   help="agent hyper-parameter (YAML value), repeatable")
    p.add_argument("--budget", type=int, help="total evaluations of the run (default 100)")
    p.add_argument("--seed", type=int, help="seed (default 0)")
    p.add_argument("--store", help="store directory (embedded) or database URL (default runs/default)")
    p.add_argument("--plugin", action="append", default=[], metavar="FILE.py",
                   help="Python file that registers spaces/problems/agents, repeatable")
    p.add_argument("--batch-size", type=int, help="designs per ask (default 1)")
    p.add_argument("--executor", choices=("inline", "process", "ray"),
                   help="where evaluations run (default: process if --workers > 1, else inline)")
    p.add_argument("--workers", type=int, help="parallel evaluation workers (default 1)")
    p.add_argument("--ray-address", help="address of an existing Ray cluster (default: start a local Ray)")
    p.add_argument("--eval-timeout", type=float, metavar="SECONDS", help="per-evaluation timeout (failed record)")
    p.add_argument("--worker", help="name of this process within a shared run (default main); "
                   "several workers on one store and run name each evaluate --budget designs")
    p.add_argument("--constraint", action="append", default=[], metavar="EXPR",
                   help="metric constraint a feasible design satisfies, e.g. 'area_mm2 <= 2' (repeatable)")
    p.add_argument("--max-accuracy-drop", type=float, metavar="X",
                   help="feasible designs lose at most X of the probe metric vs. full precision "
                   "(<metric>_degradation <= X; accuracy as a fraction, e.g. 0.01)")
    p.add_argument("--name", help="run name (default <problem>/<agent>/seed<seed>)")
    p.add_argument("--json", action="store_true", help="print one JSON document (summary and Pareto front)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=handle)


def _parse_opts(items: list[str]) -> dict[str, Any]:
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--agent-opt must be KEY=VALUE, but got {item!r}")
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError:
            out[key.strip()] = value
    return out


def resolve(args: argparse.Namespace) -> dict[str, Any]:
    """Merge the YAML config and the flags; validate types. Writes nothing."""
    from codesign.cli.common import load_yaml

    cfg: dict[str, Any] = {}
    if args.config:
        cfg = load_yaml(args.config)
        unknown = sorted(set(cfg) - CONFIG_KEYS)
        if unknown:
            raise ConfigError(f"config keys must be among {sorted(CONFIG_KEYS)}, but got unknown {unknown}")
    flags = {
        "problem": args.problem, "space": args.space, "agent": args.agent, "budget": args.budget, "seed": args.seed,
        "store": args.store, "batch_size": args.batch_size, "name": args.name,
        "executor": args.executor, "workers": args.workers, "worker": args.worker,
        "eval_timeout": args.eval_timeout, "ray_address": args.ray_address,
    }
    for k, v in flags.items():
        if v is not None:
            cfg[k] = v
    for key in ("name", "worker", "store", "ray_address", "executor"):
        if cfg.get(key) is not None and not isinstance(cfg[key], str):
            raise ConfigError(f"{key} must be a string, but got {cfg[key]!r}")
    agent = cfg.get("agent", "random")
    kwargs = cfg.get("agent_kwargs") or {}
    if not isinstance(kwargs, dict):
        raise ConfigError(f"agent_kwargs must be a mapping, but got {kwargs!r}")
    if isinstance(agent, dict):
        unknown = sorted(set(agent) - {"name", "kwargs"})
        inner = agent.get("kwargs") or {}
        if unknown or not isinstance(inner, dict):
            raise ConfigError(f"agent must be a name or {{name, kwargs: mapping}}, but got {agent!r}")
        kwargs = {**inner, **kwargs}
        agent = agent.get("name")
    cfg["agent"] = agent
    cfg["agent_kwargs"] = {**kwargs, **_parse_opts(args.agent_opt)}
    if any(not isinstance(k, str) for k in cfg["agent_kwargs"]):
        raise ConfigError(f"agent_kwargs keys must be names, but got {sorted(map(repr, cfg['agent_kwargs']))}")
    plugins = cfg.get("plugins") or []
    if isinstance(plugins, str):
        plugins = [plugins]
    if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
        raise ConfigError(f"plugins must be a list of Python file paths, but got {plugins!r}")
    cfg["plugins"] = list(plugins) + list(args.plugin)
    cons = cfg.get("constraints") or []
    if isinstance(cons, str):
        cons = [cons]
    cfg["constraints"] = list(cons) + list(args.constraint)
    if args.max_accuracy_drop is not None:
        cfg["max_accuracy_drop"] = args.max_accuracy_drop
    cfg.setdefault("problem", DEFAULT_PROBLEM)
    cfg.setdefault("budget", 100)
    cfg.setdefault("seed", 0)
    cfg.setdefault("store", "runs/default")
    cfg.setdefault("batch_size", 1)
    cfg.setdefault("executor", None)
    cfg.setdefault("workers", 1)
    cfg.setdefault("worker", "main")
    for key, low in (("budget", 1), ("seed", 0), ("batch_size", 1), ("workers", 1)):
        v = cfg[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise ConfigError(f"{key} must be an integer >= {low}, but got {v!r}")
    if not isinstance(cfg["agent"], str):
        raise ConfigError(f"agent must be a name, but got {cfg['agent']!r}")
    if not isinstance(cfg["store"], str) or not cfg["store"].strip():
        raise ConfigError(f"store must be a directory path or URL, but got {cfg['store']!r}")
    return cfg


def _terminate_as_interrupt() -> Any:
    """SIGTERM (a scheduler, ``kill``) ends the run like Ctrl-C: the batch in flight is closed as
    orphaned, the executor's workers and a local Ray are stopped, the worker lease is released."""
    def _handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt("terminated (SIGTERM)")

    return signal.signal(signal.SIGTERM, _handler)


def handle(args: argparse.Namespace) -> int:
    from codesign.cli.common import console, print_json
    from codesign.config import build_problem, problem_spec
    from codesign.executors import make_executor
    from codesign.registry import REGISTRIES
    from codesign.runner import run

    cfg = resolve(args)
    spec = problem_spec(cfg["problem"], cfg.get("space"), cfg["plugins"], cfg["constraints"],
                        cfg.get("max_accuracy_drop"))
    problem = build_problem(spec)
    REGISTRIES["agent"].spec(cfg["agent"])  # unknown agent -> error before anything runs
    executor = make_executor(cfg["executor"], cfg["workers"], spec, cfg.get("eval_timeout"), cfg.get("ray_address"))
    out = console(stderr=True)
    show_progress = not args.json and not args.quiet
    progress = None
    on_record = None
    if show_progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=out, transient=False)
        task = progress.add_task(f"{problem.name} / {cfg['agent']}", total=cfg["budget"])

        started = []

        def on_record(rec: Any, done: int, budget: int) -> None:
            if not started:  # start at the first record, after every check has passed
                progress.start()
                started.append(True)
            progress.update(task, completed=done)
    t0 = time.perf_counter()
    previous = _terminate_as_interrupt()
    try:
        result = run(problem, cfg["agent"], cfg["budget"], cfg["seed"], cfg["store"], batch_size=cfg["batch_size"],
                     agent_kwargs=cfg["agent_kwargs"], name=cfg.get("name"), executor=executor, on_record=on_record,
                     worker=str(cfg["worker"]))
    finally:
        signal.signal(signal.SIGTERM, previous)
        if progress is not None:
            progress.stop()
        executor.close()
    wall = time.perf_counter() - t0
    from codesign.cli.show import front_document, print_front
    from codesign.results.store import Store

    doc = front_document(Store(result.store, create=False), [result.name])
    doc.update({"run": result.name, "resumed_from": result.resumed, "wall_seconds": round(wall, 3)})
    if args.json:
        print_json(doc)
        return 0
    if result.resumed:
        out.print(f"resumed run {result.name!r} at {result.resumed} evaluations")
    print_front(doc, console())
    console().print(f"\n{len(result.records)} evaluations in {wall:.1f} s; store: {result.store} "
                    f"(inspect with `codesign show --store {result.store}`)")
    return 0
