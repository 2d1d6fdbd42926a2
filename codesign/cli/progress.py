"""Progress display of the long commands (rich, on stderr): elapsed time, ETA and, for a search,
the current Pareto front size and normalized hypervolume.

- :func:`steps` — a bar over a known number of steps (probe calibration designs, benchmark
  runs), or a spinner with elapsed time for one step of unknown length (loading a model).
- :class:`SearchProgress` — the bar of ``codesign run``: evaluations done of the budget, ETA,
  front size and hypervolume of the feasible records so far.

Both draw nothing when disabled (``--json``, ``--quiet``), so a JSON document on stdout stays
the only output there; the rich display goes to stderr.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

Step = Callable[..., None]


def _columns(with_bar: bool) -> list[Any]:
    from rich.progress import (BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    cols: list[Any] = [SpinnerColumn(), TextColumn("{task.description}", markup=False)]
    if with_bar:
        cols += [BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("ETA"),
                 TimeRemainingColumn(compact=True), TextColumn("{task.fields[status]}", markup=False)]
    else:
        cols += [TimeElapsedColumn()]
    return cols


@contextlib.contextmanager
def steps(description: str, total: int | None, enabled: bool = True, console: Any = None,
          transient: bool = False) -> Iterator[Step]:
    """A progress display; yields ``step(advance=1, description=None, status=None, log=None)``
    (``log``: a line printed above the display).

    ``total=None`` shows a spinner with the elapsed time (one step of unknown length);
    ``transient`` erases the display when done. Disabled, ``log`` lines still go to stderr.
    """
    if not enabled:
        def quiet(*args: Any, log: str | None = None, **kwargs: Any) -> None:
            if log is not None:
                print(log, file=sys.stderr, flush=True)

        yield quiet
        return
    from rich.progress import Progress

    from codesign.cli.common import console as make_console

    con = console or make_console(stderr=True)
    if transient and not con.is_terminal:  # nothing to erase later: show nothing (no stray newline)
        with steps(description, total, False) as quiet:
            yield quiet
        return
    with Progress(*_columns(total is not None), console=con, transient=transient) as progress:
        task = progress.add_task(description, total=total, status="")

        def step(advance: int = 1, description: str | None = None, status: str | None = None,
                 log: str | None = None) -> None:
            if log is not None:
                progress.console.print(log, markup=False, highlight=False)
            fields: dict[str, Any] = {}
            if description is not None:
                fields["description"] = description
            if status is not None:
                fields["status"] = status
            progress.update(task, advance=advance, **fields)

        yield step


class SearchProgress:
    """The progress bar of a search; ``on_record`` is the runner's callback.

    Shows evaluations done of the budget, elapsed, ETA (rich's estimate from the recent rate),
    and ``front N · HV x`` of the feasible records so far. ``hv`` computes the hypervolume of an
    ``(n, m)`` array of objective values (the normalized one where the problem has a
    normalization); it is recomputed at most every ``refresh_s`` seconds.
    """

    def __init__(self, description: str, budget: int, directions: Sequence[str], objective_names: Sequence[str],
                 hv: Callable[[Any], float] | None, console: Any, refresh_s: float = 0.5) -> None:
        from rich.progress import Progress

        self.directions, self.names, self.hv = list(directions), list(objective_names), hv
        self.points: list[list[float]] = []
        self.failed = 0
        self.refresh_s = refresh_s
        self._last = 0.0
        self.progress = Progress(*_columns(True), console=console, transient=False)
        self.task = self.progress.add_task(description, total=budget, status="")
        self._started = False
        self.front_size = 0
        self.hypervolume: float | None = None

    def on_record(self, rec: Any, done: int, budget: int) -> None:
        from codesign.types import EvalState

        if not self._started:  # start at the first record, after every check has passed
            self.progress.start()
            self._started = True
        if rec.state is EvalState.COMPLETE:
            self.points.append([float(rec.metrics.values[n]) for n in self.names])
        elif rec.state is EvalState.FAILED:
            self.failed += 1
        now = time.perf_counter()
        if now - self._last >= self.refresh_s or done >= budget:
            self._last = now
            self._summarize()
        self.progress.update(self.task, completed=done, status=self.status())

    def _summarize(self) -> None:
        import numpy as np

        from codesign.results.pareto import non_dominated_mask

        if not self.points:
            return
        pts = np.asarray(self.points, dtype=float)
        front = np.unique(pts[non_dominated_mask(pts, self.directions)], axis=0)  # one point per value
        self.points = front.tolist()  # only the front matters from here on
        self.front_size = len(front)
        if self.hv is not None:
            self.hypervolume = float(self.hv(front))

    def status(self) -> str:
        parts = [f"front {self.front_size}"]
        if self.hypervolume is not None:
            parts.append(f"HV {self.hypervolume:.4g}")
        if self.failed:
            parts.append(f"failed {self.failed}")
        return " · ".join(parts)

    def stop(self) -> None:
        if self._started:
            self._summarize()
            self.progress.update(self.task, status=self.status())
            self.progress.stop()
