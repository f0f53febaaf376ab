"""The offline explorer in headless Chromium: offline, no errors, and the browser's ranks for
slider weights equal the Python pipeline's ranks for the same spec."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.browser import non_blank, screenshot, visit
from tests.conftest import dedi_env


def _write(dirs, area=None):
    from pipeline.outputs.explorer.page import write_explorer

    with dedi_env(dirs):
        return write_explorer(area=area)


def _python_ranks(dirs, w, subdomains, indicators, aggregation=None):
    from pipeline.outputs.audit import recompute, with_weights
    from pipeline.outputs.warehouse import connect

    with dedi_env(dirs), connect() as conn:
        r = recompute(conn)
    s = with_weights(r, w, subdomains, indicators, aggregation)
    return r, s


def _fragment(w, subdomains, indicators, extra=""):
    parts = [f"w={w}"] + [f"sd.{k}={v}" for k, v in subdomains.items()] + [
        f"in.{k}={v}" for k, v in indicators.items()]
    return "&".join(parts) + extra


def _browser_ranks(v):
    v.page.wait_for_function("window.DEDI_STATE && window.DEDI_STATE.ready", timeout=120_000)
    dx = np.array(v.page.evaluate("Array.from(window.DEDI_STATE.dxRank)"))
    dedi = np.array(v.page.evaluate("Array.from(window.DEDI_STATE.dediRank)"))
    return dx, dedi


def _check_page(v, path, name, min_ink=0.2):
    png = screenshot(v, name)
    assert non_blank(png) > min_ink, f"{png} looks blank"
    assert v.errors == [], v.errors
    assert v.foreign_requests(path.resolve().as_uri()) == []
    assert v.page.locator("h1").inner_text().startswith("DEDI explorer")
    assert v.page.locator("#league tbody tr").count() == 20
    return png


def test_demo_explorer_offline_synthetic_and_ranks_match_python(demo_build, browser):
    path = _write(demo_build)
    html = path.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']https?://""", html), "the page must not load URLs"
    w, subs, inds = 0.3, {"later_life": 0.1, "deprivation": 0.8}, {
        "disability": 2.5, "social_renting": 0, "pupil_premium": 2, "housing_condition": 0.5}
    published, scenario = _python_ranks(demo_build, w, subs, inds)
    with visit(browser, path) as v:  # published weights: the published ranks
        dx, dedi = _browser_ranks(v)
        _check_page(v, path, "explorer_demo")
        assert v.page.locator("#synthetic-banner").is_visible()
        assert np.array_equal(dx, published.lsoa["dx_rank"].to_numpy())
        assert np.array_equal(dedi, published.lsoa["dedi_rank"].to_numpy())
    with visit(browser, path, _fragment(w, subs, inds, "&measure=rank_change")) as v:
        dx, dedi = _browser_ranks(v)
        _check_page(v, path, "explorer_demo_weights")
        assert np.array_equal(dx, scenario.dx_rank)
        assert np.array_equal(dedi, scenario.dedi_rank)
        assert not np.array_equal(dedi, published.dedi_rank), "the weights should change ranks"
        # the URL keeps the scenario, so it can be shared
        assert "in.disability=2.5" in v.page.evaluate("location.hash")


def test_demo_explorer_click_search_and_area(demo_build, browser):
    path = _write(demo_build)
    with visit(browser, path, "area=icb24:E54009901&lsoa=E01990005") as v:
        v.page.wait_for_function("window.DEDI_STATE && window.DEDI_STATE.ready")
        assert "E01990005" in v.page.locator("#details").inner_text()
        assert "DX indicators" in v.page.locator("#details").inner_text()
        # the route that puts the LSOA where it is, as the release publishes it
        published, _ = _python_ranks(demo_build, 0.1, {}, {})
        row = published.lsoa.set_index("lsoa21_code").loc["E01990005"]
        route = row["dx_leading_route"].replace("_", " ")
        assert v.page.locator("#leading-route").inner_text().startswith(route)
        v.page.fill("#search", "XS1 1AA")  # demo postcode directory -> E01990001
        assert "E01990001" in v.page.locator("#search-results").inner_text()
        v.page.locator("#search-results li").first.click()
        assert "E01990001" in v.page.locator("#details h2 + p").inner_text()
        box = v.page.locator("#map").bounding_box()
        v.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        assert v.page.locator("#tooltip").is_visible()
        assert v.errors == []


