"""Plotly figures from the data layer (shared by the web app and the static report).

User-provided strings (run, agent, parameter names) are HTML-escaped before they reach a
figure: plotly renders a subset of HTML in text, so escaping makes them show literally.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from codesign.dashboard.data import ProblemData, colour_value, points, visible_points
from codesign.dashboard.detail import LEVEL_ORDER

UNITS = {"ms": "ms", "us": "µs", "s": "s", "uj": "µJ", "mj": "mJ", "nj": "nJ", "mm2": "mm²", "cycles": "cycles",
         "gops": "GOP/s", "bytes": "bytes", "kb": "KiB", "mhz": "MHz", "gbps": "GB/s", "w": "W", "mw": "mW"}
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
LEVEL_COLOURS = {"pe": "#4c78a8", "pe_buf": "#72b7b2", "glb": "#f58518", "dram": "#e45756"}
FONT = {"family": "Inter, Helvetica, Arial, sans-serif", "size": 13}
EMPTY_NOTE = "no data"


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def label(metric: str, direction: str | None = None) -> str:
    """Axis label with units from the name: ``latency_ms`` -> ``latency (ms) ↓``."""
    head, _, tail = metric.rpartition("_")
    text = f"{head.replace('_', ' ')} ({UNITS[tail.lower()]})" if head and tail.lower() in UNITS else metric.replace("_", " ")
    arrow = {"min": " ↓", "max": " ↑"}.get(direction or "", "")
    return esc(text + arrow)


def _layout(fig: go.Figure, title: str, height: int = 420, **kw: Any) -> go.Figure:
    kw.setdefault("margin", {"l": 60, "r": 20, "t": 50, "b": 55})
    fig.update_layout(title={"text": title, "x": 0.01, "font": {"size": 15}}, height=height, font=FONT,
                      template="plotly_white", legend={"bgcolor": "rgba(255,255,255,0.7)"}, **kw)
    return fig


def empty_figure(message: str, height: int = 300) -> go.Figure:
    """A blank figure that says why it is blank."""
    fig = go.Figure()
    fig.add_annotation(text=esc(message), showarrow=False, font={"size": 15, "color": "#666"},
                       xref="paper", yref="paper", x=0.5, y=0.5)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, "", height)


def _hover(axes: Sequence[str]) -> str:
    lines = ["<b>%{customdata[1]}</b> #%{customdata[2]}", "agent %{customdata[3]} · %{customdata[4]}"]
    lines += [f"{esc(a)} = %{{{c}:.4g}}" for a, c in zip(axes, "xyz")]
    return "<br>".join(lines) + "<extra>%{customdata[5]}</extra>"


def _custom(pts: Sequence[dict[str, Any]]) -> list[list[Any]]:
    return [[p["uid"], esc(p["run"]), p["number"], esc(p["agent"]), esc(p["pe_type"]),
             "Pareto" if p["front"] else p["state"]] for p in pts]


def _trace(pts: Sequence[dict[str, Any]], axes: Sequence[str], name: str, marker: dict[str, Any],
           showlegend: bool = True) -> Any:
    kw = {"x": [p["xyz"][0] for p in pts], "y": [p["xyz"][1] for p in pts], "mode": "markers", "name": name,
          "marker": marker, "customdata": _custom(pts), "hovertemplate": _hover(axes), "meta": "designs",
          "showlegend": showlegend}
    if len(axes) == 3:
        marker = dict(marker, size=max(3, marker.get("size", 9) - 4))
        return go.Scatter3d(z=[p["xyz"][2] for p in pts], **dict(kw, marker=marker))
    return go.Scatter(**kw)


def _front_line(pts: Sequence[dict[str, Any]], directions: Sequence[str]) -> go.Scatter | None:
    """Staircase through the front points: the boundary of the region they dominate (2-D)."""
    front = sorted((p for p in pts if p["front"]), key=lambda p: p["xyz"][0])
    if len(front) < 2:
        return None
    return go.Scatter(x=[p["xyz"][0] for p in front], y=[p["xyz"][1] for p in front], mode="lines",
                      name="front (plotted objectives)", hoverinfo="skip",
                      line={"color": "#555", "width": 1.2, "dash": "dot", "shape": "hv" if directions[0] == "min" else "vh"})


def _wide(values: Sequence[float], ratio: float = 30.0) -> bool:
    """Whether positive values span so many decades that a log axis shows them better."""
    return bool(values) and min(values) > 0 and max(values) / min(values) >= ratio


def pareto_figure(pts: Sequence[dict[str, Any]], axes: Sequence[str], directions: Sequence[str | None],
                  colour_by: str = "agent", front_line: bool = True, height: int = 520) -> go.Figure:
    """Pareto scatter (2-D or 3-D) of the given points.

    Front points are drawn opaque with a dark outline, dominated ones faded, infeasible ones as
    grey crosses. Every design trace has ``meta="designs"`` and ``customdata[i][0] = uid``.
    """
    if not pts:
        return empty_figure("no evaluated designs yet (the plot refreshes while a run writes)", height)
    feasible = [p for p in pts if p["state"] == "complete"]
    infeasible = [p for p in pts if p["state"] != "complete"]
    fig = go.Figure()

    def style(p_front: bool, colour: Any) -> dict[str, Any]:
        line = {"width": 1.2, "color": "#222"} if p_front else {"width": 0}
        return {"color": colour, "size": 10 if p_front else 8, "opacity": 1.0 if p_front else 0.35, "line": line}

    numeric = bool(feasible) and all(isinstance(colour_value(p, colour_by), (int, float))
                                     and not isinstance(colour_value(p, colour_by), bool) for p in feasible)
    if numeric:
        for on_front in (True, False):
            sel = [p for p in feasible if p["front"] == on_front]
            if not sel:
                continue
            marker = style(on_front, [colour_value(p, colour_by) for p in sel])
            cmin = min(colour_value(p, colour_by) for p in feasible)
            cmax = max(colour_value(p, colour_by) for p in feasible)
            marker.update(colorscale="Viridis", cmin=cmin, cmax=cmax, showscale=on_front or not any(p["front"] for p in feasible),
                          colorbar={"title": {"text": label(colour_by)}, "len": 0.8})
            fig.add_trace(_trace(sel, axes, "Pareto" if on_front else "dominated", marker))
    else:
        cats = list(dict.fromkeys(str(colour_value(p, colour_by)) for p in feasible))
        for i, cat in enumerate(cats):
            colour = PALETTE[i % len(PALETTE)]
            for on_front in (True, False):
                sel = [p for p in feasible if str(colour_value(p, colour_by)) == cat and p["front"] == on_front]
                if sel:
                    name = esc(cat) + ("" if on_front else " (dominated)")
                    fig.add_trace(_trace(sel, axes, name, style(on_front, colour)))
    if infeasible:
        fig.add_trace(_trace(infeasible, axes, f"infeasible ({len(infeasible)})",
                             {"color": "#888", "symbol": "x", "size": 8, "opacity": 0.8, "line": {"width": 0}}))
    if len(axes) == 2:
        line = _front_line(pts, [d or "min" for d in directions]) if front_line else None
        if line is not None:
            fig.add_trace(line)
        for i, update in enumerate((fig.update_xaxes, fig.update_yaxes)):
            log = _wide([p["xyz"][i] for p in pts])
            update(title_text=label(axes[i], directions[i]) + (" (log scale)" if log else ""), type="log" if log else None)
        return _layout(fig, "Pareto front", height, clickmode="event", hovermode="closest")
    scene = {}
    for i, key in enumerate(("xaxis", "yaxis", "zaxis")):
        log = _wide([p["xyz"][i] for p in pts])
        scene[key] = {"title": {"text": label(axes[i], directions[i]) + (" (log)" if log else "")},
                      "type": "log" if log else "linear"}
    fig.update_layout(scene=scene)
    return _layout(fig, "Pareto front (3-D)", height, clickmode="event")


def pareto_view(prob: ProblemData, axes: list[str], colour: str, show: list[str],
                front_over: str) -> tuple[Any, str]:
    """The Pareto figure and its caption (shared by the app and the report)."""
    directions = {o.name: o.direction.value for o in prob.objectives}
    pts = points(prob, axes, front_over)
    vis = visible_points(pts, "dominated" in show, "infeasible" in show)
    fig = pareto_figure(vis, axes, [directions.get(a) for a in axes], colour, front_line=front_over == "shown")
    n_front = sum(p["front"] for p in vis)
    n_inf = sum(p["state"] != "complete" for p in vis)
    over = "the plotted objectives" if front_over == "shown" else "all objectives"
    caption = (f"{len(vis)} designs shown: {n_front} on the Pareto front over {over}, "
               f"{len(vis) - n_front - n_inf} dominated, {n_inf} infeasible. Click a point for its detail.")
    return fig, caption


def hv_figure(curves: dict[str, dict[str, Any]], basis: Any, height: int = 420) -> go.Figure:
    """Hypervolume vs. evaluations per agent: median over seeds with the min-max band.

    ``basis`` (:class:`codesign.results.summary.HVBasis`) says whether the values are
    normalized (fixed per-problem box, in [0, 1]) or raw, and gives the reference point."""
    if not curves:
        return empty_figure("no feasible evaluations yet: no hypervolume", height)
    fig = go.Figure()
    for i, (agent, c) in enumerate(curves.items()):
        colour = PALETTE[i % len(PALETTE)]
        name = f"{esc(agent)} ({c['runs']} run{'s' if c['runs'] > 1 else ''})"
        if c["runs"] > 1:
            fig.add_trace(go.Scatter(x=c["evaluations"] + c["evaluations"][::-1], y=c["high"] + c["low"][::-1],
                                     fill="toself", fillcolor=colour, opacity=0.18, line={"width": 0},
                                     hoverinfo="skip", showlegend=False, name=f"{esc(agent)} min-max"))
        fig.add_trace(go.Scatter(x=c["evaluations"], y=c["median"], mode="lines", name=name,
                                 line={"color": colour, "width": 2.2, "shape": "hv"},
                                 hovertemplate="%{y:.4g} after %{x} evaluations<extra>" + esc(agent) + "</extra>"))
    fig.update_xaxes(title_text="evaluations")
    normalized = basis.kind == "normalized"
    fig.update_yaxes(title_text="normalized hypervolume" if normalized else "hypervolume (objective units)",
                     rangemode="tozero", **({"range": [0, 1.02]} if normalized else {}))
    names = [o.name for o in basis.objectives]
    if normalized:
        note = "fixed per-problem box (ideal → 0, nadir → 1); comparable across stores"
    else:
        note = "raw; reference point " + ", ".join(f"{esc(n)}={v:.4g}" for n, v in zip(names, basis.ref or []))
    fig.add_annotation(text=note, showarrow=False, xref="paper", yref="paper", x=0, y=0, yshift=-58,
                       xanchor="left", yanchor="top", font={"size": 11, "color": "#666"})
    return _layout(fig, "Hypervolume vs. evaluations<br><sup>median over seeds, band = min-max</sup>", height,
                   margin={"l": 60, "r": 20, "t": 60, "b": 90})


# ------------------------------------------------------------------------------ design detail


def bits_figure(detail: dict[str, Any]) -> go.Figure:
    """Per-layer weight / activation bitwidth heatmap (plus a per-expert one for MoE layers)."""
    bits, experts = detail.get("bits"), detail.get("experts")
    if not bits:
        return empty_figure("this design has no per-layer bitwidths", 200)
    fig = go.Figure(go.Heatmap(
        z=[bits["w_bits"], bits["a_bits"]], x=[esc(x) for x in bits["layers"]], y=["weights", "activations"],
        text=[[("" if v is None else str(v)) for v in row] for row in (bits["w_bits"], bits["a_bits"])],
        texttemplate="%{text}", colorscale="Blues", zmin=0, zmax=max(8, *(v or 0 for v in bits["w_bits"] + bits["a_bits"])),
        colorbar={"title": {"text": "bits"}}, hovertemplate="%{x} %{y}: %{z} bits<extra></extra>", xgap=2, ygap=2))
    height = 230
    if experts:
        fig = go.Figure(fig.data[0].update(xaxis="x", yaxis="y"))
        height = 260 + 22 * len(experts["rows"])
        fig.add_trace(go.Heatmap(z=experts["w_bits"], x=[esc(c) for c in experts["cols"]],
                                 y=[esc(r) for r in experts["rows"]], xaxis="x2", yaxis="y2", colorscale="Blues",
                                 zmin=0, zmax=8, showscale=False, texttemplate="%{z}", xgap=2, ygap=2,
                                 hovertemplate="%{y} %{x}: %{z} weight bits<extra></extra>"))
        fig.update_layout(yaxis={"domain": [0.78, 1.0]}, xaxis2={"anchor": "y2", "title": {"text": "expert block (weight bits)"}},
                          yaxis2={"domain": [0.0, 0.66], "autorange": "reversed"})
    return _layout(fig, "Bitwidth per layer", height, margin={"l": 110, "r": 20, "t": 45, "b": 45})


def latency_figure(detail: dict[str, Any]) -> go.Figure:
    """Per-layer compute vs. memory cycles; the layer's latency is the larger (its bound)."""
    rows = [r for r in detail.get("layers", []) if r.get("latency_cycles") is not None]
    if not rows:
        return empty_figure("the evaluator reported no per-layer latency", 260)
    names = [esc(r["layer"]) for r in rows]
    fig = go.Figure()
    for key, colour in (("compute_cycles", "#4c78a8"), ("memory_cycles", "#e45756")):
        fig.add_trace(go.Bar(x=names, y=[r.get(key) or 0 for r in rows], name=key.split("_")[0], marker_color=colour,
                             hovertemplate="%{x}: %{y:.4g} " + key.split("_")[0] + " cycles<extra></extra>"))
    fig.add_trace(go.Scatter(x=names, y=[r["latency_cycles"] for r in rows], mode="markers+text", name="latency (bound)",
                             text=[esc(r.get("bound", "")) for r in rows], textposition="top center",
                             marker={"symbol": "line-ew-open", "size": 26, "color": "#222", "line": {"width": 2}},
                             hovertemplate="%{x}: latency %{y:.4g} cycles (%{text}-bound)<extra></extra>"))
    fig.update_yaxes(title_text="cycles")
    return _layout(fig, "Latency per layer", 330, barmode="group")


