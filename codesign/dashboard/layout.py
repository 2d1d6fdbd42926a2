"""Dash components of the dashboard: page layout and the design-detail panel.

All text goes through Dash components, which escape it; nothing here uses
``dangerouslySetInnerHTML`` or markdown.
"""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
from dash import dcc, html

from codesign.dashboard import figures

CSS = """
body { font-family: Inter, Helvetica, Arial, sans-serif; margin: 0; background: #f4f5f7; color: #222; }
header { background: #1f2a44; color: #fff; padding: 12px 24px; display: flex; gap: 24px; align-items: baseline; }
header h1 { font-size: 20px; margin: 0; }
header .store { font-family: monospace; opacity: .85; }
header .status { margin-left: auto; opacity: .85; font-size: 13px; }
main { padding: 16px 24px; display: grid; gap: 16px; }
.card { background: #fff; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.12); padding: 12px 16px; }
.card h2 { font-size: 16px; margin: 0 0 8px 0; }
.row { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 16px; }
.controls { display: flex; flex-wrap: wrap; gap: 12px; align-items: end; font-size: 13px; }
.controls label { display: block; font-weight: 600; margin-bottom: 2px; }
.controls .ctl { min-width: 150px; }
.caption { font-size: 12px; color: #555; margin-top: 4px; }
.empty { color: #666; font-style: italic; padding: 12px 0; }
.kv { border-collapse: collapse; font-size: 13px; }
.kv td, .kv th { border-bottom: 1px solid #eee; padding: 3px 10px 3px 0; text-align: left; }
.kv td.num { text-align: right; font-variant-numeric: tabular-nums; }
.detail-grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 8px 16px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; margin-left: 8px; color: #fff; }
.badge.complete { background: #2e7d32; } .badge.infeasible { background: #c62828; } .badge.failed { background: #555; }
button.btn { background: #1f2a44; color: #fff; border: 0; border-radius: 4px; padding: 6px 12px; cursor: pointer; }
"""

INDEX = """<!DOCTYPE html>
<html><head>{%metas%}<title>{%title%}</title>{%favicon%}{%css%}<style>""" + CSS + """</style></head>
<body>{%app_entry%}<footer>{%config%}{%scripts%}{%renderer%}</footer></body></html>"""

EMPTY_DETAIL = "Click a point in the Pareto plot (or a row of the trial table) to inspect a design."


def _control(label: str, component: Any) -> html.Div:
    return html.Div([html.Label(label), component], className="ctl")


def page(location: str, refresh_s: float) -> html.Div:
    """The whole page: runs, Pareto front, hypervolume, design detail, trials."""
    dd = {"clearable": False, "style": {"minWidth": "170px"}}
    return html.Div([
        html.Header([html.H1("codesign dashboard"), html.Span(location, className="store"),
                     html.Span("loading…", id="status", className="status")]),
        dcc.Interval(id="tick", interval=int(refresh_s * 1000)),
        dcc.Store(id="version"), dcc.Store(id="selected"),
        html.Main([
            html.Section([html.H2("Runs"), dag.AgGrid(
                id="runs-table", rowData=[], columnDefs=[],
                defaultColDef={"sortable": True, "resizable": True}, dashGridOptions={"domLayout": "autoHeight"},
                style={"height": None})],
                className="card"),
            html.Div([
                html.Section([
                    html.H2("Pareto front"),
                    html.Div([
                        _control("problem", dcc.Dropdown(id="problem", **dd)),
                        _control("x", dcc.Dropdown(id="x-axis", **dd)),
                        _control("y", dcc.Dropdown(id="y-axis", **dd)),
                        _control("z (3-D)", dcc.Dropdown(id="z-axis", **dd)),
                        _control("colour by", dcc.Dropdown(id="colour-by", **dd)),
                        _control("show", dcc.Checklist(id="show", value=["dominated", "infeasible"], inline=True, options=[
                            {"label": " dominated ", "value": "dominated"},
                            {"label": " infeasible", "value": "infeasible"}])),
                        _control("front over", dcc.RadioItems(id="front-over", value="shown", inline=True, options=[
                            {"label": " plotted objectives ", "value": "shown"},
                            {"label": " all objectives", "value": "all"}])),
                    ], className="controls"),
                    dcc.Graph(id="pareto-graph", figure=figures.empty_figure("loading…"),
                              config={"displaylogo": False}),
                    html.Div(id="pareto-caption", className="caption"),
                ], className="card"),
                html.Section([dcc.Graph(id="hv-graph", figure=figures.empty_figure("loading…"),
                                        config={"displaylogo": False})], className="card"),
            ], className="row"),
            html.Section([html.H2("Design detail"), html.Div(EMPTY_DETAIL, id="detail", className="empty")],
                         className="card", id="detail-card"),
            html.Section([
                html.Div([html.H2("Trials", style={"flex": "1"}),
                          html.Button("Download CSV", id="csv-button", className="btn")],
                         style={"display": "flex", "alignItems": "center"}),
                dag.AgGrid(id="trials-table", rowData=[], columnDefs=[], getRowId="params.data.id",
                           defaultColDef={"sortable": True, "filter": True, "resizable": True, "floatingFilter": True,
                                          "minWidth": 90},
                           csvExportParams={"fileName": "codesign-trials.csv"},
                           # fields such as ``metric.accuracy`` are names, not nested paths
                           dashGridOptions={"pagination": True, "paginationPageSize": 20, "animateRows": False,
                                            "suppressFieldDotNotation": True},
                           style={"height": "560px"}),
            ], className="card"),
        ]),
    ])


