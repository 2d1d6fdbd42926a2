"""Measure the probe tables of docs/results/probes-bits.md (full precision, W8/6/4/3/2 at A8,
proxy calibration, wall times); results merge into ``probes-bits.json``, cell by cell.

Usage::

    .venv/bin/python experiments/probe_tables.py [MODEL ...] [--bits 8,6,4,3,2] [--eval-size N]
        [--no-calib] [--calib-only] [--calib-eval N] [--designs 20]

``--bits`` measures only those weight widths (A8); ``--eval-size`` overrides the probe's
default evaluation size for the bits table; ``--calib-eval`` the calibration's (default
``CALIB_EVAL``). Cold times are measured without the disk cache; the cached time is a second
evaluation of the same design (in-memory memo).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from codesign.evaluators.accuracy.probes import PROBES, make_probe, probe_workload
from codesign.evaluators.accuracy.proxy import calibrate
from codesign.types import Design

OUT = Path(__file__).resolve().parents[1] / "docs" / "results" / "probes-bits.json"
CALIB_EVAL = {"fmnist-cnn": 5000, "moe-shakespeare": 16384, "minilm-l6": 200, "gemma3-270m": 1024}
BITS = (8, 6, 4, 3, 2)


def _save(wl: str, row: dict, out: Path = OUT) -> None:
    """Merge ``row`` into ``out`` under ``wl`` (re-read first: other models' runs may have written)."""
    doc = json.loads(out.read_text()) if out.is_file() else {}
    doc[wl] = row
    out.write_text(json.dumps(doc, indent=1) + "\n")
    out.with_suffix(".table.md").write_text(render(doc))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", default=None)
    ap.add_argument("--bits", default=",".join(map(str, BITS)))
    ap.add_argument("--a-bits", type=int, default=8, help="activation bits of the bits table (8; 16 ~ weight-only)")
    ap.add_argument("--eval-size", type=int, default=None)
    ap.add_argument("--no-calib", action="store_true")
    ap.add_argument("--calib-only", action="store_true")
    ap.add_argument("--calib-eval", type=int, default=None)
    ap.add_argument("--designs", type=int, default=20)
    ap.add_argument("--out", type=Path, default=OUT, help="JSON to merge into (default docs/results/probes-bits.json)")
    args = ap.parse_args(argv)
    bits = [int(b) for b in args.bits.split(",") if b]
    doc = json.loads(args.out.read_text()) if args.out.is_file() else {}
    for wl in args.models or list(PROBES):
        t0 = time.perf_counter()
        row = doc.setdefault(wl, {"bits": {}})
        row.setdefault("bits", {})
        if not args.calib_only:
            probe = make_probe(wl, disk_cache=False, eval_size=args.eval_size)
            load = time.perf_counter() - t0
            fresh = {"metric": probe.primary, "float": probe.float_result["values"],
                     "stderr_float": probe.float_result["stderr"], "n_eval": probe.float_result["n"],
                     "eval_size": probe.eval_size, "load_s": load}
            if row.get("n_eval") not in (None, fresh["n_eval"]):  # another eval size: the old cells do not compare
                row["bits"] = {}
            row.update(fresh)
            for b in bits:
                d = Design({"w_bits.all": b, "a_bits.all": args.a_bits})
                t1 = time.perf_counter()
                m = probe.evaluate(d)
                cold = time.perf_counter() - t1
                t2 = time.perf_counter()
                probe.evaluate(d)
                row["bits"][f"W{b}A{args.a_bits}"] = {**m.values, "stderr": m.breakdown["stderr"], "cold_s": cold,
                                          "cached_s": time.perf_counter() - t2}
                _save(wl, row, args.out)
                print(wl, f"W{b}A{args.a_bits}", m.values[probe.primary], f"{cold:.1f} s", flush=True)
            del probe
        if not args.no_calib:
            size = args.calib_eval or CALIB_EVAL[wl]
            t1 = time.perf_counter()
            cal_probe = make_probe(wl, disk_cache=False, eval_size=size)
            cal_load = time.perf_counter() - t1
            cal = calibrate(cal_probe, probe_workload(wl), args.designs, 0, PROBES[wl][2])
            row["calibration"] = {**cal, "eval_size": size, "load_s": cal_load}
            _save(wl, row, args.out)
            print(wl, "calibration", cal["spearman"], cal["kendall"], flush=True)
        print(wl, "done", time.perf_counter() - t0, flush=True)


def _cell(r: dict, b: int) -> str:
    cell = r.get("bits", {}).get(f"W{b}A8")
    return f"{cell[r['metric']]:.4f}" if cell else "not measured"


def render(doc: dict) -> str:
    """Markdown of the measured table (written beside the JSON)."""
    lines = ["| model | metric | full precision | W8A8 | W6A8 | W4A8 | W3A8 | W2A8 | stderr (fp) | n eval |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for wl, r in doc.items():
        if "metric" not in r:
            continue
        m = r["metric"]
        vals = " | ".join(_cell(r, b) for b in BITS)
        lines.append(f"| {wl} | {m} | {r['float'][m]:.4f} | {vals} | {r['stderr_float']:.4f} | {r['n_eval']} |")
    lines += ["", "| model | designs | eval size | Spearman | Kendall | real s/design | proxy ms/design | proxy setup s |",
              "|---|---|---|---|---|---|---|---|"]
    for wl, r in doc.items():
        c = r.get("calibration")
        if not c:
            continue
        lines.append(f"| {wl} | {c['designs']} ({c['granularity']}) | {c['eval_size']} | {c['spearman']:.3f} | "
                     f"{c['kendall']:.3f} | {c['real_s_per_design']:.2f} | {c['proxy_s_per_design'] * 1e3:.2f} | "
                     f"{c['proxy_setup_s']:.1f} |")
    lines += ["", "| model | load s (cold, incl. calibration + fp eval) | eval s/design cold (W8..W2) | cached s |",
              "|---|---|---|---|"]
    for wl, r in doc.items():
        cells = [r.get("bits", {}).get(f"W{b}A8") for b in BITS]
        if "load_s" not in r or not any(cells):
            continue
        cold = ", ".join(f"{c['cold_s']:.1f}" if c else "—" for c in cells)
        cached = max(c["cached_s"] for c in cells if c)
        lines.append(f"| {wl} | {r['load_s']:.1f} | {cold} | < {cached * 1e3:.1f} ms |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
