"""Mappings: per storage level, ordered temporal loops and spatial loops.

A :class:`Mapping` lists, for each level (outermost first), its temporal loops
``(dim, factor)`` ordered outer → inner, and its spatial loops ``(dim, factor, axis)`` with
``axis`` in ``x``/``y``, which spread the level's tile over the next level's instances (or the
compute units below the last level). For an architecture in array-dims form the axis names an
array dim (``[K, 8, D1]``); such loops may be listed under any level. The tile a level holds is the footprint of its own
loops and every loop below it. Checks (:func:`check_arrays`; tiles that fit: :func:`codesign.evaluators.cost.model.check_mapping`): the factors of every dim multiply to
the dim, spatial factors per axis fit the fanout, tiles fit their buffers.

YAML / dict form (a list, one entry per level; levels left out have no loops)::

    - {level: dram, temporal: [[M, 4], [K, 2]]}
    - {level: glb, temporal: [[N, 8]], spatial: [[K, 16, y], [N, 16, x]]}

Batches of mappings become arrays (:func:`to_arrays`): temporal factors ``T[n, L, D]``,
spatial factors ``SX, SY[n, L, D]`` and the loop rank ``rank[n, L, D]`` (0 = outermost).
"""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from codesign.errors import ConfigError
from codesign.evaluators.cost.arch import Architecture
from codesign.evaluators.cost.problem import LoopProblem


@dataclass(frozen=True)
class LevelLoops:
    """Loops of one level: temporal ``(dim, factor)`` outer → inner, spatial ``(dim, factor, axis)``."""

    level: str
    temporal: tuple[tuple[str, int], ...] = ()
    spatial: tuple[tuple[str, int, str], ...] = ()


@dataclass(frozen=True)
class Mapping:
    levels: tuple[LevelLoops, ...]
    meta: MappingABC[str, Any] = field(default_factory=dict, compare=False)

    def loops(self, level: str) -> LevelLoops:
        for lv in self.levels:
            if lv.level == level:
                return lv
        return LevelLoops(level)

    def to_list(self) -> list[dict[str, Any]]:
        return [{"level": lv.level, "temporal": [list(t) for t in lv.temporal],
                 "spatial": [list(s) for s in lv.spatial]} for lv in self.levels]