def _kv_table(rows: list[list[Any]], head: tuple[str, str] | None = None) -> html.Table:
    body = [html.Tr([html.Td(str(k)), html.Td(_fmt(v), className="num")]) for k, v in rows]
    header = [html.Thead(html.Tr([html.Th(h) for h in head]))] if head else []
    return html.Table(header + [html.Tbody(body)], className="kv")


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


def _mapping(mapping: dict[str, Any]) -> Any:
    if not mapping["rows"]:
        return html.Div("This design space has no mapping parameters: the evaluator used its default mapping.",
                        className="empty")
    cols = ["layer"] + mapping["fields"]
    return html.Table([html.Thead(html.Tr([html.Th(c) for c in cols])),
                       html.Tbody([html.Tr([html.Td(_fmt(r.get(c))) for c in cols]) for r in mapping["rows"]])],
                      className="kv")


def _graph(name: str, fig: Any) -> dcc.Graph:
    return dcc.Graph(id=f"detail-{name}", figure=fig, config={"displaylogo": False, "displayModeBar": False})


def detail_panel(detail: dict[str, Any] | None) -> Any:
    """The detail of one design (or the empty-state hint)."""
    if detail is None:
        return EMPTY_DETAIL
    state = detail["state"]
    title = html.H3([f"{detail['run']} #{detail['number']}", html.Span(state, className=f"badge {state}")],
                    id="detail-title", style={"margin": "4px 0"})
    sub = html.Div(f"agent {detail['agent']} · seed {detail['seed']} · design {detail['design_key']}",
                   className="caption")
    notes = []
    if detail["violations"]:
        notes.append(html.Div("violated: " + ", ".join(f"{k} by {v:.4g}" for k, v in detail["violations"].items()),
                              style={"color": "#c62828"}))
    if detail["error"]:
        notes.append(html.Div(f"error: {detail['error']}", style={"color": "#c62828"}))
    objs = [[f"{n} {'↓' if d == 'min' else '↑'}", v] for n, v, d in detail["objectives"]]
    others = [[k, v] for k, v in detail["metrics"].items() if k not in {o[0] for o in detail["objectives"]}]
    accel = detail["accelerator"] + detail["other_params"]
    tables = html.Div([
        html.Div([html.H4("Objectives and metrics"), _kv_table(objs + others)]),
        html.Div([html.H4("Accelerator"), _kv_table(accel) if accel else html.Div("no hardware parameters", className="empty"),
                  html.H4("Mapping per layer"), _mapping(detail["mapping"])]),
    ], className="detail-grid")
    graphs = html.Div([_graph(name, fn(detail)) for name, fn in figures.DETAIL_FIGURES], className="detail-grid")
    return html.Div([title, sub, *notes, tables, graphs], id="detail-body")
