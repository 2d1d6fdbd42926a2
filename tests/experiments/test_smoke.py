"""Every reproduction experiment runs at its ``--smoke`` size and writes its table and plot.

Each script runs in a subprocess (as CI and users run it) into a temporary ``--out``; the test
checks the exit code, that ``<name>.md`` and ``<name>.png`` exist, that the markdown table has
the rows the experiment promises, and that the numbers in it hold what the experiment claims
(:data:`CHECKS`: relations that must hold at any size, e.g. a crossover column agreeing with the
ratio table it summarizes, a co-design never slower than separate design).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = ROOT / "experiments"

# experiment -> strings that must each start a table row in its markdown
EXPECTED_ROWS = {
    "serial_vs_lut": ["| 2 |", "| 4 |", "| 8 |"],
    "stripes_precision": ["| conv1 |", "| conv2 |", "| fc1 |", "| fc2 |", "| **network** |"],
    "hasco_codesign": ["| resnet18-3layers |", "| llama2-7b-3layers |"],
    "haq_hw_specific_bits": ["| searched for bit_serial |", "| searched for lut |", "| searched for bit_parallel |",
                             "| bit_serial |", "| lut |", "| bit_parallel |"],
    "archgym_lottery": ["| tpe |", "| mcts |"],
    "essential_bits": ["| conv1 |", "| fc2 |", "| **network** |", "| fmnist-cnn |"],
    "bitmod_llama2": ["| layers.self_attn.q_proj |", "| layers.mlp.down_proj |", "| lm_head |", "| linear layers |",
                      "| **whole model** |"],
    "pe_area": ["| bit_parallel |", "| lut |", "| serial |", "| essential |", "| bit_fusion |"],
    "haq_latency_fit": ["| conv1 |", "| layer1.0.conv1 |"],
    "mxmoe_expert_bits": ["| uniform 8-bit (reference) |", "| uniform 3-bit |",
                          "| per-expert, routing-aware, equal accuracy to 3-bit |",
                          "| per-expert, routing-unaware, equal latency to 4-bit |"],
    "allocation_moe": ["| uniform w4a8 |", "| fisher @ w4a8 latency |", "| hessian @ w4a8 latency |",
                       "| probe @ w4a8 latency |"],
}


def tables(text: str) -> list[list[dict[str, str]]]:
    """Every markdown table of ``text`` as a list of rows (header -> cell)."""
    out: list[list[dict[str, str]]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines) - 1:
        if lines[i].startswith("|") and re.fullmatch(r"\|(-+\|)+", lines[i + 1].replace(" ", "")):
            head = [c.strip() for c in lines[i].strip("|").split("|")]
            rows = []
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(dict(zip(head, (c.strip() for c in lines[i].strip("|").split("|")))))
                i += 1
            out.append(rows)
        else:
            i += 1
    return out


def num(cell: str) -> float:
    """The first number of a cell (``"35.58 (1.00×)"`` -> 35.58)."""
    m = re.search(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", cell)
    assert m, f"no number in {cell!r}"
    return float(m.group())


def check_serial_vs_lut(ts: list[list[dict[str, str]]]) -> None:
    cross, energy, area = ts[0], ts[1], ts[2]
    gs = [k for k in energy[0] if k.startswith("g=")]
    assert gs and len(energy) >= 4
    for g in gs:
        ratios = [(int(r["w_bits"]), num(r[g])) for r in energy]
        assert all(v > 0 for _, v in ratios)
        # LUT energy amortizes over weight bits: the LUT/serial ratio never rises with w
        assert all(b[1] <= a[1] * 1.001 for a, b in zip(ratios, ratios[1:])), (g, ratios)
        row = next(r for r in cross if f"g={r['g']}" == g)
        assert row["energy crossover (PE model)"] == crossover(ratios), (g, row, ratios)
        assert num(row["E_lut/E_serial @w=4"]) == pytest.approx(dict(ratios)[4], rel=0.01)
        areas = [(int(r["w_bits"]), num(r[g])) for r in area]
        assert row["area crossover"] == crossover(areas), (g, row, areas)
        assert num(row["A_lut/A_serial @w=4"]) == pytest.approx(dict(areas)[4], rel=0.01)


def crossover(ratios: list[tuple[int, float]]) -> str:
    """The experiment's crossover rule: the smallest w from which LUT/serial < 1 for every larger w."""
    wins = [v < 1 for _, v in ratios]
    if not any(wins):
        return "none"
    if all(wins):
        return "all (w ≥ 1)"
    first = next(i for i in range(len(wins)) if all(wins[i:]))
    return f"w ≥ {ratios[first][0]}"


