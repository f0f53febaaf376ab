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
