"""ICB reports in headless Chromium: offline, no errors, headings and tables present; England
maps published for slides."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import non_blank, screenshot, visit
from tests.conftest import dedi_env

HEADINGS = ["In brief", "How to read this", "Maps", "Local authorities: league table",
            "Wards: the 15 highest-need", "GP practices: the 15 highest-need",
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
    assert v.page.locator("#wards + p + table.places tbody tr").count() == 15
    assert v.page.locator("img").count() == 5  # four maps and the league chart
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
        _check_places(v, demo_build, "E54009901")
        practices = v.page.locator("#practices + p + table.places tbody tr")
        assert practices.count() == 15  # the demo supplies patients by LSOA


def _check_places(v, dirs, icb):
    """The ward table: the ICB's wards in the order of the published v_ward_summary."""
    import duckdb

    with duckdb.connect(str(dirs.marts / "current" / "dedi.duckdb"), read_only=True) as c:
        top = [r[0] for r in c.execute(
            "SELECT ward24_name FROM v_ward_summary WHERE icb24_code = ? "
            "ORDER BY dedi_average_score_rank LIMIT 15", [icb]).fetchall()]
    shown = v.page.locator("#wards + p + table.places tbody tr td:first-child").all_inner_texts()
    assert shown == top


@pytest.mark.real
def test_real_report_for_cheshire_and_merseyside(real_build, browser):
    path = _report(real_build, "E54000008")
    with visit(browser, path) as v:
        _check(v, path, "report_real_E54000008")
        assert v.page.locator(".banner").count() == 0
        assert "Cheshire and Merseyside" in v.page.locator("h1").inner_text()
        assert v.page.locator("img[alt='imd_decile_change']").count() == 1  # IoD 2019 -> 2025
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
        # wards from the ONS best-fit lookup; no practice without patients by LSOA, said why
        _check_places(v, real_build, "E54000008")
        assert v.page.locator("#practices + p + table").count() == 0
        assert "no file of patients registered at a GP practice by LSOA" in \
            v.page.locator("#practices + p").inner_text()
        # map legends readable: legend text of MAP_STYLE points, as shown on the page
        from pipeline.outputs.report.icb import MAP_STYLE

        text_px = MAP_STYLE["legend_size"] * MAP_STYLE["dpi"] / 72
        for img in v.page.locator(".maps img").all():
            shown, natural = img.evaluate("i => [i.clientWidth, i.naturalWidth]")
            assert text_px * shown / natural >= 11, (shown, natural)


def _print_pages(html: Path, name: str) -> list[Path]:
    """The browser's print-to-PDF of a page (headless Chromium), as PNG pages (pdftoppm)."""
    import shutil
    import subprocess

    from tests.browser import CHROMIUM, FLAGS, SHOTS

    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) not installed (.ci/run installs it)")
    SHOTS.mkdir(exist_ok=True)
    pdf = SHOTS / f"{name}.pdf"
    subprocess.run([CHROMIUM, *FLAGS, "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                    html.resolve().as_uri()], check=True, capture_output=True, timeout=120)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert "594.96 x 841.92 pts (A4)" in info.stdout
    for old in SHOTS.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(SHOTS / name)], check=True)
    return sorted(SHOTS.glob(f"{name}-*.png"))


def _check_print(v, html: Path, name: str) -> list[Path]:
    """A4 pages, none blank, and nothing cut off: every heading and cell of the page's
    tables is in the PDF's text (a column off the page would be missing)."""
    import re
    import subprocess

    from tests.browser import SHOTS

    pages = _print_pages(html, name)
    assert 2 <= len(pages) <= 8, len(pages)
    for png in pages:
        assert non_blank(png) > 0.01, f"{png} is a blank page"
    text = subprocess.run(["pdftotext", "-layout", str(SHOTS / f"{name}.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    words = set(re.findall(r"[\w.%-]+", text))
    cells = v.page.evaluate("""() => [...document.querySelectorAll('table.top20 tr')]
        .map(r => [...r.children].map(c => c.innerText))""")
    last = [row[-1] for row in cells]  # the right-most column: cut off first if too wide
    missing = [t for t in last for w in re.findall(r"[\w.%-]+", t) if w not in words]
    assert missing == [], missing
    return pages


def test_demo_report_prints_to_clean_a4_pages(demo_build, browser):
    path = _report(demo_build, "E54009901")
    with visit(browser, path) as v:
        _check_print(v, path, "report_demo_print")


@pytest.mark.real
def test_real_report_prints_to_clean_a4_pages(real_build, browser):
    path = _report(real_build, "E54000008")
    with visit(browser, path) as v:
        _check_print(v, path, "report_real_E54000008_print")


def test_england_maps_are_published(demo_build):
    maps = sorted((demo_build.marts / "current" / "maps").glob("england_*.png"))
    assert [m.name for m in maps] == ["england_dedi_decile.png", "england_dedi_rank_change.png",
                                      "england_dx_decile.png"]
    for m in maps:
        assert non_blank(m) > 0.1
