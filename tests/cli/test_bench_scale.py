from __future__ import annotations

import json
import os

from codesign.cli.main import main

PLUGIN = os.path.join(os.path.dirname(__file__), "..", "plugins", "synth_plugin.py")


def test_bench_scale_smoke(capsys) -> None:
    code = main(["bench", "scale", "--plugin", PLUGIN, "--problem", "synth-test", "--budget", "8",
                 "--workers", "1,2", "--executors", "process", "--batch-size", "4", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    rows = {(r["executor"], r["workers"]): r for r in doc["results"]}
    assert set(rows) == {("inline", 1), ("process", 1), ("process", 2)}
    assert all(r["evaluations"] == 8 and r["evals_per_s"] > 0 for r in rows.values())
    assert rows[("process", 1)]["efficiency"] == 1.0


def test_bench_scale_bad_workers(capsys) -> None:
    assert main(["bench", "scale", "--workers", "0,x"]) == 2
    assert "--workers must be" in capsys.readouterr().err
