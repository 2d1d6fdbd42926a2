"""Architecture description: ordered memory levels, a PE array (compute), a clock.

Levels are listed outermost first (DRAM ... global buffer ... PE-local). Each level has
``instances`` (spread over ``mesh_x`` columns; rows = instances / mesh_x), a size in words
(``None`` = unbounded), ``word_bits``, ``block_words`` (words per access; one action moves a
block), read / write / shared bandwidth in words per cycle per instance (``None`` =
unlimited), the operands it keeps (others bypass it) and energies per action (pJ per block:
``read``, ``write`` (fill), ``update`` (partial-sum write), ``leak_per_cycle`` per instance).
Accesses are counted in blocks over the level's total traffic per instance, or per transfer
(each tile load rounded up to whole blocks) with ``round_per_transfer: true``, as ZigZag
charges a port's minimum access width.
The spatial fanout from a level to the next (or to the compute units) is
``fanout_x = mesh_x(child)/mesh_x``, ``fanout_y = rows(child)/rows``.

**Array-dims form** (for memories shared along part of a multi-dimensional array, as in
ZigZag's edge_tpu_like): ``compute.array: {D1: 8, D2: 8, D3: 4, D4: 4}`` names the array dims
and each level lists the dims one of its instances is shared across (``served``, default all:
one instance for the whole array; ``[]``: one per PE), so ``instances = Π sizes of the dims it
does not serve``. Spatial loops then unroll onto array dims (``[dim, factor, D3]``) instead of
a level's x/y fanout, and each operand's levels must nest (a level serves no dim its parent
for that operand does not).

Ports: a level may list ``ports`` instead of ``read_bw``/``write_bw``/``shared_bw`` — each
port's kind, bandwidth, block, energies and the operand streams it carries (read, fill,
update, drain), see :mod:`codesign.evaluators.cost.ports` for the form and the stall rule;
levels that split one physical memory by operand name it (``memory``) and share its ports.
``latency: zigzag`` (top-level key; default ``timeloop``) selects ZigZag's latency semantics
(:mod:`codesign.evaluators.cost.zigzag_latency`), for which ``compute.systolic`` lists the
systolic array axes (``x``/``y``, or array dims). ``compute.final_outputs: true`` applies
ZigZag's output precision: where no reduction remains, outputs travel and are held at their
final precision rather than as partial sums.

The compute units (``compute``) take cycles and energy per MAC either explicitly or from an
``rtl_sim`` PE model (``pe_type`` + ``w_bits``/``a_bits``), see :func:`compute_from_pe`. With
``operand_registers: true`` a unit keeps its input operands in registers while consecutive MACs
reuse them (ZigZag's default), so the innermost level is read once per run of such MACs;
without, it is read every MAC (Timeloop's default).

YAML / dict form::

    name: small
    clock_mhz: 1000
    levels:
      - {name: dram, word_bits: 8, block_words: 8, keeps: [W, I, O], energy_pj: {read: 520, write: 520}}
      - {name: glb, size_kb: 64, word_bits: 8, block_words: 8, energy_pj: {read: 10, write: 8}}
    compute: {instances: 16, mesh_x: 4, pe_type: bit_parallel, w_bits: 8, a_bits: 8}
"""

from __future__ import annotations

import difflib
from math import prod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from codesign.errors import ConfigError
from codesign.evaluators.cost import tables
from codesign.evaluators.cost.ports import Port, check_arch_ports, check_level_ports, port_from_dict
from codesign.evaluators.cost.problem import OPERANDS

BYTES_PER_KB = 1024
_LEVEL_KEYS = {"name", "size_words", "size_kb", "word_bits", "block_words", "instances", "mesh_x", "keeps",
               "energy_pj", "read_bw", "write_bw", "shared_bw", "area_um2", "round_per_transfer", "served", "ports",
               "memory"}
