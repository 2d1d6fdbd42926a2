"""Search-quality metrics of an agents benchmark (REFERENCES.md §8), computed from records only.

- **normalized hypervolume** after each evaluation: the fraction of the problem's fixed
  ideal–nadir box that the run's front dominates
  (:func:`~codesign.results.pareto.normalized_hypervolume`), so figures compare across
  problems' runs, stores and benchmark invocations; median, interquartile range and min–max
  over seeds per agent;
- the **best-known front** of a problem: the union of every run's feasible designs (and the
  exact front when the space was enumerated); each run's final normalized HV as a ratio to it,
  and that of the union of an agent's seeds (seeds × budget evaluations: how near the agent
  gets with more runs, which bounds what one run can reach);
- **evaluations and time to 95%** of the best-known front's normalized HV (median over the
  seeds that reach it, None when fewer than half do). Time is *modelled at equal evaluation
  cost*: the agent's own overhead up to that evaluation plus ``k ×`` the problem's median
  uncached evaluation time, so an agent that happened to hit the shared metrics cache is not
  favoured;
- **overhead** per evaluation = (run wall time − evaluation time) / evaluations;
- **against random**: ``median − random's median`` and whether that margin exceeds the seed
  spread (the larger of the two interquartile ranges);
- **at equal time against TPE**: the normalized HV an agent had reached when TPE (modelled
  time, median over its seeds) finished its budget — for agents slower than TPE, what their
  extra cost bought;
- ArchGym's hyperparameter lottery: ``(best − worst) / best`` of the final HV over a grid.

Rendering: a markdown table per problem (:func:`markdown_table`), a cross-problem summary
(:func:`summary_table`) and a PNG of normalized HV vs. evaluations (:func:`plot_traces`,
matplotlib, imported lazily).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

BASELINE = "random"
TIME_BASELINE = "tpe"
TARGET = 0.95


@dataclass
class AgentResult:
    """Every seed of one agent on one problem: HV traces (evaluations -> normalized HV),
    per-record agent overhead (cumulative seconds), overheads, run times, notes."""

    agent: str
    traces: list[list[float]] = field(default_factory=list)
    overhead_s: list[float] = field(default_factory=list)
    wall_s: list[float] = field(default_factory=list)
    agent_time: list[list[float]] = field(default_factory=list)  # cumulative agent seconds per record
    lottery: dict[str, float] = field(default_factory=dict)  # config label -> final HV
    errors: list[str] = field(default_factory=list)
    degraded: list[str] = field(default_factory=list)  # fallbacks an agent recorded (describe())
    fronts: list[np.ndarray] = field(default_factory=list)  # each seed's feasible objective values
    union_hv: float | None = None  # normalized HV of every seed's designs together

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
    hits = np.flatnonzero(np.asarray(trace) >= target - 1e-12)
    return int(hits[0]) + 1 if hits.size else None


def lottery_spread(values: Mapping[str, float]) -> float | None:
    """``(best − worst) / best`` of the final hypervolumes over a hyperparameter grid."""
    v = np.array(list(values.values()), dtype=float)
    if v.size < 2 or not np.isfinite(v).all() or v.max() <= 0:
        return None
    return float((v.max() - v.min()) / v.max())


def _median_if_most(values: Sequence[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return float(np.median(got)) if got and len(got) * 2 > len(values) else None


def summarize(results: Sequence[AgentResult], budget: int, best_hv: float | None,
              eval_s: float = 0.0) -> list[dict[str, Any]]:
    """One row per agent: normalized HV median / IQR / range, ratio to the best-known front,
    evaluations and modelled seconds to 95% of it, overhead, margin over random."""
    rows = []
    for r in results:
        fin = r.final(budget)
        row: dict[str, Any] = {"agent": r.agent, "seeds": len(r.traces)}
        if fin.size:
            q1, med, q3 = np.percentile(fin, [25, 50, 75])
            row.update(hv_median=float(med), hv_q1=float(q1), hv_q3=float(q3), hv_min=float(fin.min()),
                       hv_max=float(fin.max()))
            if best_hv:
                ratios = fin / best_hv
                row.update(ratio_median=float(np.median(ratios)), ratio_min=float(ratios.min()),
                           ratio_max=float(ratios.max()))
                if r.union_hv is not None:
                    row["union_ratio"] = float(r.union_hv / best_hv)
                target = TARGET * best_hv
                reach = [evals_to_reach(t, target) for t in r.matrix(budget)]
                row["evals_to_95"] = _median_if_most(reach)
                secs: list[float | None] = []
                for k, times in zip(reach, r.agent_time or [[]] * len(reach)):
                    secs.append(None if k is None or not times else times[min(k, len(times)) - 1] + k * eval_s)
                row["seconds_to_95"] = _median_if_most(secs)
        row["overhead_ms_per_eval"] = float(np.median(r.overhead_s) * 1e3) if r.overhead_s else None
        row["wall_s_median"] = float(np.median(r.wall_s)) if r.wall_s else None
        row["lottery"] = dict(r.lottery)
        row["lottery_spread"] = lottery_spread(r.lottery)
        row["errors"] = list(r.errors)
        row["degraded"] = list(r.degraded)
        rows.append(row)
    _at_tpe_time(results, rows, budget, eval_s)
    base = next((x for x in rows if x["agent"] == BASELINE and "hv_median" in x), None)
    for row in rows:
        if base is None or "hv_median" not in row or row is base:
            continue
        margin = row["hv_median"] - base["hv_median"]
        spread = max(row["hv_q3"] - row["hv_q1"], base["hv_q3"] - base["hv_q1"])
        row.update(vs_random=float(margin), spread=float(spread), ge_random=bool(margin >= 0),
                   beats_random=bool(margin > spread))
    return rows


def _at_tpe_time(results: Sequence[AgentResult], rows: list[dict[str, Any]], budget: int, eval_s: float) -> None:
    """``hv_at_tpe_time``: median normalized HV when TPE's modelled run time had elapsed."""
    tpe = next((r for r in results if r.agent == TIME_BASELINE and r.agent_time), None)
    if tpe is None:
        return
    t_end = float(np.median([t[-1] + len(t) * eval_s for t in tpe.agent_time if t]))
    for r, row in zip(results, rows):
        vals = []
        for trace, times in zip(r.matrix(budget), r.agent_time):
            model = np.asarray(times) + eval_s * np.arange(1, len(times) + 1)
            k = int(np.searchsorted(model, t_end, side="right"))
            vals.append(float(trace[min(k, budget) - 1]) if k else 0.0)
        if vals:
            row["hv_at_tpe_time"] = float(np.median(vals))
            row["tpe_time_s"] = t_end