def _area_names(dirs, icb):
    with dedi_env(dirs), duckdb_conn(dirs) as conn:
        return set(conn.execute("SELECT lsoa21_name FROM lsoa_index WHERE icb24_code = ?",
                                [icb]).df()["lsoa21_name"])


def duckdb_conn(dirs):
    import duckdb

    return duckdb.connect(str(dirs.marts / "current" / "dedi.duckdb"), read_only=True)


def _league_names(v) -> list[str]:
    return [t.strip() for t in v.page.locator("#league tbody tr td:nth-child(2)").all_inner_texts()]


def test_area_explorer_has_its_own_file_and_opens_at_its_area(demo_build, browser):
    """`dedi explore --area` writes explorer/<level>-<code>.html, leaves the England file as it
    was, and opens at its area with tables of its area (no #area= needed)."""
    england = _write(demo_build)
    before = england.read_bytes()
    path = _write(demo_build, area="E54009901")
    assert path.name == "icb24-E54009901.html" and path.parent == england.parent
    assert england.read_bytes() == before
    names = _area_names(demo_build, "E54009901")
    with visit(browser, path) as v:
        v.page.wait_for_function("window.DEDI_STATE && window.DEDI_STATE.ready")
        _check_page(v, path, "explorer_demo_area_E54009901")
        assert v.page.locator("#level").input_value() == "icb24"
        assert v.page.locator("#area").input_value() == "E54009901"
        assert "england" not in v.page.locator("#level option").evaluate_all(
            "os => os.map(o => o.value)")
        title = v.page.locator("#league-title").text_content()
        assert "England" not in title and "Synthshire" in title
        league = _league_names(v)
        assert len(league) == 20 and set(league) <= names
        v.page.fill("#search", "Synthshire")  # the search finds LSOAs of the area only
        hits = v.page.locator("#search-results li small").all_inner_texts()
        assert hits and all(h in _area_codes(demo_build, "E54009901") for h in hits)


@pytest.mark.parametrize("level", ["ward24", "gp_practice"])
def test_ward_and_gp_practice_levels_show_their_lsoas(demo_build, browser, level):
    """A ward is its LSOAs (ONS best fit); a GP practice the LSOAs where its patients live
    (gp_practice_catchment): the league table and the map hold those LSOAs only."""
    path = _write(demo_build)
    with duckdb_conn(demo_build) as conn:
        sql = ("SELECT ward24_code AS code, ward24_name AS name, lsoa21_name FROM lsoa_index"
               if level == "ward24" else
               "SELECT c.practice_code AS code, c.practice_name AS name, i.lsoa21_name FROM "
               "gp_practice_catchment c JOIN lsoa_index i USING (lsoa21_code)")
        members = conn.execute(sql).df()
        # the most deprived area of the level by published DEDI average score
        code = conn.execute("SELECT area_code FROM area_summary WHERE geography = ? AND "
                            "index = 'dedi' ORDER BY average_score_rank LIMIT 1",
                            [level]).fetchone()[0]
    mine = members[members["code"] == code]
    with visit(browser, path, f"area={level}:{code}") as v:
        v.page.wait_for_function("window.DEDI_STATE && window.DEDI_STATE.ready")
        screenshot(v, f"explorer_demo_{level}")
        assert v.page.locator("#level").input_value() == level
        assert v.page.locator("#area").input_value() == code
        options = v.page.locator("#area option").evaluate_all("os => os.map(o => o.value)")
        assert set(options) == set(members["code"])
        league = _league_names(v)
        assert league and set(league) <= set(mine["lsoa21_name"])
        assert len(league) == min(20, len(mine))
        assert mine["name"].iloc[0] in v.page.locator("#league-title").text_content()
        assert v.errors == []


def test_too_many_practice_lsoa_pairs_turn_the_practice_level_off(demo_build, monkeypatch,
                                                                 capsys):
    """Like the postcode search, the GP practice level is embedded up to a size; past it the
    page says nothing of practices and the command says why in one line."""
    from pipeline.outputs.explorer import page

    path = _write(demo_build)
    assert '"practices":{"codes":' in path.read_text(encoding="utf-8")
    monkeypatch.setattr(page, "MAX_CATCHMENT_PAIRS", 100)
    path = _write(demo_build)
    assert '"practices":null' in path.read_text(encoding="utf-8")
    assert "GP practice-LSOA pairs is too many to embed" in capsys.readouterr().err


