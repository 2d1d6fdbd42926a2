"""The Dash web app over a store (read-only; refreshes while a run is still writing).

``create_app(location)`` builds the app; ``make_server(app, host, port)`` binds it (a busy or
invalid port is a one-line :class:`~codesign.errors.ConfigError`), and ``serve`` runs it.
Every callback reads a cached :class:`~codesign.dashboard.data.Snapshot`; a ``dcc.Interval``
polls the store's signature and re-renders only when it changed.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from codesign.dashboard import data, figures, layout
from codesign.dashboard.detail import design_detail
from codesign.errors import ConfigError

#: Columns of the trial table shown first, in this order.
LEAD_COLUMNS = ("run", "number", "agent", "seed", "state")


def _axis_options(problem: data.ProblemData) -> list[dict[str, str]]:
    directions = {o.name: o.direction.value for o in problem.objectives}
    return [{"label": n + (f" ({directions[n]})" if n in directions else ""), "value": n} for n in problem.metric_names()]


def _keep(value: Any, options: list[dict[str, Any]], default: Any) -> Any:
    return value if value in {o["value"] for o in options} else default


def _columns(rows: list[dict[str, Any]], objectives: list[str]) -> list[dict[str, Any]]:
    keys = list(dict.fromkeys(k for r in rows for k in r if k not in ("uid", "id")))
    first = list(LEAD_COLUMNS) + [f"metric.{o}" for o in objectives]
    order = [k for k in first if k in keys] + [k for k in keys if k not in first]
    numeric = {k for k in keys if all(isinstance(r.get(k), (int, float)) and not isinstance(r.get(k), bool)
                                      for r in rows if r.get(k) is not None)}
    return [{"field": k, "headerName": k.split(".", 1)[1] if k.startswith(("metric.", "param.")) else k,
             "filter": "agNumberColumnFilter" if k in numeric else "agTextColumnFilter",
             "pinned": "left" if k in ("run", "number") else None} for k in order]


def runs_columns(hv_kind: str) -> list[dict[str, Any]]:
    """Column definitions of the runs table: they share the card's width (flex), so the table
    never scrolls sideways; the run name takes the most and wraps rather than being cut."""
    cols = ["run", "problem", "agent", "seed", "evaluations", "budget", "complete", "infeasible", "failed",
            "pareto", "hypervolume"]
    names = {"evaluations": "evals", "pareto": "front",
             "hypervolume": {"normalized": "HV (norm.)", "raw": "HV (raw)"}.get(hv_kind, "HV")}
    out = []
    for c in cols:
        wide, text = c in ("run", "problem"), c in ("run", "problem", "agent")
        header = names.get(c, c)
        out.append({"field": c, "headerName": header, "flex": 3 if c == "run" else 2 if wide else 1,
                    "minWidth": 150 if c == "run" else 110 if wide else 8 * len(header) + 40,
                    "wrapText": wide, "autoHeight": wide, **({} if text else {"type": "rightAligned"})})
    return out


def create_app(location: str, refresh_s: float = 3.0) -> Any:
    """Build the Dash app for the store at ``location`` (raises ``StoreError`` if there is none)."""
    import dash
    from dash import Input, Output, State, ctx, no_update

    reader = data.StoreReader(location)
    reader.snapshot()  # fail early, with the store's own message
    app = dash.Dash(__name__, title="codesign dashboard", update_title=None, include_assets_files=False,
                    assets_ignore=".*", serve_locally=True)
    app.index_string = layout.INDEX
    app.layout = layout.page(location, refresh_s)

    @app.callback(Output("version", "data"), Output("status", "children"), Input("tick", "n_intervals"),
                  State("version", "data"))
    def _poll(_: Any, current: Any) -> Any:
        snap = reader.snapshot()
        sig = repr(reader.signature())
        runs = sum(len(p.runs) for p in snap.problems)
        status = f"{runs} runs · {snap.n_records} evaluations · read {time.strftime('%H:%M:%S', time.localtime(snap.loaded_at))}"
        return (no_update if sig == current else sig), status

    @app.callback(Output("runs-table", "rowData"), Output("runs-table", "columnDefs"), Input("version", "data"))
    def _runs(_: Any) -> Any:
        snap = reader.snapshot()
        rows = data.runs_table(snap)
        kinds = {p.basis.kind for p in snap.problems}
        return rows, runs_columns("normalized" if kinds == {"normalized"} else "raw" if kinds == {"raw"} else "")

    @app.callback(Output("problem", "options"), Output("problem", "value"), Input("version", "data"),
                  State("problem", "value"))
    def _problems(_: Any, current: Any) -> Any:
        opts = [{"label": p.name, "value": p.name} for p in reader.snapshot().problems]
        return opts, _keep(current, opts, opts[0]["value"] if opts else None)

    @app.callback(Output("x-axis", "options"), Output("x-axis", "value"), Output("y-axis", "options"),
                  Output("y-axis", "value"), Output("z-axis", "options"), Output("z-axis", "value"),
                  Output("colour-by", "options"), Output("colour-by", "value"),
                  Input("problem", "value"), Input("version", "data"),
                  State("x-axis", "value"), State("y-axis", "value"), State("z-axis", "value"),
                  State("colour-by", "value"))
    def _axes(name: Any, _: Any, x: Any, y: Any, z: Any, colour: Any) -> Any:
        prob = reader.snapshot().problem(name)
        if prob is None:
            return [], None, [], None, [], "", [], "agent"
        opts = _axis_options(prob)
        vals = [o["value"] for o in opts] + [None, None]
        # default: accuracy-like objective against the first cost objective
        objs = [o.name for o in prob.objectives]
        dx, dy = (objs[1], objs[0]) if len(objs) >= 2 else (vals[0], vals[1])
        zopts = [{"label": "— (2-D)", "value": ""}] + opts
        design_keys = [k for k in ("pe_type",) if any(k in r.design for _, r in prob.items())]
        copts = [{"label": c, "value": c} for c in ("agent", "run", *design_keys)] + opts
        return (opts, _keep(x, opts, dx), opts, _keep(y, opts, dy), zopts, _keep(z, zopts, ""),
                copts, _keep(colour, copts, "agent"))

    @app.callback(Output("pareto-graph", "figure"), Output("pareto-caption", "children"),
                  Input("problem", "value"), Input("x-axis", "value"), Input("y-axis", "value"),
                  Input("z-axis", "value"), Input("colour-by", "value"), Input("show", "value"),
                  Input("front-over", "value"), Input("version", "data"))
    def _pareto(name: Any, x: Any, y: Any, z: Any, colour: Any, show: Any, front_over: Any, _: Any) -> Any:
        prob = reader.snapshot().problem(name)
        if prob is None or not x or not y:
            return figures.empty_figure("this store has no runs yet"), ""
        axes = [x, y] + ([z] if z else [])
        return figures.pareto_view(prob, axes, colour or "agent", show or [], front_over or "shown")

    @app.callback(Output("hv-graph", "figure"), Input("problem", "value"), Input("version", "data"))
    def _hv(name: Any, _: Any) -> Any:
        prob = reader.snapshot().problem(name)
        if prob is None:
            return figures.empty_figure("this store has no runs yet")
        return figures.hv_figure(data.hv_curves(prob), prob.basis)

    @app.callback(Output("trials-table", "rowData"), Output("trials-table", "columnDefs"),
                  Input("problem", "value"), Input("version", "data"))
    def _trials(name: Any, _: Any) -> Any:
        prob = reader.snapshot().problem(name)
        if prob is None:
            return [], []
        rows = data.trial_rows(prob)
        for r in rows:
            r["id"] = r["uid"]
        return rows, _columns(rows, [o.name for o in prob.objectives])

    @app.callback(Output("selected", "data"), Input("pareto-graph", "clickData"),
                  Input("trials-table", "cellClicked"), prevent_initial_call=True)
    def _select(click: Any, cell: Any) -> Any:
        if ctx.triggered_id == "pareto-graph" and click and click.get("points"):
            custom = click["points"][0].get("customdata")
            return custom[0] if custom else no_update
        if ctx.triggered_id == "trials-table" and cell:
            return cell.get("rowId") or no_update
        return no_update

    @app.callback(Output("detail", "children"), Output("detail", "className"), Input("selected", "data"),
                  Input("version", "data"))
    def _detail(key: Any, _: Any) -> Any:
        found = data.find(reader.snapshot(), key)
        if found is None:
            return layout.detail_panel(None), "empty"
        prob, run, rec = found
        return layout.detail_panel(design_detail(rec, run.name, prob.objectives, run.subsystems)), ""

    @app.callback(Output("trials-table", "exportDataAsCsv"), Input("csv-button", "n_clicks"), prevent_initial_call=True)
    def _csv(_: Any) -> bool:
        return True

    app._codesign_reader = reader  # for tests
    return app


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``, or a one-line ``ConfigError`` saying why not."""
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"--port must be in [0, 65535], but got {port!r}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConfigError(f"--host {host!r} cannot be resolved: {exc.strerror}") from None
    except (UnicodeError, ValueError) as exc:  # e.g. non-ASCII or NUL characters in the name
        raise ConfigError(f"--host must be an address or host name, but got {host!r} ({exc})") from None
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc} (choose another --port)") from None
    return sock


def make_server(app: Any, host: str = "127.0.0.1", port: int = 8050) -> Any:
    """A threaded werkzeug server for ``app`` on ``host:port`` (port 0 picks a free one)."""
    from werkzeug.serving import WSGIRequestHandler
    from werkzeug.serving import make_server as _make

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:  # no line per request
            pass

    sock = bind(host, port)
    server = _make(host, sock.getsockname()[1], app.server, threaded=True, fd=sock.fileno(), request_handler=Quiet)
    server._codesign_socket = sock  # keep the socket object alive with the server
    return server
