"""The dashboard's data layer and figures, without a browser."""

from __future__ import annotations

import subprocess
import sys

from codesign.dashboard import data, detail, figures
from codesign.results.summary import pareto_records
from codesign.types import Design, EvalRecord, EvalState, Metrics


def _problem(store: str) -> data.ProblemData:
    snap = data.StoreReader(store).snapshot()
    assert [p.name for p in snap.problems] == ["digits-accel"]
    return snap.problems[0]


def test_points_front_matches_store_pareto(real_store: str) -> None:
    prob = _problem(real_store)
    objs = [o.name for o in prob.objectives]
    records = [r for _, r in prob.items()]
    pts = data.points(prob, objs, front_over="all")
    plottable = [r for r in records if r.state in (EvalState.COMPLETE, EvalState.INFEASIBLE)]
    assert len(pts) == len(plottable) == 48
    front_keys = {p["design"] and Design(p["design"]).key for p in pts if p["front"]}
    assert front_keys == {r.design.key for r in pareto_records(records, prob.objectives)}
    assert not any(p["front"] for p in pts if p["state"] == "infeasible")
    shown = data.visible_points(pts, dominated=False, infeasible=False)
    assert all(p["front"] for p in shown) and len(shown) == sum(p["front"] for p in pts)


def test_runs_table_and_hv_curves(real_store: str) -> None:
    snap = data.StoreReader(real_store).snapshot()
    rows = data.runs_table(snap)
    assert {r["agent"] for r in rows} == {"tpe", "random"}
    assert all(r["evaluations"] == 24 and 0 < r["hypervolume"] <= 1 for r in rows)  # normalized
    curves = data.hv_curves(snap.problems[0])
    assert set(curves) == {"tpe", "random"}
    c = curves["tpe"]
    assert len(c["median"]) == 24 and c["median"] == sorted(c["median"])  # hypervolume never decreases
    assert snap.problems[0].basis.kind == "normalized"
    fig = figures.hv_figure(curves, snap.problems[0].basis)
    assert fig.layout.xaxis.title.text == "evaluations"
    assert fig.layout.yaxis.title.text == "normalized hypervolume" and tuple(fig.layout.yaxis.range) == (0, 1.02)


def test_design_detail_has_breakdowns(real_store: str) -> None:
    prob = _problem(real_store)
    run, rec = next((r, x) for r, x in prob.items() if x.state is EvalState.COMPLETE)
    d = detail.design_detail(rec, run.name, prob.objectives, run.subsystems)
    assert d["bits"]["layers"] == ["conv1", "conv2", "fc1", "fc2"]
    assert d["bits"]["w_bits"][0] == rec.design["w_bits.conv1"]
    assert dict(d["accelerator"])["pe_type"] == rec.design["pe_type"]
    assert [r["layer"] for r in d["layers"]] == d["bits"]["layers"]
    assert list(d["layers"][0]["energy_uj"]) == ["pe", "pe_buf", "glb", "dram"]
    assert set(d["area_mm2"]) == {"pe_array", "glb", "pe_buf"}
    assert d["mapping"]["rows"] == []
    for _, fn in figures.DETAIL_FIGURES:
        assert fn(d).data, fn.__name__


def test_detail_experts_mapping_and_empty_breakdown() -> None:
    design = Design({"w_bits.moe.e0.w1": 4, "w_bits.moe.e1.w1": 8, "w_bits.moe.e0.w2": 2, "a_bits.moe.e0.w1": 8,
                     "map.moe.e0.w1.dataflow": "ws", "map.moe.e0.w1.tile_m": 16, "pe_type": "lut"})
    rec = EvalRecord(design, Metrics({"cost": 1.0}), EvalState.COMPLETE, agent="x")
    d = detail.design_detail(rec, "r", [], {})
    assert d["experts"]["rows"] == ["moe.e0", "moe.e1"] and d["experts"]["cols"] == ["w1", "w2"]
    assert d["experts"]["w_bits"] == [[4, 2], [8, None]]
    assert d["mapping"] == {"fields": ["w_bits", "a_bits", "dataflow", "tile_m"],  # the layer's bits beside its mapping
                            "rows": [{"layer": "moe.e0.w1", "dataflow": "ws", "tile_m": 16, "w_bits": 4, "a_bits": 8}]}
    assert d["layers"] == [] and d["area_mm2"] == {}
    assert "no per-layer latency" in figures.latency_figure(d).layout.annotations[0].text
    assert len(figures.bits_figure(d).data) == 2  # per-layer and per-expert heatmaps