_COMPUTE_KEYS = {"name", "instances", "mesh_x", "cycles_per_mac", "energy_pj_per_mac", "area_um2", "pe_type",
                 "w_bits", "a_bits", "operand_registers", "array", "systolic", "final_outputs"}
LATENCY_MODELS = ("timeloop", "zigzag")
_ACTIONS = ("read", "write", "update", "leak_per_cycle")


def _positive(value: Any, what: str, allow_none: bool = False) -> Any:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ConfigError(f"{what} must be > 0, but got {value!r}")
    return value


@dataclass(frozen=True)
class Level:
    """One storage level (see the module docstring for the fields)."""

    name: str
    size_words: float | None = None
    word_bits: int = 8
    block_words: int = 1
    instances: int = 1
    mesh_x: int | None = None
    keeps: tuple[str, ...] = OPERANDS
    read_pj: float = 0.0
    write_pj: float = 0.0
    update_pj: float | None = None
    leak_pj_per_cycle: float = 0.0
    read_bw: float | None = None
    write_bw: float | None = None
    shared_bw: float | None = None
    area_um2: float = 0.0
    round_per_transfer: bool = False
    served: tuple[str, ...] | None = None
    ports: tuple[Port, ...] = ()
    memory: str | None = None

    def __post_init__(self) -> None:
        n = f"`{self.name}`"
        if not isinstance(self.round_per_transfer, bool):
            raise ConfigError(f"{n} round_per_transfer must be true or false, but got {self.round_per_transfer!r}")
        _positive(self.size_words, f"{n} size_words", allow_none=True)
        for attr in ("word_bits", "block_words", "instances"):
            v = getattr(self, attr)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"{n} {attr} must be an integer >= 1, but got {v!r}")
        mesh = self.instances if self.mesh_x is None else self.mesh_x
        if isinstance(mesh, bool) or not isinstance(mesh, int) or mesh < 1 or self.instances % mesh:
            raise ConfigError(f"{n} mesh_x must be an integer dividing instances={self.instances}, but got {mesh!r}")
        object.__setattr__(self, "mesh_x", mesh)
        bad = [k for k in self.keeps if k not in OPERANDS]
        if bad:
            raise ConfigError(f"{n} keeps must be a subset of {list(OPERANDS)}, but got {list(self.keeps)}")
        object.__setattr__(self, "keeps", tuple(self.keeps))
        for attr in ("read_pj", "write_pj", "leak_pj_per_cycle", "area_um2"):
            if getattr(self, attr) < 0:
                raise ConfigError(f"{n} {attr} must be >= 0, but got {getattr(self, attr)!r}")
        if self.update_pj is None:
            object.__setattr__(self, "update_pj", self.write_pj)
        for attr in ("read_bw", "write_bw", "shared_bw"):
            _positive(getattr(self, attr), f"{n} {attr}", allow_none=True)
        object.__setattr__(self, "ports", tuple(self.ports))
        check_level_ports(self.name, self.keeps, self.ports, (self.read_bw, self.write_bw, self.shared_bw))

    @property
    def rows(self) -> int:
        return self.instances // int(self.mesh_x or 1)