def _int_factor(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{where} factor must be an integer >= 1, but got {value!r}")
    return int(value)


def from_list(data: Sequence[Any]) -> Mapping:
    """Parse the list form (see the module docstring)."""
    if not isinstance(data, Sequence) or isinstance(data, (str, bytes)):
        raise ConfigError(f"a mapping must be a list of levels, but got {type(data).__name__}")
    levels = []
    for entry in data:
        if not isinstance(entry, MappingABC) or "level" not in entry:
            raise ConfigError(f"each mapping entry must be a mapping with 'level', but got {entry!r}")
        unknown = sorted(set(entry) - {"level", "temporal", "spatial"})
        if unknown:
            raise ConfigError(f"mapping entry for `{entry['level']}` has unknown keys {unknown}")
        name = str(entry["level"])
        temporal = []
        for t in entry.get("temporal") or ():
            if not isinstance(t, Sequence) or len(t) != 2:
                raise ConfigError(f"`{name}` temporal loops must be [dim, factor], but got {t!r}")
            temporal.append((str(t[0]), _int_factor(t[1], f"`{name}` temporal {t[0]}")))
        spatial = []
        for s in entry.get("spatial") or ():
            if not isinstance(s, Sequence) or len(s) != 3 or not isinstance(s[2], str):
                raise ConfigError(f"`{name}` spatial loops must be [dim, factor, 'x'|'y'|array dim], but got {s!r}")
            spatial.append((str(s[0]), _int_factor(s[1], f"`{name}` spatial {s[0]}"), str(s[2])))
        levels.append(LevelLoops(name, tuple(temporal), tuple(spatial)))
    return Mapping(tuple(levels))


def load_yaml(path: str | Path) -> Mapping:
    """Load a mapping from YAML (the whole file, or its ``mapping`` section)."""
    import yaml

    data = yaml.safe_load(Path(path).read_text())
    return from_list(data.get("mapping") if isinstance(data, MappingABC) else data)


def to_arrays(mappings: Sequence[Mapping], problem: LoopProblem, arch: Architecture) -> dict[str, np.ndarray]:
    """Stack mappings as ``T, SX, SY, rank`` arrays of shape ``(n, L, D)``; unknown names raise."""
    dims = problem.dim_names
    n, nl, nd = len(mappings), len(arch.levels), len(dims)
    t = np.ones((n, nl, nd))
    sx, sy = np.ones((n, nl, nd)), np.ones((n, nl, nd))
    rank = np.tile(np.arange(nd, dtype=float), (n, nl, 1))
    array = [d for d, _ in arch.array_dims or ()]
    s_arr = np.ones((n, len(array), nd))
    for i, mp in enumerate(mappings):
        for lv in mp.levels:
            li = arch.level_index(lv.level)
            for pos, (d, f) in enumerate(lv.temporal):
                if d not in dims:
                    raise ConfigError(f"`{lv.level}` loop dim must be one of {list(dims)}, but got {d!r}")
                t[i, li, dims.index(d)] *= f
                rank[i, li, dims.index(d)] = pos - nd  # listed loops first, in order
            for d, f, ax in lv.spatial:
                if d not in dims:
                    raise ConfigError(f"`{lv.level}` spatial dim must be one of {list(dims)}, but got {d!r}")
                if array:
                    if ax not in array:
                        raise ConfigError(f"`{lv.level}` spatial loop {d} must name an array dim {array}, but got {ax!r}")
                    s_arr[i, array.index(ax), dims.index(d)] *= f
                elif ax not in ("x", "y"):
                    raise ConfigError(f"`{lv.level}` spatial loop {d} must go to axis 'x' or 'y', but got {ax!r}")
                else:
                    (sx if ax == "x" else sy)[i, li, dims.index(d)] *= f
    out = {"T": t, "SX": sx, "SY": sy, "rank": rank}
    if array:
        out["S"] = s_arr
    return out


def check_arrays(arr: dict[str, np.ndarray], problem: LoopProblem, arch: Architecture) -> list[str]:
    """Structural errors of the first bad mapping in a batch: factor products and fanout."""
    sizes = np.array([float(v) for v in problem.dims.values()])
    prod = (arr["T"] * arr["SX"] * arr["SY"]).prod(axis=1)
    if "S" in arr:
        prod = prod * arr["S"].prod(axis=1)
    errors = []
    bad = np.nonzero(np.any(prod != sizes, axis=1))[0]
    if bad.size:
        i = bad[0]
        j = int(np.nonzero(prod[i] != sizes)[0][0])
        errors.append(f"factors of dim {problem.dim_names[j]} must multiply to {int(sizes[j])}, "
                      f"but multiply to {prod[i, j]:g} (mapping {i})")
    for k, (name, size) in enumerate(arch.array_dims or ()):
        used = arr["S"][:, k, :].prod(axis=1) if "S" in arr else np.ones(len(arr["T"]))
        over = np.nonzero(used > size)[0]
        if over.size:
            errors.append(f"spatial factors on array dim {name} must fit its size {size}, "
                          f"but multiply to {used[over[0]]:g} (mapping {over[0]})")
    for li in range(len(arch.levels)):
        fx, fy = arch.fanout(li)
        for ax, lim, a in (("x", fx, arr["SX"]), ("y", fy, arr["SY"])):
            used = a[:, li, :].prod(axis=1)
            over = np.nonzero(used > lim)[0]
            if over.size:
                errors.append(f"spatial factors of `{arch.levels[li].name}` on axis {ax} must fit the fanout {lim}, "
                              f"but multiply to {used[over[0]]:g} (mapping {over[0]})")
    return errors
