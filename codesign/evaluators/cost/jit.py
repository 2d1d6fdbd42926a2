"""Compilation of the cost model's hot loops with numba, and a cache that knows its dependencies.

:func:`compiled` is ``numba.njit(cache=True)``: compiled code is saved beside the sources
(``__pycache__``) and reused by later processes (pool and Ray workers included). numba marks a
function's cache stale only when the function's *own* file changes, but the compiled modules of
this package (:data:`COMPILED`) call each other; a stale caller holding an old callee's code
can crash. The cache locator registered here stamps every compiled function of this package with
the hash of *all* of :data:`COMPILED`, so a change to any of them recompiles them all.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from numba import njit
from numba.core import caching

PACKAGE = Path(__file__).resolve().parent
COMPILED = ("kernel.py", "zigzag_kernel.py", "sampler.py", "canonical.py")  # modules with compiled functions


def source_stamp(files: tuple[str, ...] = COMPILED + ("jit.py",), folder: Path = PACKAGE) -> str:
    """Hash of the compiled modules' sources and of this one (the compile options of
    :func:`compiled` are not in numba's cache key): the cache key of every compiled function here."""
    h = hashlib.sha256()
    for name in files:
        path = folder / name
        h.update(name.encode())
        h.update(path.read_bytes() if path.exists() else b"")
    return h.hexdigest()


class PackageCacheLocator(caching.InTreeCacheLocator):
    """numba's in-tree cache for this package's functions, stale when any compiled module changes."""

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> Any:
        if Path(py_file).resolve().parent != PACKAGE:
            return None
        return super().from_function(py_func, py_file)

    def get_source_stamp(self) -> str:
        return source_stamp()


def registered() -> bool:
    """Whether numba consults :class:`PackageCacheLocator` first (its locator list is numba's
    internal ``CacheImpl._locator_classes``; without it each file's own stamp is used)."""
    classes = getattr(caching.CacheImpl, "_locator_classes", None)
    return bool(classes) and classes[0] is PackageCacheLocator


_classes = getattr(caching.CacheImpl, "_locator_classes", None)
if isinstance(_classes, list) and PackageCacheLocator not in _classes:
    _classes.insert(0, PackageCacheLocator)


def compiled(fn: Any = None, **options: Any) -> Any:
    """``numba.njit(cache=True, error_model="numpy", **options)``, usable bare (``@compiled``) or
    with options (NumPy's error model: a division by zero gives inf/nan instead of raising, which
    spares a check per division; the kernels divide by footprints and periods that are >= 1)."""
    options = {"cache": True, "error_model": "numpy", **options}
    if fn is None:
        return lambda f: njit(**options)(f)
    return njit(**options)(fn)
