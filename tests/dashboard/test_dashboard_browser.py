"""The dashboard in a real browser (headless Debian chromium driven by Playwright)."""

from __future__ import annotations

import os
import pathlib
import shutil
from typing import Any

import pytest

from conftest import XSS, XSS_IMG

pytestmark = pytest.mark.browser

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs"
DESIGN_POINTS = """() => {
  const g = document.querySelector('#pareto-graph .js-plotly-plot');
  if (!g || !g.data) return null;
  const t = g.data.filter(t => t.meta === 'designs');
  return t.length ? t.reduce((n, t) => n + t.x.length, 0) : null;
}"""


ISOLATED_POINT = """(frontOnly) => {
  const g = document.querySelector('#pareto-graph .js-plotly-plot');
  const pts = [];
  document.querySelectorAll('#pareto-graph .scatterlayer .trace').forEach(tr => {
    const t = tr.__data__[0].trace;
    tr.querySelectorAll('.point').forEach(el => {
      const r = el.getBoundingClientRect();
      pts.push({t: t.index, i: el.__data__.i, x: r.x + r.width / 2, y: r.y + r.height / 2,
                front: !t.name.includes('dominated') && !t.name.startsWith('infeasible')});
    });
  });
  for (const p of pts) {
    if (frontOnly && !p.front) continue;
    if (pts.every(q => q === p || Math.hypot(q.x - p.x, q.y - p.y) > 12))
      return {x: p.x, y: p.y, uid: g.data[p.t].customdata[p.i][0]};
  }
  return null;
}"""


def _click_point(page: Any, front_only: bool = True) -> str:
    """Click (with the mouse) a point no other point is near; returns its uid."""
    target = page.evaluate(ISOLATED_POINT, front_only)
    assert target is not None, "no isolated point to click"
    page.mouse.click(target["x"], target["y"])
    return str(target["uid"])


def _shot(locator: Any, tmp_path: pathlib.Path, name: str) -> None:
    out = tmp_path / f"dashboard-{name}.png"
    locator.screenshot(path=str(out))
    if os.environ.get("CODESIGN_UPDATE_DOCS") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copy(out, DOCS / out.name)


def _design_points(page: Any) -> int:
    page.wait_for_function(DESIGN_POINTS)
    return int(page.evaluate(DESIGN_POINTS))


def test_pareto_plot_and_design_detail(real_store: str, served: Any, page: Any, tmp_path: pathlib.Path) -> None:
    from codesign.dashboard import data

    prob = data.StoreReader(real_store).snapshot().problems[0]
    expected = len(data.points(prob, ["latency_ms", "accuracy"]))
    page.goto(served(real_store))
    assert _design_points(page) == expected == 48
    assert page.locator("#pareto-graph .scatterlayer .trace .point").count() == expected
    page.wait_for_selector("#runs-table .ag-row")
    assert page.locator("#runs-table .ag-row").count() == 2

    # hide dominated and infeasible points: only the front remains
    page.get_by_label("dominated").uncheck()
    page.get_by_label("infeasible").uncheck()
    front = sum(p["front"] for p in data.points(prob, ["latency_ms", "accuracy"]))
    page.wait_for_function(f"() => ({DESIGN_POINTS})() === {front}")
    page.get_by_label("dominated").check()
    page.get_by_label("infeasible").check()
    page.wait_for_function(f"() => ({DESIGN_POINTS})() === {expected}")
    _shot(page.locator("main > div.row"), tmp_path, "pareto")

    # click a Pareto point: the detail shows that design
    uid = _click_point(page)
    _, run, rec = data.find(data.StoreReader(real_store).snapshot(), uid)
    title = page.wait_for_selector("#detail-title")
    assert title.inner_text().startswith(f"{run.name} #{rec.number}")
    body = page.locator("#detail-body")
    for layer in ("conv1", "conv2", "fc1", "fc2"):
        assert body.locator("#detail-bits").get_by_text(layer, exact=True).count() >= 1
    assert body.locator("td", has_text=str(rec.design["pe_type"])).count() >= 1
    page.wait_for_selector("#detail-energy .trace.bars")
    legend = page.locator("#detail-energy .legendtext").all_text_contents()
    assert set(legend) == {"pe", "pe_buf", "glb", "dram"}
    _shot(page.locator("#detail-card"), tmp_path, "detail")

    # the trial table selects too, sorts and filters
    page.wait_for_selector("#trials-table .ag-row")
    with page.expect_download() as dl:
        page.click("#csv-button")
    assert dl.value.suggested_filename == "codesign-trials.csv"
    text = pathlib.Path(dl.value.path()).read_text()
    assert len(text.strip().splitlines()) == 1 + 48 and "latency_ms" in text.splitlines()[0]
    page.screenshot(path=str(tmp_path / "dashboard-full.png"), full_page=True)


