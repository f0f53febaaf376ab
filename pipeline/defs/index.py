"""The index: DX domain, DEDI, Monte Carlo uncertainty, diagnostics (pipeline/method/*)."""

import json
import time

import dagster as dg
import numpy as np
import pandas as pd
from dagster_duckdb import DuckDBResource

from pipeline.config import settings
from pipeline.defs._staging import preview, run_sql_model, write_table
from pipeline.method import diagnostics as diag
from pipeline.method.dx import dedi_index, dx_domain, orient
from pipeline.method.iod import exponential_transform, normalise_rank
from pipeline.method.spec import load_spec, spec_hash, spec_rows
from pipeline.method.uncertainty import run_monte_carlo

GROUP = "index"


def _core_effective_weights(z: pd.DataFrame, nominal: dict[str, float],
                            core: list[str]) -> pd.DataFrame:
    """Effective weights over the LSOAs whose DX rests on exactly the core (non-local)
    indicators - almost all of England - with the core weights re-normalised."""
    only_core = z[core].notna().all(axis=1) & z.drop(columns=core).isna().all(axis=1)
    zc = z.loc[only_core, core]
    total = sum(nominal[c] for c in core)
    wc = {c: nominal[c] / total for c in core}
    dx_core = sum(zc[c] * wc[c] for c in core)
    out = diag.effective_weights(zc, wc, dx_core)
    out["other"] = f"nominal (core indicators, {int(only_core.sum())} LSOAs)"
    return out


class IndexRunConfig(dg.Config):
    """One-off changes for a single run (the spec file stays the default for scheduled runs)."""

    spec_file: str | None = None
    dx_weight: float | None = None
    indicator_weights: dict[str, float] = {}
    normalisation: str | None = None
    monte_carlo_draws: int | None = None


@dg.asset(group_name=GROUP, kinds={"duckdb", "sql"},
          deps=["stg_iod2025", "stg_census21_population"],
          description="Population denominator per LSOA (assets/int_lsoa_population.sql).")
def int_lsoa_population(staging_db: DuckDBResource) -> dg.MaterializeResult:
    with staging_db.get_connection() as conn:
        n = run_sql_model(conn, "int_lsoa_population")
    return dg.MaterializeResult(metadata={"dagster/row_count": n})


def _spec(config: IndexRunConfig, known: set[str]) -> dict:
    spec = load_spec(config.spec_file, {"dx_weight": config.dx_weight,
                                        "indicator_weights": config.indicator_weights,
                                        "normalisation": config.normalisation}, known)
    if config.monte_carlo_draws:
        spec["monte_carlo"]["draws"] = config.monte_carlo_draws
    return spec


@dg.asset(group_name=GROUP, kinds={"duckdb", "numpy"},
          deps=["lsoa_indicators", "stg_iod2025", "int_lsoa_geography", int_lsoa_population],
          description="DX domain, DEDI (IoD combination with DX as an eighth domain), Monte "
          "Carlo uncertainty and sensitivity, diagnostics. Spec: pipeline/index_spec.yaml.")
