"""Ports per operand: parsing and its errors, the stall and energy rules (hand-derived validate
cases), the legacy read/write/shared ports as a special case, ZigZag's output-precision rule."""

from __future__ import annotations

import copy

import pytest
import yaml

from codesign.errors import ConfigError
from codesign.evaluators.cost import arch as A
from codesign.evaluators.cost import mapping as Mp
from codesign.evaluators.cost import model as M
from codesign.evaluators.cost import problem as P
from codesign.evaluators.cost.validate import REFERENCES, run_all

CASE = yaml.safe_load((REFERENCES / "ports-per-operand.yaml").read_text())
GEMM = P.from_dict(CASE["problem"])
MAPPING = Mp.from_list(CASE["mapping"])


def _arch(**changes):
    data = copy.deepcopy(CASE["arch"])
    for path, value in changes.items():
        lv, key = path.split("__")
        data["levels"][int(lv)][key] = value
    return A.from_dict(data)


def test_hand_derived_port_cases_match():
    rows = run_all(["ports"])
    assert [r["case"] for r in rows] == ["ports-per-operand", "ports-shared-read"]
    for r in rows:
        assert r["cycles"] == pytest.approx(r["cycles_ref"]) and r["energy_pj"] == pytest.approx(r["energy_pj_ref"])


def test_one_port_bottleneck_sets_the_pace():
    base = M.evaluate(GEMM, _arch(), MAPPING)
    assert base["cycles"] == 128
    ports = copy.deepcopy(CASE["arch"]["levels"][1]["ports"])
    ports[1]["bw"] = 0.5  # I's read port: 128 reads in 128 cycles at half a word per cycle
    assert M.evaluate(GEMM, _arch(**{"1__ports": ports}), MAPPING)["cycles"] == 256
    ports[4]["bw"] = 1.5  # and the write port carries 32 + 32 + 128 words: 192 / 1.5 = 128 cycles, not slower
    assert M.evaluate(GEMM, _arch(**{"1__ports": ports}), MAPPING)["cycles"] == 256


def test_legacy_ports_are_explicit_ports_with_free_drains():
    legacy = {"name": "l", "levels": [
        {"name": "dram", "word_bits": 8, "energy_pj": {"read": 100, "write": 120}, "shared_bw": 4},
        {"name": "buf", "size_words": 1024, "word_bits": 8, "energy_pj": {"read": 1, "write": 0.5, "update": 0.7},
         "read_bw": 2, "write_bw": 4}], "compute": {"instances": 1, "energy_pj_per_mac": 0.25}}
    explicit = copy.deepcopy(legacy)
    explicit["levels"][0].pop("shared_bw")
    explicit["levels"][0]["ports"] = [{"name": "s", "bw": 4, "serves": ["*.read", "*.update"]}]
    explicit["levels"][1].pop("read_bw")
    explicit["levels"][1].pop("write_bw")
    explicit["levels"][1]["ports"] = [
        {"name": "r", "kind": "read", "bw": 2, "serves": ["*.read"]},
        {"name": "w", "kind": "write", "bw": 4, "serves": ["*.fill", "O.update"]},
        {"name": "d", "kind": "read", "serves": ["O.drain"], "energy_pj": {"read": 0}}]
    a, b = (M.evaluate(GEMM, A.from_dict(x), MAPPING) for x in (legacy, explicit))
    assert a["cycles"] == pytest.approx(b["cycles"]) == 184  # 128 + 128 + 112 read words at 2 per cycle
    assert a["energy_pj"] == pytest.approx(b["energy_pj"])


@pytest.mark.parametrize("change, msg", [
    ({"1__ports": [{"name": "x", "kind": "sideways", "serves": []}]}, "kind must be one of"),
    ({"1__ports": [{"name": "x", "kind": "read", "serves": ["W.fill"]}]}, r"may serve the directions \['read', 'drain'\]"),
    ({"1__ports": [{"name": "x", "serves": ["W.read"]}, {"name": "y", "serves": ["W.read"]}]}, "served by one port"),
    ({"1__ports": [{"name": "x", "serves": ["Q.read"]}]}, "OPERAND.DIRECTION"),
    ({"1__ports": [{"name": "x", "serves": ["*.read"]}]}, "stream W.fill carries traffic"),
    ({"1__ports": [{"name": "x", "serves": ["*.read"], "bw": -1}]}, "bw must be > 0"),
    ({"1__read_bw": 2}, "either on its ports or as read_bw"),
    ({"1__keeps": ["W", "O"]}, "keeps only"),
])
def test_port_errors_name_what_must_hold(change, msg):
    with pytest.raises(ConfigError, match=msg):
        _arch(**change)


def test_same_named_ports_of_one_memory_agree_and_share_bandwidth():
    data = copy.deepcopy(CASE["arch"])
    buf = data["levels"][1]
    part_w = {**copy.deepcopy(buf), "name": "buf.W", "keeps": ["W"], "memory": "buf",
              "ports": [{"name": "r", "kind": "read", "bw": 1, "serves": ["W.read"]},
                        {"name": "w", "kind": "write", "bw": 4, "serves": ["W.fill"]}]}
    part_io = {**copy.deepcopy(buf), "name": "buf.IO", "keeps": ["I", "O"], "memory": "buf",
               "ports": [{"name": "r", "kind": "read", "bw": 1, "serves": ["I.read", "O.read", "O.drain"]},
                         {"name": "w", "kind": "write", "bw": 4, "serves": ["I.fill", "O.fill", "O.update"]}]}
    data["levels"] = [data["levels"][0], part_w, part_io]
    arch = A.from_dict(data)
    mapping = Mp.from_list([{"level": "buf.W", "temporal": [["M", 4], ["N", 4], ["K", 8]]}])
    # one read port of 1 word/cycle for both parts: (128 + 128 + 112 + 16) / 128 = 3 words per cycle
    assert M.evaluate(GEMM, arch, mapping)["cycles"] == pytest.approx(384)
    part_io["ports"][0]["bw"] = 2
    with pytest.raises(ConfigError, match="one port on all its levels"):
        A.from_dict(data)


def test_final_outputs_precision_rule():
    """ZigZag's rule: outputs held where no reduction remains above are final (8 bit), not
    partial sums (16 bit). K is the reduction: inside buf, or at dram right above buf (outputs stay
    in buf across it: complete there), or at dram outside an M loop (outputs leave buf unfinished)."""
    problem = P.from_dict({"op": "gemm", "dims": {"M": 2, "N": 2, "K": 4}, "bits": {"W": 8, "I": 8, "O": 8},
                           "psum_bits": 16})
    arch = {"name": "f", "levels": [{"name": "dram", "word_bits": 8}, {"name": "buf", "word_bits": 8, "size_words": 64}],
            "compute": {"instances": 1}}
    inner = Mp.from_list([{"level": "buf", "temporal": [["M", 2], ["N", 2], ["K", 4]]}])
    above = Mp.from_list([{"level": "dram", "temporal": [["K", 4]]}, {"level": "buf", "temporal": [["M", 2], ["N", 2]]}])
    outer = Mp.from_list([{"level": "dram", "temporal": [["K", 4], ["M", 2]]}, {"level": "buf", "temporal": [["N", 2]]}])
    for final, mapping, held in ((False, inner, 2), (True, inner, 1), (True, above, 1), (True, outer, 2)):
        a = A.from_dict({**arch, "compute": {"instances": 1, "final_outputs": final}})
        words = M.evaluate_arrays(problem, a, Mp.to_arrays([mapping], problem, a))["output_words"][0, 1]
        assert words[1] == held  # words per output held at buf (and filled / drained)