@dataclass(frozen=True)
class Compute:
    """The MAC units: ``instances`` lanes (``mesh_x`` columns), cost per MAC, area per lane."""

    name: str = "mac"
    instances: int = 1
    mesh_x: int | None = None
    cycles_per_mac: float = 1.0
    energy_pj_per_mac: float = 0.0
    area_um2: float = 0.0
    pe_type: str | None = None
    operand_registers: bool = False
    array: tuple[tuple[str, int], ...] | None = None
    systolic: tuple[str, ...] = ()
    final_outputs: bool = False

    def __post_init__(self) -> None:
        for flag in ("operand_registers", "final_outputs"):
            if not isinstance(getattr(self, flag), bool):
                raise ConfigError(f"compute {flag} must be true or false, but got {getattr(self, flag)!r}")
        if isinstance(self.instances, bool) or not isinstance(self.instances, int) or self.instances < 1:
            raise ConfigError(f"compute instances must be an integer >= 1, but got {self.instances!r}")
        mesh = self.instances if self.mesh_x is None else self.mesh_x
        if not isinstance(mesh, int) or mesh < 1 or self.instances % mesh:
            raise ConfigError(f"compute mesh_x must divide instances={self.instances}, but got {mesh!r}")
        object.__setattr__(self, "mesh_x", mesh)
        _positive(self.cycles_per_mac, "compute cycles_per_mac")
        if self.energy_pj_per_mac < 0:
            raise ConfigError(f"compute energy_pj_per_mac must be >= 0, but got {self.energy_pj_per_mac!r}")

    @property
    def rows(self) -> int:
        return self.instances // int(self.mesh_x or 1)


@dataclass(frozen=True)
class Architecture:
    """Ordered storage levels (outermost first), compute units and the clock."""

    name: str
    levels: tuple[Level, ...]
    compute: Compute
    clock_mhz: float = 1000.0
    node: str = "45nm"
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False)
    latency: str = "timeloop"

    def __post_init__(self) -> None:
        if not self.levels:
            raise ConfigError(f"architecture {self.name!r} must have at least one storage level")
        if self.latency not in LATENCY_MODELS:
            raise ConfigError(f"architecture {self.name!r} latency must be one of {LATENCY_MODELS}, but got "
                              f"{self.latency!r}")
        axes = [d for d, _ in self.compute.array] if self.compute.array is not None else ["x", "y"]
        if not set(self.compute.systolic) <= set(axes):
            raise ConfigError(f"architecture {self.name!r}: compute systolic axes must be among {axes}, but got "
                              f"{list(self.compute.systolic)}")
        check_arch_ports(self.levels)
        _positive(self.clock_mhz, f"architecture {self.name!r} clock_mhz")
        names = [lv.name for lv in self.levels]
        if len(set(names)) != len(names):
            raise ConfigError(f"architecture {self.name!r}: level names must be unique, but got {names}")
        missing = [op for op in OPERANDS if op not in self.levels[0].keeps]
        if missing:
            raise ConfigError(f"architecture {self.name!r}: the outermost level `{names[0]}` must keep every "
                              f"operand, but it bypasses {missing}")
        if self.compute.array is not None:
            self._check_array()
            return
        if any(lv.served is not None for lv in self.levels):
            raise ConfigError(f"architecture {self.name!r}: levels may list `served` array dims only when compute "
                              f"declares its `array` dims")
        units = [*self.levels, self.compute]
        for a, b in zip(units, units[1:]):
            if b.instances % a.instances or (b.mesh_x or 1) % (a.mesh_x or 1) or b.rows % a.rows:
                raise ConfigError(f"architecture {self.name!r}: `{b.name}` instances ({b.rows}x{b.mesh_x}) must be a "
                                  f"multiple of `{a.name}` instances ({a.rows}x{a.mesh_x})")

    def _check_array(self) -> None:
        """Array-dims form: instances follow from the served dims; each operand's levels nest."""
        sizes = dict(self.compute.array or ())
        if self.compute.instances != prod(sizes.values()):
            raise ConfigError(f"architecture {self.name!r}: compute instances must be the array size "
                              f"{prod(sizes.values())}, but got {self.compute.instances}")
        for lv in self.levels:
            served = set(lv.served if lv.served is not None else sizes)
            if not served <= set(sizes):
                raise ConfigError(f"architecture {self.name!r}: `{lv.name}` served dims must be among {list(sizes)}, "
                                  f"but got {sorted(served - set(sizes))}")
            want = prod(v for d, v in sizes.items() if d not in served)
            if lv.instances != want:
                raise ConfigError(f"architecture {self.name!r}: `{lv.name}` instances must be {want} (one per "
                                  f"combination of the dims it does not serve), but got {lv.instances}")
        for op in OPERANDS:
            chain = [lv for lv in self.levels if op in lv.keeps]
            for outer, inner in zip(chain, chain[1:]):
                if not set(self.served(inner)) <= set(self.served(outer)):
                    raise ConfigError(f"architecture {self.name!r}: `{inner.name}` serves {list(self.served(inner))}, "
                                      f"more than `{outer.name}` above it for operand {op} ({list(self.served(outer))})")

    @property
    def array_dims(self) -> tuple[tuple[str, int], ...] | None:
        """``((dim, size), ...)`` in array-dims form, else ``None`` (levels fan out along x/y)."""
        return self.compute.array

    def served(self, level: Level) -> tuple[str, ...]:
        """The array dims a level's instance is shared across (array-dims form)."""
        dims = tuple(d for d, _ in self.compute.array or ())
        return dims if level.served is None else tuple(level.served)

    def served_mask(self) -> Any:
        """``(L + 1, A)`` booleans: level ``l`` serves array dim ``a``; the last row (compute) serves none."""
        import numpy as np

        dims = [d for d, _ in self.compute.array or ()]
        rows = [[d in self.served(lv) for d in dims] for lv in self.levels] + [[False] * len(dims)]
        return np.array(rows, dtype=bool).reshape(len(self.levels) + 1, len(dims))

    def fanout(self, i: int) -> tuple[int, int]:
        """``(x, y)`` spatial fanout from level ``i`` to the next level or the compute units (in
        array-dims form the spatial loops go to array dims instead: ``(1, 1)`` everywhere)."""
        if self.compute.array is not None:
            return 1, 1
        a = self.levels[i]
        b = self.levels[i + 1] if i + 1 < len(self.levels) else self.compute
        return int(b.mesh_x or 1) // int(a.mesh_x or 1), b.rows // a.rows

    def level_index(self, name: str) -> int:
        names = [lv.name for lv in self.levels]
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"architecture {self.name!r} has no level {name!r} (levels: {names}){hint}")
        return names.index(name)

    def area_um2(self) -> dict[str, float]:
        """Area per level (``instances × area_um2``) and of the compute units."""
        out = {lv.name: lv.instances * lv.area_um2 for lv in self.levels}
        out[self.compute.name] = self.compute.instances * self.compute.area_um2
        return out


