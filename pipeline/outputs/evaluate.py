"""``dedi evaluate``: did an intervention move an outcome? Reads the published marts, matches
comparison units, estimates a difference-in-differences (``pipeline/method/evaluate.py``) and
writes the ``evaluation`` mart and an HTML report to ``<marts>/evaluations/<name>/``.

Input file (CSV or parquet), one row per intervention unit:

    unit_type    lsoa | practice | la (one type per file)
    unit_code    LSOA 2021 code (E01...), GP practice ODS code, or LA code (E06-E09...)
    start_date   YYYY-MM-DD or YYYY-MM: when the intervention started
    intervention optional label (e.g. "Library digital health hub")
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipeline.config import settings
from pipeline.errors import EvaluateError  # noqa: F401  (re-exported)
from pipeline.method.evaluate import Evaluation, Panel, evaluate
from pipeline.sources.common import SourceError, read_table

UNIT_TYPES = {"lsoa": "LSOA 2021", "practice": "GP practice", "la": "local authority (LTLA)"}
OUTCOMES = {
    "nhs_app_uptake": ("NHS App uptake", "% of registered patients registered for the NHS App",
                       "percentage points"),
    "imd_percentile": ("IMD percentile", "100 × IMD rank / LSOAs ranked (near 0 = most "
                       "deprived); relative, not absolute", "percentile points"),
}
# (outcome, unit type) -> SQL giving unit, period, value over the published marts
OUTCOME_SQL = {
    ("nhs_app_uptake", "lsoa"): "SELECT lsoa21_code AS unit, month AS period, "
    "nhs_app_uptake_pct AS value FROM nhs_app_uptake_history",
    ("nhs_app_uptake", "practice"): "SELECT practice_code AS unit, month AS period, "
    "nhs_app_uptake_pct AS value FROM nhs_app_practice_history",
    ("nhs_app_uptake", "la"): "SELECT ltla24_code AS unit, month AS period, "
    "nhs_app_uptake_pct AS value FROM v_ltla_nhs_app_uptake",
    ("imd_percentile", "lsoa"): "SELECT lsoa21_code AS unit, CAST(vintage AS VARCHAR) AS "
    "period, imd_percentile AS value FROM lsoa_index_history WHERE comparable",
    ("imd_percentile", "la"): "SELECT ltla24_code AS unit, vintage AS period, "
    "imd_percentile AS value FROM v_ltla_imd_percentile",
}
STATEMENT = (
    "This is a descriptive comparison, not proof that the intervention caused the change. "
    "The comparison units were matched on the outcome before the start, the {decile}, the "
    "{geography} and rurality, but places chosen for an intervention may differ in ways the "
    "data do not show (a keen practice manager, a new housing estate, another programme). "
    "It would be more credible with: a comparison chosen before the results were seen; "
    "several pre-periods with flat pre-trends; a randomised or phased roll-out (stepped "
    "wedge); an outcome measured the same way throughout; and a check that nothing else "
    "changed at the same time in the intervention areas.")




@dataclass
class Prepared:
    """An outcome panel and the covariates of every unit of one type."""

    unit_type: str
    outcome: str
    panel: Panel
    period_dates: list[date]
    covariates: pd.DataFrame


def read_interventions(path: Path) -> pd.DataFrame:
    """The intervention file, checked: unit_type, unit_code, start_date (a date),
    intervention."""
    try:
        df = read_table(path)
    except SourceError as exc:
        raise EvaluateError(str(exc)) from None
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in ("unit_type", "unit_code", "start_date") if c not in df]
    if missing:
        raise EvaluateError(f"{path}: missing column(s) {missing}; expected unit_type, "
                            "unit_code, start_date[, intervention] (see dedi evaluate --help)")
    if df.empty:
        raise EvaluateError(f"{path}: no intervention rows")
    df["unit_type"] = df["unit_type"].astype(str).str.strip().str.lower()
    bad = df.index[~df["unit_type"].isin(list(UNIT_TYPES))]
    if len(bad):
        raise EvaluateError(f"{path}: column 'unit_type': expected one of {list(UNIT_TYPES)} "
                            f"at file row(s) {[int(i) + 2 for i in bad[:5]]}")
    if df["unit_type"].nunique() > 1:
        raise EvaluateError(f"{path}: column 'unit_type': one type per file, found "
                            f"{sorted(df['unit_type'].unique())}; split the file")
    df["unit_code"] = df["unit_code"].astype(str).str.strip().str.upper()
    dup = df.index[df["unit_code"].duplicated(keep=False)]
    if len(dup):
        raise EvaluateError(f"{path}: column 'unit_code': {df.at[dup[0], 'unit_code']} is listed "
                            f"more than once (file rows {[int(i) + 2 for i in dup[:5]]}); give "
                            "each unit its first start date once")
    raw = df["start_date"].astype(str).str.strip()
    start = pd.to_datetime(raw, format="%Y-%m-%d", errors="coerce").fillna(
        pd.to_datetime(raw, format="%Y-%m", errors="coerce"))
    bad = df.index[start.isna()]
    if len(bad):
        raise EvaluateError(f"{path}: column 'start_date': expected YYYY-MM-DD or YYYY-MM at "
                            f"file row(s) {[int(i) + 2 for i in bad[:5]]}")
    df["start_date"] = start.dt.date
    if "intervention" not in df:
        df["intervention"] = ""
    df["intervention"] = df["intervention"].fillna("").astype(str)
    return df[["unit_type", "unit_code", "start_date", "intervention"]]


def _period_dates(periods: list[str], outcome: str) -> list[date]:
    if outcome == "imd_percentile":
        ref = settings()["evaluate"]["iod_reference_dates"]
        return [date.fromisoformat(ref[p]) for p in periods]
    return [date(int(p[:4]), int(p[5:7]), 1) for p in periods]


def covariates(conn, unit_type: str) -> pd.DataFrame:
    """Matching covariates and bootstrap cluster of every unit: geography (region or ICB),
    urban_rural, dx_decile, dedi_decile, cluster."""
    geo = "icb24_code" if settings()["evaluate"]["match_geography"] == "icb" else "region_code"
    if unit_type == "lsoa":
        sql = (f"SELECT lsoa21_code AS unit, {geo} AS geography, urban_rural, dx_decile, "
               "dedi_decile, ltla24_code AS cluster FROM lsoa_index")
    elif unit_type == "practice":
        sql = (f"SELECT practice_code AS unit, {geo} AS geography, urban_rural, dx_decile, "
               "dedi_decile, sicbl24_code AS cluster FROM gp_practice_profile")
    else:
        sql = (f"SELECT ltla24_code AS unit, {geo} AS geography, urban_rural, dx_decile, "
               "dedi_decile, ltla24_code AS cluster FROM v_ltla_profile")
    cov = conn.execute(sql).df().set_index("unit")
    cov["urban_rural"] = cov["urban_rural"].fillna("unknown")
    return cov


def prepare(conn, unit_type: str, outcome: str) -> Prepared:
    """Read the outcome panel and covariates of ``unit_type`` from the published marts."""
    if (outcome, unit_type) not in OUTCOME_SQL:
        raise EvaluateError(f"outcome {outcome} is not available for unit type {unit_type}; "
                            f"choose from {[o for o, u in OUTCOME_SQL if u == unit_type]}")
    long = conn.execute(OUTCOME_SQL[(outcome, unit_type)]).df()
    long = long[long["value"].notna()]
    if long["period"].nunique() < 2:
        raise EvaluateError(
            f"outcome {outcome} has {long['period'].nunique()} period(s) for {unit_type}s in "
            "these marts; an evaluation needs at least two (supply NHS App months, or IoD 2019 "
            "beside 2025 for imd_percentile)")
    wide = long.pivot_table(index="unit", columns="period", values="value", aggfunc="first")
    wide = wide[sorted(wide.columns)]
    periods = [str(c) for c in wide.columns]
    panel = Panel(wide.to_numpy(dtype=float), [str(u) for u in wide.index], periods)
    return Prepared(unit_type, outcome, panel, _period_dates(periods, outcome),
                    covariates(conn, unit_type))


def first_post_period(starts: pd.Series, period_dates: list[date], monthly: bool) -> pd.Series:
    """Index of each unit's first post-period: the first period dated on or after the start
    (for months, the month in which the intervention started)."""
    dates = np.array(period_dates, dtype="datetime64[D]")
    s = pd.to_datetime(pd.Series(starts))
    if monthly:
        s = s.dt.to_period("M").dt.start_time
    return pd.Series(np.searchsorted(dates, s.to_numpy().astype("datetime64[D]"), side="left"),
                     index=starts.index)


def estimate(prep: Prepared, interventions: pd.DataFrame, seed: int | None = None,
             n_boot: int | None = None) -> Evaluation:
    """Run the method on ``interventions`` (from :func:`read_interventions`)."""
    cfg = settings()["evaluate"]
    known = set(prep.covariates.index)
    unknown = interventions.loc[~interventions["unit_code"].isin(known), "unit_code"]
    if len(unknown):
        raise EvaluateError(f"{len(unknown)} unit_code(s) are not {prep.unit_type} codes in "
                            f"these marts: {unknown.head(5).tolist()}")
    starts = first_post_period(interventions.set_index("unit_code")["start_date"],
                               prep.period_dates, prep.outcome != "imd_percentile")
    decile = cfg["match_decile"]
    try:
        return evaluate(prep.panel, starts, prep.covariates,
                        exact=["geography", "urban_rural", decile], near=[decile],
                        k=int(cfg["comparisons_per_unit"]), cluster="cluster",
                        min_clusters=int(cfg["min_clusters"]),
                        max_pre=int(cfg["max_pre_periods"]),
                        max_post=int(cfg["max_post_periods"]),
                        n_boot=int(n_boot or cfg["bootstrap_draws"]), level=float(cfg["level"]),
                        seed=int(cfg["seed"] if seed is None else seed))
    except ValueError as exc:
        raise EvaluateError(str(exc)) from None


def summary_row(ev: Evaluation, prep: Prepared, interventions: pd.DataFrame, name: str,
                meta: dict, n_boot: int | None = None) -> dict:
    """The one row of the ``evaluation`` mart."""
    cfg = settings()["evaluate"]
    label, units, change_units = OUTCOMES[prep.outcome]
    return {
        "evaluation": name,
        "interventions": "; ".join(sorted(set(interventions["intervention"]) - {""})),
        "unit_type": prep.unit_type, "outcome": prep.outcome, "outcome_label": label,
        "outcome_units": units, "effect_units": change_units, "effect": ev.att,
        "ci_low": ev.ci[0], "ci_high": ev.ci[1],
        "level": ev.level, "std_error": ev.se, "p_value": ev.p_value,
        "significant": not (ev.ci[0] <= 0 <= ev.ci[1]),
        "treated_units": ev.n_treated, "comparison_units": ev.n_comparison,
        "units_dropped": len(ev.dropped), "clusters": ev.n_clusters,
        "cluster_by": ev.cluster_by, "pretrend_slope": ev.pretrend_slope,
        "pretrend_p": ev.pretrend_p,
        "pretrend_periods": ev.pretrend_df, "first_period": prep.panel.periods[0],
        "last_period": prep.panel.periods[-1],
        "method": (f"difference-in-differences, {cfg['comparisons_per_unit']} matched "
                   f"comparison units per treated unit (exact: {cfg['match_geography']}, "
                   f"rurality, {cfg['match_decile']}; nearest: baseline outcome), cluster "
                   f"bootstrap ({ev.cluster_by}, {n_boot or cfg['bootstrap_draws']} draws), percentile "
                   "intervals"),
        "statement": STATEMENT.format(decile=cfg["match_decile"].replace("_", " "),
                                      geography=cfg["match_geography"]),
        "release": meta.get("release", ""), "data_status": meta.get("data_status", ""),
        "input_file": meta.get("input_file", ""), "input_sha256": meta.get("input_sha256", ""),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def tables(ev: Evaluation, row: dict, interventions: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every table of the evaluation mart."""
    matched = ev.matches.merge(interventions.rename(columns={"unit_code": "treated_unit"})[
        ["treated_unit", "start_date", "intervention"]], on="treated_unit", how="left")
    dropped = pd.DataFrame({"unit_code": list(ev.dropped), "reason": list(ev.dropped.values())},
                           dtype=object)
    return {"evaluation": pd.DataFrame([row]),
            "evaluation_event_study": ev.event_study[["k", "period_label", "coef", "lo", "hi",
                                                      "n_treated"]],
            "evaluation_comparison_set": matched, "evaluation_balance": ev.balance,
            "evaluation_dropped": dropped}


