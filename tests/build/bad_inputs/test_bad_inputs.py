"""Table-driven bad inputs (tests/build/bad_inputs/cases.py): every case stops the build with one
line naming the file and what is wrong, and the published marts stay byte-identical."""

from __future__ import annotations

import collections
import re
import shutil

import duckdb
import pandas as pd
import pytest

from tests.build.bad_inputs.cases import BINS, CASES, PUPIL
from tests.conftest import BuildDirs, build, marts_fingerprint


@pytest.fixture(scope="module")
def published(demo_build, tmp_path_factory):
    """One published marts folder every failing case must leave untouched."""
    marts = tmp_path_factory.mktemp("bad_inputs") / "marts"
    shutil.copytree(demo_build.marts, marts, symlinks=True)
    return marts, marts_fingerprint(marts)


def _raw(demo_build, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(demo_build.raw, raw)
    return raw


def test_corpus_covers_every_source_and_class():
    by_source = collections.Counter(c.source for c in CASES)
    assert len(CASES) >= 60
    assert set(by_source) >= {"iod", "iod_file8", "geography", "census", "connectivity", "gp",
                              "nhs_app", "schools", "local"}
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_stops_the_build_with_one_clear_line(case, demo_build, published, tmp_path):
    marts, before = published
    raw = _raw(demo_build, tmp_path)
    case.mutate(raw)
    try:
        out = build(BuildDirs(raw, tmp_path / "staging", marts))
    except Exception as exc:  # noqa: BLE001 - refused before the run (e.g. the raw folder)
        failures = [str(exc)]
    else:
        assert not out.success, f"{case.id}: a bad input was built and published"
        failures = out.failures
    lines = [f for f in failures if re.search(case.expect, f)]
    assert lines, f"{case.id}: expected /{case.expect}/, got {failures}"
    line = lines[0]
    assert "\n" not in line.strip() and "Traceback" not in line
    assert (case.names or str(raw)) in line, f"{case.id}: the line does not name the file"
    assert marts_fingerprint(marts) == before, f"{case.id}: the published marts changed"


def test_bad_local_rows_are_quarantined_and_the_rest_published(demo_build, tmp_path):
    raw = _raw(demo_build, tmp_path)
    df = pd.read_csv(raw / PUPIL, dtype=str)
    df.loc[0, "count"] = "-2"                       # negative
    df.loc[1, "count"] = "7.5"                      # not whole
    df.loc[2, "count"] = str(int(df.loc[2, "denominator"]) + 1)  # above its denominator
    df.to_csv(raw / PUPIL, index=False)
    dirs = BuildDirs(raw, tmp_path / "staging", tmp_path / "marts")
    out = build(dirs)
    assert out.success, out.failures
    with duckdb.connect(str(dirs.marts / "current" / "dedi.duckdb"), read_only=True) as con:
        q = con.execute("SELECT * FROM quarantine ORDER BY file_row").df()
        n = con.execute("SELECT value FROM build_metadata WHERE key = 'rows_quarantined'"
                        ).fetchone()[0]
        left = con.execute("SELECT count(pupil_premium_rate_pct) FROM lsoa_indicators WHERE "
                           "lsoa21_code IN (SELECT unnest(?))",
                           [df.loc[:2, "lsoa21_code"].tolist()]).fetchone()[0]
    assert q["reason"].tolist() == ["negative count", "count is not a whole number",
                                    "count above its denominator"]
    assert q["file_row"].tolist() == ["2", "3", "4"] and n == "3"
    assert q["values"].iloc[0].startswith(f"lsoa21_code={df.loc[0, 'lsoa21_code']}, count=-2")
    assert left == 0  # quarantined rows are not used
    assert out.warnings == [f"{raw / PUPIL}: 3 row(s) quarantined and left out, e.g. file row 2: "
                            "negative count; every row is in the `quarantine` mart"]


def test_codes_in_lower_case_or_with_spaces_join_as_published(demo_build, tmp_path):
    """LSOA and practice codes differing only in case or surrounding whitespace are
    normalised, never dropped: the published index is the clean build's."""
    from tests.build.bad_inputs.cases import APP, PATIENTS

    raw = _raw(demo_build, tmp_path)
    df = pd.read_csv(raw / PATIENTS, dtype=str)
    df["LSOA_CODE"] = " " + df["LSOA_CODE"].str.lower() + " "
    df["PRACTICE_CODE"] = df["PRACTICE_CODE"].str.lower()
    df.to_csv(raw / PATIENTS, index=False)
    app = pd.read_csv(raw / APP, dtype=str)
    app["practice_code"] = app["practice_code"] + "  "
    app.to_csv(raw / APP, index=False)
    dirs = BuildDirs(raw, tmp_path / "staging", tmp_path / "marts")
    out = build(dirs)
    assert out.success, out.failures
    q = "SELECT lsoa21_code, nhs_app_non_uptake_pct FROM lsoa_indicators ORDER BY 1"
    with duckdb.connect(str(dirs.marts / "current" / "dedi.duckdb"), read_only=True) as con:
        got = con.execute(q).df()
    with duckdb.connect(str(demo_build.marts / "current" / "dedi.duckdb"), read_only=True) as con:
        want = con.execute(q).df()
    assert got["nhs_app_non_uptake_pct"].notna().all()
    pd.testing.assert_frame_equal(got, want)


def test_a_count_of_another_la_is_quarantined_with_a_warning(demo_build, tmp_path):
    raw = _raw(demo_build, tmp_path)
    with duckdb.connect(str(demo_build.marts / "current" / "dedi.duckdb"), read_only=True) as con:
        elsewhere = con.execute("SELECT lsoa21_code FROM lsoa_index WHERE ltla24_code = "
                                "'E06009901' ORDER BY 1 LIMIT 1").fetchone()[0]
    df = pd.read_csv(raw / PUPIL, dtype=str)
    df.loc[3, "lsoa21_code"] = elsewhere
    df.to_csv(raw / PUPIL, index=False)
    dirs = BuildDirs(raw, tmp_path / "staging", tmp_path / "marts")
    out = build(dirs)
    assert out.success, out.failures
    with duckdb.connect(str(dirs.marts / "current" / "dedi.duckdb"), read_only=True) as con:
        q = con.execute("SELECT * FROM quarantine").df()
    assert q["reason"].tolist() == ["LSOA of another LA (E06009901)"]
    assert q["file_row"].tolist() == ["5"]
    assert [w for w in out.warnings if str(raw / PUPIL) in w and "1 row(s) quarantined" in w
            and "`quarantine` mart" in w], out.warnings


def test_quarantine_can_block(demo_build, tmp_path, monkeypatch):
    import yaml

    from pipeline.config import SETTINGS_FILE

    cfg = yaml.safe_load(SETTINGS_FILE.read_text())
    cfg["raw_checks"]["quarantine"]["local_proxies"] = "block"
    f = tmp_path / "settings.yaml"
    f.write_text(yaml.safe_dump(cfg))
    monkeypatch.setenv("DEDI_SETTINGS", str(f))
    raw = _raw(demo_build, tmp_path)
    df = pd.read_csv(raw / BINS.replace("E06009901/assisted_bin_collection", "E06009902/"
                                        "pupil_premium"), dtype=str)
    df.loc[0, "count"] = "-2"
    df.to_csv(raw / PUPIL, index=False)
    out = build(BuildDirs(raw, tmp_path / "staging", tmp_path / "marts"))
    assert not out.success
    assert any("1 row(s) quarantined, e.g. file row 2: negative count" in f
               for f in out.failures), out.failures


def test_a_damaged_postcode_directory_falls_back_with_a_warning(demo_build, tmp_path):
    """Ofcom postcodes that the ONS Postcode Directory no longer holds: the LSOAs fall back to
    IoD File 8 connectivity, and the build says so in a warning naming the Ofcom file."""
    from tests.build.bad_inputs.cases import OFCOM, ONSPD

    raw = _raw(demo_build, tmp_path)
    pcd = pd.read_csv(raw / ONSPD, dtype=str, keep_default_na=False)
    for col in [c for c in pcd.columns if c.lower() in ("pcds", "pcd", "pcd2", "pcd7", "pcd8")]:
        pcd[col] = "ZZ" + pcd[col].str[2:]  # every postcode moved where Ofcom has none
    pcd.to_csv(raw / ONSPD, index=False)
    for f in (raw / "local").glob("*/english_second_language.*"):  # records by postcode
        f.unlink()  # (they would stop the build: tested by local_records_unknown_postcodes)
    dirs = BuildDirs(raw, tmp_path / "staging", tmp_path / "marts")
    out = build(dirs)
    assert out.success, out.failures
    lines = [w for w in out.warnings if OFCOM.split("/")[-1] in w
             and "got no Ofcom value" in w and "connectivity_source" in w]
    assert lines, out.warnings
    with duckdb.connect(str(dirs.marts / "current" / "dedi.duckdb"), read_only=True) as con:
        used = con.execute("SELECT DISTINCT connectivity_source FROM lsoa_indicators").fetchall()
    assert all(u[0].startswith("IoD 2025") for u in used)
