"""Worker leases: one live process per (run, worker name), with a heartbeat.

A worker takes the lease of its ``(run, worker)`` before it writes. Its holder is described
by host, boot id, pid and the process's start time (``/proc/<pid>/stat``), so liveness is
*provable* on the same machine: the holder is dead iff no process with that pid and start
time exists (a reused pid has another start time). A holder on another machine is presumed
dead only when its heartbeat is older than :data:`REMOTE_TTL_S`. A second process that finds
a live holder gets one line naming it; a process that takes over from a dead one redoes that
one's in-flight records, and the dead one (should it come back, e.g. from SIGSTOP) can no
longer write: every finish is fenced by the lease token (:mod:`~codesign.results.backends.sql`).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from codesign.errors import StoreError

HEARTBEAT_S = 5.0
REMOTE_TTL_S = 60.0


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def process_start(pid: int) -> str:
    """The start time of process ``pid`` in clock ticks since boot ('' if it does not exist)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[19]  # field 22, counted after the command name


@dataclass(frozen=True)
class Holder:
    """Who holds a lease."""

    token: str
    host: str
    boot: str
    pid: int
    start: str
    since: str

    @classmethod
    def me(cls) -> Holder:
        pid = os.getpid()
        return cls(uuid.uuid4().hex, socket.gethostname(), _boot_id(), pid, process_start(pid),
                   time.strftime("%Y-%m-%d %H:%M:%S"))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Holder:
        try:
            data = json.loads(text)
            return cls(str(data["token"]), str(data["host"]), str(data.get("boot", "")), int(data["pid"]),
                       str(data.get("start", "")), str(data.get("since", "")))
        except (ValueError, KeyError, TypeError):
            return cls("", "?", "", -1, "", "")

    def same_machine(self) -> bool:
        return self.host == socket.gethostname() and self.boot == _boot_id() and bool(self.boot)

    def dead(self, heartbeat_age_s: float, remote_ttl_s: float = REMOTE_TTL_S) -> bool:
        """Provably dead on this machine; on another one, silent for longer than the TTL."""
        if self.same_machine():
            return not self.start or process_start(self.pid) != self.start
        return heartbeat_age_s > remote_ttl_s

    def describe(self, heartbeat_age_s: float) -> str:
        return (f"process {self.pid} on host {self.host} (since {self.since}, last heartbeat "
                f"{heartbeat_age_s:.0f} s ago)")


class Lease:
    """The lease of one worker of one run, renewed by a daemon thread while held.

    Args:
        backend: the store backend.
        run: run name.
        worker: worker name.
        heartbeat_s: seconds between renewals.
    """

    def __init__(self, backend: Any, run: str, worker: str, heartbeat_s: float = HEARTBEAT_S,
                 remote_ttl_s: float = REMOTE_TTL_S) -> None:
        self.backend = backend
        self.run = run
        self.worker = worker
        self.holder = Holder.me()
        self.heartbeat_s = heartbeat_s
        self.remote_ttl_s = remote_ttl_s
        self.lost: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def token(self) -> str:
        return self.holder.token

    def acquire(self) -> Lease:
        def may_take(info: str, age: float) -> bool:
            return Holder.from_json(info).dead(age, self.remote_ttl_s)

        taken, info, age = self.backend.acquire_lease(self.run, self.worker, self.token, self.holder.to_json(), may_take)
        if not taken:
            other = Holder.from_json(info)
            raise StoreError(f"worker {self.worker!r} of run {self.run!r} is in use by {other.describe(age)}; "
                             "give this process another --worker name, or stop that one first")
        self._thread = threading.Thread(target=self._beat, name=f"codesign-lease-{self.worker}", daemon=True)
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            try:
                if not self.backend.heartbeat(self.run, self.worker, self.token):
                    self.lost = "another process took over this worker's lease"
                    return
            except StoreError as exc:  # the store is unreachable: the main thread will see it too
                self.lost = str(exc)
                return

    def check(self) -> None:
        """Raise if the lease was lost (taken over by another process)."""
        if self.lost:
            raise StoreError(f"worker {self.worker!r} of run {self.run!r} stopped: {self.lost}")

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.heartbeat_s + 1)
        try:
            self.backend.release(self.run, self.worker, self.token)
        except StoreError:
            pass  # the lease expires by itself (its holder is dead once we exit)

    def __enter__(self) -> Lease:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()

