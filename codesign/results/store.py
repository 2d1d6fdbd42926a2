"""The results store: every evaluation of every run, on disk, readable by optuna.

System of record: an **optuna study per run**. On one machine the storage is optuna's
journal file (``<store dir>/optuna.journal``; appends under a file lock, so several
processes can write one store, unlike SQLite which is safe only with a single writer); a
URL (``postgresql://...``, ``sqlite:///...``) selects optuna's RDB storage for a server.
Because the store *is* an optuna storage, ``optuna-dashboard <store>/optuna.journal`` and
``optuna.load_study`` open our runs directly.

Each evaluation is one optuna trial:

- ``params`` / ``distributions``: the design in optuna form (:mod:`codesign.spaces.convert.optuna_dists`);
- ``values``: the objective values in the problem's objective order (complete and
  infeasible records; optuna's ``constraints`` hold the violation amounts, so optuna treats
  infeasible trials as such);
- state ``COMPLETE`` (complete / infeasible) or ``FAIL`` (failed, with the reason);
- user attribute ``codesign``: the full :class:`~codesign.types.EvalRecord` as JSON
  (design, metrics with breakdowns, state, agent, seed, timing, error).

Records are validated before writing: optuna silently fails a trial whose values contain
NaN or have the wrong length, so such a record is written as failed with that reason.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from codesign.errors import StoreError, require
from codesign.types import EvalRecord, EvalState, Objective

JOURNAL = "optuna.journal"
_URL_SCHEMES = ("postgresql://", "postgresql+psycopg2://", "mysql://", "sqlite:///")


def _optuna() -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def is_url(location: str) -> bool:
    return any(location.startswith(s) for s in _URL_SCHEMES)


@dataclass
class RunInfo:
    """Summary of one run in a store."""

    name: str
    problem: str
    agent: str
    seed: int | None
    budget: int | None
    objectives: list[Objective]
    n_records: int
    space: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


class Run:
    """One run (one optuna study) of a store."""

    def __init__(self, store: Store, study: Any) -> None:
        self.store = store
        self.study = study
        attrs = study.user_attrs
        self.name: str = study.study_name
        self.meta: dict[str, Any] = dict(attrs.get("codesign_run", {}))
        self.objectives = [Objective.parse(o) for o in self.meta.get("objectives", [])]
        self._space_json = self.meta.get("space")
        self._space = None
        self._dists = None

    @property
    def space(self) -> Any:
        if self._space is None and self._space_json is not None:
            from codesign.spaces.space import Space

            self._space = Space.from_dict(self._space_json)
        return self._space

    def _distributions(self) -> dict[str, Any]:
        if self._dists is None:
            from codesign.spaces.convert.optuna_dists import to_optuna

            self._dists = to_optuna(self.space)
        return self._dists

    def info(self) -> RunInfo:
        return RunInfo(
            self.name, self.meta.get("problem", ""), self.meta.get("agent", ""), self.meta.get("seed"),
            self.meta.get("budget"), self.objectives, len(self.study.get_trials(deepcopy=False)),
            self._space_json or {}, self.meta,
        )

    def dataframe(self) -> Any:
        """Every finished record of the run as a pandas DataFrame (:mod:`codesign.results.frames`)."""
        from codesign.results.frames import records_frame

        return records_frame(self.records(), self.name)

    def front(self) -> Any:
        """The run's Pareto front as a pandas DataFrame (:mod:`codesign.results.frames`)."""
        from codesign.results.frames import front_frame

        return front_frame(self.records(), self.objectives, self.name)

    # --- writing -------------------------------------------------------------------------
    def _params(self, design: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        from codesign.spaces.convert.optuna_dists import optuna_encode

        try:
            params = optuna_encode(self.space, design)
            return params, {k: self._distributions()[k] for k in params}
        except Exception:  # a design outside the space is still recorded, without params
            return {}, {}

    def reserve(self, record: EvalRecord) -> int:
        """Write ``record`` as a RUNNING trial (an evaluation in flight); returns its trial id.

        If the process dies before :meth:`finish`, the trial stays RUNNING and is found by
        :meth:`in_flight` when the run resumes.
        """
        optuna = _optuna()
        params, dists = self._params(record.design)
        record.state = EvalState.RUNNING
        template = optuna.trial.FrozenTrial(
            number=-1, state=optuna.trial.TrialState.RUNNING, value=None, values=None,
            datetime_start=None, datetime_complete=None, params=params, distributions=dists,
            user_attrs={"codesign": record.to_dict()}, system_attrs={}, intermediate_values={}, trial_id=-1,
        )
        try:
            trial_id = self.store.storage.create_new_trial(self._study_id, template_trial=template)
        except Exception as exc:  # pragma: no cover - storage failure
            raise StoreError(f"could not write to store {self.store.location!r}: {exc}") from exc
        record.number = self.store.storage.get_trial_number_from_id(trial_id)
        return trial_id

    def finish(self, trial_id: int, record: EvalRecord) -> EvalRecord:
        """Complete a reserved trial with the evaluation's outcome."""
        optuna = _optuna()
        from optuna.study._constrained_optimization import _CONSTRAINTS_KEY

        storage = self.store.storage
        record = _validated(record, self.objectives)
        record.number = storage.get_trial_number_from_id(trial_id)
        values = None
        state = optuna.trial.TrialState.FAIL
        if record.state in (EvalState.COMPLETE, EvalState.INFEASIBLE):
            values = record.metrics.objective_values(self.objectives)
            state = optuna.trial.TrialState.COMPLETE
            constraints = {k: float(v) for k, v in record.metrics.violations.items()} or {"violation": 0.0}
            for key, value in constraints.items():
                storage.set_trial_system_attr(trial_id, f"{_CONSTRAINTS_KEY}:{key}", value)
        storage.set_trial_user_attr(trial_id, "codesign", record.to_dict())
        storage.set_trial_state_values(trial_id, state, values)
        return record

    def append(self, record: EvalRecord) -> EvalRecord:
        """Write one finished record as one optuna trial; returns it with ``number`` set."""
        state = record.state
        trial_id = self.reserve(record)
        record.state = state
        return self.finish(trial_id, record)

    def in_flight(self, worker: str | None = None) -> list[tuple[int, EvalRecord]]:
        """``(trial id, record)`` of RUNNING trials (of ``worker`` if given)."""
        optuna = _optuna()
        out = []
        for t in self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            payload = t.user_attrs.get("codesign")
            if payload is None or (worker is not None and payload.get("worker", "") != worker):
                continue
            rec = EvalRecord.from_dict(payload)
            rec.number = t.number
            out.append((t._trial_id, rec))
        return out

    def mark_orphaned(self, trial_id: int, record: EvalRecord) -> None:
        """Close an in-flight trial of a dead process: FAIL, flagged ``orphaned`` (it is redone)."""
        record.state = EvalState.FAILED
        record.orphaned = True
        record.error = "orphaned: in flight when the run stopped; evaluated again on resume"
        self.finish(trial_id, record)

    @property
    def _study_id(self) -> int:
        return self.study._study_id

    def records(self, include_running: bool = False) -> list[EvalRecord]:
        """Records in trial order. A trial whose optuna state is still RUNNING is in flight,
        whatever its payload says (a process killed between writing the payload and the
        state leaves exactly that), and is skipped unless ``include_running``."""
        running = _optuna().trial.TrialState.RUNNING
        out = []
        for t in self.study.get_trials(deepcopy=False):
            payload = t.user_attrs.get("codesign")
            if payload is None:
                continue
            rec = EvalRecord.from_dict(payload)
            if t.state == running:
                rec.state = EvalState.RUNNING
            if rec.state is EvalState.RUNNING and not include_running:
                continue
            rec.number = t.number
            out.append(rec)
        return out


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _validated(record: EvalRecord, objectives: list[Objective]) -> EvalRecord:
    if record.state in (EvalState.COMPLETE, EvalState.INFEASIBLE):
        bad = [o.name for o in objectives
               if o.name not in record.metrics.values or not math.isfinite(float(record.metrics.values[o.name]))]
        if bad:
            record.state = EvalState.FAILED
            record.error = f"objectives {bad} missing or not finite"
    return record


class Store:
    """A results store at a directory path (embedded, journal file) or a database URL."""

    def __init__(self, location: str, create: bool = True) -> None:
        if not isinstance(location, str) or not location.strip():
            raise StoreError(f"--store must be a directory path or a database URL, but got {location!r}")
        self.location = location
        self._storage: Any = None
        self._create = create
        if not is_url(location):
            if os.path.exists(location) and not os.path.isdir(location):
                raise StoreError(f"--store must be a directory (the embedded store), but {location!r} is a file")
            if not create and not os.path.isfile(os.path.join(location, JOURNAL)):
                raise StoreError(f"no codesign store at {location!r} (expected {os.path.join(location, JOURNAL)})")

    @property
    def journal_path(self) -> str | None:
        return None if is_url(self.location) else os.path.join(self.location, JOURNAL)

    @property
    def storage(self) -> Any:
        if self._storage is None:
            optuna = _optuna()
            if is_url(self.location):
                # several workers starting at once race to create the schema: retry briefly
                for attempt in range(6):
                    try:
                        self._storage = optuna.storages.RDBStorage(self.location)
                        break
                    except Exception as exc:
                        if attempt == 5 or "already exists" not in str(exc) and "duplicate" not in str(exc).lower():
                            raise StoreError(f"cannot open store {self.location!r}: {_first_line(exc)}") from None
                        time.sleep(0.2 * (attempt + 1))
            else:
                os.makedirs(self.location, exist_ok=True)
                from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

                path = os.path.join(self.location, JOURNAL)
                repair_journal(path)
                self._storage = optuna.storages.JournalStorage(
                    JournalFileBackend(path, lock_obj=JournalFileOpenLock(path))
                )
        return self._storage

    def run_names(self) -> list[str]:
        if self.journal_path is not None and not os.path.isfile(self.journal_path):
            return []
        return [s.study_name for s in self.storage.get_all_studies()
                if "codesign_run" in s.user_attrs]

    def open_run(self, name: str) -> Run:
        optuna = _optuna()
        try:
            study = optuna.load_study(study_name=name, storage=self.storage)
        except KeyError:
            import difflib

            names = self.run_names()
            close = difflib.get_close_matches(name, names, n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise StoreError(f"store {self.location!r} has no run {name!r}{hint} (runs: {names or 'none'})") from None
        return Run(self, study)

    def runs(self) -> list[Run]:
        return [self.open_run(n) for n in self.run_names()]

    def dataframe(self) -> Any:
        """Every finished record of every run as one pandas DataFrame (column ``run`` names the run)."""
        from codesign.results.export import export_rows

        pd: Any = require("pandas", "notebook", "a DataFrame of records")
        return pd.DataFrame(export_rows(self))

    def metrics_cache(self, problem_version: str) -> dict[str, Any]:
        """Metrics by design key from every run whose problem version equals ``problem_version``."""
        cache: dict[str, Any] = {}
        for run in self.runs():
            if run.meta.get("problem_version") != problem_version:
                continue
            for rec in run.records():
                if rec.state in (EvalState.COMPLETE, EvalState.INFEASIBLE) and not rec.cached:
                    cache.setdefault(rec.design.key, rec.metrics)
        return cache

    def create_run(self, name: str, meta: Mapping[str, Any]) -> tuple[Run, bool]:
        """Open run ``name``, creating it if needed; returns ``(run, resumed)``.

        An existing run is resumed only if its problem, space and objectives match ``meta``.
        """
        optuna = _optuna()
        objectives = [Objective.parse(o) for o in meta["objectives"]]
        if name not in self.run_names():
            try:
                study = optuna.create_study(
                    study_name=name, storage=self.storage,
                    directions=["minimize" if o.direction.value == "min" else "maximize" for o in objectives],
                )
            except optuna.exceptions.DuplicatedStudyError:
                pass  # another worker created it a moment ago: join it below
            else:
                full = dict(meta)
                full.setdefault("created", time.strftime("%Y-%m-%dT%H:%M:%S"))
                study.set_user_attr("codesign_run", json.loads(json.dumps(full, default=str)))
                return Run(self, study), False
        run = self._await_run(name)
        for key in ("problem", "space", "objectives", "agent", "seed"):
            if json.dumps(run.meta.get(key), sort_keys=True) != json.dumps(meta.get(key), sort_keys=True):
                raise StoreError(
                    f"run {name!r} in {self.location!r} exists with a different {key}; "
                    f"use another --name (or another --store) for a new run"
                )
        return run, True

    def _await_run(self, name: str, timeout_s: float = 30.0) -> Run:
        """Open a run whose creator may still be writing its metadata (concurrent workers)."""
        deadline = time.monotonic() + timeout_s
        while True:
            run = self.open_run(name)
            if run.meta or time.monotonic() > deadline:
                if not run.meta:
                    raise StoreError(f"study {name!r} in {self.location!r} is not a codesign run (no run metadata)")
                return run
            time.sleep(0.05)


def repair_journal(path: str) -> int:
    """Drop a torn last line of a journal file (a writer killed mid-write); returns bytes cut.

    Journal appends are whole lines; a process killed during a large write can leave a
    partial last line, which would corrupt the next append. Runs under the journal's lock.
    """
    if not os.path.isfile(path):
        return 0
    from optuna.storages.journal import JournalFileOpenLock

    lock = JournalFileOpenLock(path)
    lock.acquire()
    try:
        with open(path, "rb+") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            if size == 0:
                return 0
            fh.seek(size - 1)
            if fh.read(1) == b"\n":
                return 0
            block = min(size, 1 << 20)
            while True:
                fh.seek(size - block)
                data = fh.read(block)
                cut = data.rfind(b"\n")
                if cut >= 0 or block == size:
                    keep = size - block + cut + 1 if cut >= 0 else 0
                    break
                block = min(size, block * 2)
            fh.truncate(keep)
            return size - keep
    finally:
        lock.release()


def open_store(location: str, create: bool = False) -> Store:
    """Open an existing store (``create=False``) or create one on first write."""
    return Store(location, create=create)
