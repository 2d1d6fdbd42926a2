"""ZigZag translation: a dumped layer becomes our architecture, problem and mapping."""

from __future__ import annotations

import copy

import pytest

from codesign.errors import ConfigError
from codesign.evaluators.cost import arch as A
from codesign.evaluators.cost import mapping as Mp
from codesign.evaluators.cost import model as M
from codesign.evaluators.cost import problem as P
from codesign.evaluators.cost.validate import run_case
from codesign.evaluators.cost.from_zigzag import case_from_layer


def _port(name, kind, lo, hi, *allocation):
    return {"name": name, "type": kind, "bandwidth_min": lo, "bandwidth_max": hi, "allocation": list(allocation)}


HW = {"name": "mini", "operational_array": {"unit_energy": 0.04, "dimensions": ["D1", "D2"], "sizes": [4, 2]},
      "memories": {
          "reg_W": {"size": 64, "r_cost": 0.1, "w_cost": 0.1, "operands": ["I2"], "served_dimensions": [],
                    "ports": [_port("r", "read", 8, 8, "I2, tl"), _port("w", "write", 8, 8, "I2, fh")]},
          "sram": {"size": 65536, "r_cost": 40.0, "w_cost": 50.0, "operands": ["I1", "O"],
                   "served_dimensions": ["D1", "D2"],
                   "ports": [_port("r", "read", 16, 128, "I1, tl", "O, tl", "O, th"),
                             _port("w", "write", 16, 128, "I1, fh", "O, fh", "O, fl")]},
          "dram": {"size": 10 ** 9, "r_cost": 700.0, "w_cost": 750.0, "operands": ["I1", "I2", "O"],
                   "served_dimensions": ["D1", "D2"],
                   "ports": [_port("rw", "read_write", 64, 64, "I1, fh", "I1, tl", "I2, fh", "I2, tl", "O, fh", "O, tl",
                                   "O, fl", "O, th")]}}}

LAYER = {
    "name": "conv", "dims": {"B": 1, "K": 4, "G": 1, "OX": 6, "OY": 4, "C": 4, "FX": 3, "FY": 1},
    "pr_sizes": {"IX": 8, "IY": 4}, "pr_scaling": {"IX": [["OX", 1.0], ["FX", 1.0]], "IY": [["OY", 1.0], ["FY", 1.0]]},
    "precision": {"W": 8, "I": 8, "O_final": 8, "O": 16}, "operand_links": {"O": "O", "W": "I2", "I": "I1"},
    # one loop order (inner -> outer): FX3, OX3, OX2, C2, OY4; each operand cuts it at its memories
    "temporal": {"W": [[["FX", 3], ["OX", 3], ["OX", 2]], [["C", 2], ["OY", 4]]],
                 "I": [[["FX", 3], ["OX", 3], ["OX", 2], ["C", 2]], [["OY", 4]]],
                 "O": [[["FX", 3], ["OX", 3], ["OX", 2], ["C", 2], ["OY", 4]], []]},
    "spatial": {"D1": {"K": 4.0}, "D2": {"C": 2.0}},
    "mem_levels": {"W": ["reg_W", "dram"], "I": ["sram", "dram"], "O": ["sram", "dram"]},
    "energy_breakdown": {"W": [1.0, 2.0], "I": [3.0, 4.0], "O": [5.0, 6.0]},
    "energy_total": 1000.0, "mac_energy": 10.0, "latency_total0": 1000.0, "latency_total2": 1100.0,
    "ideal_temporal_cycle": 1000.0, "stall_slack_comb": 0.0, "onloading": 90.0, "offloading": 10.0,
    "systolic_drain": 0.0,
}


