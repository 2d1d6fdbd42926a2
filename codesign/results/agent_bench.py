"""Search-quality metrics of an agents benchmark (REFERENCES.md §8), computed from records only.

- hypervolume after each evaluation (:func:`~codesign.results.summary.hv_trace`) against one
  reference point shared by every run of the benchmark; median and interquartile range over
  seeds per agent;
- for an enumerable problem, the exact Pareto front's hypervolume and each run's ratio to it;
- agent overhead per evaluation = (run wall time − evaluation time) / evaluations;
- ArchGym's hyperparameter lottery: the spread of final hypervolume over an agent's
  hyperparameter grid, ``(best − worst) / best``.

Rendering: a markdown table (:func:`markdown_table`) and a PNG of hypervolume (ratio) vs.
evaluations (:func:`plot_traces`, matplotlib, imported lazily).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class AgentResult:
    """Every seed of one agent: HV traces (evaluations -> HV), overheads, run times."""

    agent: str
    traces: list[list[float]] = field(default_factory=list)
    overhead_s: list[float] = field(default_factory=list)
    wall_s: list[float] = field(default_factory=list)
    lottery: dict[str, float] = field(default_factory=dict)  # config label -> final HV
    errors: list[str] = field(default_factory=list)

    def matrix(self, budget: int) -> np.ndarray:
        """``(seeds, budget)`` traces, each padded with its last value (a run may end early)."""
        rows = []
        for t in self.traces:
            t = list(t[:budget]) or [0.0]
            rows.append(t + [t[-1]] * (budget - len(t)))
        return np.array(rows, dtype=float).reshape(len(rows), budget)

    def final(self, budget: int) -> np.ndarray:
        m = self.matrix(budget)
        return m[:, -1] if m.size else np.zeros(0)


def evals_to_reach(trace: Sequence[float], target: float) -> int | None:
    """First evaluation count (1-based) at which ``trace`` reaches ``target``, or None."""
    hits = np.flatnonzero(np.asarray(trace) >= target)
    return int(hits[0]) + 1 if hits.size else None


def lottery_spread(values: Mapping[str, float]) -> float | None:
    """``(best − worst) / best`` of the final hypervolumes over a hyperparameter grid."""
    v = np.array(list(values.values()), dtype=float)
    if v.size < 2 or not np.isfinite(v).all() or v.max() <= 0:
        return None
    return float((v.max() - v.min()) / v.max())


def summarize(results: Sequence[AgentResult], budget: int, exact_hv: float | None) -> list[dict[str, Any]]:
    """One row per agent: median / IQR of final HV, HV ratio, evaluations to 95%, overhead."""
    rows = []
    for r in results:
        fin = r.final(budget)
        row: dict[str, Any] = {"agent": r.agent, "seeds": len(r.traces)}
        if fin.size:
            q1, med, q3 = np.percentile(fin, [25, 50, 75])
            row.update(hv_median=float(med), hv_q1=float(q1), hv_q3=float(q3))
            if exact_hv:
                ratios = fin / exact_hv
                row.update(ratio_median=float(np.median(ratios)), ratio_min=float(ratios.min()),
                           ratio_max=float(ratios.max()))
                reach = [evals_to_reach(t, 0.95 * exact_hv) for t in r.matrix(budget)]
                got = [x for x in reach if x is not None]
                row["evals_to_95"] = float(np.median(got)) if len(got) * 2 > len(reach) else None
        row["overhead_ms_per_eval"] = float(np.median(r.overhead_s) * 1e3) if r.overhead_s else None
        row["wall_s_median"] = float(np.median(r.wall_s)) if r.wall_s else None
        row["lottery"] = dict(r.lottery)
        row["lottery_spread"] = lottery_spread(r.lottery)
        row["errors"] = list(r.errors)
        rows.append(row)
    return rows


def _fmt(v: Any, spec: str = ".4g") -> str:
    return "—" if v is None else format(v, spec)


def markdown_table(rows: Sequence[Mapping[str, Any]], title: str, notes: Sequence[str] = ()) -> str:
    """The benchmark table, best median hypervolume first."""
    exact = any("ratio_median" in r for r in rows)
    head = ["agent", "seeds", "HV median [IQR]"]
    if exact:
        head += ["HV / exact (median, min–max)", "evals to 95% of exact"]
    head += ["overhead ms/eval", "wall s (median)", "lottery spread"]
    lines = [f"# {title}", "", *notes, "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in sorted(rows, key=lambda r: -(r.get("hv_median") or 0.0)):
        cells = [r["agent"], str(r["seeds"]),
                 f"{_fmt(r.get('hv_median'))} [{_fmt(r.get('hv_q1'))}, {_fmt(r.get('hv_q3'))}]"]
        if exact:
            cells += [f"{_fmt(r.get('ratio_median'), '.3f')} ({_fmt(r.get('ratio_min'), '.3f')}–{_fmt(r.get('ratio_max'), '.3f')})",
                      _fmt(r.get("evals_to_95"), ".0f")]
        cells += [_fmt(r.get("overhead_ms_per_eval"), ".1f"), _fmt(r.get("wall_s_median"), ".1f"),
                  _fmt(r.get("lottery_spread"), ".3f")]
        lines.append("| " + " | ".join(cells) + " |")
    lot = [r for r in rows if r.get("lottery")]
    if lot:
        lines += ["", "Lottery (final HV per hyperparameter setting, seed 0):", ""]
        for r in lot:
            lines.append(f"- `{r['agent']}`: " + ", ".join(f"{k}: {v:.4g}" for k, v in r["lottery"].items()))
    errs = [r for r in rows if r.get("errors")]
    if errs:
        lines += ["", "Errors:", ""] + [f"- `{r['agent']}`: {e}" for r in errs for e in r["errors"]]
    return "\n".join(lines) + "\n"


def plot_traces(results: Sequence[AgentResult], budget: int, path: str, title: str, exact_hv: float | None) -> bool:
    """PNG of median HV (or HV ratio to the exact front) vs. evaluations, IQR shaded.
    Returns False (and writes nothing) when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    x = np.arange(1, budget + 1)
    cmap = plt.get_cmap("tab10")  # distinct hues; line styles cycle past 10 agents
    for i, r in enumerate(results):
        m = r.matrix(budget)
        if not m.size:
            continue
        if exact_hv:
            m = m / exact_hv
        q1, med, q3 = np.percentile(m, [25, 50, 75], axis=0)
        ax.plot(x, med, label=r.agent, color=cmap(i % 10), lw=1.5, ls=("-", "--", ":")[i // 10 % 3])
        ax.fill_between(x, q1, q3, color=cmap(i % 10), alpha=0.15)
    if exact_hv:
        ax.axhline(0.95, color="k", ls="--", lw=0.8)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("hypervolume / exact front" if exact_hv else "hypervolume")
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True
