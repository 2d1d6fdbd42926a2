"""A reaper: stops the processes a driver started when the driver dies without cleaning up.

A local Ray started by ``ray.init()`` shares the driver's fate only in part: after a SIGKILL
of the driver its raylet and GCS exit, but Ray's dashboard and runtime-env agents (which
ignore SIGTERM) are left running. No handler of the driver can run after SIGKILL, so a small
separate process does it: it notes the driver's descendants (pid and start time) every
second, and when its pipe from the driver reaches EOF without a "stop" — the driver died —
it sends SIGKILL to those of them still alive (the same pid *and* start time: never a reused
pid), then exits. It runs in its own session, so a terminal's Ctrl-C does not end it first.
Linux only (``/proc``); elsewhere it is not started.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

_CODE = r"""
import os, select, signal, sys, time
driver = int(sys.argv[1])
me = os.getpid()

def table():
    out = {}
    for name in os.listdir('/proc'):
        if name.isdigit():
            try:
                with open('/proc/%s/stat' % name) as fh:
                    rest = fh.read().rsplit(')', 1)[1].split()
                out[int(name)] = (int(rest[1]), rest[19])
            except (OSError, IndexError, ValueError):
                pass
    return out

seen = {}
while True:
    t = table()
    kids = {driver}
    grew = True
    while grew:
        grew = False
        for pid, (ppid, start) in t.items():
            if ppid in kids and pid not in kids and pid != me:
                kids.add(pid)
                grew = True
    for pid in kids - {driver}:
        seen[pid] = t[pid][1]
    ready, _, _ = select.select([sys.stdin], [], [], 1.0)
    if ready:
        data = os.read(sys.stdin.fileno(), 64)
        if data.startswith(b'stop'):
            sys.exit(0)
        if not data:
            break
time.sleep(1.0)  # let Ray's own fate sharing go first
t = table()
for pid, start in seen.items():
    if pid in t and t[pid][1] == start:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
"""


class Reaper:
    """The reaper of this process's children (see the module docstring)."""

    def __init__(self, proc: Any) -> None:
        self._proc = proc

    @classmethod
    def for_children(cls) -> Reaper | None:
        if not os.path.isdir("/proc/self"):
            return None
        proc = subprocess.Popen([sys.executable, "-c", _CODE, str(os.getpid())], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                                close_fds=True)
        return cls(proc)

    def stop(self) -> None:
        """The driver cleaned up itself: the reaper exits without killing anything."""
        try:
            self._proc.stdin.write(b"stop")
            self._proc.stdin.close()
            self._proc.wait(timeout=5)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            self._proc.kill()
