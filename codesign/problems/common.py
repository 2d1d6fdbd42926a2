"""Helpers the problem families share: cached traced workloads, attention matmuls for the cost
model, the accelerator space of the flagship problems and the PE families they offer."""

from __future__ import annotations

import hashlib
import inspect
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from codesign.errors import WorkloadError
from codesign.workloads.layer import Layer, Workload, attn

__all__ = ["flagship_pe_types", "cached_workload", "with_attention", "accel_space"]


def flagship_pe_types() -> tuple[str, ...]:
    """The PE families the flagship spaces offer: every family the cost model and roofline accept
    (:data:`codesign.spaces.builders.PE_TYPES`, the one list a new family joins)."""
    from codesign.spaces.builders import PE_TYPES

    return tuple(PE_TYPES)


def cached_workload(build: Callable[..., Workload], **kwargs: Any) -> Workload:
    """``build(**kwargs)``, memoized as JSON under ``<cache>/workloads/`` (keyed by the source code
    of the builder's module, so an edited helper beside it counts too, and the arguments), so
    tracing a transformer (seconds of ``transformers`` import and hooks) happens once per machine,
    not once per problem build."""
    from codesign.evaluators.accuracy.calibration import atomic_write
    from codesign.evaluators.accuracy.probe import default_cache_dir

    try:
        src = inspect.getsource(sys.modules[build.__module__])
    except (OSError, TypeError, KeyError):
        return build(**kwargs)
    key = hashlib.sha1(json.dumps([build.__module__, build.__qualname__, src, kwargs], sort_keys=True,
                                  default=str).encode()).hexdigest()[:16]
    path = default_cache_dir() / "workloads" / f"{build.__name__}-{key}.json"
    if path.is_file():
        try:
            return Workload.from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            pass
    wl = build(**kwargs)
    try:
        atomic_write(path, lambda f: f.write(json.dumps(wl.to_dict()).encode()))
    except OSError:
        pass  # a read-only cache: trace again next time
    return wl


def with_attention(workload: Workload, blocks: Sequence[tuple[str, str]], tokens: int, heads: int,
                   head_dim: int) -> Workload:
    """``workload`` plus the two attention matmuls of every block, for the cost model.

    ``blocks``: per transformer block ``(prefix, before)``: the matmuls ``<prefix>.qk``
    (``M = N = tokens``, ``K = head_dim``) and ``<prefix>.av`` (``M = tokens``, ``N = head_dim``,
    ``K = tokens``), ``heads`` each, are inserted before layer ``before`` (the attention output
    projection). They hold no weights, so the quant space and the probes never see them; the
    cost model prices them at its default (8/8) bits. Causal masking is not exploited (full
    ``T × T`` scores), as in :mod:`codesign.workloads.zoo`.
    """
    extra: dict[str, list[Layer]] = {}
    for prefix, before in blocks:
        extra[before] = [attn(f"{prefix}.qk", M=tokens, N=tokens, K=head_dim, heads=heads),
                         attn(f"{prefix}.av", M=tokens, N=head_dim, K=tokens, heads=heads)]
    missing = sorted(set(extra) - {l.name for l in workload.layers})
    if missing:
        raise WorkloadError(f"attention anchors {missing[:3]} are not layers of {workload.name!r}")
    layers: list[Layer] = []
    for layer in workload.layers:
        layers.extend(extra.get(layer.name, []))
        layers.append(layer)
    meta = {**workload.meta, "attention": {"tokens": tokens, "heads": heads, "head_dim": head_dim,
                                           "blocks": len(blocks)}}
    return Workload(workload.name, layers, meta)


def accel_space(pe_types: Sequence[str] | None = None, max_pes: int | None = 1024) -> Any:
    """The accelerator part of the flagship spaces: PE family (default :func:`flagship_pe_types`),
    array 4–64 × 4–64 (at most ``max_pes`` PEs), global buffer 16–1024 KiB, PE buffer 16–256 B,
    DRAM 6.4–51.2 GB/s, clock 200–1000 MHz (:func:`codesign.spaces.builders.hardware_space`)."""
    from codesign.spaces.builders import hardware_space

    return hardware_space(pe_types=tuple(pe_types) if pe_types else flagship_pe_types(), max_pes=max_pes)
