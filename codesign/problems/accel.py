"""Accelerator problems scored by the loop-nest cost model alone (:mod:`codesign.evaluators.cost`).

- nested (``<net>-accel``): hardware space; the mapping of every layer is searched by the
  evaluator's mapper per hardware point (HASCO-style two-level co-design);
- flat (``<net>-accel-flat``): hardware × mapping space (``map.<layer>.*`` params, with the
  buffer-capacity constraints of :func:`codesign.spaces.builders.flat_capacity_constraints`, so
  sampled designs fit); agents search the mapping jointly with the hardware.

No accuracy model exists for these networks' weights, so nothing would oppose lowering their
bits: every layer runs at fixed ``bits`` (default 8/8, weights and activations) and the space
has no bit parameters. The flagship problems (:mod:`codesign.problems.flagship`) search bits
against real probes. Objectives: latency_ms, energy_uj, area_mm2 (min).
"""

from __future__ import annotations

from typing import Any

from codesign.evaluators.composite import Problem
from codesign.types import Objective

ACCEL_OBJECTIVES = (Objective("latency_ms", "min"), Objective("energy_uj", "min"), Objective("area_mm2", "min"))
CATALOG_INFO = {"bits": "fixed (8/8 by default); not searched: no accuracy model for these weights"}


def _accel(name: str, workload: Any, flat: bool, mapper: str, max_pes: int | None, bits: int) -> Problem:
    from codesign.evaluators.cost.evaluator import CostModelEvaluator
    from codesign.spaces.builders import flat_capacity_constraints, hardware_space, mapping_space
    from codesign.spaces.space import Constraint, compose

    parts = [hardware_space(max_pes=max_pes)]
    cons: list[Constraint] = []
    if flat:
        parts.append(mapping_space(workload))
        names = [p.name for s in parts for p in s.params]
        cons = flat_capacity_constraints(workload, names, default_bits=(bits, bits))
    space = compose(*parts, name=f"{name}-space", constraints=cons)
    kind = "flat mapping params" if flat else f"nested {mapper} mapper"
    return Problem(name, space, [CostModelEvaluator(workload, mapper=mapper, default_bits=(bits, bits))],
                   ACCEL_OBJECTIVES, workload=workload,
                   description=f"{workload.name} at {bits}-bit on a PE-array accelerator, loop-nest cost model, {kind}")


def resnet18_accel(batch: int = 1, flat: bool = False, mapper: str = "heuristic", max_pes: int | None = 1024,
                   bits: int = 8) -> Problem:
    """ResNet-18 (ImageNet) at fixed bits x accelerator; mapping searched per hardware point (or flat)."""
    from codesign.workloads.zoo import resnet18

    return _accel("resnet18-accel-flat" if flat else "resnet18-accel", resnet18(batch=batch), flat, mapper, max_pes,
                  bits)


def resnet18_accel_flat(batch: int = 1, max_pes: int | None = 1024, bits: int = 8) -> Problem:
    """ResNet-18 at fixed bits x accelerator x per-layer mapping params (flat co-design)."""
    return resnet18_accel(batch=batch, flat=True, max_pes=max_pes, bits=bits)


def mixtral_accel(tokens: int = 256, routing: Any = None, mapper: str = "heuristic", max_pes: int | None = 1024,
                  bits: int = 8) -> Problem:
    """Mixtral-8x7B MoE blocks at fixed bits (tokens per expert from routing) x accelerator, nested mapping."""
    from codesign.workloads.zoo import mixtral_8x7b

    return _accel("mixtral-accel", mixtral_8x7b(tokens=tokens, routing=routing), False, mapper, max_pes, bits)


for _f in (resnet18_accel, resnet18_accel_flat, mixtral_accel):
    _f.catalog_info = lambda: dict(CATALOG_INFO)  # type: ignore[attr-defined]