def _area_codes(dirs, icb):
    with duckdb_conn(dirs) as conn:
        return set(conn.execute("SELECT lsoa21_code FROM lsoa_index WHERE icb24_code = ?",
                                [icb]).df()["lsoa21_code"])


def _screen_points(v, dirs):
    """Where a point inside each LSOA is drawn now, in CSS pixels of the page."""
    import geopandas as gpd
    import shapely

    g = gpd.read_parquet(dirs.marts / "current" / "lsoa_index.geoparquet")
    p = shapely.point_on_surface(shapely.simplify(g.geometry.values, 2e-4,
                                                  preserve_topology=True))
    view = v.page.evaluate("window.DEDI_STATE.view")
    box = v.page.locator("#map").bounding_box()
    x = box["x"] + (view["s"] * shapely.get_x(p) * view["kx"] + view["tx"]) / view["dpr"]
    y = box["y"] + (view["ty"] - view["s"] * shapely.get_y(p)) / view["dpr"]
    return g["lsoa21_code"].to_numpy(), x, y


def test_zoom_pan_and_click_after_zooming(demo_build, browser):
    """Buttons, wheel, drag and keys move the map; a click after zooming selects the LSOA
    under the pointer; a drag selects nothing."""
    path = _write(demo_build)
    with visit(browser, path) as v:
        v.page.wait_for_function("window.DEDI_STATE && window.DEDI_STATE.ready")
        zoom = lambda: v.page.evaluate("window.DEDI_STATE.view.zoom")  # noqa: E731
        v.page.click("#zoom-in")
        v.page.click("#zoom-in")
        v.page.wait_for_function("window.DEDI_STATE.view.zoom === 4")
        box = v.page.locator("#map").bounding_box()
        v.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        v.page.mouse.wheel(0, -300)
        v.page.wait_for_function("window.DEDI_STATE.view.zoom > 4")
        assert zoom() > 4
        # a drag pans and selects nothing
        tx = v.page.evaluate("window.DEDI_STATE.view.tx")
        v.page.mouse.down()
        v.page.mouse.move(box["x"] + box["width"] / 2 + 80, box["y"] + box["height"] / 2 + 30,
                          steps=5)
        v.page.mouse.up()
        v.page.wait_for_function(f"window.DEDI_STATE.view.tx !== {tx}")
        assert "Click an LSOA" in v.page.locator("#details").inner_text()
        # a click on an LSOA drawn at this zoom selects it
        codes, xs, ys = _screen_points(v, demo_build)
        k = int(np.argmin(np.hypot(xs - box["x"] - box["width"] / 3, ys - box["y"] - 100)))
        code, x, y = codes[k], xs[k], ys[k]
        assert box["x"] < x < box["x"] + box["width"] and box["y"] < y < box["y"] + box["height"]
        v.page.mouse.click(x, y)
        assert code in v.page.locator("#details h2 + p").inner_text()
        png = screenshot(v, "explorer_demo_zoomed")
        assert non_blank(png) > 0.2
        # keys: - zooms out, 0 back to the whole area
        v.page.focus("#map")
        before = zoom()
        v.page.keyboard.press("-")
        v.page.wait_for_function(f"window.DEDI_STATE.view.zoom < {before}")
        v.page.keyboard.press("0")
        v.page.wait_for_function("window.DEDI_STATE.view.zoom === 1")
        assert v.errors == []


def test_custom_weights_say_so_everywhere(demo_build, browser):
    """After a slider move the header, the map title, the map itself and the tables say
    "custom weights: not the published index", with the values; Reset takes it away."""
    path = _write(demo_build)
    with visit(browser, path) as v:
        v.page.wait_for_function("window.DEDI_STATE && window.DEDI_STATE.ready")
        assert not v.page.locator("#custom-banner").is_visible()
        assert "published DEDI" in v.page.locator("#map-title").inner_text()
        v.page.locator("#sl-w").fill("0.3")
        v.page.wait_for_function("window.DEDI_STATE.weights.dx_weight === 0.3")
        banner = v.page.locator("#custom-banner")
        assert banner.is_visible()
        assert "not the published index" in banner.inner_text() and "w = 0.3" in banner.inner_text()
        assert v.page.locator("#view-pill").is_visible()
        assert "custom weights: not the published index (w = 0.3)" in v.page.locator(
            "#map-title").inner_text()
        assert "custom weights" in v.page.locator("#league-title").text_content()
        png = screenshot(v, "explorer_demo_custom_weights")
        assert non_blank(png) > 0.2
        v.page.click("#reset")
        v.page.wait_for_function("window.DEDI_STATE.weights.dx_weight === 0.1")
        assert not banner.is_visible()
        assert "published DEDI" in v.page.locator("#map-title").inner_text()


