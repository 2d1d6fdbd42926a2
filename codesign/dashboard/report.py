"""Static, self-contained HTML report of a store (the dashboard's figures, for sharing).

One HTML file with plotly.js inlined once, so it opens offline. Per problem: the runs table,
the Pareto front (2-D over the first two objectives, 3-D over the first three), hypervolume
vs. evaluations per agent, the Pareto designs, and the detail of the best design for each
objective. Every user-provided string is HTML-escaped.
"""

from __future__ import annotations

import html
import time
from typing import Any

from codesign.dashboard import data, figures
from codesign.dashboard.detail import design_detail
from codesign.types import Design, EvalState

STYLE = """
body { font-family: Inter, Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1200px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 18px; border-bottom: 2px solid #1f2a44; padding-bottom: 4px; margin-top: 32px; }
h3 { font-size: 15px; margin-top: 20px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
td, th { border-bottom: 1px solid #ddd; padding: 3px 10px; text-align: left; }
td { font-variant-numeric: tabular-nums; }
.grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 8px 16px; }
.note { color: #555; font-size: 13px; }
"""
MAX_FRONT_ROWS = 50


def _e(text: Any) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _cell(v: Any) -> Any:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else v


def html_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """An HTML table of ``rows`` (dicts) over ``columns``, by pandas (every cell HTML-escaped)."""
    import pandas as pd

    frame = pd.DataFrame([[_cell(r.get(c)) for c in columns] for r in rows], columns=columns, dtype=object)
    return frame.to_html(index=False, escape=True, border=0, na_rep="")


class _Figures:
    """Renders figures to HTML divs, inlining plotly.js with the first one only."""

    def __init__(self) -> None:
        self.first = True

    def __call__(self, fig: Any) -> str:
        import plotly.io as pio

        out = pio.to_html(fig, full_html=False, include_plotlyjs=self.first, config={"displaylogo": False})
        self.first = False
        return out


def _detail_section(detail: dict[str, Any], why: str, fig: _Figures) -> str:
    kv = [{"name": n, "value": v} for n, v in detail["accelerator"] + detail["other_params"]]
    objs = [{"name": f"{n} ({d})", "value": v} for n, v, d in detail["objectives"]]
    mapping = detail["mapping"]
    parts = [f"<h3>{_e(detail['run'])} #{_e(detail['number'])} — {_e(why)}</h3>", '<div class="grid"><div>',
             html_table(objs, ["name", "value"]), "</div><div>", html_table(kv, ["name", "value"]), "</div></div>"]
    if mapping["rows"]:
        parts.append(html_table(mapping["rows"], ["layer"] + mapping["fields"]))
    parts.append('<div class="grid">' + "".join(f"<div>{fig(fn(detail))}</div>" for _, fn in figures.DETAIL_FIGURES)
                 + "</div>")
    return "".join(parts)


def _showcase(prob: data.ProblemData) -> list[tuple[str, data.RunData, Any]]:
    """The best feasible record for each objective (distinct designs)."""
    out, seen = [], set()
    feas = [(run, rec) for run, rec in prob.items() if rec.state is EvalState.COMPLETE]
    for o in prob.objectives:
        if not feas:
            break
        run, rec = min(feas, key=lambda rr: o.sign * rr[1].metrics.values[o.name])
        if rec.design.key not in seen:
            seen.add(rec.design.key)
            out.append((f"best {o.name}", run, rec))
    return out


def _problem_section(prob: data.ProblemData, runs: list[dict[str, Any]], fig: _Figures) -> str:
    objs = [o.name for o in prob.objectives]
    parts = [f"<h2>Problem {_e(prob.name)}</h2>",
             html_table([r for r in runs if r["problem"] == prob.name],
                        ["run", "agent", "seed", "evaluations", "complete", "infeasible", "failed", "pareto", "hypervolume"]),
             f'<p class="note">hypervolume: {_e(prob.basis.describe())}</p>']
    views = [objs[1::-1]] if len(objs) >= 2 else []
    views += [objs[:3]] if len(objs) >= 3 else []
    for axes in views:
        f, caption = figures.pareto_view(prob, axes, "agent", ["dominated", "infeasible"], "shown")
        parts += [fig(f), f'<p class="note">{_e(caption.replace(" Click a point for its detail.", ""))}</p>']
    parts.append(fig(figures.hv_figure(data.hv_curves(prob), prob.basis)))
    front = list({Design(p["design"]).key: p for p in data.points(prob, objs, "all") if p["front"]}.values())
    rows = [{"run": p["run"], "#": p["number"], "agent": p["agent"], **{o: p["values"][o] for o in objs},
             **{k: p["design"].get(k) for k in ("pe_type", "array_rows", "array_cols", "glb_kb")}} for p in front]
    parts += [f"<h3>Pareto front over all objectives ({len(front)} distinct designs)</h3>",
              html_table(rows[:MAX_FRONT_ROWS], ["run", "#", "agent", *objs, "pe_type", "array_rows", "array_cols", "glb_kb"])]
    if len(rows) > MAX_FRONT_ROWS:
        parts.append(f'<p class="note">… {len(rows) - MAX_FRONT_ROWS} more (see `codesign export`).</p>')
    for why, run, rec in _showcase(prob):
        parts.append(_detail_section(design_detail(rec, run.name, prob.objectives, run.subsystems), why, fig))
    return "".join(parts)


def build_report(location: str) -> str:
    """The report of the store at ``location`` as one self-contained HTML document."""
    snap = data.StoreReader(location).snapshot()
    runs = data.runs_table(snap)
    fig = _Figures()
    body = [f"<h1>codesign report</h1><p class=\"note\">store <code>{_e(location)}</code> · "
            f"{len(runs)} runs · {snap.n_records} evaluations · generated {time.strftime('%Y-%m-%d %H:%M:%S')}</p>"]
    if not snap.problems:
        body.append("<p>This store has no runs yet.</p>")
    body += [_problem_section(p, runs, fig) for p in snap.problems]
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>codesign report</title>"
            f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>")
