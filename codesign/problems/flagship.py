"""Flagship problems: a real model's bits × accelerator × mappings, real accuracy against cost.

One evaluation scores a design with

- the **loop-nest cost model** (:class:`~codesign.evaluators.cost.evaluator.CostModelEvaluator`)
  of the model's own traced workload (plus its attention matmuls) at the design's per-layer /
  per-expert bits on the design's accelerator — PE family (bit-parallel, bit-serial, LUT, ...;
  :func:`~codesign.problems.common.flagship_pe_types`), array, buffers, DRAM, clock — with the
  mapping of every layer searched per hardware point (**nested**, ``<model>-accel``) or given
  by ``map.<layer>.*`` parameters (**flat**, ``<model>-accel-flat``, with the buffer-capacity
  constraints of :func:`codesign.spaces.builders.flat_capacity_constraints` so random designs
  fit); and
- the **real probe** of the same model at the same bits (real weights, real held-out data;
  :mod:`codesign.evaluators.accuracy`), memoized by the bit configuration, so a search over
  hardware and mappings at fixed bits never re-probes; with ``fidelity="multi"`` a smaller
  evaluation set screens and only designs that could enter the front are re-measured in full
  (:mod:`codesign.problems.fidelity`).

Objectives: the probe's task metric with its direction, ``latency_ms``, ``energy_uj``,
``area_mm2`` (min). Models (:data:`MODELS`):

============  =============================================  ==========================  ================
problem       model                                          bits per                    metric
============  =============================================  ==========================  ================
fmnist-accel  Fashion-MNIST CNN (packaged weights), batch 16  layer (W and A)             accuracy, max
moe-accel     the project's byte-level MoE, 256 tokens         expert; other linear layers bits_per_byte, min
minilm-accel  all-MiniLM-L6-v2, 64 tokens                      layer                       accuracy, max
gemma-accel   Gemma-3-270M (extra ``codesign[gemma]``), 128    layer (``lm_head`` float)   perplexity, min
============  =============================================  ==========================  ================

MoE experts' GEMMs have ``M_e = T·k·f_e`` rows (their measured routing share,
:func:`codesign.evaluators.accuracy.real_workloads.moe_shakespeare`), so a rarely routed expert
costs little, and experts at different bits cost different cycles on a bit-serial or LUT PE.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codesign.errors import ConfigError
from codesign.evaluators.composite import Problem
from codesign.types import Objective
from codesign.workloads.layer import Workload

__all__ = ["MODELS", "FlagshipModel", "flagship_problem", "fmnist_accel", "fmnist_accel_flat", "moe_accel",
           "moe_accel_flat", "minilm_accel", "minilm_accel_flat", "gemma_accel"]

SCREENING = Path(__file__).resolve().parent / "data" / "screening.json"
BOUNDS = Path(__file__).resolve().parent / "data" / "bounds.json"  # written by experiments/flagship_bounds.py


@dataclass(frozen=True)
class FlagshipModel:
    """One flagship model: its probe, workload, bit granularity, metric and screening size."""

    key: str
    probe: str  # "module:Class" of the TorchProbe
    workload: str  # "module:function" of the traced workload
    workload_kwargs: Mapping[str, Any]
    granularity: str
    metric: str
    direction: str
    screen_eval_size: int
    metric_bounds: Mapping[str, Any]  # declared normalization of the metric (ideal, nadir, scale)
    ref: float | None = None
    attention: str | None = None  # "module:function(workload) -> (blocks, tokens, heads, head_dim)"
    skip: tuple[str, ...] = ()
    bits: tuple[tuple[int, int], tuple[int, int]] = ((2, 8), (2, 8))  # (w range, a range)
    flat: bool = True
    summary: str = ""


def _load(ref: str) -> Any:
    module, attr = ref.split(":")
    return getattr(importlib.import_module(module), attr)


def moe_attention(wl: Workload) -> tuple[list[tuple[str, str]], int, int, int]:
    cfg = wl.meta["config"]
    blocks = [(f"layers.{i}.attn", f"layers.{i}.attn.o") for i in range(cfg["layers"])]
    return blocks, int(wl.meta["tokens"]), int(cfg["heads"]), int(cfg["d"]) // int(cfg["heads"])


def minilm_attention(wl: Workload) -> tuple[list[tuple[str, str]], int, int, int]:
    from codesign.evaluators.accuracy.minilm import model_dir

    cfg = json.loads((model_dir() / "config.json").read_text())
    blocks = [(f"encoder.layer.{i}.attention.self", f"encoder.layer.{i}.attention.output.dense")
              for i in range(cfg["num_hidden_layers"])]
    heads = int(cfg["num_attention_heads"])
    return blocks, int(wl.meta["tokens"]), heads, int(cfg["hidden_size"]) // heads


def gemma_attention(wl: Workload) -> tuple[list[tuple[str, str]], int, int, int]:
    from codesign.evaluators.accuracy.gemma import gemma_config

    cfg = gemma_config()
    blocks = [(f"model.layers.{i}.self_attn", f"model.layers.{i}.self_attn.o_proj") for i in range(cfg.num_hidden_layers)]
    return blocks, int(wl.meta["tokens"]), int(cfg.num_attention_heads), int(cfg.head_dim)


_ACC = "codesign.evaluators.accuracy"
MODELS: dict[str, FlagshipModel] = {
    "fmnist": FlagshipModel("fmnist", f"{_ACC}.fmnist:FashionMNISTProbe", f"{_ACC}.fmnist:fmnist_cnn", {"batch": 16},
                            "layer", "accuracy", "max", 1000, {"ideal": 1.0, "nadir": 0.0}, ref=0.0,
                            summary="Fashion-MNIST CNN per-layer bits x accelerator; real accuracy vs cost model"),
    "moe": FlagshipModel("moe", f"{_ACC}.moe:MoEProbe", f"{_ACC}.real_workloads:moe_shakespeare", {"tokens": 256},
                         "expert", "bits_per_byte", "min", 8192, {"ideal": 0.0, "nadir": 8.0}, attention=f"{__name__}:moe_attention",
                         summary="byte-level MoE per-expert bits (routing-weighted cost) x accelerator; real bits/byte"),
    "minilm": FlagshipModel("minilm", f"{_ACC}.minilm:MiniLMProbe", f"{_ACC}.minilm:minilm_l6", {"tokens": 64},
                            "layer", "accuracy", "max", 250, {"ideal": 1.0, "nadir": 0.0}, ref=0.0,
                            attention=f"{__name__}:minilm_attention",
                            summary="all-MiniLM-L6-v2 per-layer bits x accelerator (attention in the cost); real accuracy"),
    "gemma": FlagshipModel("gemma", f"{_ACC}.gemma:GemmaProbe", f"{_ACC}.gemma:gemma3_270m", {"tokens": 128},
                           "layer", "perplexity", "min", 512, {"ideal": 1.0, "nadir": 262144.0, "scale": "log"},
                           attention=f"{__name__}:gemma_attention",
                           skip=("lm_head",), flat=False,
                           summary="Gemma-3-270M per-layer bits x accelerator; real news perplexity (extra codesign[gemma])"),
}


def workloads(model: FlagshipModel) -> tuple[Workload, Workload]:
    """``(probe workload, cost workload)``: the traced model, and the same with attention matmuls."""
    from codesign.problems.common import cached_workload, with_attention

    wl = cached_workload(_load(model.workload), **dict(model.workload_kwargs))
    if model.attention is None:
        return wl, wl
    blocks, tokens, heads, head_dim = _load(model.attention)(wl)
    return wl, with_attention(wl, blocks, tokens, heads, head_dim)


def flagship_problem(model: str, flat: bool = False, mapper: str = "heuristic", pe_types: Sequence[str] | None = None,
                     max_pes: int | None = 1024, fidelity: str = "full", eval_size: int | None = None,
                     screen_eval_size: int | None = None, scheme: Mapping[str, Any] | None = None) -> Problem:
    """The flagship problem of ``model`` (a key of :data:`MODELS`); see the module docstring.

    Args:
        model: ``fmnist``, ``moe``, ``minilm`` or ``gemma``.
        flat: mapping parameters in the space (else the nested mapper maps every layer).
        mapper: nested mapper (``heuristic``, ``qlearning``, ``exhaustive``).
        pe_types: PE families offered (default every family, :func:`~codesign.problems.common.flagship_pe_types`).
        max_pes: at most this many PEs (``array_rows * array_cols``).
        fidelity: ``full`` (every design probed at ``eval_size``) or ``multi`` (screen at
            ``screen_eval_size``, re-measure in full only designs that could enter the front).
        eval_size: the probe's full evaluation size (default the probe's).
        screen_eval_size: the screening size of ``fidelity="multi"`` (default per model).
        scheme: :class:`~codesign.evaluators.accuracy.probe.QuantScheme` fields.
    """
    from codesign.evaluators.accuracy.probe import QuantScheme, shared_probe
    from codesign.evaluators.cost.evaluator import CostModelEvaluator
    from codesign.problems.common import accel_space
    from codesign.spaces.builders import flat_capacity_constraints, mapping_space, quant_space
    from codesign.spaces.space import compose

    if model not in MODELS:
        raise ConfigError(f"flagship model must be one of {sorted(MODELS)}, but got {model!r}")
    spec = MODELS[model]
    if flat and not spec.flat:
        raise ConfigError(f"{model}-accel has no flat form (its mapping space would have thousands of parameters)")
    if fidelity not in ("full", "multi"):
        raise ConfigError(f"fidelity must be 'full' or 'multi', but got {fidelity!r}")
    qs = QuantScheme(**dict(scheme or {}))
    probe_cls = _load(spec.probe)
    probe = shared_probe(probe_cls, scheme=qs, eval_size=eval_size)  # a bad eval_size fails here, before tracing
    probe_wl, cost_wl = workloads(spec)
    name = f"{model}-accel" + ("-flat" if flat else "")
    w_range, a_range = spec.bits
    parts = [quant_space(probe_wl, w_bits=w_range, a_bits=a_range, granularity=spec.granularity, skip=spec.skip),
             accel_space(pe_types, max_pes)]
    cons = []
    if flat:
        parts.append(mapping_space(cost_wl))
        cons = flat_capacity_constraints(cost_wl, [p.name for s in parts for p in s.params])
    space = compose(*parts, name=f"{name}-space", constraints=cons)
    objectives = (Objective(spec.metric, spec.direction, ref=spec.ref), Objective("latency_ms", "min"),
                  Objective("energy_uj", "min"), Objective("area_mm2", "min"))
    from codesign.evaluators.accuracy.pe_cycles import MeasuredPECycles

    # zero-bit-skipping PEs: cycles from the model's own quantized weights (closed form elsewhere)
    cost = CostModelEvaluator(cost_wl, mapper=mapper, pe_cycles=MeasuredPECycles(probe))
    evaluators: list[Any] = [cost, probe]
    if fidelity == "multi":
        from codesign.problems.fidelity import MultiFidelity

        screen = shared_probe(probe_cls, scheme=qs, eval_size=screen_eval_size or spec.screen_eval_size)
        evaluators = [MultiFidelity(cost, screen, probe, objectives)]
    kind = "flat mapping params" if flat else f"nested {mapper} mapper"
    return Problem(name, space, evaluators, objectives, workload=cost_wl, bounds=_bounds(name),
                   description=f"{spec.summary}; loop-nest cost model ({kind}); {fidelity} fidelity")


def _bounds(name: str) -> dict[str, Any] | None:
    """The declared objective bounds of problem ``name`` (``experiments/flagship_bounds.py``), if any."""
    try:
        entry = json.loads(BOUNDS.read_text()).get(name)
    except (OSError, ValueError):
        return None
    return dict(entry["objectives"]) if entry else None


def catalog_info(model: str, flat: bool = False) -> dict[str, Any]:
    """What ``codesign list problems --json`` says about a flagship problem (no model is loaded)."""
    spec = MODELS[model]
    info: dict[str, Any] = {
        "bits": f"searched per {spec.granularity}" + (f" (float: {', '.join(spec.skip)})" if spec.skip else ""),
        "opposed_by": f"real probe {spec.probe.rsplit(':', 1)[1]}: {spec.metric} ({spec.direction})",
        "cost": "loop-nest cost model, " + ("flat mapping params" if flat else "nested mapper"),
        "screen_eval_size": spec.screen_eval_size,
    }
    try:
        measured = json.loads(SCREENING.read_text()).get(model)
    except (OSError, ValueError):
        measured = None
    if measured:
        info["screening_spearman_vs_full"] = measured
    return info


def _factory(model: str, flat: bool) -> Any:
    import inspect

    def make(**kwargs: Any) -> Problem:
        return flagship_problem(model, flat=flat, **kwargs)

    sig = inspect.signature(flagship_problem)
    make.__signature__ = sig.replace(parameters=[p for n, p in sig.parameters.items()  # type: ignore[attr-defined]
                                                 if n not in ("model", "flat")])

    make.__name__ = f"{model}_accel" + ("_flat" if flat else "")
    make.__doc__ = MODELS[model].summary + (" (flat mapping params)" if flat else "")
    make.catalog_info = lambda: catalog_info(model, flat)  # type: ignore[attr-defined]
    return make


fmnist_accel = _factory("fmnist", False)
fmnist_accel_flat = _factory("fmnist", True)
moe_accel = _factory("moe", False)
moe_accel_flat = _factory("moe", True)
minilm_accel = _factory("minilm", False)
minilm_accel_flat = _factory("minilm", True)
gemma_accel = _factory("gemma", False)
