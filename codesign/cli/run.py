"""``codesign run``: search a problem with an agent, recording into a store."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import Any

from codesign.errors import ConfigError

DEFAULT_PROBLEM = "digits-accel"


def __getattr__(name: str) -> Any:
    if name == "CONFIG_KEYS":  # the YAML keys (pydantic loads only when asked)
        from codesign.cli.config_schema import CONFIG_KEYS

        return CONFIG_KEYS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    p.add_argument("--strict", action="store_true",
                   help="fail when a space parameter is read by no evaluator (default: a warning)")
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
    """Merge the YAML config and the flags, validate them against the config schema
    (:mod:`codesign.cli.config_schema`; path-precise one-line errors) and fill the defaults.
    Writes nothing."""
    from codesign.cli.common import load_yaml
    from codesign.cli.config_schema import Named, validate_run_config

    cfg: dict[str, Any] = load_yaml(args.config) if args.config else {}
    flags = {
        "problem": args.problem, "space": args.space, "agent": args.agent, "budget": args.budget, "seed": args.seed,
        "store": args.store, "batch_size": args.batch_size, "name": args.name,
        "executor": args.executor, "workers": args.workers, "worker": args.worker,
        "eval_timeout": args.eval_timeout, "ray_address": args.ray_address,
    }
    cfg.update({k: v for k, v in flags.items() if v is not None})
    valid = validate_run_config(cfg)
    agent = valid.agent if valid.agent is not None else "random"
    kwargs = dict(valid.agent_kwargs or {})
    if isinstance(agent, Named):
        kwargs = {**agent.kwargs, **kwargs}
        agent = agent.name
    out = {k: getattr(valid, k) for k in type(valid).model_fields if getattr(valid, k) is not None}
    out.update({
        "problem": cfg.get("problem", DEFAULT_PROBLEM), "space": cfg.get("space"),  # as written: problem specs
        "agent": agent, "agent_kwargs": {**kwargs, **_parse_opts(args.agent_opt)},
        "plugins": list(valid.plugins or []) + list(args.plugin),
        "constraints": list(valid.constraints or []) + list(args.constraint),
    })
    if args.max_accuracy_drop is not None:
        out["max_accuracy_drop"] = args.max_accuracy_drop
    for key, default in (("budget", 100), ("seed", 0), ("store", "runs/default"), ("batch_size", 1),
                         ("executor", None), ("workers", 1), ("worker", "main")):
        out.setdefault(key, default)
    return out


def _terminate_as_interrupt() -> Any:
    """SIGTERM (a scheduler, ``kill``) ends the run like Ctrl-C: the batch in flight is closed as
    orphaned, the executor's workers and a local Ray are stopped, the worker lease is released."""
    def _handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt("terminated (SIGTERM)")

    return signal.signal(signal.SIGTERM, _handler)


def handle(args: argparse.Namespace) -> int:
    from codesign.cli.common import build_problem_checked, console, print_json
    from codesign.cli.main import one_line
    from codesign.cli.progress import SearchProgress, steps
    from codesign.config import problem_spec
    from codesign.executors import make_executor
    from codesign.registry import REGISTRIES
    from codesign.runner import problem_normalization, run

    cfg = resolve(args)
    spec = problem_spec(cfg["problem"], cfg.get("space"), cfg["plugins"], cfg["constraints"],
                        cfg.get("max_accuracy_drop"))
    problem = build_problem_checked(spec, strict=args.strict)
    REGISTRIES["agent"].check_options(cfg["agent"], cfg["agent_kwargs"])  # unknown agent/options: before any work
    executor = make_executor(cfg["executor"], cfg["workers"], spec, cfg.get("eval_timeout"), cfg.get("ray_address"))
    out = console(stderr=True)
    show_progress = not args.json and not args.quiet
    # the fixed box of normalized hypervolume: derived once per problem version (then cached)
    with steps(f"objective bounds of {problem.name} (once per problem version)", None, show_progress, out,
               transient=True):
        normalization = problem_normalization(problem)
    progress = None
    if show_progress:
        progress = SearchProgress(f"{problem.name} / {cfg['agent']}", cfg["budget"], problem.directions,
                                  [o.name for o in problem.objectives], search_hypervolume(normalization), out)
    t0 = time.perf_counter()
    previous = _terminate_as_interrupt()
    try:
        result = run(problem, cfg["agent"], cfg["budget"], cfg["seed"], cfg["store"], batch_size=cfg["batch_size"],
                     agent_kwargs=cfg["agent_kwargs"], name=cfg.get("name"), executor=executor,
                     on_record=progress.on_record if progress else None, worker=str(cfg["worker"]),
                     meta={"normalization": normalization})
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
    all_failed = bool(result.records) and all(r.state.value == "failed" for r in result.records)
    if args.json:
        print_json(doc)
    else:
        if result.resumed:
            out.print(f"resumed run {result.name!r} at {result.resumed} evaluations")
        print_front(doc, console())
        console().print(f"\n{len(result.records)} evaluations in {wall:.1f} s; store: {result.store} "
                        f"(inspect with `codesign show --store {result.store} --run '{result.name}'`)")
    if all_failed:
        from codesign.results.summary import failure_reasons

        reasons = "; ".join(f"{n} x {reason}" for reason, n in failure_reasons(result.records)[:3])
        sys.stderr.write(f"codesign: error: every evaluation of run {result.name!r} failed ({len(result.records)}); "
                         f"most common reasons: {one_line(reasons)}\n")
        return 1
    return 0


def search_hypervolume(normalization: dict[str, Any] | None) -> Any:
    """The hypervolume shown while a search runs: normalized by the problem's fixed bounds, or
    None (front size only) when the problem has none."""
    if normalization is None:
        return None
    from codesign.results.pareto import Normalization, normalized_hypervolume

    norm = Normalization.from_dict(normalization)
    return lambda pts: normalized_hypervolume(pts, norm)
