"""Named spaces of the built-in problems."""

from __future__ import annotations

from codesign.spaces.builders import hardware_space, mapping_space, quant_space
from codesign.spaces.space import Space, compose
from codesign.workloads.layer import Workload


def _digits(workload: Workload | None) -> Workload:
    if workload is not None:
        return workload
    from codesign.workloads.zoo import digits_cnn

    return digits_cnn()


def digits_accel_space(workload: Workload | None = None, mapping: bool = False) -> Space:
    """Default joint space: per-layer W/A bits (2-8) of the digits CNN x accelerator parameters.

    ``array_rows * array_cols <= 2048`` is a named constraint; with ``mapping=True`` the
    per-layer dataflow and tile factors join the space (flat co-design).
    """
    wl = _digits(workload)
    parts = [
        quant_space(wl, w_bits=(2, 8), a_bits=(2, 8)),
        hardware_space(pe_types=("bit_parallel", "bit_serial", "lut"), rows=(4, 64), cols=(4, 64),
                       glb_kb=(8, 256), pe_buf_bytes=(16, 256), max_pes=2048),
    ]
    if mapping:
        parts.append(mapping_space(wl))
    return compose(*parts, name="digits-accel" + ("+map" if mapping else ""))


def digits_accel_small_space(workload: Workload | None = None) -> Space:
    """A small, exhaustively enumerable variant (uniform bits, few hardware choices)."""
    wl = _digits(workload)
    return compose(
        quant_space(wl, w_bits=(2, 8), a_bits=(4, 8), granularity="uniform"),
        hardware_space(
            pe_types=("bit_parallel", "bit_serial", "lut"), rows=(8, 32), cols=(8, 32), glb_kb=(16, 64),
            pe_buf_bytes=(64, 64), dram_gbps=(12.8,), clock_mhz=(500,),
        ),
        name="digits-accel-small",
    )
