"""CLI handlers of ``codesign sim`` and ``codesign bench sim``; import rules; Verilog export."""

from __future__ import annotations

import ast
import json
import pathlib
import shutil
import subprocess
import sys

import pytest

from codesign.cli.main import main

PKG = pathlib.Path(__file__).resolve().parents[2] / "codesign" / "rtl_sim"


def test_sim_gemm_json(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["sim", "gemm", "--pe", "bit_serial", "--serial", "weight", "--w-bits", "4",
               "--a-bits", "8", "-m", "20", "-n", "12", "-k", "33", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["verified"] and doc["pe"] == "bit_serial:weight"
    assert doc["events"]["multiplies"] == 4 * 20 * 12 * 33


def test_sim_gemm_human_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "gemm", "--pe", "lut", "-m", "8", "-n", "8", "-k", "16"]) == 0
    assert "lookups" in capsys.readouterr().out
    assert main(["sim", "gemm", "--pe", "lut", "--w-bits", "9"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "`w_bits` must be an integer in [1, 8], but got 9" in err


def test_sim_gemm_new_families(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["sim", "gemm", "--pe", "essential:csd", "--lanes", "2", "-m", "9", "-n", "7", "-k", "40", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["verified"] and doc["pe"] == "essential:csd" and doc["events"]["shift_adds"] > 0
    rc = main(["sim", "gemm", "--pe", "serial", "--w-bits-per-cycle", "3", "--a-bits-per-cycle", "4",
               "--a-bits", "16", "-m", "5", "-n", "5", "-k", "20", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["verified"] and doc["events"]["multiplies"] == 2 * 4 * 5 * 5 * 20
    assert main(["sim", "gemm", "--pe", "serial", "--group-size", "6"]) == 2
    assert "multiple of lanes" in capsys.readouterr().err


def test_sim_area_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "area", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    rows = {r["family"]: r for r in doc["families"]}
    assert {"bit_parallel", "lut", "essential", "bit_fusion", "serial"} <= set(rows)
    assert all(r["synth_um2"] > 0 and r["published_um2"] > 0 for r in rows.values())
    assert main(["sim", "area", "--family", "nope"]) == 2


def test_sim_verify_json(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["sim", "verify", "--cases", "3", "--family", "bit_parallel", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["mismatches"] == 0
    assert doc["families"]["bit_parallel"]["cases"] == 3


def test_bench_sim_json_small(capsys: pytest.CaptureFixture[str]) -> None:
    from codesign.rtl_sim.bench import bench_sim

    doc = bench_sim(32, 32, 32, repeats=1, rtl_cases=1)
    assert set(doc["families"]) >= {"bit_parallel", "lut", "bit_serial:both", "serial", "essential", "bit_fusion"}
    assert doc["families"]["essential"]["goal_ratio_max"] == 1.5 * 4  # 4 term planes at w4
    assert len(doc["load_average"]) == 3
    assert all(f["verified"] and f["rtl_mismatches"] == 0 for f in doc["families"].values())
    assert doc["scaling"]["weight_serial_cycles_ratio_8_over_4"] == 2.0


@pytest.mark.skipif(shutil.which("yosys") is None, reason="yosys not installed")
def test_export_verilog(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pe.v"
    assert main(["sim", "export-verilog", "--pe", "bit_serial:both", "--array", "1x2",
                 "--max-k", "64", "-o", str(out)]) == 0
    text = out.read_text()
    assert "module pe_array" in text and "in_ready" in text


def test_import_rules() -> None:
    """rtl_sim imports only codesign.types / codesign.errors (and itself); amaranth only in
    hdl/ and cosim, never at import of codesign.rtl_sim."""
    for path in PKG.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name.startswith("codesign"):
                    assert name.startswith(("codesign.rtl_sim", "codesign.types",
                                            "codesign.errors")), (path, name)
                if name.startswith("amaranth"):
                    rel = path.relative_to(PKG).as_posix()
                    assert rel.startswith("hdl/") or rel == "cosim.py", (path, name)
    code = ("import sys, codesign.rtl_sim, codesign.rtl_sim.simulate, codesign.rtl_sim.bench; "
            "print(any(m.startswith('amaranth') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_bench_sim_table_names_every_family_in_full(capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from codesign.cli import common
    from codesign.rtl_sim.families import PE_FAMILIES

    real = common.console

    def narrow(stderr: bool = False):  # an 80-column terminal
        con = real(stderr)
        con.width = 80
        return con

    monkeypatch.setattr(common, "console", narrow)
    assert main(["bench", "sim", "-m", "16", "-n", "16", "-k", "16", "--repeats", "1", "--rtl-cases", "0"]) == 0
    out = capsys.readouterr().out
    for key in PE_FAMILIES:
        assert any(line.split("│")[1].strip() == key for line in out.splitlines() if line.count("│") > 2), key
    assert "goal missed" in out or "MISS" not in out