def check_stripes_precision(ts: list[list[dict[str, str]]]) -> None:
    layers = {r["layer"]: r for r in ts[0]}
    for name in ("conv1", "conv2"):  # conv layers: speed-up = 16 / activation precision
        r = layers[name]
        assert num(r["speed-up vs 16-bit BP"]) == pytest.approx(16 / num(r["a_bits joint profile"]), rel=0.01)
        assert num(r["ideal 16/p"]) == pytest.approx(16 / num(r["a_bits joint profile"]), rel=0.01)
    for name in ("fc1", "fc2"):  # FC at batch 1: no gain without the bit-parallel fallback
        assert num(layers[name]["speed-up vs 16-bit BP"]) < 1 <= num(layers[name]["same, FC in BP mode"])
    net = layers["**network**"]
    assert num(net["same, FC in BP mode"]) >= num(net["speed-up vs 16-bit BP"]) > 1
    acc = {r["accuracy"]: num(r["value"]) for r in ts[1]}
    assert acc["float"] - acc[next(k for k in acc if k.startswith("joint profile"))] <= 0.01  # Stripes: <= 1% loss


def check_hasco_codesign(ts: list[list[dict[str, str]]]) -> None:
    for r in ts[0]:
        sep, co = num(r["separate: latency ms, mapped after"]), num(r["co-design: latency ms"])
        assert co <= sep * 1.001, r  # the joint search contains the separate design's point
        assert num(r["latency gain ×"]) == pytest.approx(sep / co, rel=0.02)
        area_co = num(r["area mm² sep / co"].split("/")[1])
        assert area_co <= num(r["area budget mm²"]) * 1.001


def check_haq_hw_specific_bits(ts: list[list[dict[str, str]]]) -> None:
    policies, hw = ts[0], ts[1]
    for r in policies:
        target = r["policy"].removeprefix("searched for ")
        assert num(r[f"latency µs on {target} (vs. diagonal)"]) > 0
        assert "(1.00×)" in r[f"latency µs on {target} (vs. diagonal)"]
        assert 0.5 < num(r["accuracy"]) <= 1
    for r in hw:
        base, searched = num(r["all-8-bit latency µs"]), num(r["searched latency µs"])
        assert searched < base and num(r["speed-up over all-8-bit"]) == pytest.approx(base / searched, rel=0.02)
        feasible, evaluated = (int(x) for x in r["feasible / evaluated"].split("/"))
        assert 0 < feasible <= evaluated


def check_archgym_lottery(ts: list[list[dict[str, str]]]) -> None:
    for r in ts[0]:
        best, med, worst = (num(r[f"HV ratio, {k} of grid"]) for k in ("best", "median", "worst"))
        assert 0 < worst <= med <= best <= 1.0001, r
        settings = dict(s.split(": ") for s in r["every setting (median over seeds)"].split(", "))
        if len(settings) == 1:  # no grid for this agent: no spread
            assert r["lottery spread"] == "—"
        else:
            assert num(r["lottery spread"]) == pytest.approx((best - worst) / best, abs=0.002)
        assert max(map(float, settings.values())) == pytest.approx(best, abs=0.001)
        assert int(r["grid settings"]) == len(settings)


def check_mxmoe_expert_bits(ts: list[list[dict[str, str]]]) -> None:
    rows = ts[0]
    uniform = {int(r["expert weight bits (width×experts)"]): r for r in rows if r["allocation"].startswith("uniform")}
    bpb = {b: num(r["held-out bits/byte (lower is better)"]) for b, r in uniform.items()}
    assert bpb[8] < bpb[4] < bpb[3], bpb  # fewer bits, worse held-out bits/byte
    experts = None
    for r in rows:
        if r["allocation"].startswith("uniform"):
            continue
        m = re.search(r"to (\d)-bit", r["allocation"])
        assert m, r["allocation"]
        ref = uniform[int(m.group(1))]
        counts = [int(c) for c in re.findall(r"b×(\d+)", r["expert weight bits (width×experts)"])]
        experts = experts or sum(counts)
        assert sum(counts) == experts, r  # every expert gets one width
        lat, ref_lat = num(r["latency ms (whole model)"]), num(ref["latency ms (whole model)"])
        assert num(r["speed-up vs. uniform (whole model)"]) == pytest.approx(ref_lat / lat, rel=0.001)
        if "routing-aware, equal latency" in r["allocation"]:
            assert lat <= ref_lat * 1.0005, r  # the routing-aware allocation meets its latency budget
        better = num(r["held-out bits/byte (lower is better)"]) <= num(ref["held-out bits/byte (lower is better)"]) + 5e-5
        assert ("accuracy ≥ uniform" in r["accuracy vs. uniform (measured)"]) == better, r



def check_essential_bits(ts: list[list[dict[str, str]]]) -> None:
    per_layer = [t for t in ts if t and "layer" in t[0] and "simulated cycles" in t[0]]
    assert per_layer
    for t in per_layer:  # data-dependent cycles never exceed the closed-form worst case
        layers = [r for r in t if not r["layer"].startswith("**")]
        net = next(r for r in t if r["layer"] == "**network**")
        for r in layers:
            assert num(r["simulated cycles"]) <= num(r["worst-case cycles"])
            assert num(r["sim / worst"]) == pytest.approx(num(r["simulated cycles"]) / num(r["worst-case cycles"]),
                                                          rel=0.01, abs=1e-3)
        count = lambda r: num(r["count"])  # noqa: E731
        for col in ("simulated cycles", "worst-case cycles"):
            assert num(net[col]) == pytest.approx(sum(num(r[col]) * count(r) for r in layers), rel=0.01)