def test_translation_structure():
    case = case_from_layer(LAYER, HW, "test", "mini")
    arch, problem = A.from_dict(case["arch"]), P.from_dict(case["problem"])
    mapping = Mp.from_list(case["mapping"])
    M.check_mapping(mapping, problem, arch)
    names = [lv.name for lv in arch.levels]
    # sram keeps I (cut 4) and O (cut 5) at different positions: split; reg_W is per PE and innermost
    assert names == ["dram", "sram.O", "sram.I", "reg_W"]
    assert arch.levels[-1].instances == 8 and arch.levels[-1].mesh_x == 4
    assert problem.dims["M"] == 4 and problem.dims["P"] == 6 and problem.size("I") == 4 * 8 * 4
    loops = {lv.level: lv.temporal for lv in mapping.levels}
    assert loops["reg_W"] == (("P", 6), ("R", 3))  # OX3·OX2 merged, outer -> inner
    assert loops["sram.I"] == (("C", 2),) and loops["sram.O"] == (("Q", 4),)
    spatial = {lv.level: lv.spatial for lv in mapping.levels}
    assert spatial["sram.I"] == (("M", 4, "x"), ("C", 2, "y"))  # innermost array-wide level fans out to the PEs
    # ports: each part of the split sram lists its operands' streams of the memory's two ports (one
    # port each: bandwidth shared); a block is the port's 16-bit minimum width at 16/128 of the
    # 128-bit access cost, rounded per transfer
    sram_i, sram_o = (arch.levels[names.index(n)] for n in ("sram.I", "sram.O"))
    assert sram_i.memory == sram_o.memory == "sram" and sram_i.round_per_transfer
    ports = {p.name: p for p in sram_i.ports}
    assert ports["r"].serves == (("I", "read"),) and ports["w"].serves == (("I", "fill"),)
    assert ports["r"].bw == 16 and ports["r"].block_words == 2 and ports["r"].read_pj == pytest.approx(40.0 * 16 / 128)
    assert {p.name: p.serves for p in sram_o.ports} == {"r": (("O", "read"), ("O", "drain")),
                                                         "w": (("O", "fill"), ("O", "update"))}
    assert arch.levels[0].ports[0].bw == 8 and len(arch.levels[0].ports[0].serves) == 8
    assert arch.compute.operand_registers and arch.compute.final_outputs
    r = M.evaluate(problem, arch, mapping)
    assert r["compute_cycles"] == 3 * 6 * 2 * 4  # temporal loops only
    row = run_case(case)[0]
    assert row["zigzag"]["latency_total"] == 1100.0 and len(row["zigzag"]["energy_attribution"]) == 3


def test_repeated_dim_in_one_memory_goes_to_a_loop_holder():
    layer = copy.deepcopy(LAYER)
    layer["temporal"] = {op: [[["FX", 3], ["OX", 3], ["C", 2], ["OX", 2]], [["OY", 4]]] for op in ("W", "I")}
    layer["temporal"]["O"] = [[["FX", 3], ["OX", 3], ["C", 2], ["OX", 2], ["OY", 4]], []]
    layer["mem_levels"]["W"] = ["reg_W", "dram"]
    case = case_from_layer(layer, HW, "test", "mini")
    names = [lv["name"] for lv in case["arch"]["levels"]]
    assert "reg_W~0" in names and names.index("reg_W~0") == names.index("reg_W") + 1
    holder = next(lv for lv in case["arch"]["levels"] if lv["name"] == "reg_W~0")
    assert holder["keeps"] == [] and holder["instances"] == 8
    M.check_mapping(Mp.from_list(case["mapping"]), P.from_dict(case["problem"]), A.from_dict(case["arch"]))


@pytest.mark.parametrize("change, msg", [
    (lambda hw, ly: hw["memories"]["reg_W"].update(served_dimensions=["D9"]), "served_dimensions"),
    (lambda hw, ly: ly.update(dims={"C": 4, "X": 1, "K": 8}), "only conv and Gemm"),
    (lambda hw, ly: ly["spatial"]["D1"].update(K=2.5), "pads an uneven split"),
    (lambda hw, ly: ly["pr_scaling"]["IX"].__setitem__(1, ["FX", 2.0]), "dilated"),
    (lambda hw, ly: ly["temporal"]["W"][0].__setitem__(0, ["FX", 1]), "share one loop order"),
])
def test_untranslatable_inputs_name_the_reason(change, msg):
    hw, layer = copy.deepcopy(HW), copy.deepcopy(LAYER)
    change(hw, layer)
    with pytest.raises(ConfigError, match=msg):
        case_from_layer(layer, hw, "test", "mini")


