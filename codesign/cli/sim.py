"""``codesign sim gemm|verify|export-verilog|area`` and ``codesign bench sim`` (rtl_sim)."""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from codesign.cli.common import print_json
from codesign.errors import ConfigError

__all__ = ["add_parser", "add_bench_arguments", "bench_sim_command"]


def _pe_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pe", required=True,
                   help="bit_parallel, bit_serial[:weight|activation|both], lut, serial, "
                        "essential[:csd], bit_fusion")
    p.add_argument("--serial", choices=["weight", "activation", "both"], default=None,
                   help="serialized operand of a bit_serial PE (default weight)")
    p.add_argument("--bits-per-cycle", type=int, default=None, help="k of a bit_serial PE")
    p.add_argument("--lanes", type=int, default=None, help="reduction lanes (groups for lut)")
    p.add_argument("--g", type=int, default=None, help="LUT activation group size")
    p.add_argument("--w-code", choices=["offset_binary", "twos_complement"], default=None,
                   help="LUT signed-weight code")
    p.add_argument("--encoding", choices=["binary", "csd"], default=None,
                   help="essential-term encoding of the zero-bit-skipping PE")
    p.add_argument("--w-bits-per-cycle", type=int, default=None, help="weight digit width of a serial PE")
    p.add_argument("--a-bits-per-cycle", type=int, default=None, help="activation digit width of a serial PE")
    p.add_argument("--group-size", type=int, default=None, help="weights per group scale of a serial PE")
    p.add_argument("--scale-bits", type=int, default=None, help="bits of a serial PE's group scale")


_PE_PARAMS = ("serial", "bits_per_cycle", "lanes", "g", "w_code", "encoding", "w_bits_per_cycle",
              "a_bits_per_cycle", "group_size", "scale_bits")


def _make_pe(args: argparse.Namespace) -> Any:
    from codesign.rtl_sim.families import make_pe

    params: dict[str, Any] = {}
    for attr, key in ((p, p) for p in _PE_PARAMS):
        if getattr(args, attr, None) is not None:
            params[key] = getattr(args, attr)
    return make_pe(args.pe, **params)


def _array(text: str) -> tuple[int, int]:
    try:
        rows, cols = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise ConfigError(f"`--array` must look like ROWSxCOLS (e.g. 16x16), but got {text!r}") from None
    return rows, cols


def add_parser(subparsers: Any) -> None:
    """Add ``sim`` with its ``gemm``, ``verify`` and ``export-verilog`` subcommands."""
    sim = subparsers.add_parser("sim", help="bit-exact PE-array simulation (rtl_sim)")
    sub = sim.add_subparsers(dest="sim_command", metavar="SIMCOMMAND")

    g = sub.add_parser("gemm", help="simulate one random GEMM: cycles, events, verified")
    _pe_args(g)
    g.add_argument("--w-bits", type=int, default=4)
    g.add_argument("--a-bits", type=int, default=8)
    g.add_argument("--w-unsigned", action="store_true", help="unsigned weights")
    g.add_argument("--a-unsigned", action="store_true", help="unsigned activations")
    g.add_argument("-m", type=int, default=64)
    g.add_argument("-n", type=int, default=64)
    g.add_argument("-k", type=int, default=64)
    g.add_argument("--array", type=_array, default=(16, 16), help="ROWSxCOLS (default 16x16)")
    g.add_argument("--order", choices=["mn", "nm"], default="mn")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--json", action="store_true")
    g.set_defaults(handler=gemm_command)

    v = sub.add_parser("verify", help="RTL co-simulation of every PE family on random cases")
    v.add_argument("--cases", type=int, default=200, help="random cases per family")
    v.add_argument("--family", action="append", default=None, help="only this family (repeat)")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--json", action="store_true")
    v.set_defaults(handler=verify_command)

    e = sub.add_parser("export-verilog", help="write a PE array's RTL as Verilog (needs yosys)")
    _pe_args(e)
    e.add_argument("--array", type=_array, default=(2, 2), help="ROWSxCOLS (default 2x2)")
    e.add_argument("--max-k", type=int, default=4096, help="largest reduction length")
    e.add_argument("-o", "--output", required=True, help="output .v file")
    e.set_defaults(handler=export_command)

    ar = sub.add_parser("area", help="per-lane area of every family: synthesized (NanGate 45 nm) vs published")
    ar.add_argument("--write", action="store_true",
                    help="re-synthesize (yosys, minutes) and rewrite the committed table")
    ar.add_argument("--family", action="append", default=None, help="only this family (repeat)")
    ar.add_argument("--json", action="store_true")
    ar.set_defaults(handler=area_command)
    sim.set_defaults(handler=lambda args: _missing(sim))


