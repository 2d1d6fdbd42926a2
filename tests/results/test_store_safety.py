"""The store never loses a run (issue 14): killed writers, junk in the files, read-only readers,
stores of earlier versions, export targets, orphaned counts."""

from __future__ import annotations

import json
import logging
import os
import pathlib
import random
import shutil
import signal
import subprocess
import sys
import time

import pytest

import codesign
from codesign.cli.main import main
from codesign.results.store import Store
from codesign.types import Design, EvalRecord, EvalState, Metrics

HERE = pathlib.Path(__file__).parent
PLUGIN = str(HERE.parent / "plugins" / "synth_plugin.py")
LEGACY = HERE / "data" / "legacy_store"  # written by the optuna-journal store of main at e5f7059

# a writer that reserves batches of large records forever, printing each committed number
WRITER = r"""
import sys, time
sys.path.insert(0, {root!r})
from codesign.results.store import Store
from codesign.types import Design, EvalRecord, EvalState, Metrics
run, _ = Store({store!r}).create_run("torture", {{"problem": "p", "objectives": ["a"], "agent": "x", "seed": 0}})
big = "x" * {size}
i = 0
while True:
    recs = [EvalRecord(Design({{"i": i + k}}), Metrics({{"a": 1.0}}, {{"blob": big}}), EvalState.RUNNING, worker="w")
            for k in range(5)]
    nums = run.reserve_many(recs)
    for r in recs:
        r.state = EvalState.COMPLETE
    run.finish_many(list(zip(nums, recs)))
    print(max(nums), flush=True)
    i += 5
"""


def _writer(store: str, size: int) -> subprocess.Popen:
    code = WRITER.format(root=str(HERE.parent.parent), store=store, size=size)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _committed(run) -> list[int]:  # type: ignore[no-untyped-def]
    recs = run.records(include_running=True)
    return sorted(r.number for r in recs if r.state is EvalState.COMPLETE)


@pytest.mark.slow
def test_writers_killed_mid_transaction_and_junk_never_corrupt_the_store(tmp_path) -> None:
    """SIGKILL a writer of large records at random points while another writes; append junk to
    the WAL. Every committed record stays, nothing is torn, and the survivor never stalls."""
    store = str(tmp_path / "s")
    rng = random.Random(7)
    survivor = _writer(store, 2_000)
    try:
        seen = 0
        for _ in range(6):
            victim = _writer(store, 400_000)  # ~2 MB per batch: kills land mid-transaction
            victim.stdout.readline()  # it has committed once
            time.sleep(rng.uniform(0.0, 0.3))
            victim.kill()
            victim.wait()
            with open(os.path.join(store, "codesign.db-wal"), "ab") as fh:
                fh.write(os.urandom(rng.randrange(1, 5000)))  # junk after the last valid frame
            t0 = time.monotonic()
            line = survivor.stdout.readline()  # the survivor keeps committing, without a stale-lock stall
            assert line.strip(), survivor.stderr.read()
            assert time.monotonic() - t0 < 15, "a killed writer stalled the others"
            seen = max(seen, int(line))
    finally:
        survivor.kill()
        survivor.wait()
    run = Store(store, create=False).open_run("torture")
    nums = [r.number for r in run.records(include_running=True)]
    assert len(nums) == len(set(nums)), "no record twice"
    assert seen in _committed(run), "a committed record was lost"
    assert all(isinstance(r.metrics.breakdown["blob"], str) for r in run.records())  # every record whole
    assert main(["show", "--store", store, "--json"]) == 0


def test_reserved_records_of_a_killed_batch_are_never_lost(tmp_path) -> None:
    run, _ = Store(str(tmp_path)).create_run("r", {"problem": "p", "objectives": ["a"], "agent": "x", "seed": 0})
    recs = [EvalRecord(Design({"i": i}), Metrics(), EvalState.RUNNING, worker="w") for i in range(3)]
    nums = run.reserve_many(recs)
    assert nums == [0, 1, 2]
    assert [n for n, _, _ in run.in_flight("w")] == nums and run.records() == []
    done = EvalRecord(Design({"i": 0}), Metrics({"a": 2.0}), EvalState.COMPLETE, worker="w")
    run.finish_many([(0, done)])
    assert [r.number for r in run.records()] == [0]


