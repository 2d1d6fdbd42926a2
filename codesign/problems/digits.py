"""The digits family: ``digits-accel`` (the default problem) and ``digits-accel-small``."""

from __future__ import annotations

from codesign.evaluators.composite import Problem
from codesign.types import Objective

DEFAULT_OBJECTIVES = (
    Objective("accuracy", "max", ref=0.0),
    Objective("latency_ms", "min"),
    Objective("energy_uj", "min"),
    Objective("area_mm2", "min"),
)


def digits_accel(batch: int = 16, mapping: bool = False) -> Problem:
    """Default problem: the digits CNN's per-layer bits x accelerator parameters.

    Objectives: accuracy (max, real quantized test accuracy on scikit-learn's digits),
    latency_ms, energy_uj, area_mm2 (min, roofline accelerator model), for a batch of
    ``batch`` images.
    """
    from codesign.evaluators.accuracy.digits import DigitsProbe
    from codesign.evaluators.roofline import RooflineEvaluator
    from codesign.spaces.catalog import digits_accel_space
    from codesign.workloads.zoo import digits_cnn

    wl = digits_cnn(batch=batch)
    return Problem(
        "digits-accel", digits_accel_space(wl, mapping=mapping),
        [DigitsProbe(), RooflineEvaluator(wl)], DEFAULT_OBJECTIVES, workload=wl,
        description=digits_accel.__doc__.splitlines()[0],
    )


def digits_accel_small(batch: int = 16) -> Problem:
    """A small enumerable variant of the default problem (uniform bits, few hardware choices)."""
    from codesign.evaluators.accuracy.digits import DigitsProbe
    from codesign.evaluators.roofline import RooflineEvaluator
    from codesign.spaces.catalog import digits_accel_small_space
    from codesign.workloads.zoo import digits_cnn

    wl = digits_cnn(batch=batch)
    return Problem(
        "digits-accel-small", digits_accel_small_space(wl), [DigitsProbe(), RooflineEvaluator(wl)],
        DEFAULT_OBJECTIVES, workload=wl, description=digits_accel_small.__doc__.splitlines()[0],
    )


for _f in (digits_accel, digits_accel_small):
    _f.catalog_info = lambda: {"bits": "searched per layer", "opposed_by": "real probe DigitsProbe: accuracy (max)",  # type: ignore[attr-defined]
                               "cost": "roofline"}
