"""Memory ports: which port carries each operand's traffic at a level, its bandwidth and energy.

A level's traffic is four *streams* per operand: ``read`` (out to the level below, or the
compute units), ``fill`` (in from the level above), ``update`` (partial sums in from below)
and ``drain`` (partial sums out to the level above). Without ``ports`` a level has the legacy
three: a read port (``read_bw``) carries every ``read``, a write port (``write_bw``) every
``fill`` and ``update``, and ``shared_bw`` bounds all of them together; drains are neither
charged nor bandwidth-limited (Timeloop's convention). With ``ports`` each stream is carried
by exactly one port::

    ports:
      - {name: r1, kind: read, bw: 2, serves: [O.read]}
      - {name: r2, kind: read, bw: 2, serves: [O.drain]}
      - {name: w1, kind: write, bw: 2, serves: [O.fill, O.update]}
      - {name: rw, kind: read_write, bw: 8, block_words: 8, serves: ["*.read", "*.fill"],
         energy_pj: {read: 700, write: 750}}

``kind`` limits the directions (``read``: read/drain, ``write``: fill/update,
``read_write``: all); ``bw`` is in words per cycle per instance (absent = unlimited);
``block_words`` (words per access) and ``energy_pj`` (per block: ``read`` for reads and
drains, ``write`` for fills, ``update`` for updates, default ``write``) default to the
level's. ``*.dir`` serves every operand the level keeps. A memory that our levels split by
operand (``memory: sram`` on each part, as :mod:`codesign.evaluators.cost.from_zigzag`
writes) has one set of ports: a port named the same on its parts is one port (same kind,
bandwidth, block and energies), whose bandwidth carries the streams of all parts.

**Stall rule** (the default, Timeloop-style latency model of
:mod:`codesign.evaluators.cost.model`): per instance, a port's demand is the words of every
stream it carries divided by the compute cycles; it slows the computation by ``min(1,
bw / demand)``, and the slowest port sets the pace, ``cycles = compute / min over ports``.
Ports are independent: two ports of one memory run in parallel; one ``read_write`` port
serves its reads and writes through the same bandwidth. ZigZag's latency semantics (stalls
per transfer period on each port) are a separate model, :mod:`codesign.evaluators.cost.zigzag_latency`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from codesign.errors import ConfigError

OPERAND_NAMES = ("W", "I", "O")
DIRECTIONS = ("read", "fill", "update", "drain")
KINDS = {"read": ("read", "drain"), "write": ("fill", "update"), "read_write": DIRECTIONS}
_PORT_KEYS = {"name", "kind", "bw", "serves", "block_words", "energy_pj"}


@dataclass(frozen=True)
class Port:
    """One port of a memory (see the module docstring)."""

    name: str
    kind: str = "read_write"
    bw: float | None = None
    serves: tuple[tuple[str, str], ...] = ()
    block_words: int | None = None
    read_pj: float | None = None
    write_pj: float | None = None
    update_pj: float | None = None

    def __post_init__(self) -> None:
        n = f"port `{self.name}`"
        if self.kind not in KINDS:
            raise ConfigError(f"{n} kind must be one of {sorted(KINDS)}, but got {self.kind!r}")
        if self.bw is not None and (isinstance(self.bw, bool) or not isinstance(self.bw, (int, float)) or self.bw <= 0):
            raise ConfigError(f"{n} bw must be > 0 words per cycle (or absent: unlimited), but got {self.bw!r}")
        if self.block_words is not None and (not isinstance(self.block_words, int) or self.block_words < 1):
            raise ConfigError(f"{n} block_words must be an integer >= 1, but got {self.block_words!r}")
        for op, d in self.serves:
            if d not in KINDS[self.kind]:
                raise ConfigError(f"{n} ({self.kind}) may serve the directions {list(KINDS[self.kind])}, "
                                  f"but serves {op}.{d}")
        for attr in ("read_pj", "write_pj", "update_pj"):
            v = getattr(self, attr)
            if v is not None and v < 0:
                raise ConfigError(f"{n} {attr} must be >= 0, but got {v!r}")


def port_from_dict(data: Any, level: str, keeps: Sequence[str]) -> Port:
    """A :class:`Port` from its dict form; ``*.dir`` expands to every operand the level keeps."""
    if not isinstance(data, Mapping) or "name" not in data:
        raise ConfigError(f"level `{level}`: a port must be a mapping with a 'name', but got {data!r}")
    unknown = sorted(set(data) - _PORT_KEYS)
    if unknown:
        raise ConfigError(f"level `{level}` port `{data['name']}` keys must be among {sorted(_PORT_KEYS)}, "
                          f"but got unknown {unknown}")
    serves = data.get("serves") or []
    if isinstance(serves, str) or not isinstance(serves, Sequence):
        raise ConfigError(f"level `{level}` port `{data['name']}` serves must be a list like [W.read, O.update], "
                          f"but got {serves!r}")
    streams: list[tuple[str, str]] = []
    for s in serves:
        op, _, d = str(s).partition(".")
        if d not in DIRECTIONS or (op != "*" and op not in OPERAND_NAMES):
            raise ConfigError(f"level `{level}` port `{data['name']}` serves entries must be OPERAND.DIRECTION with "
                              f"operand in {list(OPERAND_NAMES)} or *, direction in {list(DIRECTIONS)}, but got {s!r}")
        streams.extend((o, d) for o in (keeps if op == "*" else [op]))
    e = dict(data.get("energy_pj") or {})
    bad = sorted(set(e) - {"read", "write", "update"})
    if bad:
        raise ConfigError(f"level `{level}` port `{data['name']}` energy_pj keys must be among read, write, update, "
                          f"but got {bad}")
    get = lambda k: None if e.get(k) is None else float(e[k])  # noqa: E731
    return Port(str(data["name"]), str(data.get("kind", "read_write")), data.get("bw"), tuple(streams),
                data.get("block_words"), get("read"), get("write"), get("update"))


def port_to_dict(port: Port) -> dict[str, Any]:
    out: dict[str, Any] = {"name": port.name, "kind": port.kind, "serves": [f"{o}.{d}" for o, d in port.serves]}
    if port.bw is not None:
        out["bw"] = port.bw
    if port.block_words is not None:
        out["block_words"] = port.block_words
    e = {k: v for k, v in (("read", port.read_pj), ("write", port.write_pj), ("update", port.update_pj)) if v is not None}
    if e:
        out["energy_pj"] = e
    return out


def check_level_ports(name: str, keeps: Sequence[str], ports: Sequence[Port], legacy_bw: Sequence[Any]) -> None:
    """A level's ports serve only operands it keeps, each stream at most once, and replace the
    legacy ``read_bw``/``write_bw``/``shared_bw``."""
    if not ports:
        return
    if any(bw is not None for bw in legacy_bw):
        raise ConfigError(f"level `{name}`: give bandwidths either on its ports or as read_bw/write_bw/shared_bw, "
                          f"not both")
    seen: dict[tuple[str, str], str] = {}
    names = [p.name for p in ports]
    if len(set(names)) != len(names):
        raise ConfigError(f"level `{name}`: port names must be unique, but got {names}")
    for p in ports:
        for op, d in p.serves:
            if op not in keeps:
                raise ConfigError(f"level `{name}` port `{p.name}` serves {op}.{d}, but the level keeps only {list(keeps)}")
            if (op, d) in seen:
                raise ConfigError(f"level `{name}`: stream {op}.{d} must be served by one port, but `{seen[(op, d)]}` "
                                  f"and `{p.name}` both serve it")
            seen[(op, d)] = p.name


def needed_streams(levels: Sequence[Any]) -> list[tuple[int, str, str]]:
    """Streams that carry traffic: every kept operand is read by the level below; below the
    top it is filled from above; outputs are updated from below and, below the top, drained."""
    out = []
    for li, lv in enumerate(levels):
        for op in lv.keeps:
            dirs = ["read"] + (["fill"] if li > 0 else []) + (["update"] + (["drain"] if li > 0 else []) if op == "O" else [])
            out.extend((li, op, d) for d in dirs)
    return out


def check_arch_ports(levels: Sequence[Any]) -> None:
    """Every stream with traffic at a level with ports is served; ports named the same on the
    levels of one memory agree."""
    for li, op, d in needed_streams(levels):
        lv = levels[li]
        if lv.ports and not any((op, d) in p.serves for p in lv.ports):
            raise ConfigError(f"level `{lv.name}`: stream {op}.{d} carries traffic, so one of its ports must serve it "
                              f"(ports: {[p.name for p in lv.ports]})")
    shared: dict[tuple[str, str], Port] = {}
    for lv in levels:
        for p in lv.ports:
            key = (lv.memory or lv.name, p.name)
            q = shared.setdefault(key, p)
            if (q.kind, q.bw, q.block_words, q.read_pj, q.write_pj, q.update_pj) != (
                    p.kind, p.bw, p.block_words, p.read_pj, p.write_pj, p.update_pj):
                raise ConfigError(f"memory `{key[0]}`: port `{p.name}` is one port on all its levels, so its kind, bw, "
                                  f"block_words and energies must agree")


@dataclass(frozen=True)
class PortTable:
    """The ports of an architecture as kernel arrays (see :mod:`codesign.evaluators.cost.kernel`):
    ``names`` (memory, port) per port, ``eport (L, 3, 4)``, ``block (P,)``, the bandwidth streams
    ``bw_level/bw_op/bw_dir/bw_port``, and per port the level attributes its bandwidth and
    energies come from (``sources``)."""

    names: tuple[tuple[str, str], ...]
    eport: np.ndarray
    block: np.ndarray
    bw_level: np.ndarray
    bw_op: np.ndarray
    bw_dir: np.ndarray
    bw_port: np.ndarray
    sources: tuple[tuple[int, str], ...]  # (level index, "read"|"write"|"shared"|port name)

    def values(self, arch: Any) -> tuple[np.ndarray, np.ndarray]:
        """``bw (P,)`` (inf = unlimited) and ``pj (P, 3)`` (read/drain, fill, update per block) of one
        architecture of this structure."""
        bw = np.full(len(self.names), np.inf)
        pj = np.zeros((len(self.names), 3))
        for k, (li, src) in enumerate(self.sources):
            lv = arch.levels[li]
            if src in ("read", "write", "shared"):
                v = getattr(lv, f"{src}_bw")
                port = None
            else:
                port = next(p for p in lv.ports if p.name == src)
                v = port.bw
            bw[k] = np.inf if v is None else float(v)
            pj[k] = (lv.read_pj, lv.write_pj, lv.update_pj)
            if port is not None:
                up = port.update_pj if port.update_pj is not None else port.write_pj
                pj[k] = [x if x is not None else y for x, y in zip((port.read_pj, port.write_pj, up), pj[k])]
        return bw, pj


def port_table(levels: Sequence[Any]) -> PortTable:
    """Build the :class:`PortTable` of a list of levels (legacy three ports where none are given)."""
    names: list[tuple[str, str]] = []
    sources: list[tuple[int, str]] = []
    block: list[float] = []
    index: dict[tuple[str, str], int] = {}
    eport = -np.ones((len(levels), 3, 4), dtype=np.int64)
    streams: list[tuple[int, int, int, int]] = []  # (port, level, op, dir)

    def add(key: tuple[str, str], li: int, src: str, blk: float) -> int:
        if key not in index:
            index[key] = len(names)
            names.append(key)
            sources.append((li, src))
            block.append(blk)
        return index[key]

    for li, lv in enumerate(levels):
        ops = [OPERAND_NAMES.index(o) for o in lv.keeps]
        if not lv.ports:
            r = add((lv.name, "read"), li, "read", float(lv.block_words))
            w = add((lv.name, "write"), li, "write", float(lv.block_words))
            s = add((lv.name, "shared"), li, "shared", float(lv.block_words))
            for k in ops:
                eport[li, k, 0], eport[li, k, 1], eport[li, k, 2] = r, w, w
                streams += [(r, li, k, 0), (w, li, k, 1), (w, li, k, 2), (s, li, k, 0), (s, li, k, 1), (s, li, k, 2)]
            continue
        for p in lv.ports:
            k_port = add((lv.memory or lv.name, p.name), li, p.name, float(p.block_words or lv.block_words))
            for op, d in p.serves:
                k, di = OPERAND_NAMES.index(op), DIRECTIONS.index(d)
                eport[li, k, di] = k_port
                streams.append((k_port, li, k, di))
    st = np.array(streams, dtype=np.int64).reshape(-1, 4)
    return PortTable(tuple(names), eport, np.array(block), st[:, 1].copy(), st[:, 2].copy(), st[:, 3].copy(),
                     st[:, 0].copy(), tuple(sources))
