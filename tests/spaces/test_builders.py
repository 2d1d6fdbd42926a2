"""Builders of the quant / hardware / mapping sub-spaces."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.errors import SpaceError
from codesign.spaces import (
    DATAFLOWS,
    PE_TYPES,
    Bitwidth,
    divisors,
    expert_group,
    hardware_space,
    joint_space,
    layer_bits,
    layer_mapping,
    mapping_space,
    quant_keys,
    quant_space,
)
from codesign.workloads.layer import Workload, attn

from .conftest import MOE_BLOCKS, MOE_EXPERTS, tiny_cnn, tiny_moe


# --- quant ----------------------------------------------------------------------------------
def test_quant_per_layer_counts() -> None:
    moe = tiny_moe()
    s = quant_space(moe)
    n_quantizable = len(moe.quantizable_layers)
    assert n_quantizable == len(moe.layers) - 1  # the attention matmul has no weights
    assert len(s) == 2 * n_quantizable and s.subsystems == ("quant",)
    assert "w_bits.attn.qk" not in s and "a_bits.moe0.e3.w2" in s
    assert all(isinstance(p, Bitwidth) and (p.low, p.high) == (2, 8) for p in s)
    assert len(quant_space(tiny_cnn())) == 6


def test_quant_per_expert_and_uniform_counts() -> None:
    moe = tiny_moe()
    per_expert = quant_space(moe, granularity="expert")
    # qkv, router, and one group per expert (its w1/w2/w3 share bits)
    assert len(per_expert) == 2 * (2 + MOE_EXPERTS)
    assert [n for n in per_expert.names if n.startswith("w_bits.")] == [
        "w_bits.attn.qkv", "w_bits.moe0.router", *(f"w_bits.moe0.e{e}" for e in range(MOE_EXPERTS))
    ]
    assert quant_space(moe, granularity="uniform").names == ("w_bits.all", "a_bits.all")
    keys = quant_keys(moe, "expert")
    assert keys["moe0.e2.w3"] == "moe0.e2" and keys["attn.qkv"] == "attn.qkv" and "attn.qk" not in keys


def test_quant_ranges_skip_and_errors() -> None:
    s = quant_space(tiny_cnn(), w_bits=4, a_bits=(3, 8), skip=["fc"])
    assert s.names == ("w_bits.conv1", "a_bits.conv1", "w_bits.conv2", "a_bits.conv2")
    assert s["w_bits.conv1"].values == (4,) and s["a_bits.conv2"].values == tuple(range(3, 9))
    with pytest.raises(SpaceError, match=r"w_bits must satisfy 1 <= low <= high <= 16, but got \(0, 8\)"):
        quant_space(tiny_cnn(), w_bits=(0, 8))
    with pytest.raises(SpaceError, match=r"a_bits must satisfy 1 <= low <= high <= 16, but got \(8, 4\)"):
        quant_space(tiny_cnn(), a_bits=(8, 4))
    with pytest.raises(SpaceError, match=r"w_bits must be an integer or a \(low, high\) pair, but got 'x'"):
        quant_space(tiny_cnn(), w_bits="x")  # type: ignore[arg-type]
    with pytest.raises(SpaceError, match=r"granularity must be one of \('layer', 'expert', 'uniform'\), but got 'row'"):
        quant_space(tiny_cnn(), granularity="row")
    with pytest.raises(SpaceError, match="workload 'attn-only' has no quantizable layer"):
        quant_space(Workload("attn-only", [attn("qk", M=4, N=4, K=4)]))


def test_layer_bits_lookup() -> None:
    moe = tiny_moe()
    layer = moe["moe0.e1.w2"]
    assert expert_group(layer) == "moe0.e1" and expert_group(moe["attn.qkv"]) is None
    for granularity, key in (("layer", "moe0.e1.w2"), ("expert", "moe0.e1"), ("uniform", "all")):
        s = quant_space(moe, granularity=granularity)
        d = s.default().replace(**{f"w_bits.{key}": 3, f"a_bits.{key}": 7})
        assert layer_bits(d, layer) == (3, 7)
    assert layer_bits({}, layer) is None
    cnn = tiny_cnn()
    assert layer_bits(quant_space(cnn, skip=["fc"]).default(), cnn["fc"]) is None


# --- hardware -------------------------------------------------------------------------------
def test_hardware_space_defaults() -> None:
    s = hardware_space()
    assert s.names == ("pe_type", "array_rows", "array_cols", "glb_kb", "pe_buf_bytes", "dram_gbps", "clock_mhz")
    assert s["pe_type"].values == PE_TYPES and s["array_rows"].values == (4, 8, 16, 32, 64)
    assert s.subsystems == ("hw",) and s.constraints == ()


def test_hardware_max_pes_constraint() -> None:
    s = hardware_space(max_pes=256)
    assert [c.expr for c in s.constraints] == ["array_rows * array_cols <= 256"]
    assert all(d["array_rows"] * d["array_cols"] <= 256 for d in (s.sample(i) for i in range(50)))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pe_types": ("systolic",)}, r"pe_types must be a non-empty subset of .*, but got \['systolic'\]"),
        ({"pe_types": ()}, r"pe_types must be a non-empty subset of .*, but got \[\]"),
        ({"rows": (3, 64)}, "array_rows: low must be a power of two >= 1, but got 3"),
        ({"cols": (64, 4)}, "array_cols: high must be >= low"),
        ({"glb_kb": (16, 1000)}, "glb_kb: high must be a power of two >= 1, but got 1000"),
        ({"dram_gbps": (25.6, 12.8)}, "dram_gbps: ordinal values must be strictly increasing"),
        ({"clock_mhz": ()}, "clock_mhz: domain must not be empty"),
    ],
)
def test_hardware_space_validation(kwargs: dict, match: str) -> None:
    with pytest.raises(SpaceError, match=match):
        hardware_space(**kwargs)


# --- mapping --------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [tiny_cnn, tiny_moe])
def test_mapping_tiles_divide_dims(make) -> None:
    wl = make()
    s = mapping_space(wl, max_tile_choices=4)
    assert len(s) == 4 * len(wl.layers) and s.subsystems == ("mapping",)
    for layer in wl.layers:
        assert s[f"map.{layer.name}.dataflow"].values == DATAFLOWS
        for dim, size in zip("mnk", layer.gemm_shape):
            tiles = s[f"map.{layer.name}.tile_{dim}"].values
            assert all(size % t == 0 for t in tiles) and tiles[0] == 1 and tiles[-1] == size
            assert len(tiles) <= 4
    d = s.default()
    assert layer_mapping(d, wl.layers[0]) == {
        k: d[f"map.{wl.layers[0].name}.{k}"] for k in ("dataflow", "tile_m", "tile_n", "tile_k")
    }


def test_mapping_subset_of_layers() -> None:
    cnn = tiny_cnn()
    s = mapping_space(cnn, layers=["fc"])
    assert s.names == ("map.fc.dataflow", "map.fc.tile_m", "map.fc.tile_n", "map.fc.tile_k")
    assert layer_mapping(s.default(), cnn["conv1"]) is None


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 5040), k=st.integers(2, 12))
def test_divisors(n: int, k: int) -> None:
    divs = divisors(n, k)
    assert list(divs) == sorted(set(divs)) and divs[0] == 1 and divs[-1] == n
    assert all(n % d == 0 for d in divs) and len(divs) <= k
    every = [d for d in range(1, n + 1) if n % d == 0]
    if len(every) <= k:
        assert divs == tuple(every)


def test_joint_space() -> None:
    moe = tiny_moe()
    s = joint_space(moe, quant={"granularity": "uniform"}, hw={"max_pes": 512}, mapping=True)
    assert s.subsystems == ("quant", "hw", "mapping") and s.name == "joint[tiny-moe]"
    assert s.names[:2] == ("w_bits.all", "a_bits.all") and len(s) == 2 + 7 + 4 * len(moe.layers)
    assert [c.name for c in s.constraints] == ["max_pes"]
    assert joint_space(tiny_cnn()).subsystems == ("quant", "hw")
    assert {p.name for p in joint_space(tiny_cnn(), mapping={"layers": ["fc"]}).params_of("mapping")} == {
        "map.fc.dataflow", "map.fc.tile_m", "map.fc.tile_n", "map.fc.tile_k"
    }
    assert MOE_BLOCKS == ("w1", "w2", "w3")