def test_three_objectives_in_3d(real_store: str, served: Any, page: Any) -> None:
    page.goto(served(real_store))
    _design_points(page)
    page.click("#z-axis")
    page.get_by_role("option", name="energy_uj (min)").click()
    page.wait_for_function("() => document.querySelector('#pareto-graph .js-plotly-plot').data[0].type === 'scatter3d'")
    assert _design_points(page) == 48


def test_refreshes_while_a_run_writes(tmp_path: pathlib.Path, synth_plugin: str, served: Any, page: Any) -> None:
    import codesign

    store = str(tmp_path / "live")
    codesign.run("synth-test", agent="random", budget=4, store=store)
    page.goto(served(store, refresh_s=0.5))
    n0 = _design_points(page)
    codesign.run("synth-test", agent="random", budget=9, store=store)  # same run, 5 more records
    page.wait_for_function(f"() => ({DESIGN_POINTS})() > {n0}", timeout=10000)
    page.wait_for_function("() => document.querySelector('#status').innerText.includes('9 evaluations')")


def test_user_strings_are_escaped(xss_store: str, served: Any, page: Any) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(served(xss_store))
    page.wait_for_selector("#runs-table .ag-row")
    assert page.locator("#runs-table").get_by_text(XSS, exact=True).count() == 1
    assert page.locator("#runs-table").get_by_text(XSS_IMG, exact=True).count() == 1
    _design_points(page)
    _click_point(page, front_only=False)
    page.wait_for_selector("#detail-title")
    assert page.locator("#detail-title").inner_text().split(" #")[0] in (XSS, XSS_IMG)
    assert dialogs == [] and page.evaluate("() => window.__xss") is None


def test_first_day_layout_at_1400px(real_store: str, served: Any, browser: Any) -> None:
    """Issue 16: the trial table shows its metric and parameter cells (dotted field names), the
    hypervolume title fits its card, the runs table does not scroll sideways (1400 px wide)."""
    from codesign.dashboard import data

    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(served(real_store))
        page.wait_for_selector("#trials-table .ag-row")
        rows = {r["uid"]: r for r in data.trial_rows(data.StoreReader(real_store).snapshot().problems[0])}
        cells = page.evaluate("""() => {
          const row = document.querySelector('#trials-table .ag-center-cols-container .ag-row[row-index="0"]');
          const out = {id: row.getAttribute('row-id')};
          row.querySelectorAll('.ag-cell').forEach(c => { out[c.getAttribute('col-id')] = c.innerText; });
          return out;
        }""")
        expected = rows[cells["id"]]
        shown = [k for k in cells if k.startswith(("metric.", "param."))]
        assert {"metric.accuracy", "metric.latency_ms"} <= set(shown), cells
        for key in shown:
            assert cells[key].strip() != "", f"empty cell {key}"
            assert float(cells[key]) == pytest.approx(float(expected[key]), rel=1e-4) if isinstance(
                expected[key], (int, float)) else cells[key] == str(expected[key])

        page.wait_for_selector("#hv-graph .gtitle")
        title, svg = page.evaluate("""() => [document.querySelector('#hv-graph .gtitle').getBoundingClientRect().toJSON(),
                                             document.querySelector('#hv-graph .main-svg').getBoundingClientRect().toJSON()]""")
        assert svg["left"] <= title["left"] and title["right"] <= svg["right"], (title, svg)
        assert page.text_content("#hv-graph .gtitle").startswith("Hypervolume vs. evaluations")
        assert page.text_content("#hv-graph .ytitle") == "normalized hypervolume"

        page.wait_for_selector("#runs-table .ag-row")
        scroll, client = page.evaluate("""() => { const v = document.querySelector('#runs-table .ag-center-cols-viewport');
                                                  return [v.scrollWidth, v.clientWidth]; }""")
        assert scroll <= client, f"the runs table scrolls sideways ({scroll} > {client} px)"
        for name in {r["run"] for r in data.runs_table(data.StoreReader(real_store).snapshot())}:
            assert page.locator("#runs-table .ag-cell[col-id='run']", has_text=name).count() == 1
    finally:
        ctx.close()
