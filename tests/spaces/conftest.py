"""Shared fixtures of the spaces tests: hand-made workloads and the catalogue of spaces.

``space_case`` is parametrized over every registered space (built with each workload when its
factory takes one) plus a few variants that exercise other parameter kinds and constraints.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

import pytest
from hypothesis import strategies as st

import codesign
from codesign.spaces import Bitwidth, Categorical, Constraint, Integer, Ordinal, PowerOfTwo, Space
from codesign.types import Design
from codesign.workloads.layer import Workload, attn, conv, gemm

MOE_EXPERTS = 4
MOE_BLOCKS = ("w1", "w2", "w3")


def tiny_cnn() -> Workload:
    """A small CNN: two convs (one strided) and a classifier GEMM."""
    return Workload("tiny-cnn", [
        conv("conv1", C=1, M=8, R=3, P=6),
        conv("conv2", C=8, M=16, R=3, P=3, stride=2),
        gemm("fc", M=1, N=10, K=144),
    ])


def tiny_moe() -> Workload:
    """A one-block MoE decoder: QKV, an attention matmul, a router and 4 experts x 3 blocks."""
    layers = [
        gemm("attn.qkv", M=16, N=96, K=32),
        attn("attn.qk", M=16, N=16, K=8, heads=4),
        gemm("moe0.router", M=16, N=MOE_EXPERTS, K=32),
    ]
    for e in range(MOE_EXPERTS):
        for block, (n, k) in zip(MOE_BLOCKS, ((64, 32), (32, 64), (64, 32))):
            layers.append(gemm(f"moe0.e{e}.{block}", M=8, N=n, K=k, expert=e, block=block, tokens=8.0))
    return Workload("tiny-moe", layers)


def _workloads() -> dict[str, Callable[[], Workload]]:
    out: dict[str, Callable[[], Workload]] = {"tiny-cnn": tiny_cnn, "tiny-moe": tiny_moe}
    try:  # the zoo is written concurrently; use it once it exists
        import codesign.workloads.zoo  # noqa: F401
    except ImportError:
        return out
    out["digits-cnn"] = lambda: codesign.make_workload("digits-cnn")
    return out


def mixed_space() -> Space:
    """Every parameter kind, interleaved subsystems, odd domains, and in/cross constraints."""
    return Space(
        [
            Categorical("mode", "hw", ("a", 1, True, 2.5)),
            Bitwidth("w", "quant", 1, 16),
            Integer("offset", "hw", -6, 9, step=3),
            PowerOfTwo("rows", "hw", 1, 1024),
            Ordinal("bw", "mem", (6.4, 12.8, 25.6, 100)),
            PowerOfTwo("one", "quant", 8, 8),
            Bitwidth("a", "quant", 2, 8),
            Categorical("df", "mem", ("ws", "os")),
        ],
        [
            Constraint("bits", "w >= a or w == 1"),
            Constraint("budget", "rows * w <= 4096"),
            Constraint("df_bw", "df == 'ws' or bw >= 12.8"),
        ],
        name="mixed",
    )


def _takes_workload(name: str) -> bool:
    factory = codesign.registry("space").spec(name).load()
    return "workload" in inspect.signature(factory).parameters


def _cases() -> dict[str, Callable[[], Space]]:
    cases: dict[str, Callable[[], Space]] = {}
    workloads = _workloads()
    for name in codesign.registry("space").names():
        if _takes_workload(name):
            for wname, wl in workloads.items():
                cases[f"{name}[{wname}]"] = functools.partial(
                    lambda n, w: codesign.make_space(n, workload=w()), name, wl
                )
        else:
            cases[name] = functools.partial(codesign.make_space, name)
    cases["joint+map[tiny-moe,expert]"] = lambda: codesign.make_space(
        "joint", workload=tiny_moe(), quant={"granularity": "expert"}, mapping=True
    )
    cases["quant[tiny-moe,uniform]"] = lambda: codesign.make_space("quant", workload=tiny_moe(), granularity="uniform")
    cases["digits-accel+map[tiny-cnn]"] = lambda: codesign.make_space("digits-accel", workload=tiny_cnn(), mapping=True)
    cases["hw[max_pes=256]"] = lambda: codesign.make_space("hw", max_pes=256)
    cases["mixed"] = mixed_space
    return cases


CASES = _cases()


@functools.cache
def build_space(case: str) -> Space:
    return CASES[case]()


@pytest.fixture(scope="session", params=sorted(CASES), ids=sorted(CASES))
def space(request: pytest.FixtureRequest) -> Space:
    """Every registered space (with each workload when it takes one) and a few variants."""
    return build_space(request.param)


def designs(space: Space) -> st.SearchStrategy[Design]:
    """Designs of ``space``: any index per parameter, filtered by the constraints."""
    return (
        st.tuples(*(st.integers(0, p.size - 1) for p in space.params))
        .map(space.from_indices)
        .filter(lambda d: not space.violations(d))
    )


def same(a: Design, b: Design) -> bool:
    """Equal as designs *and* with the same key (so ``True`` and ``1`` are told apart)."""
    return a == b and a.key == b.key
