"""Web dashboard and static report over a results store (read-only).

Modules: :mod:`~codesign.dashboard.data` (store -> tables, pure), :mod:`~codesign.dashboard.detail`
(one design's breakdown, pure), :mod:`~codesign.dashboard.figures` (plotly figures),
:mod:`~codesign.dashboard.layout` and :mod:`~codesign.dashboard.app` (Dash), and
:mod:`~codesign.dashboard.report` (self-contained HTML). Nothing here is imported by
``import codesign``; Dash and plotly load only when a dashboard or report is made.
"""
