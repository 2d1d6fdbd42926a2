"""A new user's plugin (issue 16): spaces that disagree with the default problem's evaluators,
and a problem whose every evaluation fails."""

from __future__ import annotations

import codesign
from codesign.evaluators.base import BaseEvaluator
from codesign.evaluators.composite import Problem
from codesign.spaces import Bitwidth, Categorical, Ordinal, PowerOfTwo, Space
from codesign.testing.agents import OBJECTIVES, conformance_space

HW = [
    Categorical("pe_type", "hw", ("bit_serial", "lut")),
    PowerOfTwo("array_rows", "hw", 4, 16),
    PowerOfTwo("array_cols", "hw", 4, 16),
    PowerOfTwo("glb_kb", "hw", 8, 64),
    PowerOfTwo("pe_buf_bytes", "hw", 32, 64),
    Ordinal("dram_gbps", "hw", (6.4, 12.8)),
    Ordinal("clock_mhz", "hw", (200, 400)),
]


@codesign.register_space("fd-missing-hw", overwrite=True)
def missing_hw(workload=None) -> Space:
    """Uniform bits and only three hardware parameters (glb_kb and others missing)."""
    return Space([Bitwidth("w_bits.all", "quant", 2, 8), Bitwidth("a_bits.all", "quant", 4, 8)] + HW[:3],
                 name="fd-missing-hw")


@codesign.register_space("fd-misnamed-bits", overwrite=True)
def misnamed_bits(workload=None) -> Space:
    """Bits named ``w_bits`` / ``a_bits`` (no evaluator reads them; ``w_bits.all`` was meant)."""
    return Space([Bitwidth("w_bits", "quant", 2, 8), Bitwidth("a_bits", "quant", 4, 8)] + HW, name="fd-misnamed-bits")


@codesign.register_space("fd-half-bits", overwrite=True)
def half_bits(workload=None) -> Space:
    """``w_bits.all`` without ``a_bits.all``: the evaluators read them as a pair."""
    return Space([Bitwidth("w_bits.all", "quant", 2, 8)] + HW, name="fd-half-bits")


class AlwaysFails(BaseEvaluator):
    name = "always-fails"
    metrics = ("quality", "cost")

    def evaluate(self, design):  # type: ignore[no-untyped-def]
        if design["pe_type"] == "lut":
            raise RuntimeError("LUT tables do not fit")
        raise ValueError(f"unsupported clock {design['clock_mhz']} MHz")


@codesign.register_problem("fd-always-fails", overwrite=True)
def always_fails() -> Problem:
    return Problem("fd-always-fails", conformance_space(), [AlwaysFails()], OBJECTIVES)
