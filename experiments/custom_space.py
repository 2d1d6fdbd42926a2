"""Example plugin: register your own design space (and problem) and search it from the CLI.

    codesign run --plugin experiments/custom_space.py --space edge-lowbit --agent tpe --budget 40 --store runs/custom
    codesign run --plugin experiments/custom_space.py --problem edge-digits --agent nsga2 --budget 60 --store runs/custom
    codesign show --store runs/custom --json

``--space NAME`` searches a registered space with the default problem's evaluators (the
roofline accelerator model and the real digits accuracy probe); ``--problem NAME`` runs a
registered problem with its own objectives and constraints.
"""

from __future__ import annotations

import codesign
from codesign.evaluators.composite import Problem
from codesign.spaces import Bitwidth, Categorical, Constraint, Ordinal, PowerOfTwo, Space
from codesign.workloads.layer import Workload


@codesign.register_space("edge-lowbit")
def edge_lowbit(workload: Workload | None = None) -> Space:
    """Low-bit edge accelerator: serial/LUT PEs only, 2-6-bit weights, <= 256 PEs."""
    if workload is None:
        workload = codesign.make_workload("digits-cnn")
    params = []
    for layer in workload.quantizable_layers:
        params.append(Bitwidth(f"w_bits.{layer.name}", "quant", 2, 6))
        params.append(Ordinal(f"a_bits.{layer.name}", "quant", (4, 6, 8)))
    params += [
        Categorical("pe_type", "hw", ("bit_serial", "lut")),
        PowerOfTwo("array_rows", "hw", 4, 32),
        PowerOfTwo("array_cols", "hw", 4, 32),
        PowerOfTwo("glb_kb", "hw", 8, 64),
        PowerOfTwo("pe_buf_bytes", "hw", 32, 128),
        Ordinal("dram_gbps", "hw", (6.4, 12.8)),
        Ordinal("clock_mhz", "hw", (200, 400)),
    ]
    constraints = [
        Constraint("pe_budget", "array_rows * array_cols <= 256"),
        # a joint constraint across subsystems: a LUT array keeps the first layer at >= 4-bit weights
        Constraint("lut_first_layer", "pe_type != 'lut' or w_bits.conv1 >= 4"),
    ]
    return Space(params, constraints, name="edge-lowbit")


@codesign.register_problem("edge-digits")
def edge_digits() -> Problem:
    """Digits CNN on the edge space: accuracy vs latency under an area budget of 0.1 mm^2."""
    base = codesign.make_problem("digits-accel")
    return Problem(
        "edge-digits", edge_lowbit(base.workload), base.evaluators,
        objectives=["accuracy:max", "latency_ms:min"], constraints=["area_mm2 <= 0.1"], workload=base.workload,
    )
