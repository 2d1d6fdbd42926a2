"""Checks a registered problem must pass (tests and ``experiments/flagship_*`` use them).

- :func:`bit_params` / :func:`bits_opposed_by`: a problem that searches bits must score
  something that gets worse as bits fall — an evaluator marked ``opposes_bits`` (a real probe, or
  a calibrated proxy) whose metric is one of the objectives. Otherwise the cheapest bits always
  win and the bit dimension is degenerate.
- :func:`feasible_share`: the share of random designs (``space.sample``) that are feasible,
  scored by every evaluator that can make a design infeasible (accuracy probes never do, so
  ``probes=False`` skips them and checks the space and the cost model).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from codesign.evaluators.composite import Problem

__all__ = ["bit_params", "bits_opposed_by", "feasible_share"]


def bit_params(problem: Problem) -> list[str]:
    """The space's bit-width parameters (``w_bits.*`` / ``a_bits.*``)."""
    return [n for n in problem.space.names if n.split(".", 1)[0] in ("w_bits", "a_bits")]


def bits_opposed_by(problem: Problem) -> list[dict[str, Any]]:
    """Evaluators that oppose lowering bits and whose metric is an objective of the problem."""
    objectives = {o.name: o.direction.value for o in problem.objectives}
    out = []
    for ev in problem.evaluators:
        kind = getattr(ev, "opposes_bits", None)
        metrics = [m for m in ev.metrics if m in objectives]
        if kind and metrics:
            out.append({"evaluator": ev.name, "kind": kind, "metrics": {m: objectives[m] for m in metrics}})
    return out


def feasible_share(problem: Problem, n: int = 20, seed: int = 0, probes: bool = False) -> dict[str, Any]:
    """Sample ``n`` designs with ``problem.space.sample`` and score them.

    With ``probes=False`` the accuracy evaluators (``opposes_bits``) are skipped (the cost model
    a multi-fidelity evaluator holds still runs): probes report no violations, and problem
    metric constraints that read their metrics are not checked then.
    Returns ``{"n", "feasible", "share", "violations": {name: count}}``.
    """
    rng = np.random.default_rng(seed)
    designs = [problem.space.sample(rng) for _ in range(n)]
    if probes:
        results = [m.violations for m in problem.evaluate_many(designs)]
    else:
        results = [{f"space:{v}": 1.0 for v in problem.space.violations(d)} for d in designs]
        for ev in problem.evaluators:
            if getattr(ev, "opposes_bits", None):  # a probe, or a multi-fidelity probe holding the cost model
                ev = getattr(ev, "cost", None)
                if ev is None:
                    continue
            for viol, m in zip(results, ev.evaluate_many(designs)):
                viol.update(m.violations)
    counts: dict[str, int] = {}
    for viol in results:
        for name in viol:
            kind = name.split(":", 1)[0] if name.startswith(("capacity:", "space:")) else name
            counts[kind] = counts.get(kind, 0) + 1
    ok = sum(1 for v in results if not v)
    return {"n": n, "feasible": ok, "share": ok / n if n else 0.0, "violations": counts}