def _missing(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return 2


def gemm_command(args: argparse.Namespace) -> int:
    from codesign.rtl_sim.bits import check_int_range, value_range
    from codesign.rtl_sim.simulate import simulate_gemm

    pe = _make_pe(args)
    for name in ("m", "n", "k"):
        check_int_range(name, getattr(args, name), 1, 1 << 16)
    rng = np.random.default_rng(args.seed)
    ws, as_ = not args.w_unsigned, not args.a_unsigned
    check_int_range("w_bits", args.w_bits, 1, 8)
    check_int_range("a_bits", args.a_bits, 1, 16)
    wl, wh = value_range(args.w_bits, ws)
    al, ah = value_range(args.a_bits, as_)
    a = rng.integers(al, ah + 1, size=(args.m, args.k))
    w = rng.integers(wl, wh + 1, size=(args.k, args.n))
    t0 = time.perf_counter()
    res = simulate_gemm(a, w, pe, w_bits=args.w_bits, a_bits=args.a_bits, w_signed=ws,
                        a_signed=as_, array=args.array, order=args.order)
    seconds = time.perf_counter() - t0
    doc = {"m": args.m, "n": args.n, "k": args.k, **res.summary(),
           "verified": bool(np.array_equal(res.output, a @ w)), "seconds": seconds}
    if args.json:
        print_json(doc)
    else:
        from rich.markup import escape

        from codesign.cli.common import console

        con = console()
        con.print(f"[bold]{escape(str(doc['pe']))}[/] {args.m}x{args.n}x{args.k}  w{args.w_bits} a{args.a_bits}  "
                  f"array {args.array[0]}x{args.array[1]}  order {args.order}", markup=True)
        con.print(f"cycles {res.cycles} (compute {res.compute_cycles}, overhead "
                  f"{res.overhead_cycles}), cycles/MAC {doc['cycles_per_mac']:.4g}, "
                  f"verified {doc['verified']}, {seconds * 1e3:.1f} ms")
        for name, count in res.events.items():
            con.print(f"  {name:16s} {count}")
    return 0 if doc["verified"] else 1


def verify_command(args: argparse.Namespace) -> int:
    from codesign.rtl_sim.bits import check_int_range
    from codesign.rtl_sim.cosim import default_configs, verify_all

    check_int_range("cases", args.cases, 1, 100000)
    known = list(default_configs())
    for fam in args.family or []:
        if fam not in known:
            raise ConfigError(f"`--family` must be one of {known}, but got {fam!r}")
    t0 = time.perf_counter()
    reports = verify_all(args.cases, seed=args.seed, families=args.family)
    total_bad = sum(r.output_mismatches + r.cycle_mismatches for r in reports.values())
    doc = {"families": {k: r.to_dict() for k, r in reports.items()},
           "mismatches": total_bad, "seconds": time.perf_counter() - t0}
    if args.json:
        print_json(doc)
    else:
        from rich.table import Table

        from codesign.cli.common import console

        table = Table("family", "cases", "output mismatches", "cycle mismatches", "RTL cycles",
                      "configs", title="RTL co-simulation (Amaranth) vs fast model")
        for k, r in reports.items():
            table.add_row(k, str(r.cases), str(r.output_mismatches), str(r.cycle_mismatches),
                          str(r.rtl_cycles), str(len(r.configs)))
        console().print(table)
    return 0 if total_bad == 0 else 1


def export_command(args: argparse.Namespace) -> int:
    from codesign.rtl_sim.bits import check_int_range
    from codesign.rtl_sim.hdl import export_verilog

    pe = _make_pe(args)
    check_int_range("max_k", args.max_k, 1, 1 << 20)
    path = export_verilog(pe, args.output, array=args.array, max_k=args.max_k)
    print(f"wrote {path} ({pe.key}, array {args.array[0]}x{args.array[1]})")
    return 0


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``codesign bench sim``."""
    parser.add_argument("-m", type=int, default=256)
    parser.add_argument("-n", type=int, default=256)
    parser.add_argument("-k", type=int, default=256)
    parser.add_argument("--w-bits", type=int, default=4)
    parser.add_argument("--a-bits", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rtl-cases", type=int, default=10, help="RTL cases per family")
    parser.add_argument("--seed", type=int, default=0)
    if not any(a.dest == "json" for a in parser._actions):
        parser.add_argument("--json", action="store_true")


def bench_sim_command(args: argparse.Namespace) -> int:
    from codesign.rtl_sim.bench import bench_sim
    from codesign.rtl_sim.bits import check_int_range

    for name in ("m", "n", "k"):
        check_int_range(name, getattr(args, name), 1, 1 << 14)
    check_int_range("repeats", args.repeats, 1, 1000)
    check_int_range("rtl_cases", args.rtl_cases, 0, 10000)
    doc = bench_sim(args.m, args.n, args.k, args.w_bits, args.a_bits, args.repeats,
                    args.rtl_cases, seed=args.seed)
    if getattr(args, "json", False):
        print_json(doc)
        return 0
    from rich.markup import escape
    from rich.table import Table

    from codesign.cli.common import console

    g = doc["gemm"]
    table = Table("family", "sim ms", "÷ matmul", "goal ≤", "verified", "cycles/MAC", "RTL speed-up",
                  title=f"fast model on {g['m']}x{g['n']}x{g['k']} (w{g['w_bits']} a{g['a_bits']}); int64 matmul "
                  f"{doc['int64_matmul_seconds'] * 1e3:.2f} ms; load {doc['load_average'][0]:.2f}")
    table.columns[0].no_wrap = True
    misses = []
    for k, f in doc["families"].items():
        mark = "" if f.get("meets_goal", True) else " MISS"
        rtl_mark = "" if f.get("meets_rtl_goal", True) else " MISS"
        if mark or rtl_mark:
            misses.append(k)
        table.add_row(k, f"{f['seconds'] * 1e3:.2f}", f"{f['ratio_to_int64_matmul']:.2f}{mark}",
                      f"{f.get('goal_ratio_max', '-')}", str(f["verified"]),
                      f"{f['cycles_per_mac']:.4g}", f"{f.get('speedup_vs_rtl', float('nan')):.0f}x{rtl_mark}")
    con = console()
    need = con.measure(table).maximum
    if need > con.width:  # never truncate a PE name: widen rather than cut
        con.width = need
    con.print(table)
    s = doc["scaling"]
    con.print(f"weight-serial compute cycles 4→8 bits: ×{s['weight_serial_cycles_ratio_8_over_4']:.2f}; "
              f"LUT lookups per weight bit: {s['lut_lookups_per_weight_bit']}")
    if misses:
        con.print(f"[bold red]goal missed[/] by: {escape(', '.join(misses))} (ratio goal ≤ {doc['serial_ratio_goal']} × "
                  f"work units per MAC; RTL speed-up goal ≥ {doc['rtl_speedup_goal']:.0f}x)", markup=True)
    return 0


def area_command(args: argparse.Namespace) -> int:
    from codesign.rtl_sim import area as area_mod
    from codesign.rtl_sim.characterize import get_pe

    if args.write:
        doc = area_mod.synth_table(args.family, progress=lambda n: print(f"synthesizing {n} ...", flush=True))
        if args.family:  # keep the other families' entries
            old = area_mod.load_synth_areas()
            doc["families"] = {**old.get("families", {}), **doc["families"]}
        area_mod.SYNTH_AREA_PATH.parent.mkdir(parents=True, exist_ok=True)
        import json as _json

        area_mod.SYNTH_AREA_PATH.write_text(_json.dumps(doc, indent=1, sort_keys=True) + "\n")
        area_mod._load.cache_clear()
    table_doc = area_mod.load_synth_areas()
    fams = table_doc.get("families", {})
    names = args.family or list(area_mod.SYNTH_CONFIGS)
    unknown = sorted(set(names) - set(area_mod.SYNTH_CONFIGS))
    if unknown:
        raise ConfigError(f"`--family` must be among {sorted(area_mod.SYNTH_CONFIGS)}, but got {unknown}")
    rows = []
    for name in names:
        e = fams.get(name)
        published = get_pe(name).area_um2()
        synth = None if e is None else e["lane_area_um2"]
        rows.append({"family": name, "lanes": None if e is None else e["lanes"], "published_um2": published,
                     "synth_um2": synth, "synth_over_published": None if synth is None else synth / published,
                     "terms_um2": None if e is None else e["terms_um2"]})
    doc = {"reference_array": table_doc.get("reference_array"), "source": table_doc.get("source"), "families": rows}
    if args.json:
        print_json(doc)
        return 0
    from rich.table import Table

    from codesign.cli.common import console

    r, c = doc["reference_array"] or (16, 16)
    table = Table("family", "lanes/PE", "published µm²/lane", f"synthesized µm²/lane ({r}x{c})", "ratio",
                  "per PE", "per row", "per col", "shared", title="PE lane area (45 nm)")
    table.columns[0].no_wrap = True
    for row in rows:
        t = row["terms_um2"] or {}
        table.add_row(row["family"], str(row["lanes"]), f"{row['published_um2']:.0f}",
                      "-" if row["synth_um2"] is None else f"{row['synth_um2']:.0f}",
                      "-" if row["synth_over_published"] is None else f"{row['synth_over_published']:.2f}",
                      *(f"{t[k]:.0f}" if k in t else "-" for k in ("a_rc", "a_r", "a_c", "a0")))
    con = console()
    con.print(table)
    con.print(f"cells: {doc['source']}")
    return 0
