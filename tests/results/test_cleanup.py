"""No stray processes after SIGKILL, SIGTERM or Ctrl-C of a run, with every executor
(issue 14, item 7): pool workers die with the driver, a local Ray is stopped (by the driver,
or after a SIGKILL by the reaper)."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from codesign.errors import StoreError
from codesign.results.store import Store

PLUGIN = str(pathlib.Path(__file__).parent.parent / "plugins" / "synth_plugin.py")


def _table() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, start time, state) of every process."""
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as fh:
                    rest = fh.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            out[int(name)] = (int(rest[1]), rest[19], rest[0])
    return out


def _descendants(root: int) -> dict[int, str]:
    t = _table()
    kids, grew = {root}, True
    while grew:
        grew = False
        for pid, (ppid, _, _) in t.items():
            if ppid in kids and pid not in kids:
                kids.add(pid)
                grew = True
    return {pid: t[pid][1] for pid in kids - {root}}


def _alive(procs: dict[int, str]) -> list[int]:
    t = _table()
    return [pid for pid, start in procs.items() if pid in t and t[pid][1] == start and t[pid][2] != "Z"]


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc (Linux)")
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM", "Ctrl-C"])
@pytest.mark.parametrize("executor", ["process", pytest.param("ray", marks=pytest.mark.slow)])
def test_no_stray_processes_after_the_driver_stops(tmp_path, executor, how) -> None:
    store = str(tmp_path / "s")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"plugins: [{PLUGIN}]\nproblem: {{name: synth-test, kwargs: {{delay: 0.2}}}}\n"
                   f"budget: 400\nbatch_size: 4\nexecutor: {executor}\nworkers: 2\n")
    exe = os.path.join(os.path.dirname(sys.executable), "codesign")
    # its own session and process group, as a terminal gives a job (Ctrl-C reaches the group);
    # SIGINT handled as in a terminal even when this test runs in a background job, which a
    # non-interactive shell starts with SIGINT ignored (an ignored signal stays ignored in exec'd children)
    proc = subprocess.Popen([exe, "run", str(cfg), "--store", store, "--quiet"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if len(Store(store, create=False).open_run(Store(store, create=False).run_names()[0]).records()) >= 4:
                break
        except (StoreError, IndexError):
            pass
        time.sleep(0.2)
    assert proc.poll() is None, proc.stderr.read()
    procs = _descendants(proc.pid)
    assert len(procs) >= 2, "the executor's workers must be running"
    if how == "SIGKILL":
        proc.send_signal(signal.SIGKILL)
    elif how == "SIGTERM":
        proc.send_signal(signal.SIGTERM)
    else:
        os.killpg(proc.pid, signal.SIGINT)
    proc.wait(timeout=120)
    deadline = time.monotonic() + 60
    while _alive(procs) and time.monotonic() < deadline:
        time.sleep(0.5)
    left = _alive(procs)
    names = {pid: open(f"/proc/{pid}/cmdline").read().replace("\0", " ")[:80] for pid in left}
    for pid in left:  # do not leave them to the next test
        os.kill(pid, signal.SIGKILL)
    assert not left, f"stray processes after {how}: {names}"
    if how != "SIGKILL":
        assert proc.returncode == 130, proc.stderr.read()