def test_detail_of_a_cost_model_record_shows_bits_cycles_energy_and_loop_nest() -> None:
    design = Design({"w_bits.fc1": 3, "a_bits.fc1": 6, "pe_type": "bit_serial"})
    nest = [{"level": "dram", "temporal": [["N", 8], ["K", 1]], "spatial": []},
            {"level": "glb", "temporal": [["K", 4]], "spatial": [["K", 3, "y"], ["N", 4, "x"]]},
            {"level": "pe_buf", "temporal": [["M", 16]], "spatial": []}]
    bd = {"layers": {"fc1": {"latency_cycles": 120.0, "energy_uj": 0.5, "macs": 64,
                             "energy_uj_by_level": {"dram": 0.3, "glb": 0.1, "pe_buf": 0.05, "pe": 0.05},
                             "mapping": nest}},
          "energy_uj_by_level": {"dram": 0.3, "glb": 0.1}, "area_mm2_by_part": {"glb": 0.2, "bit_serial": 0.1},
          "bits": {"fc1": {"w_bits": 3, "a_bits": 6}, "fc2": None}}
    rec = EvalRecord(design, Metrics({"latency_ms": 1.0}, bd), EvalState.COMPLETE, agent="x")
    d = detail.design_detail(rec, "r", [], {})
    row = d["mapping"]["rows"][0]
    assert d["mapping"]["fields"] == ["w_bits", "a_bits", "latency_cycles", "energy_uj", "loop nest"]
    assert row == {"layer": "fc1", "w_bits": 3, "a_bits": 6, "latency_cycles": 120.0, "energy_uj": 0.5,
                   "loop nest": "dram: N8 | glb: K4 K3↕ N4↔ | pe_buf: M16"}
    assert d["bits"]["layers"] == ["fc1"]  # fc2 stayed float in the probe
    assert list(d["layers"][0]["energy_uj"]) == ["pe", "pe_buf", "glb", "dram"]
    assert d["area_mm2"] == {"glb": 0.2, "bit_serial": 0.1} and d["energy_levels"] == {"glb": 0.1, "dram": 0.3}


def test_labels_carry_units_and_user_strings_are_escaped() -> None:
    assert figures.label("latency_ms", "min") == "latency (ms) ↓"
    assert figures.label("energy_uj") == "energy (µJ)"
    assert figures.label("accuracy", "max") == "accuracy ↑"
    pts = [{"uid": "<b>#1", "run": "<script>x</script>", "number": 1, "agent": "a<", "pe_type": "",
            "state": "complete", "front": True, "xyz": [1.0, 2.0], "values": {}, "design": {}}]
    fig = figures.pareto_figure(pts, ["<i>p</i>", "q"], ["min", "min"], "run")
    assert fig.data[0].name == "&lt;script&gt;x&lt;/script&gt;"
    assert "<i>" not in fig.layout.xaxis.title.text
    assert "no evaluated designs" in figures.pareto_figure([], ["a", "b"], ["min", "min"]).layout.annotations[0].text


def test_reader_caches_until_the_journal_changes(real_store: str, tmp_path: object, synth_plugin: str) -> None:
    import codesign

    path = str(tmp_path / "s")  # type: ignore[operator]
    codesign.run("synth-test", agent="random", budget=3, store=path)
    reader = data.StoreReader(path)
    first = reader.snapshot()
    assert reader.snapshot() is first
    codesign.run("synth-test", agent="random", budget=5, store=path)  # resumes: 2 more records
    second = reader.snapshot()
    assert second is not first and second.n_records == 5
    rows = data.trial_rows(second.problems[0])
    assert data.find(second, rows[-1]["uid"])[2].number == rows[-1]["number"]
    assert data.find(second, "nope#1") is None


def test_dash_is_not_imported_by_codesign() -> None:
    code = ("import sys, codesign; from codesign.cli.main import build_parser; build_parser(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dash', 'plotly', 'dash_ag_grid')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_store_is_not_written(real_store: str) -> None:
    import hashlib
    import os

    def state() -> tuple:
        files = sorted(f for f in os.listdir(real_store) if not f.endswith(("-shm", "-wal")))
        wal = os.path.join(real_store, "codesign.db-wal")
        return (files, {f: hashlib.sha1(open(os.path.join(real_store, f), "rb").read()).hexdigest() for f in files},
                os.path.getsize(wal) if os.path.exists(wal) else 0)

    before = state()
    from codesign.dashboard.report import build_report

    build_report(real_store)
    data.StoreReader(real_store).snapshot()
    assert state() == before  # SQLite's shared-memory index (-shm, an empty -wal) aside, nothing written