def test_csv_download_is_the_view(demo_build, browser, tmp_path):
    """Download CSV gives the LSOAs of the area in view, the measure and the weights, with
    the browser's ranks (Python's for those weights) and a custom-weights header."""
    import pandas as pd

    path = _write(demo_build)
    w, subs, inds = 0.3, {"later_life": 0.1}, {"disability": 2.5}
    published, scenario = _python_ranks(demo_build, w, subs, inds)
    frag = _fragment(w, subs, inds, "&measure=dx_decile&area=icb24:E54009901")
    with visit(browser, path, frag) as v:
        v.page.wait_for_function("window.DEDI_STATE && window.DEDI_STATE.ready")
        with v.page.expect_download() as dl:
            v.page.click("#download")
        out = tmp_path / dl.value.suggested_filename
        dl.value.save_as(out)
    assert out.name == "dedi_E54009901_dx_decile_custom-weights.csv"
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# DEDI explorer export: custom weights: not the published index")
    assert "w = 0.3" in text.splitlines()[0]
    df = pd.read_csv(out, comment="#")
    assert set(df["lsoa21_code"]) == _area_codes(demo_build, "E54009901")
    assert (df["measure"] == "dx_decile").all() and (df["weights"] == "custom").all()
    ranks = dict(zip(published.lsoa["lsoa21_code"], scenario.dedi_rank, strict=True))
    assert all(ranks[c] == r for c, r in zip(df["lsoa21_code"], df["dedi_rank"], strict=True))
    assert df["dedi_rank"].is_monotonic_increasing
    assert (df["value"] == df["dx_decile"]).all()


def test_area_must_exist(demo_build):
    with pytest.raises(LookupError, match="E99999999"):
        _write(demo_build, area="E99999999")


@pytest.mark.real
@pytest.mark.parametrize("aggregation", ["exponential", "linear"])
def test_real_explorer_ranks_match_python(real_build, browser, aggregation):
    """Both aggregations of the routes, on real England: the browser's ranks are Python's."""
    path = _write(real_build)
    w, subs, inds = 0.25, {"access": 0.6, "deprivation": 0.3}, {"disability": 2,
                                                                "social_renting": 0}
    published, scenario = _python_ranks(real_build, w, subs, inds, aggregation)
    frag = _fragment(w, subs, inds, f"&agg={aggregation}&area=icb24:E54000008")
    with visit(browser, path, frag) as v:
        dx, dedi = _browser_ranks(v)
        png = _check_page(v, path, f"explorer_real_E54000008_{aggregation}")
        assert not v.page.locator("#synthetic-banner").is_visible()
        assert "Cheshire and Merseyside" in v.page.locator("#league-title").text_content()
        assert np.array_equal(dx, scenario.dx_rank)
        assert np.array_equal(dedi, scenario.dedi_rank)
        assert (dedi != published.dedi_rank).mean() > 0.5
    assert png.stat().st_size > 50_000


@pytest.mark.real
def test_real_area_explorer_is_cheshire_and_merseyside(real_build, browser):
    """The one-ICB file of real England opens at the ICB, lists its LSOAs only (no Tendring or
    Blackpool beside a Cheshire and Merseyside map), and the England file stays <= 13 MB."""
    england = _write(real_build)
    assert england.stat().st_size <= 13_000_000
    path = _write(real_build, area="E54000008")
    names = _area_names(real_build, "E54000008")
    with visit(browser, path) as v:
        v.page.wait_for_function("window.DEDI_STATE && window.DEDI_STATE.ready", timeout=60_000)
        _check_page(v, path, "explorer_real_area_E54000008")
        assert "Cheshire and Merseyside" in v.page.locator("#league-title").text_content()
        league = _league_names(v)
        assert len(league) == 20 and set(league) <= names
        assert not any(n.startswith(("Tendring", "Blackpool")) for n in league)
        assert {"Liverpool", "Wirral"} <= set(v.page.evaluate("window.DEDI_STATE.labels"))
        v.page.locator("#league tbody tr").first.click()  # connectivity's units, per source
        units = v.page.locator("#details small.units").first.inner_text()
        assert units.startswith("standardised score") and "per cent" not in units