def check_bitmod_llama2(ts: list[list[dict[str, str]]]) -> None:
    layers, parts = ts[0], ts[1]
    for r in layers:  # a layer takes the slower of compute and DRAM, and says which bound it
        c, d = num(r["compute cycles"]), num(r["DRAM cycles"])
        assert num(r["cycles"]) == pytest.approx(max(c, d), rel=0.01)
        assert r["bound"].lower() == ("compute" if c >= d else "dram")
    p = {r["part"]: r for r in parts}
    whole = p["**whole model**"]
    assert num(whole["cycles (Σ max per layer)"]) == pytest.approx(
        num(p["linear layers"]["cycles (Σ max per layer)"]) + num(p["attention matmuls"]["cycles (Σ max per layer)"]),
        rel=0.01)


def check_pe_area(ts: list[list[dict[str, str]]]) -> None:
    lanes, arrays = ts[0], {r["family"]: r for r in ts[1]}
    for r in lanes:
        pub, syn = num(r["published µm²/lane"]), num(r["synthesized µm²/lane (16×16)"])
        assert syn > 0 and num(r["synth / published"]) == pytest.approx(syn / pub, rel=0.01)
        a = arrays.get(r["family"])  # a 256-lane array is 256 lanes' area
        if a is None:
            continue
        assert num(a["synthesized mm² (256 lanes)"]) == pytest.approx(syn * 256 / 1e6, rel=0.02)
        assert num(a["published mm² (256 lanes)"]) == pytest.approx(pub * 256 / 1e6, rel=0.02)


def check_haq_latency_fit(ts: list[list[dict[str, str]]]) -> None:
    for r in ts[0]:  # the floor-term model contains k·w·a, so its fit is never worse (tolerance: rounding)
        pure = next(v for k, v in r.items() if k.startswith("pure k"))
        assert 0 <= num(r["rmse (relative)"]) <= num(pure) + 1e-3
        assert num(r["R²"]) <= 1.0
        assert all(num(r[k]) >= 0 for k in ("c0", "k_wa", "k_a", "k_w"))


def check_allocation_moe(ts: list[list[dict[str, str]]]) -> None:
    budget = None
    for r in ts[0]:  # every allocation meets the latency of the uniform allocation it is compared with
        name, lat = r["allocation"], num(r["latency ms (budget table)"])
        if name.startswith("uniform"):
            budget = lat
            continue
        assert budget is not None and lat <= budget * (1 + 1e-6), (name, lat, budget)

CHECKS = {"serial_vs_lut": check_serial_vs_lut, "stripes_precision": check_stripes_precision,
          "hasco_codesign": check_hasco_codesign, "haq_hw_specific_bits": check_haq_hw_specific_bits,
          "archgym_lottery": check_archgym_lottery, "mxmoe_expert_bits": check_mxmoe_expert_bits,
          "essential_bits": check_essential_bits, "bitmod_llama2": check_bitmod_llama2, "pe_area": check_pe_area,
          "haq_latency_fit": check_haq_latency_fit, "allocation_moe": check_allocation_moe}


def test_every_reproduction_exists() -> None:
    """The six reproductions of issue 9 exist (other scripts in experiments/ are not reproductions:
    the plugin example, the MoE training script, probe tables)."""
    scripts = {p.stem for p in EXPERIMENTS.glob("*.py") if not p.stem.startswith("_")}
    assert set(EXPECTED_ROWS) <= scripts


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED_ROWS))
def test_smoke(name: str, tmp_path: Path) -> None:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, str(EXPERIMENTS / f"{name}.py"), "--smoke", "--out", str(tmp_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{name} --smoke failed:\n{proc.stderr[-3000:]}"
    md, png = tmp_path / f"{name}.md", tmp_path / f"{name}.png"
    assert md.is_file() and png.is_file() and png.stat().st_size > 1000
    text = md.read_text()
    assert "Wall time" in text and "smoke (CI) size" in text
    lines = text.splitlines()
    for row in EXPECTED_ROWS[name]:
        assert any(line.startswith(row) for line in lines), f"{name}: no table row starting with {row!r}"
    CHECKS[name](tables(text))


@pytest.mark.parametrize("name", sorted(EXPECTED_ROWS))
def test_checks_hold_on_the_committed_full_results(name: str) -> None:
    """The same checks on the committed full-size tables (docs/results), so they are not
    written to pass only at smoke size."""
    CHECKS[name](tables((ROOT / "docs" / "results" / f"{name}.md").read_text()))
