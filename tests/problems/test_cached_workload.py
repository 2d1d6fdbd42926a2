"""cached_workload: a traced workload is memoized per machine, and an edit anywhere in its
builder's module (a helper beside the builder, not only the builder) traces it again."""

from __future__ import annotations

import importlib
import sys
import textwrap

from codesign.problems.common import cached_workload

MODULE = """
from codesign.workloads.layer import Workload, gemm

def width():
    return {width}

def build(tokens):
    return Workload("probe-me", [gemm("fc", M=tokens, N=width(), K=8)], {{}})
"""


def _module(tmp_path, monkeypatch, width: int):
    (tmp_path / "wl_mod.py").write_text(textwrap.dedent(MODULE.format(width=width)))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("wl_mod", None)
    importlib.invalidate_caches()
    return importlib.import_module("wl_mod")


def test_a_helper_edit_in_the_module_traces_again(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CODESIGN_CACHE", str(tmp_path / "cache"))
    first = cached_workload(_module(tmp_path, monkeypatch, 16).build, tokens=4)
    assert first.layers[0].dims["N"] == 16
    assert len(list((tmp_path / "cache" / "workloads").glob("build-*.json"))) == 1
    again = cached_workload(_module(tmp_path, monkeypatch, 16).build, tokens=4)  # unchanged: the memo
    assert again.to_dict() == first.to_dict()
    assert len(list((tmp_path / "cache" / "workloads").glob("build-*.json"))) == 1
    edited = cached_workload(_module(tmp_path, monkeypatch, 32).build, tokens=4)  # only the helper changed
    assert edited.layers[0].dims["N"] == 32
    assert len(list((tmp_path / "cache" / "workloads").glob("build-*.json"))) == 2
    sys.modules.pop("wl_mod", None)
