"""ICB reports in headless Chromium: offline, no errors, headings and tables present; England
maps published for slides."""

from __future__ import annotations

import pytest

from tests.browser import non_blank, screenshot, visit
from tests.conftest import dedi_env

HEADINGS = ["In brief", "How to read this", "Maps", "Local authorities: league table",
            "The 20 highest-need LSOAs", "Caveats"]


def _report(dirs, icb):
    from pipeline.outputs.report.icb import write_reports

    with dedi_env(dirs):
        return write_reports([icb], progress=False)[0]


def _check(v, path, name):
    png = screenshot(v, name)
    assert non_blank(png) > 0.05  # a white page of text and figures; blank is 0
    assert v.errors == []
    assert v.foreign_requests(path.resolve().as_uri()) == []
    h2 = v.page.locator("h2").all_text_contents()
    assert h2 == HEADINGS
    assert v.page.locator("table.top20 tbody tr").count() == 20
    assert v.page.locator("table.league tbody tr").count() >= 1
    assert v.page.locator("img").count() == 4  # three maps and the league chart
    for img in v.page.locator("img").all():  # every figure decoded and drawn
        assert img.evaluate("i => i.complete && i.naturalWidth > 100")
    return png


def test_demo_report(demo_build, browser):
    path = _report(demo_build, "E54009901")
    assert path == demo_build.marts / "reports" / "E54009901.html"
    with visit(browser, path) as v:
        _check(v, path, "report_demo")
        assert v.page.locator(".banner").is_visible()
        assert "synthetic" in v.page.locator(".caveats").inner_text().lower()


@pytest.mark.real
def test_real_report_for_cheshire_and_merseyside(real_build, browser):
    path = _report(real_build, "E54000008")
    with visit(browser, path) as v:
        _check(v, path, "report_real_E54000008")
        assert v.page.locator(".banner").count() == 0
        assert "Cheshire and Merseyside" in v.page.locator("h1").inner_text()
        text = v.page.locator("table.top20").inner_text()
        assert "Liverpool" in text or "Knowsley" in text
        caveats = v.page.locator(".caveats").inner_text()
        # absent inputs are named as people name them, with the reason
        assert "NHS App uptake: no file was supplied" in caveats
        assert "Assisted bin collection: no local authority has supplied a file" in caveats
        assert "nhs_app_non_uptake_pct" not in caveats
        assert "Census 2021" in caveats and "IoD 2025" in caveats  # vintages
        # each input once, said to be what its file is and no more
        items = v.page.locator(".caveats ul li").all_inner_texts()
        assert len(items) == len(set(items))
        assert sum("English Indices of Deprivation 2025, File 7:" in i for i in items) == 1
        assert "File_7_IoD2025_reconstructed.csv" in caveats
        assert "official data" not in v.page.inner_text("body")
        # map legends readable: legend text of MAP_STYLE points, as shown on the page
        from pipeline.outputs.report.icb import MAP_STYLE

        text_px = MAP_STYLE["legend_size"] * MAP_STYLE["dpi"] / 72
        for img in v.page.locator(".maps img").all():
            shown, natural = img.evaluate("i => [i.clientWidth, i.naturalWidth]")
            assert text_px * shown / natural >= 11, (shown, natural)


def test_england_maps_are_published(demo_build):
    maps = sorted((demo_build.marts / "current" / "maps").glob("england_*.png"))
    assert [m.name for m in maps] == ["england_dedi_decile.png", "england_dedi_rank_change.png",
                                      "england_dx_decile.png"]
    for m in maps:
        assert non_blank(m) > 0.1