def compute_from_pe(pe_type: str, w_bits: int, a_bits: int, instances: int, mesh_x: int | None = None,
                    node: str = "45nm", cycles_per_mac: float | None = None) -> Compute:
    """Compute units from an ``rtl_sim`` PE model: cycles/energy per MAC at ``(w_bits, a_bits)``, lane area.

    PE energy scales by the node's MAC factor and area by the node's area factor
    (:func:`codesign.evaluators.cost.tables.node_scales`). ``cycles_per_mac`` replaces the
    model's closed form (measured cycles, e.g. of a data-dependent PE on real weights); a
    data-dependent model's energy per MAC, proportional to its cycles, scales with it.
    """
    from codesign.rtl_sim.characterize import check_bits, get_pe

    check_bits(w_bits, a_bits)
    pe = get_pe(pe_type)
    sc = tables.node_scales(node)
    closed = float(pe.cycles_per_mac(w_bits, a_bits))
    energy = float(pe.energy_pj_per_mac(w_bits, a_bits))
    if cycles_per_mac is not None:
        energy *= float(cycles_per_mac) / closed if pe.data_dependent else 1.0
        closed = float(cycles_per_mac)
    return Compute(pe_type, instances, mesh_x, closed, energy * sc["mac"], float(pe.area_um2()) * sc["area"], pe_type)


