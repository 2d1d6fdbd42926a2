"""Catalogue of the real torch probes by workload name, and their construction."""

from __future__ import annotations

import importlib
from typing import Any

from codesign.errors import ConfigError

__all__ = ["PROBES", "make_probe", "probe_workload"]

# workload name -> (probe class, workload factory, granularity of the calibration designs)
PROBES: dict[str, tuple[str, str, str]] = {
    "fmnist-cnn": ("codesign.evaluators.accuracy.fmnist:FashionMNISTProbe", "codesign.evaluators.accuracy.real_workloads:fmnist_cnn", "layer"),
    "moe-shakespeare": ("codesign.evaluators.accuracy.moe:MoEProbe", "codesign.evaluators.accuracy.real_workloads:moe_shakespeare", "expert"),
    "minilm-l6": ("codesign.evaluators.accuracy.minilm:MiniLMProbe", "codesign.evaluators.accuracy.real_workloads:minilm_l6", "layer"),
    # optional extra codesign[gemma]: without it, make_probe / probe_workload raise a one-line ConfigError
    "gemma3-270m": ("codesign.evaluators.accuracy.gemma:GemmaProbe", "codesign.evaluators.accuracy.real_workloads:gemma3_270m", "layer"),
}


def _load(ref: str) -> Any:
    module, attr = ref.split(":")
    return getattr(importlib.import_module(module), attr)


def _check(workload: str) -> tuple[str, str, str]:
    if workload not in PROBES:
        raise ConfigError(f"`--workload` must be one of {sorted(PROBES)}, but got {workload!r}")
    return PROBES[workload]


def make_probe(workload: str, **kwargs: Any) -> Any:
    """The probe of ``workload`` (kwargs: ``scheme``, ``eval_size``, ``hw_exact``, ``pe``, ...)."""
    return _load(_check(workload)[0])(**kwargs)


def probe_workload(workload: str) -> Any:
    """The traced workload of ``workload``'s model."""
    return _load(_check(workload)[1])()
