"""Measured inputs of a bit allocation for the project's workloads: the glue between
:mod:`codesign.allocation` (the solver, which imports no evaluator) and the probes and cost models.

``codesign.allocate`` and ``codesign allocate`` go through here. A config (the keys of
:mod:`codesign.allocation.config`) may name:

- ``workload: NAME`` (registered; ``{name: NAME, ...kwargs}`` for its factory's arguments);
- ``loss: fisher | hessian | probe`` — measured by the workload's probe
  (:mod:`codesign.evaluators.accuracy.sensitivity`; ``probe: {...}`` passes the probe's
  arguments, e.g. ``eval_size``, plus ``samples`` / ``batches`` / ``seed`` for ``hessian``; from
  Python ``probe`` may also be a loaded probe of that workload).
  **Default** when the workload has a probe and no loss is given: ``fisher``;
- costs by metric: ``latency_ms``, ``latency_cycles``, ``energy_uj`` from the ``cost_model``
  (``cost-model`` by default, or ``roofline``) on ``accelerator: {pe_type, array_rows, ...}``;
  ``size_bytes`` and ``bops`` from the layer shapes. In the mapping form the value may name the
  model (``latency_ms: roofline``).

Per-option costs from a model are additive over layers (each layer is scored on its own): one
evaluation per distinct ``(w, a)`` pair gives every group's cost at that pair. Layers outside
the groups do not enter the tables. Costs do not see a weight group size (``w4g128`` costs as
``w4``) except ``size_bytes``, which counts its scale overhead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from codesign.allocation import Allocation, Group
from codesign.allocation import allocate as _allocate
from codesign.allocation import run as _run
from codesign.errors import ConfigError

__all__ = ["COST_METRICS", "allocate", "cost_table", "prepare", "run"]

COST_METRICS = ("latency_ms", "latency_cycles", "energy_uj")
COST_MODELS = ("cost-model", "roofline")
FLOAT_BITS = 16


def _workload(spec: Any) -> tuple[Any, str | None]:
    from codesign.registry import make_workload

    if hasattr(spec, "layers"):
        return spec, getattr(spec, "name", None)
    if isinstance(spec, str):
        return make_workload(spec), spec
    if isinstance(spec, Mapping) and "name" in spec:
        return make_workload(str(spec["name"]), **{k: v for k, v in spec.items() if k != "name"}), str(spec["name"])
    raise ConfigError(f"`workload` must be a registered name or {{name: NAME, ...}}, but got {spec!r}")


def cost_table(workload: Any, groups: Sequence[Group], metric: str, model: Any = "cost-model",
               accelerator: Mapping[str, Any] | None = None, **model_kwargs: Any) -> dict[str, dict[str, float]]:
    """``{group: {option: metric}}`` of ``groups`` on ``accelerator`` by ``model`` (module docstring):
    ``cost-model``, ``roofline``, or an evaluator object of either kind (e.g. a Problem's own)."""
    from codesign.evaluators.roofline import HW_PARAMS

    if metric not in COST_METRICS:
        raise ConfigError(f"a model cost must be one of {COST_METRICS}, but got {metric!r}")
    if isinstance(model, str) and model not in COST_MODELS:
        raise ConfigError(f"`cost_model` must be one of {COST_MODELS}, but got {model!r}")
    missing = [p for p in HW_PARAMS if p not in (accelerator or {})]
    if missing:
        raise ConfigError(f"costs `{metric}` need `accelerator` with {list(HW_PARAMS)}, but it misses {missing}")
    hw = {p: accelerator[p] for p in HW_PARAMS}  # type: ignore[index]
    if not isinstance(model, str):
        evaluator: Any = model
    elif model == "roofline":
        from codesign.evaluators.roofline import RooflineEvaluator

        evaluator = RooflineEvaluator(workload, **model_kwargs)
    else:
        from codesign.evaluators.cost.evaluator import CostModelEvaluator

        evaluator = CostModelEvaluator(workload, **model_kwargs)
    pairs = sorted({_pair(o) for g in groups for o in g.options})
    designs = [{**hw, **{f"{p}.{m}": b for g in groups for m in g.members for p, b in zip(("w_bits", "a_bits"), pair)}}
               for pair in pairs]
    layers = {pair: m.breakdown["layers"] for pair, m in zip(pairs, evaluator.evaluate_many(designs))}
    clock_mhz = float(hw["clock_mhz"])

    def value(entry: Mapping[str, Any]) -> float:
        if metric == "energy_uj":
            e = entry["energy_uj"]
            return float(sum(e.values()) if isinstance(e, Mapping) else e)
        cycles = float(entry["latency_cycles"])
        return cycles / clock_mhz / 1e3 if metric == "latency_ms" else cycles

    return {g.name: {o.name: sum(value(layers[_pair(o)][m]) for m in g.members) for o in g.options} for g in groups}


def _pair(option: Any) -> tuple[int, int]:
    return (int(option.w_bits if option.w_bits is not None else FLOAT_BITS),
            int(option.a_bits if option.a_bits is not None else FLOAT_BITS))


def prepare(config: Mapping[str, Any]) -> tuple[dict[str, Any], Any]:
    """``(config with the workload built and the default loss filled in, resolver)`` for
    :func:`codesign.allocation.run` / :func:`codesign.allocation.allocate`."""
    from codesign.evaluators.accuracy.probes import PROBES, make_probe

    config = dict(config)
    name = None
    if config.get("workload") is not None:
        config["workload"], name = _workload(config["workload"])
    has_probe = name in PROBES
    if config.get("loss") is None and has_probe and config.get("objective", "loss") == "loss":
        config["loss"] = "fisher"
    probes: dict[str, Any] = {}

    def resolve(what: str, spec: str, groups: Sequence[Group], cfg: Mapping[str, Any]) -> Any:
        if what == "loss":
            from codesign.evaluators.accuracy.sensitivity import METHODS, group_losses

            if spec not in METHODS:
                raise ConfigError(f"`loss: {spec}` must be a table or one of {METHODS}")
            if not has_probe:
                raise ConfigError(f"`loss: {spec}` needs a workload with a probe ({sorted(PROBES)}), but got {name!r}")
            given = cfg.get("probe")
            probe_kw = {} if hasattr(given, "measure_config") else dict(given or {})
            method_kw = {k: probe_kw.pop(k) for k in ("samples", "batches", "seed") if k in probe_kw}
            if "probe" not in probes:
                probes["probe"] = given if hasattr(given, "measure_config") else make_probe(str(name), **probe_kw)
            _check_members(groups, {l.name for l in probes["probe"].layers}, str(name))
            return group_losses(probes["probe"], groups, spec, **method_kw)
        metric = what.split(".", 1)[1]
        model = spec if spec in COST_MODELS else str(cfg.get("cost_model", "cost-model"))
        if spec not in COST_MODELS and spec != metric:
            raise ConfigError(f"`{what}: {spec}` must be a table, a cost model {COST_MODELS} or {metric!r}")
        if cfg.get("workload") is None:
            raise ConfigError(f"`{what}` from a cost model needs a `workload`")
        return cost_table(cfg["workload"], groups, metric, model, cfg.get("accelerator"))

    return config, resolve


def _check_members(groups: Sequence[Group], known: set[str], workload: str) -> None:
    missing = [m for g in groups for m in g.members if m not in known]
    if missing:
        raise ConfigError(f"layers {missing[:3]} are not quantizable layers of the {workload} probe")


def allocate(config: Mapping[str, Any] | None = None, **kwargs: Any) -> Allocation:
    """Solve one allocation (``codesign.allocate``): the keys of :mod:`codesign.allocation.config`
    as a mapping and/or keyword arguments, with workloads, measured losses and model costs by name.

    Example::

        codesign.allocate(workload="moe-shakespeare", granularity="expert", options=["w2a8", "w3a8", "w4a8"],
                          loss="fisher", costs=["size_bytes"], budgets={"size_bytes": {"fraction": 0.5}},
                          constraints=["count(layers.{i}.mlp.e*, w2*) >= 1"])
    """
    config, resolve = prepare({**dict(config or {}), **kwargs})
    return _allocate(config, resolve)


def run(config: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`codesign.allocation.run` with measured inputs (``codesign allocate``)."""
    config, resolve = prepare(config)
    return _run(config, resolve)

