"""kill -9 a run at random points, rerun the same command: nothing lost, nothing twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from codesign.results.store import Store

PLUGIN = os.path.join(os.path.dirname(__file__), "..", "plugins", "synth_plugin.py")
# 12 kills at <= 0.5 s after a process's first write, 0.1 s per evaluation: at most ~6
# evaluations per process, so the budget cannot run out before every kill has landed
BUDGET = 80


def _command(store: str, cfg: str) -> list[str]:
    exe = os.path.join(os.path.dirname(sys.executable), "codesign")
    return [exe, "run", cfg, "--store", store, "--quiet"]


def _written(store: str) -> tuple:
    out = []
    for name in ("codesign.db", "codesign.db-wal"):
        try:
            st = os.stat(os.path.join(store, name))
            out.append((st.st_size, st.st_mtime_ns))
        except OSError:
            out.append(None)
    return tuple(out)


@pytest.mark.slow
def test_kill_minus_9_at_random_points_then_resume(tmp_path) -> None:
    store = str(tmp_path / "store")
    cfg = tmp_path / "run.yaml"
    cfg.write_text(
        f"plugins: [{PLUGIN}]\nproblem: {{name: synth-test, kwargs: {{delay: 0.1}}}}\n"
        f"agent: random\nbudget: {BUDGET}\nseed: 5\nbatch_size: 3\n"
    )
    rng = random.Random(1234)
    kills = 0
    for _ in range(12):
        before = _written(store)
        proc = subprocess.Popen(_command(store, str(cfg)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120  # a loaded machine may take long to start python
        while proc.poll() is None and time.monotonic() < deadline and _written(store) == before:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    final = subprocess.run(_command(store, str(cfg)), capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    assert kills == 12, f"only {kills} of 12 kills landed mid-run"

    run = Store(store, create=False).open_run("synth-test/random/seed5")
    everything = run.records(include_running=True)
    live = [r for r in everything if not r.orphaned]
    orphans = [r for r in everything if r.orphaned]
    assert not [r for r in everything if r.state.value == "running"], "no record may stay in flight"
    assert len(live) == BUDGET, f"{len(live)} finished records, budget {BUDGET}"
    assert all(r.state.value in ("complete", "infeasible") for r in live)
    # the random agent draws design i from (seed, i): the run equals an uninterrupted one
    fresh = subprocess.run(_command(str(tmp_path / "fresh"), str(cfg)), capture_output=True, text=True)
    assert fresh.returncode == 0, fresh.stderr
    expected = [r.design.key for r in Store(str(tmp_path / "fresh"), create=False).open_run(run.name).records()]
    assert sorted(r.design.key for r in live) == sorted(expected), "lost or duplicated evaluations"
    # every orphan was redone exactly once (a later live record of the same design)
    for o in orphans:
        later = [r for r in live if r.design.key == o.design.key and r.number > o.number]
        assert len(later) >= 1, f"orphaned evaluation {o.number} was not redone"
    print(f"{kills} kills, {len(orphans)} orphaned in-flight evaluations redone, {len(live)} records")