def level_from_dict(data: Mapping[str, Any], array: Mapping[str, int] | None = None) -> Level:
    if not isinstance(data, Mapping) or "name" not in data:
        raise ConfigError(f"a level must be a mapping with a 'name', but got {data!r}")
    unknown = sorted(set(data) - _LEVEL_KEYS)
    if unknown:
        raise ConfigError(f"level `{data['name']}` keys must be among {sorted(_LEVEL_KEYS)}, but got unknown {unknown}")
    e = dict(data.get("energy_pj") or {})
    bad = sorted(set(e) - set(_ACTIONS))
    if bad:
        raise ConfigError(f"level `{data['name']}` energy_pj actions must be among {list(_ACTIONS)}, but got {bad}")
    served = data.get("served")
    if served is not None and (isinstance(served, str) or not isinstance(served, Sequence)):
        raise ConfigError(f"level `{data['name']}` served must be a list of array dims, but got {served!r}")
    instances = int(data.get("instances", 1))
    if array is not None and "instances" not in data:  # one instance per combination of the dims not served
        shared = set(array) if served is None else set(served)
        instances = prod(v for d, v in array.items() if d not in shared)
    size = data.get("size_words")
    if "size_kb" in data:
        kb = _positive(data["size_kb"], f"`{data['name']}` size_kb")
        size = kb * BYTES_PER_KB * 8 / int(data.get("word_bits", 8))
    keeps = tuple(data.get("keeps", OPERANDS))
    ports = data.get("ports") or []
    if isinstance(ports, (str, Mapping)) or not isinstance(ports, Sequence):
        raise ConfigError(f"level `{data['name']}` ports must be a list of ports, but got {ports!r}")
    memory = data.get("memory")
    return Level(
        str(data["name"]), size, int(data.get("word_bits", 8)), int(data.get("block_words", 1)),
        instances, data.get("mesh_x"), keeps,
        float(e.get("read", 0.0)), float(e.get("write", 0.0)), e.get("update"), float(e.get("leak_per_cycle", 0.0)),
        data.get("read_bw"), data.get("write_bw"), data.get("shared_bw"), float(data.get("area_um2", 0.0)),
        data.get("round_per_transfer", False), None if served is None else tuple(str(d) for d in served),
        tuple(port_from_dict(p, str(data["name"]), keeps) for p in ports), None if memory is None else str(memory),
    )