def write(folder: Path, frames: dict[str, pd.DataFrame], html: str, row: dict) -> Path:
    """Write the evaluation mart (DuckDB + parquet), its summary as JSON and the report
    atomically to ``folder`` (a reader sees the old folder or the new one, never half)."""
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    con = duckdb.connect(str(tmp / "evaluation.duckdb"))
    for t, df in frames.items():
        con.register("_df", df)
        con.execute(f'CREATE TABLE "{t}" AS SELECT * FROM _df')
        con.unregister("_df")
        df.to_parquet(tmp / f"{t}.parquet", index=False)
    con.close()
    (tmp / "report.html").write_text(html, encoding="utf-8")
    (tmp / "evaluation.json").write_text(json.dumps(
        {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()},
        indent=1, default=str), encoding="utf-8")
    old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    return folder


def run(path: Path, outcome: str | None = None, name: str | None = None,
        scenario: str | None = None, seed: int | None = None,
        n_boot: int | None = None) -> tuple[Path, dict]:
    """The whole command: read, prepare, estimate, write. Returns the folder and summary."""
    from pipeline.outputs.report.evaluation import evaluation_html
    from pipeline.outputs.warehouse import connect, marts_dir, metadata, release_folder

    interventions = read_interventions(path)
    unit_type = interventions["unit_type"].iloc[0]
    release = release_folder(scenario)
    with connect(release=release) as conn:
        meta = metadata(conn)
        if outcome is None:
            n = conn.execute("SELECT count(*) FROM nhs_app_uptake_history").fetchone()[0]
            outcome = "nhs_app_uptake" if n or unit_type == "practice" else "imd_percentile"
        prep = prepare(conn, unit_type, outcome)
    ev = estimate(prep, interventions, seed=seed, n_boot=n_boot)
    name = name or path.stem
    row = summary_row(ev, prep, interventions, name, {
        "release": release.name, "data_status": meta.get("data_status", ""),
        "input_file": str(path), "input_sha256": hashlib.sha256(path.read_bytes()).hexdigest()},
        n_boot=n_boot)
    frames = tables(ev, row, interventions)
    html = evaluation_html(row, ev, prep, synthetic=meta.get("data_status") == "synthetic")
    return write(marts_dir(scenario) / "evaluations" / name, frames, html, row), row

