"""Stores written by codesign before the SQL schema: an optuna study per run, in optuna's
journal file (``<dir>/optuna.journal``) or optuna's RDB tables (a ``postgresql://`` URL).

They are read in place by read-only commands and migrated into the schema by the first
writer (:meth:`~codesign.results.backends.sql.Backend.import_runs`, once). The journal is
read tolerantly: a torn or junk line (a writer killed mid-append, stray bytes) is skipped
with a warning naming its byte offset instead of making the whole store unreadable.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from codesign.errors import StoreError

JOURNAL = "optuna.journal"
log = logging.getLogger("codesign.store")

#: A legacy run: (name, meta JSON, [(number, worker, state, orphaned, design_key, payload JSON)]).
LegacyRun = tuple[str, str, list[tuple[int, str, str, int, str, str]]]


def journal_lines(path: str) -> Iterator[dict[str, Any]]:
    """The JSON lines of an optuna journal; skips (with a warning) what is not one."""
    offset = 0
    with open(path, "rb") as fh:
        for line in fh:
            start, offset = offset, offset + len(line)
            try:
                entry = json.loads(line) if line.endswith(b"\n") else None
            except ValueError:
                entry = None
            if not isinstance(entry, dict) or "op_code" not in entry:
                if line.strip():
                    log.warning("%s: skipped %d unreadable bytes at byte offset %d (a torn or junk line)",
                                path, len(line), start)
                continue
            yield entry


def _replay(entries: Iterator[dict[str, Any]]) -> Any:
    """Apply journal entries one by one (a skipped line must not stop the rest)."""
    try:
        from optuna.storages.journal._storage import JournalStorageReplayResult
    except ImportError:  # pragma: no cover - an optuna without the class: replay all at once
        import optuna
        from optuna.storages.journal import BaseJournalBackend

        logs = list(entries)

        class _Logs(BaseJournalBackend):
            def read_logs(self, log_number_from: int) -> list[dict[str, Any]]:
                return logs[log_number_from:]

            def append_logs(self, new: list[dict[str, Any]]) -> None:
                raise StoreError("a legacy journal is read-only")

        return optuna.storages.JournalStorage(_Logs())
    result = JournalStorageReplayResult("codesign-legacy-reader-")
    for n, entry in enumerate(entries):
        try:
            result.apply_logs([entry])
        except Exception:  # noqa: BLE001 - an entry that refers to a skipped one
            log.warning("optuna journal: skipped entry %d (%s), which refers to a lost one", n, entry.get("op_code"))
    return result


def read_journal(path: str) -> list[LegacyRun]:
    """The codesign runs of an optuna journal file."""
    replay = _replay(journal_lines(path))
    if hasattr(replay, "get_trial_id_from_study_id_trial_number"):  # a whole JournalStorage (fallback)
        return _runs(replay.get_all_studies(), lambda sid: replay.get_all_trials(sid, deepcopy=False))
    return _runs(replay.get_all_studies(), lambda sid: replay.get_all_trials(sid, None))


def read_optuna_rdb(url: str) -> list[LegacyRun]:
    """The codesign runs of optuna's RDB tables at ``url`` (read only: no table is created)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(url, skip_table_creation=True, skip_compatibility_check=True)
    try:
        return _runs(storage.get_all_studies(), lambda sid: storage.get_all_trials(sid, deepcopy=False))
    finally:
        storage.remove_session()
        storage.engine.dispose()


def _runs(studies: Any, trials_of: Any) -> list[LegacyRun]:
    from codesign.types import Design

    out: list[LegacyRun] = []
    for study in studies:
        meta = study.user_attrs.get("codesign_run")
        if not isinstance(meta, dict):
            continue
        rows = []
        for t in trials_of(study._study_id):
            payload = t.user_attrs.get("codesign")
            if not isinstance(payload, dict) or "design" not in payload:
                continue
            payload = dict(payload, number=t.number)
            state = "running" if t.state.name == "RUNNING" else str(payload.get("state", "failed"))
            if state == "running":
                payload["state"] = "running"
            key = str(payload.get("design_key") or Design(payload["design"]).key)
            rows.append((t.number, str(payload.get("worker", "")), state, int(bool(payload.get("orphaned"))), key,
                         json.dumps(payload)))
        out.append((study.study_name, json.dumps(meta), rows))
    return out
