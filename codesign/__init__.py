"""codesign: hardware/software co-design space exploration of low-bit DNN accelerators.

Public API::

    import codesign
    problem = codesign.make_problem("digits-accel")
    result = codesign.run(problem, agent="tpe", budget=100, seed=0, store="runs/demo")
    bits = codesign.allocate(workload="fmnist-cnn", options=["w4a8", "w8a8"], costs=["size_bytes"],
                             budgets={"size_bytes": {"fraction": 0.5}})   # exact mixed-precision MILP

Heavy dependencies (torch, optuna, botorch) load lazily, so ``import codesign`` stays fast.
Importing codesign also makes ``gymnasium.make("codesign/Design-v0", ...)`` work, whether
gymnasium is imported before or after (see :mod:`codesign.envs`).

Also here (loaded on first use): ``Problem``, ``BaseEvaluator``, ``Evaluator``, ``ParamUse``,
``Space``, ``Constraint``, ``compose``, ``Workload``, ``Layer``, ``open_store``, ``Store``,
``RunResult``.
"""

from __future__ import annotations

from typing import Any

from codesign.builtins import register_builtins
from codesign.envs import install_gym_hook
from codesign.errors import (
    CodesignError,
    ConfigError,
    EvaluationError,
    InfeasibleDesign,
    RegistryError,
    SpaceError,
    StoreError,
    WorkloadError,
)
from codesign.registry import (
    load_plugin,
    make_agent,
    make_env,
    make_evaluator,
    make_pe,
    make_problem,
    make_space,
    make_workload,
    register_agent,
    register_env,
    register_evaluator,
    register_pe,
    register_problem,
    register_space,
    register_workload,
    registry,
)
from codesign.types import Design, EvalRecord, EvalState, Metrics, Objective

__version__ = "0.1.0"

register_builtins()
install_gym_hook()


def run(*args: Any, **kwargs: Any) -> Any:
    """Run a search; see :func:`codesign.runner.run`."""
    from codesign.runner import run as _run

    return _run(*args, **kwargs)


def __getattr__(name: str) -> Any:
    # lazy re-exports of the heavier modules
    lazy = {
        "Space": "codesign.spaces.space",
        "Constraint": "codesign.spaces.space",
        "compose": "codesign.spaces.space",
        "Problem": "codesign.evaluators.composite",
        "BaseEvaluator": "codesign.evaluators.base",
        "Evaluator": "codesign.evaluators.base",
        "ParamUse": "codesign.evaluators.params",
        "Store": "codesign.results.store",
        "RunResult": "codesign.runner",
        "Workload": "codesign.workloads.layer",
        "Layer": "codesign.workloads.layer",
        "open_store": "codesign.results.store",
        "allocate": "codesign.evaluators.allocation_inputs",
    }
    if name in lazy:
        import importlib

        return getattr(importlib.import_module(lazy[name]), name)
    raise AttributeError(f"module 'codesign' has no attribute {name!r}")


__all__ = [
    "CodesignError", "ConfigError", "EvaluationError", "InfeasibleDesign", "RegistryError",
    "SpaceError", "StoreError", "WorkloadError", "Design", "EvalRecord", "EvalState", "Metrics",
    "Objective", "load_plugin", "registry", "run", "Problem", "BaseEvaluator", "Evaluator", "ParamUse", "Space",
    "Constraint", "compose", "Workload", "Layer", "open_store", "Store", "RunResult",
    "make_agent", "make_env", "make_evaluator", "make_pe", "make_problem", "make_space", "make_workload",
    "register_agent", "register_env", "register_evaluator", "register_pe", "register_problem",
    "register_space", "register_workload", "allocate",
]
