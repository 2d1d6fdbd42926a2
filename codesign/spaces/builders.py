"""Builders of the three standard subsystems of a joint co-design space.

- :func:`quant_space` — weight / activation bit widths per layer, per MoE expert (per expert
  and linear block, or per expert), or uniform. Subsystem ``quant``.
- :func:`hardware_space` — PE type, array rows/cols, buffer sizes per level, DRAM bandwidth,
  clock. Subsystem ``hw``.
- :func:`mapping_space` — per layer: dataflow (loop order at the global-buffer level) and tile
  factors that divide the layer's GEMM dims. Subsystem ``mapping``.

Parameter naming convention (read back by :func:`layer_bits` and :func:`layer_mapping`):
``w_bits.<key>`` / ``a_bits.<key>`` where ``<key>`` is the layer name, the expert group
(:func:`expert_group`) or ``all``; ``map.<layer>.dataflow``, ``map.<layer>.tile_m|n|k``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from codesign.errors import SpaceError
from codesign.spaces.params import Bitwidth, Categorical, Ordinal, Param, PowerOfTwo
from codesign.spaces.space import Constraint, Space, compose
from codesign.workloads.layer import Layer, Workload

#: PE families that both the roofline and the cost model accept (``rtl_sim.characterize`` models).
PE_TYPES = ("bit_parallel", "bit_serial", "bit_serial_act", "lut", "bit_serial_both", "serial", "essential",
            "essential_csd", "bit_fusion")
DATAFLOWS = ("ws", "os", "is")
GRANULARITIES = ("layer", "expert", "uniform")


def expert_group(layer: Layer) -> str | None:
    """The per-expert key of an MoE expert layer: its name without the ``.<block>`` suffix."""
    if layer.expert is None:
        return None
    if layer.block and layer.name.endswith("." + layer.block):
        return layer.name[: -len(layer.block) - 1]
    return layer.name


def _bits_range(value: Sequence[int] | int, what: str) -> tuple[int, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    try:
        low, high = (int(v) for v in value)
    except (TypeError, ValueError):
        raise SpaceError(f"{what} must be an integer or a (low, high) pair, but got {value!r}") from None
    if not 1 <= low <= high <= 16:
        raise SpaceError(f"{what} must satisfy 1 <= low <= high <= 16, but got ({low}, {high})")
    return low, high


def quant_keys(workload: Workload, granularity: str = "layer") -> dict[str, str]:
    """Map each quantizable layer name to the key of its bit-width parameters."""
    if granularity not in GRANULARITIES:
        raise SpaceError(f"granularity must be one of {GRANULARITIES}, but got {granularity!r}")
    keys: dict[str, str] = {}
    for layer in workload.quantizable_layers:
        if granularity == "uniform":
            keys[layer.name] = "all"
        elif granularity == "expert":
            keys[layer.name] = expert_group(layer) or layer.name
        else:
            keys[layer.name] = layer.name
    return keys


def quant_space(
    workload: Workload,
    w_bits: Sequence[int] | int = (2, 8),
    a_bits: Sequence[int] | int = (2, 8),
    granularity: str = "layer",
    skip: Sequence[str] = (),
) -> Space:
    """Per-layer (or per-expert, or uniform) weight and activation bit widths.

    Layers in ``skip`` (e.g. a first/last layer kept at fixed precision) get no parameter and
    :func:`layer_bits` returns ``None`` for them; ``skip`` needs ``granularity="layer"``.
    """
    if skip and granularity != "layer":
        raise SpaceError(f"skip needs granularity 'layer', but got granularity {granularity!r}")
    wl, wh = _bits_range(w_bits, "w_bits")
    al, ah = _bits_range(a_bits, "a_bits")
    params: list[Param] = []
    seen: set[str] = set()
    for name, key in quant_keys(workload, granularity).items():
        if name in skip or key in seen:
            continue
        seen.add(key)
        params.append(Bitwidth(f"w_bits.{key}", "quant", wl, wh))
        params.append(Bitwidth(f"a_bits.{key}", "quant", al, ah))
    if not params:
        raise SpaceError(f"workload {workload.name!r} has no quantizable layer for a quant space")
    return Space(params, name=f"quant[{workload.name}]")


def bit_keys(layer: Layer) -> tuple[str, ...]:
    """The parameter keys :func:`layer_bits` looks up for ``layer``, most specific first."""
    group = expert_group(layer)
    return (layer.name,) + ((group,) if group is not None and group != layer.name else ()) + ("all",)


def bits_at(design: Mapping[str, Any], keys: Sequence[str]) -> tuple[int, int] | None:
    """``(w_bits, a_bits)`` of the first key of ``keys`` that ``design`` sets, else None."""
    for key in keys:
        if f"w_bits.{key}" in design:
            return int(design[f"w_bits.{key}"]), int(design[f"a_bits.{key}"])
    return None


def layer_bits(design: Mapping[str, Any], layer: Layer) -> tuple[int, int] | None:
    """``(w_bits, a_bits)`` that ``design`` gives ``layer``, looking up layer, expert, ``all``."""
    return bits_at(design, bit_keys(layer))


def hardware_space(
    pe_types: Sequence[str] = PE_TYPES,
    rows: Sequence[int] = (4, 64),
    cols: Sequence[int] = (4, 64),
    glb_kb: Sequence[int] = (16, 1024),
    pe_buf_bytes: Sequence[int] = (16, 256),
    dram_gbps: Sequence[float] = (6.4, 12.8, 25.6, 51.2),
    clock_mhz: Sequence[float] = (200, 400, 600, 800, 1000),
    max_pes: int | None = None,
) -> Space:
    """Accelerator parameters: PE type, array shape, buffers per level, DRAM, clock.

    Args:
        pe_types: PE families among :data:`PE_TYPES` (``bit_parallel``, ``bit_serial``,
            ``bit_serial_act``, ``lut``, ``bit_serial_both``, ``serial`` (BitMoD-like),
            ``essential`` / ``essential_csd`` (zero-bit skipping), ``bit_fusion``).
        rows: (low, high) powers of two of the PE array's rows.
        cols: (low, high) powers of two of the PE array's columns.
        glb_kb: (low, high) powers of two of the global buffer in KiB.
        pe_buf_bytes: (low, high) powers of two of each PE's local register file in bytes.
        dram_gbps: DRAM bandwidth choices in GB/s.
        clock_mhz: clock choices in MHz.
        max_pes: optional constraint ``array_rows * array_cols <= max_pes``.
    """
    bad = [p for p in pe_types if p not in PE_TYPES]
    if bad or not pe_types:
        raise SpaceError(f"pe_types must be a non-empty subset of {PE_TYPES}, but got {list(pe_types)}")
    for label, pair in (("rows", rows), ("cols", cols), ("glb_kb", glb_kb), ("pe_buf_bytes", pe_buf_bytes)):
        if isinstance(pair, (str, bytes)) or not hasattr(pair, "__len__") or len(pair) != 2:
            raise SpaceError(f"{label} must be a (low, high) pair of powers of two, but got {pair!r}")
    if max_pes is not None and (isinstance(max_pes, bool) or not isinstance(max_pes, int) or max_pes < 1):
        raise SpaceError(f"max_pes must be an integer >= 1, but got {max_pes!r}")
    params: list[Param] = [
        Categorical("pe_type", "hw", tuple(pe_types)),
        PowerOfTwo("array_rows", "hw", *rows),
        PowerOfTwo("array_cols", "hw", *cols),
        PowerOfTwo("glb_kb", "hw", *glb_kb),
        PowerOfTwo("pe_buf_bytes", "hw", *pe_buf_bytes),
        Ordinal("dram_gbps", "hw", tuple(dram_gbps)),
        Ordinal("clock_mhz", "hw", tuple(clock_mhz)),
    ]
    cons = [Constraint("max_pes", f"array_rows * array_cols <= {int(max_pes)}")] if max_pes is not None else []
    return Space(params, cons, name="hw")


def divisors(n: int, max_choices: int = 8) -> tuple[int, ...]:
    """Divisors of ``n``; if there are more than ``max_choices``, a log-spaced subset that keeps
    1 and ``n``."""
    divs = [d for d in range(1, int(n**0.5) + 1) if n % d == 0]
    divs = sorted(set(divs + [n // d for d in divs]))
    if len(divs) <= max_choices:
        return tuple(divs)
    import math

    picks = {divs[0], divs[-1]}
    for i in range(1, max_choices - 1):
        target = math.exp(math.log(n) * i / (max_choices - 1))
        picks.add(min(divs, key=lambda d: abs(math.log(d) - math.log(target))))
    return tuple(sorted(picks))


def mapping_space(workload: Workload, layers: Sequence[str] | None = None, max_tile_choices: int = 6) -> Space:
    """Per-layer dataflow and GEMM tile factors (each tile divides its dimension)."""
    chosen = [workload[n] for n in layers] if layers is not None else list(workload.layers)
    params: list[Param] = []
    for layer in chosen:
        m, n, k = layer.gemm_shape
        params.append(Categorical(f"map.{layer.name}.dataflow", "mapping", DATAFLOWS))
        for dim, size in (("m", m), ("n", n), ("k", k)):
            params.append(Ordinal(f"map.{layer.name}.tile_{dim}", "mapping", divisors(size, max_tile_choices)))
    return Space(params, name=f"mapping[{workload.name}]")


def _bits_expr(names: set[str], keys: Sequence[str], kind: str, default: int) -> str:
    for key in keys:
        if f"{kind}.{key}" in names:
            return f'p("{kind}.{key}")'
    return str(int(default))


def flat_capacity_constraints(workload: Workload, param_names: Sequence[str], psum_bits: int = 32,
                              layers: Sequence[str] | None = None,
                              default_bits: tuple[int, int] = (8, 8)) -> list[Constraint]:
    """Buffer-capacity constraints of the flat ``map.<layer>.*`` mappings (two per mapped layer).

    They restate, as space constraints, what the cost model's flat mapping puts in each buffer
    of the ``hardware_space`` accelerator (:func:`codesign.evaluators.cost.evaluator.flat_mapping`
    on :func:`codesign.evaluators.cost.arch.from_hw`; words are bytes), so that sampling and
    agents can keep designs feasible (a test checks that the two agree). With tiles
    ``tm, tn, tk``, weight / activation bits ``w, a`` (``default_bits`` where the space has none,
    and for attention matmuls) and partial sums of ``psum_bits``:

    - ``cap_glb:<layer>``: ``tm·tk·a + tk·tn·w + tm·tn·psum ≤ glb_kb · 8192`` bits (the global
      buffer holds the whole tile of all three operands);
    - ``cap_pe:<layer>``: per PE, the stationary dim's tile (ws: ``M``, os: ``K``, is: ``N``) of
      every operand it indexes: ws ``w + tm·(a + psum)``, os ``tk·(w + a) + psum``, is
      ``tn·(w + psum) + a`` ``≤ pe_buf_bytes · 8`` bits.
    """
    names = set(param_names)
    chosen = [workload[n] for n in layers] if layers is not None else list(workload.layers)
    out: list[Constraint] = []
    for layer in chosen:
        keys = () if layer.op == "attn" else bit_keys(layer)
        w = _bits_expr(names, keys, "w_bits", default_bits[0])
        a = _bits_expr(names, keys, "a_bits", default_bits[1])
        t = {d: f'p("map.{layer.name}.tile_{d}")' for d in "mnk"}
        df = f'p("map.{layer.name}.dataflow")'
        ps = int(psum_bits)
        out.append(Constraint(f"cap_glb:{layer.name}",
                              f"{t['m']} * {t['k']} * {a} + {t['k']} * {t['n']} * {w} + {t['m']} * {t['n']} * {ps}"
                              f" <= glb_kb * 8192"))
        pe = (f"({w} + {t['m']} * ({a} + {ps})) if {df} == 'ws' else "
              f"(({t['k']} * ({w} + {a}) + {ps}) if {df} == 'os' else ({t['n']} * ({w} + {ps}) + {a}))")
        out.append(Constraint(f"cap_pe:{layer.name}", f"({pe}) <= pe_buf_bytes * 8"))
    return out


def layer_mapping(design: Mapping[str, Any], layer: Layer) -> dict[str, Any] | None:
    """``{"dataflow", "tile_m", "tile_n", "tile_k"}`` for ``layer`` if the design maps it."""
    prefix = f"map.{layer.name}."
    if prefix + "dataflow" not in design:
        return None
    return {
        "dataflow": design[prefix + "dataflow"],
        "tile_m": int(design[prefix + "tile_m"]),
        "tile_n": int(design[prefix + "tile_n"]),
        "tile_k": int(design[prefix + "tile_k"]),
    }


def joint_space(
    workload: Workload,
    *,
    quant: Mapping[str, Any] | None = None,
    hw: Mapping[str, Any] | None = None,
    mapping: Mapping[str, Any] | bool | None = None,
    name: str | None = None,
) -> Space:
    """Quant × hardware (× mapping) space of a workload; each part takes its builder's kwargs."""
    parts = [quant_space(workload, **dict(quant or {})), hardware_space(**dict(hw or {}))]
    if mapping:
        parts.append(mapping_space(workload, **(dict(mapping) if isinstance(mapping, Mapping) else {})))
    return compose(*parts, name=name or f"joint[{workload.name}]")
