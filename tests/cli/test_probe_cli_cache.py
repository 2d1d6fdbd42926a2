"""`codesign probe` answers a configuration it measured before from the disk cache without
building anything: no torch import, no model, no data (issue 15: ≤ 1 s through the CLI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")

ARGS = ["probe", "--workload", "fmnist-cnn", "--w-bits", "4", "--a-bits", "8", "--eval-size", "500", "--json"]
CHILD = ("import json, sys; from codesign.cli.main import main; rc = main(sys.argv[1:]); "
         "sys.stderr.write(json.dumps({'rc': rc, 'torch': 'torch' in sys.modules}))")


def _call(cache: str) -> tuple[dict, dict]:
    env = {**os.environ, "CODESIGN_CACHE": cache}
    out = subprocess.run([sys.executable, "-c", CHILD, *ARGS], env=env, capture_output=True, text=True, timeout=600)
    status = json.loads(out.stderr.strip().splitlines()[-1])
    assert status["rc"] == 0, out.stderr
    return json.loads(out.stdout), status


@pytest.mark.slow
def test_second_probe_call_builds_nothing(tmp_path) -> None:
    first, s1 = _call(str(tmp_path))
    assert not first["cached"] and first["load_s"] > 0 and s1["torch"]
    second, s2 = _call(str(tmp_path))
    assert second["cached"] and second["load_s"] == 0.0 and not s2["torch"]
    assert (second["value"], second["float"], second["n_eval"]) == (first["value"], first["float"], first["n_eval"])