def _fmt(v: Any, spec: str = ".4f") -> str:
    return "—" if v is None else format(v, spec)


def _verdict(r: Mapping[str, Any]) -> str:
    if "vs_random" not in r:
        return "baseline" if r["agent"] == BASELINE else "—"
    word = "beats" if r["beats_random"] else ("≥" if r["ge_random"] else "**loses**")
    return f"{word} ({r['vs_random']:+.4f}; spread {r['spread']:.4f})"


STALE = "†"
STALE_NOTE = (f"{STALE} measured with an earlier version of the agent's code (the fingerprint recorded in the "
              "table's JSON is not the code's): out of step until the table is regenerated.")


def stale_agents(doc: Mapping[str, Any], current: Mapping[str, str | None]) -> list[str]:
    """The agents of a benchmark document whose row records a code fingerprint other than the
    one ``current`` gives for that agent today (rows without one, and agents ``current`` does
    not know, are not judged)."""
    return [r["agent"] for r in doc["agents"]
            if r.get("fingerprint") and current.get(r["agent"]) and r["fingerprint"] != current[r["agent"]]]


def markdown_table(rows: Sequence[Mapping[str, Any]], title: str, notes: Sequence[str] = (),
                   stale: Sequence[str] = ()) -> str:
    """The benchmark table of one problem, best median normalized hypervolume first; the
    ``stale`` agents' rows are marked (:data:`STALE_NOTE`)."""
    head = ["agent", "seeds", "normalized HV median [IQR] (min–max)", "÷ best-known (median, min–max)",
            "seeds' union ÷ best-known",
            "vs random (margin; spread)", "evals to 95%", "s to 95%", "nHV at TPE's time", "overhead ms/eval",
            "wall s", "lottery spread"]
    lines = [f"# {title}", "", *notes, "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in sorted(rows, key=lambda r: -(r.get("hv_median") or 0.0)):
        cells = [f"`{r['agent']}`" + (f" {STALE}" if r["agent"] in stale else ""), str(r["seeds"]),
                 f"{_fmt(r.get('hv_median'))} [{_fmt(r.get('hv_q1'))}, {_fmt(r.get('hv_q3'))}] "
                 f"({_fmt(r.get('hv_min'))}–{_fmt(r.get('hv_max'))})",
                 f"{_fmt(r.get('ratio_median'), '.3f')} ({_fmt(r.get('ratio_min'), '.3f')}–{_fmt(r.get('ratio_max'), '.3f')})",
                 _fmt(r.get("union_ratio"), ".3f"),
                 _verdict(r), _fmt(r.get("evals_to_95"), ".0f"), _fmt(r.get("seconds_to_95"), ".1f"),
                 _fmt(r.get("hv_at_tpe_time")),
                 _fmt(r.get("overhead_ms_per_eval"), ".1f"), _fmt(r.get("wall_s_median"), ".1f"),
                 _fmt(r.get("lottery_spread"), ".3f")]
        lines.append("| " + " | ".join(cells) + " |")
    if any(r["agent"] in stale for r in rows):
        lines += ["", STALE_NOTE]
    lot = [r for r in rows if r.get("lottery")]
    if lot:
        lines += ["", "Lottery (final normalized HV per hyperparameter setting, seed 0):", ""]
        for r in lot:
            lines.append(f"- `{r['agent']}`: " + ", ".join(f"{k}: {v:.4f}" for k, v in r["lottery"].items()))
    deg = [r for r in rows if r.get("degraded")]
    if deg:
        lines += ["", "Recorded fallbacks (agent, seed: count × reason):", ""]
        lines += [f"- `{r['agent']}`: " + "; ".join(r["degraded"]) for r in deg]
    errs = [r for r in rows if r.get("errors")]
    if errs:
        lines += ["", "Errors:", ""] + [f"- `{r['agent']}`: {e}" for r in errs for e in r["errors"]]
    return "\n".join(lines) + "\n"


def budget_share(doc: Mapping[str, Any]) -> float | None:
    """The share of a benchmark document's best-known front HV its best ``budget`` points hold
    (chosen greedily; ``best_known_budget_hv``), None where not measured."""
    if doc.get("best_known_budget_hv") is None or not doc.get("best_known_hv"):
        return None
    return float(doc["best_known_budget_hv"] / doc["best_known_hv"])


def summary_table(docs: Sequence[Mapping[str, Any]], stale: Mapping[str, Sequence[str]] | None = None) -> str:
    """Agents × problems: median normalized HV ÷ best-known, and the verdict against random;
    the cells of ``stale[problem]`` agents are marked (:data:`STALE_NOTE`)."""
    stale = stale or {}
    problems = [d["problem"] for d in docs]
    agents: list[str] = []
    for d in docs:
        agents += [r["agent"] for r in d["agents"] if r["agent"] not in agents]
    lines = ["| agent | " + " | ".join(f"`{p}`" for p in problems) + " |", "|---|" + "---|" * len(problems)]
    for a in agents:
        cells = []
        for d in docs:
            r = next((x for x in d["agents"] if x["agent"] == a), None)
            if r is None or r.get("hv_median") is None:
                cells.append("—")
                continue
            mark = {True: " ✓✓", False: " ✓"}.get(r.get("beats_random"), "") if r.get("ge_random", True) else " ✗"
            mark += f" {STALE}" if a in stale.get(d["problem"], ()) else ""
            cells.append(f"{r['hv_median']:.4f} ({_fmt(r.get('ratio_median'), '.3f')}){mark}")
        lines.append(f"| `{a}` | " + " | ".join(cells) + " |")
    if any(d.get("best_known_budget_hv") is not None for d in docs):  # what one run could hold on each problem
        cells = [f"{d['best_known_budget_hv']:.4f} ({budget_share(d):.3f})" if budget_share(d) is not None else "—"
                 for d in docs]
        budgets = {d["budget"] for d in docs}
        k = f"{budgets.pop()} points" if len(budgets) == 1 else "budget's points"
        lines.append(f"| best {k} of the best-known front (greedy) | " + " | ".join(cells) + " |")
    if any(stale.get(d["problem"]) for d in docs):
        lines += ["", STALE_NOTE]
    return "\n".join(lines) + "\n"


def plot_traces(results: Sequence[AgentResult], budget: int, path: str, title: str, best_hv: float | None) -> bool:
    """PNG of median normalized HV (÷ best-known when given) vs. evaluations, IQR shaded.
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
        if best_hv:
            m = m / best_hv
        q1, med, q3 = np.percentile(m, [25, 50, 75], axis=0)
        ax.plot(x, med, label=r.agent, color=cmap(i % 10), lw=1.5, ls=("-", "--", ":")[i // 10 % 3])
        ax.fill_between(x, q1, q3, color=cmap(i % 10), alpha=0.15)
    if best_hv:
        ax.axhline(TARGET, color="k", ls="--", lw=0.8)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("normalized HV / best-known front" if best_hv else "normalized hypervolume")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, ncol=2, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True