def test_bench_matches_zigzag_layer_names_to_the_zoo():
    from codesign.cli.cost import onnx_layer_name
    from codesign.workloads.zoo import resnet18

    names = ["/conv1/Conv", "/layer2/layer2.0/downsample/downsample.0/Conv", "/layer4/layer4.1/conv2/Conv", "/fc/Gemm"]
    ours = {layer.name for layer in resnet18().layers}
    assert [onnx_layer_name(n) for n in names] == ["conv1", "layer2.0.downsample.0", "layer4.1.conv2", "fc"]
    assert {onnx_layer_name(n) for n in names} <= ours


def test_bench_cost_without_peer_reports_ours_and_throughput(capsys):
    import json

    from codesign.cli.main import main

    assert main(["bench", "cost", "--no-peer", "--designs", "50", "--repeats", "1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["ours"]["layers"]) == 21 and doc["ours"]["energy_pj"] > 0
    assert doc["throughput"]["designs"] == 50 and "peer" not in doc
    assert main(["bench", "cost", "--peer-python", "/nonexistent/python"]) == 2
    assert "make peer" in capsys.readouterr().err
    assert main(["bench", "cost", "--peer-opt", "edp"]) == 2  # one line naming the choices
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'EDP'" in err[0]


def test_case_generator_writes_validated_cases_from_dumps(tmp_path):
    """experiments/zigzag_reference_cases.py on saved dumps (no ZigZag needed): one case per distinct
    layer, readable by validate, untranslatable layers skipped with their reason."""
    import importlib.util
    import json
    from pathlib import Path

    import yaml

    path = Path(__file__).resolve().parents[3] / "experiments" / "zigzag_reference_cases.py"
    spec = importlib.util.spec_from_file_location("zz_cases", path)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    fc = {**copy.deepcopy(LAYER), "name": "fc", "dims": {"C": 4, "D": 1, "K": 1000}}
    dump = {"version": "3.9.1", "opt": "latency", "hardware": HW, "layers": [LAYER, copy.deepcopy(LAYER), fc]}
    dumps, out = tmp_path / "dumps", tmp_path / "out"
    dumps.mkdir()
    out.mkdir()
    for hw, _, wl in gen.RUNS:
        (dumps / f"{Path(hw).stem}-{Path(wl).stem}.json").write_text(json.dumps(dump))
    assert gen.main(["--dumps", str(dumps), "--out", str(out)]) == 0
    files = sorted(out.glob("zigzag-*.yaml"))
    assert len(files) == len(gen.RUNS)  # the repeated layer is deduplicated, the fc layer skipped
    for f in files:
        case = yaml.safe_load(f.read_text())
        row = run_case(case)[0]
        assert "zigzag" in row and case["source"].startswith("zigzag-dse 3.9.1")
        # the fixture's reference energy is made up: a miss the generator must not explain away
        assert row["status"] == "miss" and "expected_miss" not in case


def test_array_dims_form_equals_the_chain_form():
    chain = run_case(case_from_layer(LAYER, HW, "test", "c", form="chain"))[0]
    case = case_from_layer(LAYER, HW, "test", "a", form="array")
    assert "array" in case["arch"]["compute"] and all("instances" not in lv for lv in case["arch"]["levels"])
    array = run_case(case)[0]
    assert array["cycles"] == pytest.approx(chain["cycles"]) and array["energy_pj"] == pytest.approx(chain["energy_pj"])


def test_partially_served_memory_takes_the_array_dims_form():
    hw = copy.deepcopy(HW)
    hw["memories"]["reg_W"]["served_dimensions"] = ["D2"]  # shared along D2 (which unrolls C, relevant to W)
    case = case_from_layer(LAYER, hw, "test", "p")
    levels = {lv["name"]: lv for lv in case["arch"]["levels"]}
    assert levels["reg_W"]["served"] == ["D2"] and case["arch"]["compute"]["array"] == {"D1": 4, "D2": 2}
    arch = A.from_dict(case["arch"])
    assert arch.levels[[lv.name for lv in arch.levels].index("reg_W")].instances == 4
    with pytest.raises(ConfigError, match="cannot express"):
        case_from_layer(LAYER, hw, "test", "p", form="chain")
    assert run_case(case)[0]["zigzag"]["energy_attribution"]


def test_bench_quality_puts_both_mappings_through_our_model():
    """ZigZag's mapping of a layer goes through our model (translated) under the chosen latency
    model; with ZigZag's latency selected, its cycles are ZigZag's own full latency."""
    from codesign.evaluators.cost.bench import quality

    case = case_from_layer(LAYER, HW, "test", "mini")
    theirs = M.evaluate(P.from_dict(case["problem"]), A.from_dict({**case["arch"], "latency": "zigzag"}),
                        Mp.from_list(case["mapping"]))
    macs = P.from_dict(case["problem"]).macs
    ours = {"latency_model": "zigzag", "layers": [
        {"name": "conv", "energy_pj": 0.5 * theirs["energy_pj"], "latency_cycles": 2 * theirs["cycles"], "macs": macs}]}
    dump = {"hardware": HW, "layers": [{**LAYER, "macs": macs}]}
    q = quality(ours, dump)
    row = q["layers"][0]
    assert row["theirs_energy_pj"] == pytest.approx(theirs["energy_pj"]) and row["theirs_cycles"] == theirs["cycles"]
    assert row["energy_ratio"] == pytest.approx(0.5) and row["cycles_ratio"] == pytest.approx(2.0)
    assert (q["energy_le"], q["cycles_le"], q["both_le"]) == (1, 0, 0) and not q["untranslated"]
    # the objective ratio: what our search minimized, ours / theirs (EDP by default: 0.5 x 2)
    assert q["objective"] == "edp" and row["objective_ratio"] == pytest.approx(1.0)
    for objective, ratio, le in (("energy", 0.5, 1), ("cycles", 2.0, 0), ("edp", 1.0, 1)):
        q = quality({**ours, "objective": objective}, dump)
        assert q["layers"][0]["objective_ratio"] == pytest.approx(ratio) and q["objective_le"] == le


def test_bench_quality_over_seeds_reports_each_seed(monkeypatch):
    """``--quality-seeds``: one quality comparison per mapper seed, the seed passed to the search."""
    from codesign.evaluators.cost import bench

    case = case_from_layer(LAYER, HW, "test", "mini")
    theirs = M.evaluate(P.from_dict(case["problem"]), A.from_dict({**case["arch"], "latency": "zigzag"}),
                        Mp.from_list(case["mapping"]))
    macs = P.from_dict(case["problem"]).macs
    seen = []

    def fake(latency, objective, mapper):
        seen.append(mapper["seed"])
        scale = (0.5, 2.0)[mapper["seed"] % 2]  # even seeds dominate zigzag's mapping, odd ones do not
        return {"latency_model": latency, "layers": [{"name": "conv", "energy_pj": scale * theirs["energy_pj"],
                                                      "latency_cycles": scale * theirs["cycles"], "macs": macs}]}

    monkeypatch.setattr(bench, "ours", fake)
    q = bench.quality_seeds("zigzag", "edp", {"hardware": HW, "layers": [{**LAYER, "macs": macs}]}, 3)
    assert seen == [0, 1, 2] and q["both_le"] == [1, 0, 1] and q["energy_le"] == [1, 0, 1]
    assert q["objective_le"] == [1, 0, 1]
    assert q["energy_ratio_total_median"] == pytest.approx(0.5) and q["energy_ratio_total_max"] == pytest.approx(2.0)
