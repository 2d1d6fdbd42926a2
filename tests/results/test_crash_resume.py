"""kill -9 a run at random points, rerun the same command: nothing lost, nothing twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from codesign.results.store import Store, repair_journal

PLUGIN = os.path.join(os.path.dirname(__file__), "..", "plugins", "synth_plugin.py")
BUDGET = 60


def _command(store: str, cfg: str) -> list[str]:
    exe = os.path.join(os.path.dirname(sys.executable), "codesign")
    return [exe, "run", cfg, "--store", store, "--quiet"]


@pytest.mark.slow
def test_kill_minus_9_at_random_points_then_resume(tmp_path) -> None:
    store = str(tmp_path / "store")
    cfg = tmp_path / "run.yaml"
    cfg.write_text(
        f"plugins: [{PLUGIN}]\nproblem: {{name: synth-test, kwargs: {{delay: 0.05}}}}\n"
        f"agent: random\nbudget: {BUDGET}\nseed: 5\nbatch_size: 3\n"
    )
    rng = random.Random(1234)
    journal = os.path.join(store, "optuna.journal")
    kills = 0
    for _ in range(12):
        size = os.path.getsize(journal) if os.path.exists(journal) else 0
        proc = subprocess.Popen(_command(store, str(cfg)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # wait until this process writes, then kill it at a random point of its work
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            if os.path.exists(journal) and os.path.getsize(journal) > size:
                break
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    final = subprocess.run(_command(store, str(cfg)), capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    assert kills >= 10, f"only {kills} kills landed mid-run; the test needs >= 10"

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


def test_torn_journal_line_is_repaired(tmp_path) -> None:
    path = tmp_path / "optuna.journal"
    path.write_bytes(b'{"a": 1}\n{"b": 2}\n{"c": 3, "tor')
    assert repair_journal(str(path)) == len(b'{"c": 3, "tor')
    assert path.read_bytes() == b'{"a": 1}\n{"b": 2}\n'
    assert repair_journal(str(path)) == 0
