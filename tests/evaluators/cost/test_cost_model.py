"""Cost model: hand-computed access counts, mapping checks, references, mappers, batching."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from codesign.errors import ConfigError
from codesign.evaluators.cost import arch as A
from codesign.evaluators.cost import candidates as CA
from codesign.evaluators.cost import mapper as MP
from codesign.evaluators.cost import mapping as Mp
from codesign.evaluators.cost import model as M
from codesign.evaluators.cost import problem as P
from codesign.evaluators.cost.validate import CAUSES, REFERENCES, run_all, run_case

TWO_LEVEL = {"name": "two", "levels": [
    {"name": "mem", "word_bits": 8, "block_words": 1, "energy_pj": {"read": 10, "write": 10}},
    {"name": "buf", "size_words": 64, "word_bits": 8, "energy_pj": {"read": 1, "write": 1}}],
    "compute": {"instances": 1, "energy_pj_per_mac": 0.5}}
CONV1D = P.from_dict({"op": "conv", "dims": {"B": 1, "C": 1, "M": 1, "R": 3, "S": 1, "P": 16, "Q": 1}})


def _counts(mapping, arch=TWO_LEVEL, problem=CONV1D):
    return M.evaluate(problem, A.from_dict(arch), Mp.from_list(mapping))["levels"]


def test_weight_stationary_halo_and_partial_sums():
    # mem: R=3 outer; buf: P=16 inner. W tile 1 refilled per r; I: 16 + 1 + 1 (halo); O stays.
    lv = _counts([{"level": "mem", "temporal": [["R", 3]]}, {"level": "buf", "temporal": [["P", 16]]}])
    buf, mem = lv["buf"]["counts_per_instance"], lv["mem"]["counts_per_instance"]
    assert buf["W"] == {"reads": 48, "fills": 3, "updates": 0}
    assert buf["I"] == {"reads": 48, "fills": 18, "updates": 0}
    # first touches need no read; the 16 finished outputs leave buf once (its drains)
    assert buf["O"] == {"reads": 48 - 16, "fills": 0, "updates": 48, "drains": 16}
    assert mem["O"]["updates"] == 16 and mem["I"]["reads"] == 18


def test_stationarity_skips_irrelevant_inner_loops():
    # outputs-first order at mem: P outer, R inner -> weights tile (R=1) refetched 48 times,
    # but with R outer / P inner the weights stay (3 fills).
    lv = _counts([{"level": "mem", "temporal": [["P", 16], ["R", 3]]}, {"level": "buf"}])
    assert lv["buf"]["counts_per_instance"]["W"]["fills"] == 48
    assert lv["buf"]["counts_per_instance"]["O"]["fills"] == 0
    lv = _counts([{"level": "mem", "temporal": [["R", 3], ["P", 16]]}, {"level": "buf"}])
    assert lv["buf"]["counts_per_instance"]["W"]["fills"] == 3
    # outputs leave buf each p step and come back for the next r: refills = 48 - 16
    assert lv["buf"]["counts_per_instance"]["O"]["fills"] == 32


def test_multicast_and_spatial_reduction():
    arch = {"name": "sp", "levels": [
        {"name": "mem", "word_bits": 8, "energy_pj": {"read": 1, "write": 1}},
        {"name": "pe", "instances": 4, "size_words": 64, "word_bits": 8, "energy_pj": {"read": 1, "write": 1}}],
        "compute": {"instances": 4}}
    gemm = P.from_dict({"op": "gemm", "dims": {"M": 2, "N": 4, "K": 4}})
    # N spread over 4 PEs: input I[M,K] irrelevant to N -> multicast (mem reads 8, each PE fills 8)
    lv = _counts([{"level": "mem", "temporal": [["M", 2], ["K", 4]], "spatial": [["N", 4, "x"]]}, {"level": "pe"}],
                 arch, gemm)
    assert lv["pe"]["counts_per_instance"]["I"]["fills"] == 8 and lv["mem"]["counts_per_instance"]["I"]["reads"] == 8
    # K spread over 4 PEs: outputs reduced spatially -> mem sees 8 updates, not 32
    lv = _counts([{"level": "mem", "temporal": [["M", 2], ["N", 4]], "spatial": [["K", 4, "x"]]}, {"level": "pe"}],
                 arch, gemm)
    assert lv["mem"]["counts_per_instance"]["O"]["updates"] == 8


@pytest.mark.parametrize("mapping, msg", [
    ([{"level": "mem", "temporal": [["R", 3], ["P", 8]]}], "factors of dim P must multiply to 16"),
    ([{"level": "buf", "temporal": [["R", 3], ["P", 16]]}], "must fit its 64 words"),
    ([{"level": "mem", "temporal": [["X", 3]]}], "loop dim must be one of"),
    ([{"level": "bfu", "temporal": [["R", 3]]}], "did you mean 'buf'"),
])
def test_mapping_errors(mapping, msg):
    small = {**TWO_LEVEL, "levels": [TWO_LEVEL["levels"][0], {**TWO_LEVEL["levels"][1], "size_words": 64}]}
    problem = P.from_dict({"op": "conv", "dims": {"B": 1, "C": 8, "M": 1, "R": 3, "S": 1, "P": 16, "Q": 1}}) \
        if "64 words" in msg else CONV1D
    if "64 words" in msg:
        mapping = [{"level": "mem", "temporal": [["C", 8]]}, {"level": "buf", "temporal": [["R", 3], ["P", 16]]}]
        mapping[0]["temporal"] = []
        mapping[1]["temporal"].append(["C", 8])
    with pytest.raises(ConfigError, match=msg):
        M.check_mapping(Mp.from_list(mapping), problem, A.from_dict(small))


def test_spatial_fanout_error():
    arch = {**TWO_LEVEL, "levels": [TWO_LEVEL["levels"][0], {**TWO_LEVEL["levels"][1], "instances": 2}],
            "compute": {"instances": 2}}
    with pytest.raises(ConfigError, match="must fit the fanout 2"):
        M.check_mapping(Mp.from_list([{"level": "mem", "temporal": [["R", 3]], "spatial": [["P", 4, "x"]]},
                               {"level": "buf", "temporal": [["P", 4]]}]), CONV1D, A.from_dict(arch))


@pytest.mark.parametrize("bad, msg", [
    ({"size_kb": 0}, "`buf` size_kb must be > 0, but got 0"),
    ({"keeps": ["W", "Z"]}, "keeps must be a subset"),
    ({"instances": 3, "mesh_x": 2}, "mesh_x must be an integer dividing"),
])
def test_arch_errors(bad, msg):
    data = {**TWO_LEVEL, "levels": [TWO_LEVEL["levels"][0], {**TWO_LEVEL["levels"][1], **bad}]}
    with pytest.raises(ConfigError, match=msg):
        A.from_dict(data)


def test_reference_cases_within_goal_or_explained():
    rows = run_all()
    assert len([r for r in rows if r["energy_pj"] is not None]) >= 4
    assert not [r["case"] for r in rows if r["status"] == "miss"]
    timeloop = [r for r in rows if r["case"].startswith("timeloop-")]
    assert len(timeloop) == 9 and all(r["ok"] for r in timeloop)
    zz = [r for r in rows if r["case"].startswith("zigzag-")]
    assert len(zz) >= 20 and sum(r["ok"] for r in zz) >= 12
    for r in zz:  # explained misses name a known cause and carry the attribution
        assert all(why.split(":")[0] in CAUSES for why in r["explained"].values())
        assert r["zigzag"]["energy_attribution"]


def test_unexplained_or_unknown_cause_miss_fails():
    d = yaml.safe_load((REFERENCES / "timeloop-01-ws.yaml").read_text())
    d["reference"]["energy_pj"] *= 2
    assert run_case(d)[0]["status"] == "miss"
    d["expected_miss"] = {"energy": "made-up-cause: because"}
    assert run_case(d)[0]["status"] == "miss"
    d["expected_miss"] = {"energy": "zigzag-psum-reads: stated"}
    row = run_case(d)[0]
    assert row["status"] == "explained" and not row["ok"]


def test_reference_counts_match_timeloop_per_level():
    for f in sorted(REFERENCES.glob("timeloop-*.yaml")):
        d = yaml.safe_load(f.read_text())
        r = M.evaluate(P.from_dict(d["problem"]), A.from_dict(d["arch"]), Mp.from_list(d["mapping"]))
        for lv, ops in d["reference"]["counts_per_instance"].items():
            for op, c in ops.items():
                ours = r["levels"][lv]["counts_per_instance"][op]
                assert {k: ours[k] for k in c} == pytest.approx(c), (f.name, lv, op)


def _spatial_arch():
    return A.from_dict(yaml.safe_load((REFERENCES / "timeloop-04-kp.yaml").read_text())["arch"])


def test_heuristic_and_qlearning_near_exhaustive():
    arch = _spatial_arch()
    gemm = P.from_dict({"op": "gemm", "dims": {"M": 4, "N": 4, "K": 2}})
    ex = MP.exhaustive(gemm, arch)
    h = MP.heuristic(gemm, arch)
    q = MP.find_mapping(gemm, arch, "qlearning", episodes=1500)
    assert ex.score <= h.score <= 1.05 * ex.score
    assert ex.score <= q.score <= 1.10 * ex.score
    M.check_mapping(h.mapping, gemm, arch)


def test_heuristic_beats_published_example_mapping():
    d = yaml.safe_load((REFERENCES / "timeloop-04-kp.yaml").read_text())
    arch, problem = A.from_dict(d["arch"]), P.from_dict(d["problem"])
    r = MP.heuristic(problem, arch, "energy")
    assert r.energy_pj <= d["reference"]["energy_pj"]


def test_batched_equals_one_by_one():
    arch = _spatial_arch()
    problem = P.from_dict({"op": "conv", "dims": {"B": 1, "C": 8, "M": 8, "R": 3, "S": 3, "P": 4, "Q": 4}, "stride": 2})
    arr = MP.sample(problem, arch, 64, np.random.default_rng(1))
    batch = M.evaluate_arrays(problem, arch, arr)
    for i in range(0, 64, 9):
        one = M.evaluate(problem, arch, CA.arrays_to_mapping(arr, i, problem, arch))
        assert one["cycles"] == pytest.approx(batch["cycles"][i])
        assert one["energy_pj"] == pytest.approx(batch["energy_pj"][i])


def test_evaluator_nested_and_flat_on_digits():
    from codesign.evaluators.cost.evaluator import CostModelEvaluator
    from codesign.workloads.zoo import digits_cnn

    wl = digits_cnn(batch=2)
    hw = {"pe_type": "bit_serial", "array_rows": 4, "array_cols": 4, "glb_kb": 64, "pe_buf_bytes": 64,
          "dram_gbps": 12.8, "clock_mhz": 500, "w_bits.all": 4, "a_bits.all": 8}
    ev = CostModelEvaluator(wl, mapper_kwargs={"samples": 200, "rounds": 1})
    nested = ev.evaluate(hw)
    assert nested.values["latency_cycles"] > 0 and nested.values["area_mm2"] > 0
    assert set(nested.breakdown["layers"]) == {"conv1", "conv2", "fc1", "fc2"}
    flat = dict(hw)
    for layer in wl.layers:
        m, n, k = layer.gemm_shape
        flat.update({f"map.{layer.name}.dataflow": "ws", f"map.{layer.name}.tile_m": m,
                     f"map.{layer.name}.tile_n": n, f"map.{layer.name}.tile_k": k})
    many = ev.evaluate_many([flat, flat])
    assert many[0].values == many[1].values


def test_cli_validate_json(capsys):
    from codesign.cli.main import main

    assert main(["validate", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["unexplained"] == 0 and doc["passed"] + doc["explained"] == doc["total"] >= 30
    assert doc["passed"] >= 25


def test_window_axis_clipped_to_input_size():
    p = P.from_dict({"op": "conv", "dims": {"B": 1, "C": 1, "M": 1, "R": 3, "S": 3, "P": 4, "Q": 4}, "stride": 2,
                     "input_size": {"P": 8, "Q": 8}})
    assert p.window("I").sum() == 4  # P, R, Q, S slide, with or without a limit
    assert p.size("I") == 8 * 8  # 2*(4-1)+3 = 9 rows, but the input has 8 (padding is not fetched)
    unclipped = P.from_dict({"op": "conv", "dims": {"B": 1, "C": 1, "M": 1, "R": 3, "S": 3, "P": 4, "Q": 4},
                             "stride": 2})
    assert unclipped.size("I") == 9 * 9
    with pytest.raises(ConfigError, match="input_size"):
        P.from_dict({"op": "conv", "dims": {"B": 1, "C": 1, "M": 1, "R": 3, "S": 3, "P": 4, "Q": 4},
                     "input_size": {"X": 3}})


def test_round_per_transfer_charges_whole_blocks_per_load():
    # buf keeps W (M x R); mem loops P (outer, irrelevant to W) and M (inner, relevant): 64 loads of 3 words
    problem = P.from_dict({"op": "conv", "dims": {"B": 1, "C": 1, "M": 4, "R": 3, "S": 1, "P": 16, "Q": 1}})
    arch = {"name": "t", "levels": [
        {"name": "mem", "word_bits": 8, "block_words": 8, "energy_pj": {"read": 80, "write": 80}},
        {"name": "buf", "size_words": 64, "word_bits": 8, "keeps": ["W"], "energy_pj": {"read": 1, "write": 1}}],
        "compute": {"instances": 1}}
    mapping = [{"level": "mem", "temporal": [["P", 16], ["M", 4]]}, {"level": "buf", "temporal": [["R", 3]]}]
    total = _counts(mapping, arch, problem)["mem"]
    arch["levels"][0]["round_per_transfer"] = True
    per = _counts(mapping, arch, problem)["mem"]
    assert total["counts_per_instance"]["W"]["reads"] == 64 * 3
    assert total["energy_pj_by_operand"]["W"] == pytest.approx(24 * 80)  # ceil(192 / 8) blocks over the level
    assert per["energy_pj_by_operand"]["W"] == pytest.approx(64 * 80)  # 64 x ceil(3 / 8) blocks
    with pytest.raises(ConfigError, match="round_per_transfer"):
        A.from_dict({**arch, "levels": [{**arch["levels"][0], "round_per_transfer": "yes"}, arch["levels"][1]]})


def test_operand_registers_hold_inputs_across_reuse():
    # innermost loop M is irrelevant to I: with registers the buffer is read once per (P, R), not per MAC
    problem = P.from_dict({"op": "conv", "dims": {"B": 1, "C": 1, "M": 4, "R": 3, "S": 1, "P": 8, "Q": 1}})
    mapping = [{"level": "buf", "temporal": [["P", 8], ["R", 3], ["M", 4]]}]
    plain = _counts(mapping, problem=problem)["buf"]["counts_per_instance"]["I"]["reads"]
    regs = dict(TWO_LEVEL, compute={**TWO_LEVEL["compute"], "operand_registers": True})
    held = _counts(mapping, regs, problem)["buf"]["counts_per_instance"]["I"]["reads"]
    assert plain == 8 * 3 * 4 and held == 8 * 3
    out_plain = _counts(mapping, problem=problem)["buf"]["counts_per_instance"]["O"]
    assert _counts(mapping, regs, problem)["buf"]["counts_per_instance"]["O"] == out_plain  # outputs unchanged


def test_greedy_samples_are_valid_and_fill_the_inner_levels():
    d = yaml.safe_load((REFERENCES / "zigzag-tpu_like-resnet18-layer1-layer1-0-conv1-conv.yaml").read_text())
    arch, problem = A.from_dict(d["arch"]), P.from_dict(d["problem"])
    arr = MP.sample_greedy(problem, arch, 200, np.random.default_rng(0))
    assert not Mp.check_arrays(arr, problem, arch)
    res = M.evaluate_arrays(problem, arch, arr)
    assert (CA.overflow(res) <= 1e-9).mean() > 0.9
    # the best bottom-up candidate beats the best of as many random splits
    rand = M.evaluate_arrays(problem, arch, MP.sample(problem, arch, 200, np.random.default_rng(0)))
    assert CA.score(res, "energy").min() < CA.score(rand, "energy").min()


@pytest.mark.parametrize("case", ["zigzag-tpu_like-resnet18-layer1-layer1-0-conv1-conv",
                                  "zigzag-tpu_like-resnet18-layer4-layer4-0-conv1-conv",
                                  "zigzag-generic_array_cacti-resnet18-layer3-layer3-0-conv2-conv"])
def test_heuristic_matches_zigzag_loma_mappings(case):
    """On ZigZag's own architectures, our mapper finds mappings at least as good (in our model) as the
    ones ZigZag's LOMA search chose (ZigZag's spatial unrolling is fixed by its mapping file, ours searched)."""
    d = yaml.safe_load((REFERENCES / f"{case}.yaml").read_text())
    arch, problem = A.from_dict(d["arch"]), P.from_dict(d["problem"])
    theirs = M.evaluate(problem, arch, Mp.from_list(d["mapping"]))
    ours = MP.heuristic(problem, arch, "energy")
    assert ours.feasible and ours.energy_pj <= 1.02 * theirs["energy_pj"]


def test_zoo_and_traced_convs_carry_their_unpadded_input():
    from codesign.workloads.zoo import mobilenetv2, resnet18

    layers = {layer.name: layer for layer in resnet18().layers}
    assert P.from_layer(layers["conv1"]).size("I") == 3 * 224 * 224  # not the 229x229 window union
    assert P.from_layer(layers["layer4.1.conv2"]).size("I") == 512 * 7 * 7
    dw = next(layer for layer in mobilenetv2().layers if layer.groups > 1)
    assert P.from_layer(dw).size("I") == dw.dims["C"] * 112 * 112
    torch = pytest.importorskip("torch")
    from codesign.workloads.from_torch import from_torch

    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.Conv2d(8, 8, 3, stride=2, padding=1))
    wl = from_torch(net, torch.zeros(1, 3, 10, 12))
    assert [P.from_layer(layer).size("I") for layer in wl.layers] == [3 * 10 * 12, 8 * 10 * 12]


ARRAY_ARCH = {"name": "grid", "levels": [
    {"name": "dram", "word_bits": 8, "energy_pj": {"read": 100, "write": 100}},
    {"name": "regW", "keeps": ["W"], "served": ["D2"], "size_words": 8, "energy_pj": {"read": 1, "write": 1}},
    {"name": "regO", "keeps": ["O"], "served": ["D1"], "size_words": 8, "energy_pj": {"read": 2, "write": 2}}],
    "compute": {"array": {"D1": 2, "D2": 2}, "energy_pj_per_mac": 0.5}}
GEMM = P.from_dict({"op": "gemm", "dims": {"M": 2, "N": 2, "K": 2}})
ARRAY_MAP = [{"level": "dram", "spatial": [["N", 2, "D1"], ["M", 2, "D2"]]}, {"level": "regO", "temporal": [["K", 2]]}]


def test_array_dims_form_counts_sharing_along_part_of_the_array():
    """regW is shared along D2 (which unrolls M, irrelevant to W: multicast), regO along D1 (which
    unrolls N: one register gathers both columns' outputs). The two do not nest, so only the
    array-dims form expresses them; counts by hand."""
    arch = A.from_dict(ARRAY_ARCH)
    assert [lv.instances for lv in arch.levels] == [1, 2, 2] and arch.compute.instances == 4
    r = M.evaluate(GEMM, arch, Mp.from_list(ARRAY_MAP))["levels"]
    w, o = r["regW"]["counts_per_instance"]["W"], r["regO"]["counts_per_instance"]["O"]
    assert w == {"reads": 2, "fills": 2, "updates": 0}  # one read per K step serves both PEs along D2
    # 2 outputs x 2 K steps; the first touch needs no read; the 2 finished outputs drain once
    assert o == {"reads": 2, "fills": 0, "updates": 4, "drains": 2}
    assert r["dram"]["counts_per_instance"]["W"]["reads"] == 4  # each weight once
    with pytest.raises(ConfigError, match="array dim"):
        M.evaluate(GEMM, arch, Mp.from_list([{"level": "dram", "spatial": [["N", 2, "x"]], "temporal": [["M", 2]]},
                                              {"level": "regO", "temporal": [["K", 2]]}]))
    with pytest.raises(ConfigError, match="must fit its size 2"):
        M.check_mapping(Mp.from_list([{"level": "dram", "spatial": [["N", 2, "D1"], ["M", 2, "D1"]]},
                               {"level": "regO", "temporal": [["K", 2]]}]), GEMM, arch)


@pytest.mark.parametrize("bad, msg", [
    ({"levels": [ARRAY_ARCH["levels"][0], {**ARRAY_ARCH["levels"][1], "served": ["D9"]}]}, "served dims must be among"),
    ({"levels": [{**ARRAY_ARCH["levels"][0], "served": ["D1"]}, ARRAY_ARCH["levels"][1]]}, "more than `dram`"),
    ({"levels": [ARRAY_ARCH["levels"][0], {**ARRAY_ARCH["levels"][1], "instances": 4}]}, "instances must be 2"),
    ({"compute": {"array": {"D1": 0}}}, "compute array must map"),
    ({"compute": {"instances": 4}}, "only when compute declares"),
])
def test_array_dims_form_errors(bad, msg):
    with pytest.raises(ConfigError, match=msg):
        A.from_dict({**ARRAY_ARCH, **bad})


def test_mapper_in_array_dims_form():
    arch = A.from_dict(ARRAY_ARCH)
    problem = P.from_dict({"op": "gemm", "dims": {"M": 8, "N": 6, "K": 4}})
    r = MP.heuristic(problem, arch, "cycles", samples=200, rounds=2)
    M.check_mapping(r.mapping, problem, arch)
    unrolled = [s for lv in r.mapping.levels for s in lv.spatial]
    assert unrolled and all(ax in ("D1", "D2") for _, _, ax in unrolled)
    again = M.evaluate(problem, arch, r.mapping)
    assert again["cycles"] == pytest.approx(r.cycles) and again["energy_pj"] == pytest.approx(r.energy_pj)
    assert r.cycles <= 8 * 6 * 4 / 2  # at least half the array busy
