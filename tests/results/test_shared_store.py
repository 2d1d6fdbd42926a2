"""Several workers share one run on a real PostgreSQL server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import codesign
from codesign.results.store import Store

PLUGIN = os.path.join(os.path.dirname(__file__), "..", "plugins", "synth_plugin.py")


def test_four_workers_fifty_each_on_postgres(postgres_url) -> None:
    exe = os.path.join(os.path.dirname(sys.executable), "codesign")
    procs = [
        subprocess.Popen([exe, "run", "--plugin", PLUGIN, "--problem", "synth-test", "--agent", "random",
                          "--budget", "50", "--batch-size", "5", "--store", postgres_url, "--name", "shared",
                          "--worker", f"w{k}", "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for k in range(4)
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    run = Store(postgres_url, create=False).open_run("shared")
    records = run.records(include_running=True)
    assert len(records) == 200
    assert Counter(r.worker for r in records) == {f"w{k}": 50 for k in range(4)}
    assert all(r.state.value in ("complete", "infeasible") for r in records)
    assert sorted(r.number for r in records) == list(range(200)), "trial numbers are unique"
    # the workers explored different designs (their agent seeds differ)
    firsts = {r.worker: r.design.key for r in sorted(records, key=lambda r: r.number)}
    assert len(set(firsts.values())) == 4


def test_python_api_on_postgres_resumes(postgres_url, synth_plugin) -> None:
    a = codesign.run("synth-test", "tpe", budget=6, seed=2, store=postgres_url, name="api")
    b = codesign.run("synth-test", "tpe", budget=10, seed=2, store=postgres_url, name="api")
    assert a.resumed == 0 and b.resumed == 6 and len(b.records) == 10
