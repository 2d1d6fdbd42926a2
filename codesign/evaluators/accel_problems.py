"""Accelerator problems scored by the loop-nest cost model (:mod:`codesign.evaluators.cost`).

- nested (``<net>-accel``): quant × hardware space; the mapping of every layer is searched by
  the evaluator's mapper per hardware point (HASCO-style two-level co-design);
- flat (``<net>-accel-flat``): quant × hardware × mapping space (``map.<layer>.*`` params);
  agents search the mapping jointly with the hardware.
Objectives: latency_ms, energy_uj, area_mm2 (min).
"""

from __future__ import annotations

from codesign.evaluators.composite import Problem
from codesign.types import Objective

ACCEL_OBJECTIVES = (Objective("latency_ms", "min"), Objective("energy_uj", "min"), Objective("area_mm2", "min"))


def _accel(name: str, workload, flat: bool, mapper: str, max_pes: int | None) -> Problem:
    from codesign.evaluators.cost.evaluator import CostModelEvaluator
    from codesign.spaces.builders import hardware_space, mapping_space, quant_space
    from codesign.spaces.space import compose

    parts = [quant_space(workload, granularity="uniform" if not workload.is_moe else "expert"),
             hardware_space(max_pes=max_pes)]
    if flat:
        parts.append(mapping_space(workload))
    space = compose(*parts, name=f"{name}-space")
    kind = "flat mapping params" if flat else f"nested {mapper} mapper"
    return Problem(name, space, [CostModelEvaluator(workload, mapper=mapper)], ACCEL_OBJECTIVES, workload=workload,
                   description=f"{workload.name} on a PE-array accelerator, loop-nest cost model, {kind}")


def resnet18_accel(batch: int = 1, flat: bool = False, mapper: str = "heuristic", max_pes: int | None = 1024) -> Problem:
    """ResNet-18 (ImageNet) x accelerator; mapping searched per hardware point (or flat)."""
    from codesign.workloads.zoo import resnet18

    return _accel("resnet18-accel-flat" if flat else "resnet18-accel", resnet18(batch=batch), flat, mapper, max_pes)


def resnet18_accel_flat(batch: int = 1, max_pes: int | None = 1024) -> Problem:
    """ResNet-18 x accelerator x per-layer mapping params (flat co-design)."""
    return resnet18_accel(batch=batch, flat=True, max_pes=max_pes)


def mixtral_accel(tokens: int = 256, routing=None, mapper: str = "heuristic", max_pes: int | None = 1024) -> Problem:
    """Mixtral-8x7B MoE blocks (experts with tokens per expert from routing) x accelerator, nested mapping."""
    from codesign.workloads.zoo import mixtral_8x7b

    wl = mixtral_8x7b(tokens=tokens, routing=routing)
    return _accel("mixtral-accel", wl, False, mapper, max_pes)
