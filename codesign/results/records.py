"""Turning an evaluation's outcome into an :class:`~codesign.types.EvalRecord`.

Shared by the runner (which records in the driver) and by executor workers that write their
own records (:class:`codesign.results.store.RecordSink`), so both write byte-identical records.

Stored reasons are bounded: an exception text of any size is kept as its first
``REASON_HEAD`` and last ``REASON_TAIL`` characters with the omitted length stated, so one
evaluator raising a 200 MB message cannot make a 200 MB record (issue 14, item 4).
"""

from __future__ import annotations

from typing import Any

from codesign.types import Design, EvalRecord, EvalState, Metrics

REASON_HEAD = 2000
REASON_TAIL = 1000


def bounded(text: str, head: int = REASON_HEAD, tail: int = REASON_TAIL) -> str:
    """``text`` if it has at most ``head + tail`` characters, else its head and tail with the
    number of characters left out stated between them."""
    text = str(text)
    if len(text) <= head + tail:
        return text
    omitted = len(text) - head - tail
    return f"{text[:head]} [... {omitted} of {len(text)} characters omitted ...] {text[len(text) - tail:]}"


def reason(exc: BaseException | str) -> str:
    """One bounded line naming an exception: ``Type: message`` (the first line of it)."""
    if isinstance(exc, str):
        return bounded(exc)
    remote = getattr(exc, "remote_reason", None)
    if isinstance(remote, str):  # raised in a worker process and already described there
        return bounded(remote)
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a __str__ that raises still names its type
        text = ""
    text = bounded(text.strip())
    first = text.splitlines()[0] if text else ""
    name = type(exc).__name__
    if isinstance(exc, SystemExit):
        return f"SystemExit: the evaluator called sys.exit({exc.code!r})"
    return f"{name}: {first}" if first else name


def outcome_record(design: Design, outcome: Metrics | BaseException | str, agent: str, seed: int | None,
                   seconds: float, worker: str, cached: bool = False) -> EvalRecord:
    """The record of one evaluation: complete / infeasible for metrics, failed otherwise."""
    if isinstance(outcome, Metrics):
        state = EvalState.COMPLETE if outcome.feasible else EvalState.INFEASIBLE
        return EvalRecord(design, outcome, state, agent, seed, seconds, cached=cached, worker=worker)
    return EvalRecord(design, Metrics(), EvalState.FAILED, agent, seed, seconds, error=reason(outcome), worker=worker)


def describe(outcome: Any) -> str:
    """A failed outcome as text for transport between processes (bounded)."""
    return reason(outcome) if isinstance(outcome, BaseException) else bounded(str(outcome))
