"""One live process per worker name (issue 14, item 2): a second process with the same name
gets one line naming the live one; a provably dead holder is taken over at once, and a holder
whose lease was taken over can no longer write."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

import codesign
from codesign.errors import StoreError
from codesign.results.lease import Holder
from codesign.results.store import Store
from codesign.types import Design, EvalRecord, EvalState, Metrics

PLUGIN = str(pathlib.Path(__file__).parent.parent / "plugins" / "synth_plugin.py")
META = {"problem": "p", "objectives": ["a"], "agent": "x", "seed": 0}


def _config(tmp_path: pathlib.Path, budget: int, delay: float) -> str:
    cfg = tmp_path / f"c{budget}.yaml"
    cfg.write_text(f"plugins: [{PLUGIN}]\nproblem: {{name: synth-test, kwargs: {{delay: {delay}}}}}\n"
                   f"budget: {budget}\nname: shared\n")
    return str(cfg)


def _argv(cfg: str, store: str) -> list[str]:
    return [os.path.join(os.path.dirname(sys.executable), "codesign"), "run", cfg, "--store", store, "--quiet"]


def _run(cfg: str, store: str) -> subprocess.Popen:
    return subprocess.Popen(_argv(cfg, store), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait_for_records(store: str, n: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if len(Store(store, create=False).open_run("shared").records()) >= n:
                return
        except StoreError:
            pass
        time.sleep(0.1)
    raise AssertionError("the first process wrote nothing")


def test_the_same_worker_twice_is_one_line_naming_the_live_one(tmp_path) -> None:
    store = str(tmp_path / "s")
    # 60 × 0.5 s: the first process must outlive the second's start-up even on a loaded machine
    cfg = _config(tmp_path, 60, 0.5)
    first = _run(cfg, store)
    _wait_for_records(store, 1)
    assert first.poll() is None, "the first process must still be running"
    second = subprocess.run(_argv(cfg, store), capture_output=True, text=True)
    assert second.returncode == 2
    err = second.stderr.strip()
    assert len(err.splitlines()) == 1 and f"in use by process {first.pid} on host" in err, err
    assert "another --worker name" in err
    _, ferr = first.communicate(timeout=120)
    assert first.returncode == 0, ferr
    recs = Store(store, create=False).open_run("shared").records(include_running=True)
    assert len(recs) == 60 and not [r for r in recs if r.orphaned], "the first process lost nothing to the second"


def test_a_killed_holder_is_taken_over_at_once(tmp_path) -> None:
    store = str(tmp_path / "s")
    cfg = _config(tmp_path, 20, 0.1)
    first = _run(cfg, store)
    _wait_for_records(store, 3)
    assert first.poll() is None, "the first process must still be running"
    first.send_signal(signal.SIGKILL)
    first.wait()
    t0 = time.monotonic()
    second = subprocess.run(_argv(cfg, store), capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    assert time.monotonic() - t0 < 60
    recs = Store(store, create=False).open_run("shared").records(include_running=True)
    assert len([r for r in recs if not r.orphaned]) == 20
    assert not [r for r in recs if r.state is EvalState.RUNNING]


def _lease_row(store: Store, holder: Holder, age_s: float) -> None:
    store.backend.transact(lambda cur: cur.execute(
        "INSERT INTO codesign_leases (run, worker, owner, info, heartbeat) VALUES (?, ?, ?, ?, ?)",
        ("r", "w", holder.token, holder.to_json(), time.time() - age_s)), "test", write=True)


def test_a_holder_on_another_machine_is_dead_only_after_its_ttl(tmp_path) -> None:
    store = Store(str(tmp_path))
    run, _ = store.create_run("r", META)
    other = Holder("tok", "elsewhere", "boot", 4242, "1", "then")
    _lease_row(store, other, age_s=5)
    with pytest.raises(StoreError, match="in use by process 4242 on host elsewhere"):
        run.lease("w", remote_ttl_s=60)
    store.backend.heartbeat("r", "w", "tok")
    store.backend.transact(lambda cur: cur.execute("UPDATE codesign_leases SET heartbeat = ?", (time.time() - 120,)),
                           "test", write=True)
    lease = run.lease("w", remote_ttl_s=60)  # silent for longer than the TTL: presumed dead
    lease.release()


def test_a_holder_that_lost_its_lease_cannot_write(tmp_path) -> None:
    store = Store(str(tmp_path))
    run, _ = store.create_run("r", META)
    lease = run.lease("w", heartbeat_s=0.05)
    nums = run.reserve_many([EvalRecord(Design({"i": 1}), Metrics(), EvalState.RUNNING, worker="w")])
    # another process takes the lease (as after a takeover from a holder believed dead)
    store.backend.transact(lambda cur: cur.execute("UPDATE codesign_leases SET owner = 'thief'"), "test", write=True)
    time.sleep(0.3)
    with pytest.raises(StoreError, match="took over"):
        lease.check()
    done = EvalRecord(Design({"i": 1}), Metrics({"a": 1.0}), EvalState.COMPLETE, worker="w")
    with pytest.raises(StoreError, match="no longer holds its lease"):
        run.finish_many([(nums[0], done)])
    with pytest.raises(StoreError, match="no longer holds its lease"):
        run.reserve_many([EvalRecord(Design({"i": 2}), Metrics(), EvalState.RUNNING, worker="w")])
    lease.release()
    row = store.backend.transact(lambda cur: cur.execute("SELECT owner FROM codesign_leases").fetchall(), "t")
    assert row == [("thief",)], "releasing a lost lease must not drop the new holder's"


def test_holder_identity_is_provable_on_this_machine() -> None:
    me = Holder.me()
    assert me.same_machine() and not me.dead(10**6)
    gone = Holder("t", me.host, me.boot, me.pid, str(int(me.start) + 1), "")  # same pid, another start time
    assert gone.dead(0.0)
    assert json.loads(me.to_json())["pid"] == os.getpid()