def energy_figure(detail: dict[str, Any]) -> go.Figure:
    """Per-layer energy stacked by memory level (PE, PE buffer, global buffer, DRAM)."""
    rows = [r for r in detail.get("layers", []) if r.get("energy_uj")]
    if not rows:
        return empty_figure("the evaluator reported no per-layer energy", 260)
    levels = list(dict.fromkeys(k for r in rows for k in r["energy_uj"]))
    levels = [k for k in LEVEL_ORDER if k in levels] + [k for k in levels if k not in LEVEL_ORDER]
    fig = go.Figure()
    for lv in levels:
        fig.add_trace(go.Bar(x=[esc(r["layer"]) for r in rows], y=[r["energy_uj"].get(lv, 0) for r in rows], name=esc(lv),
                             marker_color=LEVEL_COLOURS.get(lv), hovertemplate="%{x}: %{y:.4g} µJ in " + esc(lv) + "<extra></extra>"))
    fig.update_yaxes(title_text="energy (µJ)")
    return _layout(fig, "Energy per layer and memory level", 330, barmode="stack")


def area_figure(detail: dict[str, Any]) -> go.Figure:
    """Area by component (horizontal bars, mm²)."""
    area = detail.get("area_mm2") or {}
    if not area:
        return empty_figure("the evaluator reported no area breakdown", 200)
    items = sorted(area.items(), key=lambda kv: kv[1])
    fig = go.Figure(go.Bar(x=[v for _, v in items], y=[esc(k) for k, _ in items], orientation="h", marker_color="#54a24b",
                           text=[f"{v:.3g}" for _, v in items], textposition="auto",
                           hovertemplate="%{y}: %{x:.4g} mm²<extra></extra>"))
    fig.update_xaxes(title_text="area (mm²)")
    return _layout(fig, "Area breakdown", 230, margin={"l": 90, "r": 20, "t": 45, "b": 50})


DETAIL_FIGURES = (("bits", bits_figure), ("latency", latency_figure), ("energy", energy_figure), ("area", area_figure))
