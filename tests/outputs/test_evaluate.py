"""``dedi evaluate``: a planted effect is recovered; random "interventions" on real data are
null at the stated level; the report renders in Chromium; bad input is one clear line."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipeline.cli.main import main
from pipeline.demo.synthetic import DEMO_HUB_EFFECT, evaluation_panel
from pipeline.method.evaluate import Panel, evaluate
from tests.browser import chromium_browser, non_blank, requires_chromium, screenshot, visit
from tests.conftest import dedi_env, requires_shared

METHOD = dict(exact=["region", "urban_rural", "dx_decile"], near=["dx_decile"], k=5,
              cluster="cluster", min_clusters=20, max_pre=6, max_post=6, level=0.95)


def _panel(y: np.ndarray, cov: pd.DataFrame) -> Panel:
    return Panel(y, list(cov.index), [f"2026-{m:02d}" for m in range(1, y.shape[1] + 1)])


def test_planted_effect_is_recovered_within_its_interval():
    y, cov, starts = evaluation_panel(effect=4.0, seed=3)
    ev = evaluate(_panel(y, cov), starts, cov, n_boot=299, seed=3, **METHOD)
    assert ev.ci[0] <= 4.0 <= ev.ci[1]
    assert ev.ci[0] > 0  # and told apart from no effect
    post = ev.event_study[ev.event_study["k"] >= 0]
    assert abs(post["coef"].mean() - 4.0) < 0.3
    assert ((post["lo"] <= 4.0) & (post["hi"] >= 4.0)).sum() >= 4  # of 6 separate 95% intervals
    assert ev.pretrend_p is not None and ev.pretrend_p > 0.05  # no pre-trend was planted
    # matching removed the imbalance the generator built in (treated are higher need)
    bal = ev.balance.set_index("covariate")
    assert abs(bal.loc["baseline", "std_diff_before"]) > 0.3
    assert abs(bal.loc["baseline", "std_diff_after"]) < 0.05
    assert ev.cluster_by == "cluster" and ev.n_clusters >= 20


def test_naive_comparison_would_be_biased_where_matching_is_not():
    """Treated units are chosen in high-need deciles, whose trends differ: an unmatched
    difference-in-differences is off; the matched one recovers zero."""
    y, cov, starts = evaluation_panel(effect=0.0, seed=5)
    treated = cov.index.isin(starts.index)
    naive = ((y[treated, 6:].mean() - y[treated, :6].mean())
             - (y[~treated, 6:].mean() - y[~treated, :6].mean()))
    ev = evaluate(_panel(y, cov), starts, cov, n_boot=199, seed=5, **METHOD)
    assert abs(naive) > 0.3 and not (ev.ci[0] <= naive <= ev.ci[1])
    assert ev.ci[0] <= 0 <= ev.ci[1]


def test_pretrend_is_flagged_when_planted():
    y, cov, starts = evaluation_panel(effect=0.0, seed=4)
    rows = cov.index.isin(starts.index)
    y[rows, :6] += 0.5 * np.arange(6)[None, :] - 2.5  # treated drifting up before the start
    ev = evaluate(_panel(y, cov), starts, cov, n_boot=199, seed=4, **METHOD)
    assert ev.pretrend_p is not None and ev.pretrend_p < 0.05
    assert ev.pretrend_slope == pytest.approx(0.5, abs=0.15)


@requires_shared
def test_random_interventions_on_real_data_are_null_in_90_percent_of_50_seeds(real_build):
    """50 random samples of 100 comparable LSOAs, "starting" in January 2020, evaluated on the
    IMD percentile (IoD 2019 -> 2025): the 95% interval holds zero in >= 45 of 50."""
    from pipeline.outputs.evaluate import estimate, prepare
    from pipeline.outputs.warehouse import connect

    with dedi_env(real_build), connect() as conn:
        prep = prepare(conn, "lsoa", "imd_percentile")
    assert prep.panel.periods == ["2019", "2025"] and len(prep.panel.units) > 30_000
    eligible = np.array(prep.panel.units)
    held, effects = 0, []
    for seed in range(50):
        pick = np.random.default_rng(seed).choice(eligible, 100, replace=False)
        interventions = pd.DataFrame({"unit_type": "lsoa", "unit_code": pick,
                                      "start_date": pd.Timestamp("2020-01-01").date(),
                                      "intervention": "random"})
        ev = estimate(prep, interventions, seed=seed, n_boot=299)
        assert ev.n_treated == 100 and ev.pretrend_p is None  # one pre-period: not testable
        held += ev.ci[0] <= 0 <= ev.ci[1]
        effects.append(ev.att)
    assert held >= 45, f"null held in only {held} of 50"
    assert abs(np.mean(effects)) < 1.0  # percentile points: no systematic bias


@requires_shared
def test_evaluate_cli_on_real_data_writes_mart_and_report(real_build, tmp_path, capsys):
    codes = duckdb.connect(str(real_build.marts / "current" / "dedi.duckdb"), read_only=True
                           ).execute("SELECT lsoa21_code FROM lsoa_index_history WHERE "
                                     "comparable AND vintage = 2025 ORDER BY lsoa21_code "
                                     "LIMIT 40").fetchall()
    f = tmp_path / "hubs.csv"
    pd.DataFrame({"unit_type": "lsoa", "unit_code": [c for (c,) in codes],
                  "start_date": "2021-03", "intervention": "test hubs"}).to_csv(f, index=False)
    with dedi_env(real_build):
        assert main(["evaluate", str(f), "--draws", "199", "--name", "real_test"]) == 0
    out = capsys.readouterr().out
    assert "IMD percentile (lsoa units): effect" in out and "not testable" in out
    folder = real_build.marts / "evaluations" / "real_test"
    con = duckdb.connect(str(folder / "evaluation.duckdb"), read_only=True)
    row = con.execute("SELECT * FROM evaluation").df().iloc[0]
    assert row["outcome"] == "imd_percentile" and row["treated_units"] == 40
    assert row["ci_low"] <= row["effect"] <= row["ci_high"]
    assert row["data_status"] == "real" and len(row["input_sha256"]) == 64
    n = con.execute("SELECT count(*) FROM evaluation_comparison_set").fetchone()[0]
    assert n == 40 * 5
    assert (folder / "evaluation_event_study.parquet").exists()
    assert "descriptive comparison" in (folder / "report.html").read_text()


@pytest.fixture(scope="module")
def demo_evaluation(demo_build):
    with dedi_env(demo_build):
        assert main(["evaluate", str(demo_build.raw / "interventions" / "demo_digital_hubs.csv"),
                     "--draws", "299"]) == 0
    return demo_build.marts / "evaluations" / "demo_digital_hubs"


def test_demo_hubs_planted_effect_recovered_end_to_end(demo_evaluation):
    """The demo generator planted +4 points of NHS App uptake at four practices from May
    2026; the CLI, reading the published practice history, finds it."""
    row = duckdb.connect(str(demo_evaluation / "evaluation.duckdb"), read_only=True).execute(
        "SELECT effect, ci_low, ci_high, unit_type, outcome, treated_units, data_status "
        "FROM evaluation").fetchone()
    effect, lo, hi, unit_type, outcome, n, status = row
    assert (unit_type, outcome, n, status) == ("practice", "nhs_app_uptake", 4, "synthetic")
    assert lo <= 100 * DEMO_HUB_EFFECT <= hi and lo > 0


@requires_chromium
def test_evaluation_report_renders_offline(demo_evaluation):
    page = demo_evaluation / "report.html"
    with chromium_browser() as browser, visit(browser, page, width=1200) as v:
        text = v.page.inner_text("body")
        shot = screenshot(v, "evaluation_demo")
        imgs = v.page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
    assert not v.errors and not v.foreign_requests(page.resolve().as_uri())
    assert "SYNTHETIC DEMO DATA" in text and "Estimated effect on NHS App uptake" in text
    for heading in ("Event study", "Pre-trends", "The matched comparison set",
                    "What this is, and what would make it more credible"):
        assert heading in text
    assert "descriptive comparison" in text and "Z99003" in text
    assert len(imgs) == 1 and imgs[0] > 400
    assert non_blank(shot) > 0.05
    assert "-0.0" not in text and "p-value (normal approximation)\t< 0.001" in text


@requires_chromium
def test_evaluation_numbers_sit_under_their_headings(demo_evaluation):
    """Every number of the event-study table is right-aligned under a right-aligned heading
    of its own column (not spilling under the next one)."""
    page = demo_evaluation / "report.html"
    with chromium_browser() as browser, visit(browser, page, width=1200) as v:
        table = v.page.locator("h2#chart ~ table").first
        heads = table.locator("thead th").all()
        cells = table.locator("tbody tr").first.locator("td").all()
        assert [h.inner_text() for h in heads][:2] == ["period since start", "difference"]
        for h, c in zip(heads, cells, strict=True):
            hb, cb = h.bounding_box(), c.bounding_box()
            assert abs(hb["x"] - cb["x"]) < 1 and abs(hb["width"] - cb["width"]) < 1
            if c.get_attribute("class") == "num":  # same right edge of the text
                assert h.evaluate("e => getComputedStyle(e).textAlign") == "right"


def test_report_numbers_read_as_people_write_them():
    from pipeline.outputs.report.evaluation import balance_note
    from pipeline.outputs.report.html import cell_text, html_table, p_value

    assert cell_text(-0.03) == "0.0" and cell_text(-0.06) == "-0.1"
    assert p_value(0.0) == "< 0.001" and p_value(0.0123) == "0.012"
    html = html_table(pd.DataFrame({"k": [-1], "label": ["2026-04"], "coef": [0.5]}))
    assert '<th class="num">k</th><th class="">label</th><th class="num">coef</th>' in html
    bal = pd.DataFrame({"covariate": ["baseline", "dx_decile"], "std_diff_before": [-0.7, 0.2],
                        "std_diff_after": [-0.1, 0.3]})
    matches = pd.DataFrame({"treated_unit": ["a", "a", "b", "b"],
                            "control_unit": ["c", "d", "e", "f"],
                            "match_level": ["geography+urban_rural+dx_decile"] * 2
                            + ["geography"] * 2})
    note = balance_note(bal, matches)
    assert note.startswith("Matching made balance worse on dx_decile 0.20 before, 0.30 after")
    assert "1 of 2 intervention units were matched in a coarser stratum" in note
    assert balance_note(bal.iloc[:1], matches) == ""


@pytest.mark.parametrize("content, message", [
    ("unit_type,unit_code\nlsoa,E01000001\n", r"missing column\(s\) \['start_date'\]"),
    ("unit_type,unit_code,start_date\nlsoa,E01000001,May 2026\n",
     r"'start_date': expected YYYY-MM-DD or YYYY-MM at file row\(s\) \[2\]"),
    ("unit_type,unit_code,start_date\nward,X,2026-05\n", r"'unit_type': expected one of"),
    ("unit_type,unit_code,start_date\nlsoa,E01000001,2026-05\npractice,A1,2026-05\n",
     r"one type per file"),
    ("unit_type,unit_code,start_date\npractice,Z99003,2026-05\npractice,Z99003,2026-06\n",
     r"Z99003 is listed more than once \(file rows \[2, 3\]\)"),
    ("unit_type,unit_code,start_date\npractice,NOPE1,2026-05\n",
     r"not practice codes in these marts: \['NOPE1'\]"),
    ("unit_type,unit_code,start_date\npractice,Z99003,2020-01\n",
     r"no intervention unit has both a pre- and a post-period"),
])
def test_bad_intervention_file_is_one_clear_line(demo_build, tmp_path, capsys, content,
                                                 message):
    f = tmp_path / "interventions.csv"
    f.write_text(content)
    with dedi_env(demo_build):
        assert main(["evaluate", str(f), "--draws", "19"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    import re

    assert re.search(message, err), err


def test_evaluate_help_documents_the_input_format(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    out = capsys.readouterr().out
    for needle in ("unit_type", "unit_code", "start_date", "lsoa | practice | la",
                   "YYYY-MM-DD or YYYY-MM", "nhs_app_uptake", "imd_percentile",
                   "evaluation_comparison_set"):
        assert needle in out
