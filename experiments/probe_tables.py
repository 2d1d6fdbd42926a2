"""Measure the probe tables of docs/results/probes-bits.md (full precision, W8/6/4/3/2 at A8,
proxy calibration, wall times). Usage: ``.venv/bin/python experiments/probe_tables.py [MODEL ...]``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from codesign.evaluators.accuracy.probes import PROBES, make_probe, probe_workload
from codesign.evaluators.accuracy.proxy import calibrate
from codesign.types import Design

OUT = Path(__file__).resolve().parents[1] / "docs" / "results" / "probes-bits.json"
CALIB_EVAL = {"fmnist-cnn": 5000, "moe-shakespeare": 16384, "minilm-l6": 200}


def main() -> None:
    models = sys.argv[1:] or list(PROBES)
    doc = json.loads(OUT.read_text()) if OUT.is_file() else {}
    for wl in models:
        t0 = time.perf_counter()
        probe = make_probe(wl, disk_cache=False)
        load = time.perf_counter() - t0
        row = {"metric": probe.primary, "float": probe.float_result["values"], "stderr_float": probe.float_result["stderr"],
               "n_eval": probe.float_result["n"], "load_s": load, "bits": {}}
        for b in (8, 6, 4, 3, 2):
            d = Design({"w_bits.all": b, "a_bits.all": 8})
            t1 = time.perf_counter()
            m = probe.evaluate(d)
            cold = time.perf_counter() - t1
            t2 = time.perf_counter()
            probe.evaluate(d)
            row["bits"][f"W{b}A8"] = {**m.values, "stderr": m.breakdown["stderr"], "cold_s": cold,
                                      "cached_s": time.perf_counter() - t2}
        cal_probe = make_probe(wl, disk_cache=False, eval_size=CALIB_EVAL[wl])
        cal = calibrate(cal_probe, probe_workload(wl), 20, 0, PROBES[wl][2])
        row["calibration"] = {**cal, "eval_size": CALIB_EVAL[wl]}
        doc[wl] = row
        OUT.write_text(json.dumps(doc, indent=1) + "\n")
        OUT.with_suffix(".table.md").write_text(render(doc))
        print(wl, "done", time.perf_counter() - t0, flush=True)


if __name__ == "__main__":
    main()


def render(doc: dict) -> str:
    """Markdown of the measured table (written beside the JSON)."""
    lines = ["| model | metric | full precision | W8A8 | W6A8 | W4A8 | W3A8 | W2A8 | stderr (fp) | n eval |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for wl, r in doc.items():
        m = r["metric"]
        vals = " | ".join(f"{r['bits'][f'W{b}A8'][m]:.4f}" for b in (8, 6, 4, 3, 2))
        lines.append(f"| {wl} | {m} | {r['float'][m]:.4f} | {vals} | {r['stderr_float']:.4f} | {r['n_eval']} |")
    lines += ["", "| model | designs | eval size | Spearman | Kendall | real s/design | proxy ms/design | proxy setup s |",
              "|---|---|---|---|---|---|---|---|"]
    for wl, r in doc.items():
        c = r["calibration"]
        lines.append(f"| {wl} | {c['designs']} ({c['granularity']}) | {c['eval_size']} | {c['spearman']:.3f} | "
                     f"{c['kendall']:.3f} | {c['real_s_per_design']:.2f} | {c['proxy_s_per_design'] * 1e3:.2f} | "
                     f"{c['proxy_setup_s']:.1f} |")
    lines += ["", "| model | load s (cold, incl. calibration + fp eval) | eval s/design cold (W8..W2) | cached s |",
              "|---|---|---|---|"]
    for wl, r in doc.items():
        cold = ", ".join(f"{r['bits'][f'W{b}A8']['cold_s']:.1f}" for b in (8, 6, 4, 3, 2))
        cached = max(r["bits"][f"W{b}A8"]["cached_s"] for b in (8, 6, 4, 3, 2))
        lines.append(f"| {wl} | {r['load_s']:.1f} | {cold} | < {cached * 1e3:.1f} ms |")
    return "\n".join(lines) + "\n"