def test_a_legacy_journal_with_torn_and_junk_lines_is_read_and_migrated(tmp_path, caplog, synth_plugin) -> None:
    store = tmp_path / "legacy"
    shutil.copytree(LEGACY, store)
    journal = store / "optuna.journal"
    lines = journal.read_bytes().splitlines(keepends=True)
    # the bug of main: a torn line followed by another writer's append, plus a junk line
    torn = lines[40][: len(lines[40]) // 2]
    journal.write_bytes(b"".join(lines[:40]) + torn + b"".join(lines[41:]) + b"\x00junk\xff\n" + lines[-1][:10])
    before = journal.read_bytes()
    with caplog.at_level(logging.WARNING, logger="codesign.store"):
        reader = Store(str(store), create=False)
        runs = {r.name: r.records(include_running=True) for r in reader.runs()}
    assert set(runs) == {"legacy", "legacy-fail"}
    assert sum(len(v) for v in runs.values()) >= 11  # at most the record of the torn line is lost
    assert any("byte offset" in m for m in caplog.messages)
    assert journal.read_bytes() == before and sorted(os.listdir(store)) == ["optuna.journal"]  # read in place
    # the first writer migrates it, once, and resumes the run
    res = codesign.run("synth-test", "random", budget=9, seed=3, store=str(store), name="legacy")
    assert len(res.records) == 9 and res.resumed == 6
    assert len(Store(str(store), create=False).open_run("legacy").records()) == 9
    assert Store(str(store)).backend.import_runs([], "again") == 0  # migration happens once


def _unprivileged() -> list[str]:
    """A command prefix under which the file permissions apply (root bypasses them)."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: cannot drop the permission override")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]


def test_read_commands_work_on_a_read_only_store(tmp_path, synth_plugin) -> None:
    store = tmp_path / "ro"
    codesign.run("synth-test", "random", budget=5, seed=0, store=str(store))
    report = tmp_path / "out"
    report.mkdir()
    for p in [store, *store.iterdir()]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    before = sorted(os.listdir(store))
    exe = os.path.join(os.path.dirname(sys.executable), "codesign")
    env = dict(os.environ, PYTHONPATH=str(HERE.parent.parent))
    try:
        for argv in (["show", "--store", str(store), "--json"], ["export", "--store", str(store), "--format", "csv"],
                     ["report", "--store", str(store), "-o", str(report / "r.html")]):
            proc = subprocess.run(_unprivileged() + [exe, *argv], capture_output=True, text=True, env=env)
            assert proc.returncode == 0, (argv, proc.stderr)
            assert "Traceback" not in proc.stderr
        assert sorted(os.listdir(store)) == before, "a read command wrote into the store"
        assert (report / "r.html").stat().st_size > 1000
    finally:
        for p in [store, *store.iterdir()]:
            p.chmod(0o755 if p.is_dir() else 0o644)


@pytest.mark.parametrize("kind", ["dir", "symlink", "device"])
def test_export_refuses_directories_symlinks_and_devices(tmp_path, capsys, synth_plugin, kind) -> None:
    codesign.run("synth-test", "random", budget=2, seed=0, store=str(tmp_path / "s"))
    target = tmp_path / "keep.txt"
    target.write_text("precious")
    out = {"dir": tmp_path / "d", "symlink": tmp_path / "link", "device": pathlib.Path("/dev/null")}[kind]
    if kind == "dir":
        out.mkdir()
    elif kind == "symlink":
        out.symlink_to(target)
    code = main(["export", "--store", str(tmp_path / "s"), "--format", "csv", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "-o must be" in err, err
    assert target.read_text() == "precious"
    assert (kind != "symlink") or out.is_symlink()
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))


def test_orphaned_records_are_counted_apart(tmp_path, capsys, synth_plugin) -> None:
    store = str(tmp_path / "s")
    res = codesign.run("synth-test", "random", budget=3, seed=0, store=store, name="r")
    run = Store(store).open_run("r")
    run.reserve_many([EvalRecord(Design(res.records[0].design), Metrics(), EvalState.RUNNING, worker="main")])
    codesign.run("synth-test", "random", budget=4, seed=0, store=store, name="r")  # resume: orphans it, redoes it
    assert main(["show", "--store", store, "--json"]) == 0
    row = json.loads(capsys.readouterr().out)["problems"][0]["runs"][0]
    assert (row["evaluations"], row["failed"], row["orphaned"]) == (4, 0, 1)
    assert main(["export", "--store", store, "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    col = lines[0].split(",").index("orphaned")
    assert sorted(line.split(",")[col] for line in lines[1:]) == ["False"] * 4 + ["True"]


def test_sigterm_closes_the_batch_in_flight(tmp_path) -> None:
    store = str(tmp_path / "s")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"plugins: [{PLUGIN}]\nproblem: {{name: synth-test, kwargs: {{delay: 0.3}}}}\nbudget: 50\nbatch_size: 4\n")
    exe = os.path.join(os.path.dirname(sys.executable), "codesign")
    proc = subprocess.Popen([exe, "run", str(cfg), "--store", store, "--quiet"], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not os.path.exists(os.path.join(store, "codesign.db")):
        time.sleep(0.05)
    time.sleep(1.5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err, err
    run = Store(store, create=False).open_run(Store(store, create=False).run_names()[0])
    everything = run.records(include_running=True)
    assert not [r for r in everything if r.state is EvalState.RUNNING], "SIGTERM left records in flight"
    assert all("interrupted" in r.error for r in everything if r.orphaned)