def from_dict(data: Mapping[str, Any]) -> Architecture:
    """Build and validate an :class:`Architecture` from its dict / YAML form."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"an architecture must be a mapping, but got {type(data).__name__}")
    unknown = sorted(set(data) - {"name", "clock_mhz", "node", "levels", "compute", "source", "latency"})
    if unknown:
        raise ConfigError(f"architecture keys must be among name, clock_mhz, node, levels, compute, latency; got "
                          f"unknown {unknown}")
    levels = data.get("levels")
    if not isinstance(levels, Sequence) or not levels:
        raise ConfigError("architecture `levels` must be a non-empty list")
    c = dict(data.get("compute") or {})
    bad = sorted(set(c) - _COMPUTE_KEYS)
    if bad:
        raise ConfigError(f"compute keys must be among {sorted(_COMPUTE_KEYS)}, but got unknown {bad}")
    node = str(data.get("node", "45nm"))
    tables.check_node(node)
    array = c.pop("array", None)
    if array is not None:
        if not isinstance(array, Mapping) or not array or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in array.values()):
            raise ConfigError(f"compute array must map array dims to sizes >= 1, e.g. {{D1: 32, D2: 32}}, "
                              f"but got {array!r}")
        array = {str(k): int(v) for k, v in array.items()}
        c.setdefault("instances", prod(array.values()))
    if "pe_type" in c:
        comp = compute_from_pe(c["pe_type"], int(c.get("w_bits", 8)), int(c.get("a_bits", 8)),
                               int(c.get("instances", 1)), c.get("mesh_x"), node)
        over = {k: float(c[k]) for k in ("cycles_per_mac", "energy_pj_per_mac", "area_um2") if k in c}
        comp = replace(comp, **over, operand_registers=c.get("operand_registers", False))
    else:
        comp = Compute(str(c.get("name", "mac")), int(c.get("instances", 1)), c.get("mesh_x"),
                       float(c.get("cycles_per_mac", 1.0)), float(c.get("energy_pj_per_mac", 0.0)),
                       float(c.get("area_um2", 0.0)), None, c.get("operand_registers", False))
    if array is not None:
        comp = replace(comp, array=tuple(array.items()))
    systolic = c.get("systolic") or []
    if isinstance(systolic, str) or not isinstance(systolic, Sequence):
        raise ConfigError(f"compute systolic must be a list of array axes, but got {systolic!r}")
    comp = replace(comp, systolic=tuple(str(a) for a in systolic), final_outputs=c.get("final_outputs", False))
    return Architecture(str(data.get("name", "arch")), tuple(level_from_dict(lv, array) for lv in levels), comp,
                        float(data.get("clock_mhz", 1000.0)), node, latency=str(data.get("latency", "timeloop")))


def load_yaml(path: str | Path) -> Architecture:
    """Load an architecture from a YAML file (the whole file, or its ``arch`` section)."""
    import yaml

    data = yaml.load(Path(path).read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml if built
    return from_dict(data.get("arch", data) if isinstance(data, Mapping) else data)


def from_hw(hw: Mapping[str, Any], w_bits: int = 8, a_bits: int = 8, node: str = "45nm",
            dram_bound: str = "low", pe_cycles_per_mac: float | None = None) -> Architecture:
    """The 3-level accelerator of a ``hardware_space`` design (same param names as roofline).

    ``dram`` (unbounded, 64-bit accesses, shared bandwidth ``dram_gbps·1e3/clock_mhz`` bytes per
    cycle) → ``glb`` (``glb_kb``, 64-bit accesses, Horowitz size law) → ``pe_buf`` (one per PE,
    ``pe_buf_bytes``, Eyeriss RF energy per bit) → ``array_rows × array_cols`` PEs of
    ``pe_type`` (rtl_sim; ``pe_cycles_per_mac`` replaces its closed-form cycles, see
    :func:`compute_from_pe`). Words are bytes. SRAM area from :func:`tables.sram_area_um2_per_kb`.
    """
    sc = tables.node_scales(node)
    rows, cols = int(hw["array_rows"]), int(hw["array_cols"])
    glb_kb = float(hw["glb_kb"])
    buf_b = float(hw["pe_buf_bytes"])
    dram_b_per_cycle = float(hw["dram_gbps"]) * 1e3 / float(hw["clock_mhz"])
    dram_pj_b = tables.dram_pj_per_byte_node(node, dram_bound)
    rd = float(tables.sram_read_pj_per_byte(glb_kb)) * sc["sram_read"]
    wr = float(tables.sram_write_pj_per_byte(glb_kb)) * sc["sram_write"]
    rf = tables.rf_pj_per_bit() * 8 * sc["mac"]
    kb_area = tables.sram_area_um2_per_kb() * sc["area"]
    levels = (
        Level("dram", None, 8, 8, 1, None, OPERANDS, 8 * dram_pj_b, 8 * dram_pj_b, None, 0.0,
              None, None, dram_b_per_cycle),
        Level("glb", glb_kb * BYTES_PER_KB, 8, 8, 1, None, OPERANDS, 8 * rd, 8 * wr, None, 0.0,
              area_um2=glb_kb * kb_area),
        Level("pe_buf", buf_b, 8, 1, rows * cols, cols, OPERANDS, rf, rf, None, 0.0,
              area_um2=buf_b / BYTES_PER_KB * kb_area),
    )
    comp = compute_from_pe(str(hw["pe_type"]), w_bits, a_bits, rows * cols, cols, node, pe_cycles_per_mac)
    return Architecture(f"hw-{hw['pe_type']}-{rows}x{cols}", levels, comp, float(hw["clock_mhz"]), node)