def int_dedi_lsoa(context: dg.AssetExecutionContext, config: IndexRunConfig,
                  staging_db: DuckDBResource) -> dg.MaterializeResult:
    iod_cfg = settings()["iod"]
    weights = iod_cfg["domain_weights"]
    with staging_db.get_connection() as conn:
        ind = conn.execute("SELECT * FROM lsoa_indicators ORDER BY lsoa21_code").df()
        iod = conn.execute("SELECT * FROM stg_iod2025 ORDER BY lsoa21_code").df()
        geo = conn.execute("SELECT g.*, p.population FROM int_lsoa_geography g JOIN "
                           "int_lsoa_population p USING (lsoa21_code) ORDER BY lsoa21_code").df()
    if not (ind["lsoa21_code"].tolist() == iod["lsoa21_code"].tolist()
            == geo["lsoa21_code"].tolist()):
        raise ValueError("lsoa_indicators, stg_iod2025 and geography disagree on the LSOA set")
    spec = _spec(config, set(ind.columns))
    h = spec_hash(spec)
    dx, info = dx_domain(ind.set_index("lsoa21_code"), spec)
    ranks = iod.set_index("lsoa21_code")[[f"{k}_rank" for k in weights]]
    ranks.columns = list(weights)
    w = float(spec["dedi"]["dx_weight"])
    dedi = dedi_index(ranks, dx["dx_rank"], weights, w, iod_cfg["exponential_constant"])

    # Monte Carlo over the same indicators.
    used = info["indicators_used"]
    cfg = spec["dx"]["indicators"]
    values = ind.set_index("lsoa21_code")[[cfg[k]["column"] for k in used]]
    values.columns = used
    oriented = orient(values, {k: cfg[k]["direction"] for k in used})
    n = len(ranks)
    x = pd.DataFrame({k: exponential_transform(normalise_rank(ranks[k], n), iod_cfg[
        "exponential_constant"]) for k in weights}, index=ranks.index)
    imd_part = (x * pd.Series(weights) / 100).sum(axis=1).to_numpy()
    t0 = time.perf_counter()
    mc = run_monte_carlo(oriented, np.array([float(cfg[k]["weight"]) for k in used]), imd_part,
                         sum(weights.values()), spec["monte_carlo"],
                         {"ltla24": geo["ltla24_code"].to_numpy(),
                          "icb24": geo["icb24_code"].to_numpy(),
                          "region": geo["region_code"].to_numpy()},
                         geo["population"].to_numpy(dtype="float64"))
    mc_seconds = time.perf_counter() - t0

    synthetic_dx = [k for k in used if cfg[k]["column"] in
                    {c for s in ind["synthetic_inputs"].fillna("") for c in s.split(",") if c}]
    row_syn = ind["synthetic_inputs"].fillna("").map(
        lambda s: ",".join(k for k in used if cfg[k]["column"] in s.split(",")))
    out = pd.concat([dx.reset_index(), dedi.rename(columns=lambda c: f"dedi_{c}")
                     .reset_index(drop=True), mc.lsoa.reset_index(drop=True)], axis=1)
    out["dx_synthetic_inputs"] = row_syn.to_numpy()

    diagnostics = _diagnostics(info, oriented, dx, iod, weights, cfg, used, synthetic_dx, spec)
    diagnostics["spec_sha256"] = h
    sens = mc.sensitivity.assign(spec_sha256=h)
    spec_table = pd.DataFrame(spec_rows(spec))
    changes = _decile1_changes(out, iod)
    with staging_db.get_connection() as conn:
        write_table(conn, "int_dedi_lsoa", out)
        write_table(conn, "int_dedi_area_uncertainty", mc.areas)
        write_table(conn, "indicator_diagnostics", diagnostics)
        write_table(conn, "sensitivity", sens)
        write_table(conn, "index_spec", spec_table)
        write_table(conn, "dedi_decile1_changes", changes)
        write_table(conn, "_index_spec_json", pd.DataFrame({"spec": [json.dumps(spec)],
                                                            "sha256": [h]}))
    flagged = diagnostics[(diagnostics["diagnostic"] == "indicator_correlation")
                          & diagnostics["flag"]]
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(out), "spec_sha256": h, "dx_weight": w,
        "indicators_used": used, "indicators_absent": info["indicators_absent"],
        "weights": info["weights"], "factor_loadings": info.get("factor_loadings", {}),
        "synthetic_dx_indicators": synthetic_dx,
        "double_counting_pairs": flagged[["item", "other"]].values.tolist(),
        "monte_carlo_draws": int(spec["monte_carlo"]["draws"]),
        "monte_carlo_seconds": round(mc_seconds, 2),
        "lsoas_entering_decile_1": int((changes["change"].str.startswith("enters")).sum()),
        "lsoas_leaving_decile_1": int((changes["change"].str.startswith("leaves")).sum()),
        "sensitivity": dg.MetadataValue.md(sens[["factor", "first_order_index"]]
                                           .to_markdown(index=False)),
        "preview": preview(out)})


def _diagnostics(info: dict, oriented: pd.DataFrame, dx: pd.DataFrame, iod: pd.DataFrame,
                 weights: dict, cfg: dict, used: list[str], synthetic_dx: list[str],
                 spec: dict) -> pd.DataFrame:
    """indicator_diagnostics rows: correlations, alpha, DX vs domains, effective weights, flags."""
    z = info["normalised"]
    domain_scores = iod.set_index("lsoa21_code")[[f"{k}_score" for k in weights]]
    domain_scores.columns = list(weights)
    thr = spec.get("diagnostics", {}).get("double_counting_correlation", 0.9)
    parts = [
        diag.correlation_long(oriented, thr),
        pd.DataFrame([{"diagnostic": "cronbach_alpha", "item": "dx", "other": "",
                       "value": diag.cronbach_alpha(z), "flag": False}]),
        diag.dx_vs_domains(dx["dx_score"], domain_scores),
        _core_effective_weights(z, info["weights"], [k for k in used if not cfg[k].get("local")]),
        pd.DataFrame([{"diagnostic": "double_counts_imd_domain", "item": k,
                       "other": cfg[k]["double_counts"], "value": np.nan, "flag": True}
                      for k in used if cfg[k].get("double_counts")]),
        pd.DataFrame([{"diagnostic": "synthetic_input", "item": k, "other": "", "value": np.nan,
                       "flag": True} for k in synthetic_dx]),
        pd.DataFrame([{"diagnostic": "factor_loading", "item": k, "other": "", "value": v,
                       "flag": False} for k, v in info.get("factor_loadings", {}).items()]),
    ]
    return pd.concat([p for p in parts if not p.empty], ignore_index=True)


def _decile1_changes(out: pd.DataFrame, iod: pd.DataFrame) -> pd.DataFrame:
    """LSOAs entering or leaving the most deprived decile when DX counts."""
    c = out.assign(imd_decile=iod["imd_decile"].to_numpy(), imd_rank=iod["imd_rank"].to_numpy(),
                   lsoa21_name=iod["lsoa21_name"].to_numpy())
    c = c[(c["imd_decile"] == 1) != (c["dedi_decile"] == 1)]
    c = c.assign(change=np.where(c["dedi_decile"] == 1, "enters most deprived decile",
                                 "leaves most deprived decile"))
    return c[["lsoa21_code", "lsoa21_name", "change", "imd_rank", "dedi_rank", "imd_decile",
              "dedi_decile", "dx_rank", "dedi_prob_most_deprived_decile"]]
