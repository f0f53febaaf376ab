"""The index: spec, DX domain, DEDI, Monte Carlo uncertainty, diagnostics (pipeline/method/*).

One asset per method step, each reading the spec resolved once by ``index_spec``:
index_spec -> int_dx_lsoa -> int_dedi_lsoa -> int_dedi_uncertainty -> indicator_diagnostics.
"""

import json
import time

import dagster as dg
import numpy as np
import pandas as pd
from dagster_duckdb import DuckDBResource

from pipeline.build.resources import SideProcessResource
from pipeline.config import CURRENT, SCENARIOS, settings
from pipeline.defs._checks import AFTER_READY_STEPS
from pipeline.defs._staging import preview, run_sql_model, write_table
from pipeline.method.diagnostics import dx_diagnostics, variant_label
from pipeline.method.dx import (
    DxStructure,
    dedi_index,
    dx_domain,
    resolve_structure,
    transform_domains,
)
from pipeline.method.spec import (
    load_spec,
    parse_assignments,
    scenario_for,
    spec_hash,
    spec_rows,
    tidy_floats,
)
from pipeline.method.uncertainty import dx_weight_range, run_monte_carlo

GROUP = "index"
IMD_DOMAINS = list(settings()["iod"]["domain_weights"])


class IndexRunConfig(dg.Config):
    """One-off changes for a single run (the spec file stays the default for scheduled runs).

    Any change publishes to ``<marts>/scenarios/<scenario>/`` (``adhoc-<spec hash>`` if
    unnamed), never over the live ``current`` marts.
    """

    scenario: str | None = None
    set: dict[str, str] = {}  # dotted spec keys -> YAML values, e.g. {"dedi.dx_weight": "0.2"}
    spec_file: str | None = None
    dx_weight: float | None = None
    indicator_weights: dict[str, float] = {}
    normalisation: str | None = None
    variant: str | None = None
    aggregation: str | None = None
    monte_carlo_draws: int | None = None


def _present(ind: pd.DataFrame) -> set[str]:
    return {c for c in ind.columns if ind[c].notna().any()}


def read_spec(conn) -> dict:
    """The spec this build resolved (written by the ``index_spec`` asset)."""
    return json.loads(conn.execute("SELECT spec FROM _index_spec_json").fetchone()[0])


@dg.asset(group_name=GROUP, kinds={"duckdb", "yaml"}, deps=["lsoa_indicators"],
          description="The index spec (pipeline/config/index_spec.yaml, or run config) validated and "
          "resolved against this build's data: which indicators DX uses, which are absent and "
          "why, the Monte Carlo range of w. Published as the index_spec mart.",
          metadata={"dedi/also_writes": ["_index_spec_json"]})
def index_spec(context: dg.AssetExecutionContext, config: IndexRunConfig,
               staging_db: DuckDBResource) -> dg.MaterializeResult:
    with staging_db.get_connection() as conn:
        ind = conn.execute("SELECT * FROM lsoa_indicators").df()
    overrides = {
        "dx_weight": config.dx_weight, "indicator_weights": config.indicator_weights,
        "normalisation": config.normalisation, "variant": config.variant,
        "aggregation": config.aggregation,
        "monte_carlo_draws": config.monte_carlo_draws,
        "set": parse_assignments([f"{k}={v}" for k, v in config.set.items()])}
    spec = load_spec(config.spec_file, overrides, set(ind.columns))
    scenario = scenario_for(config.scenario, overrides, config.spec_file, spec)
    cols = {k: v["column"] for k, v in spec["dx"]["indicators"].items()}
    st = resolve_structure(spec, {k for k, c in cols.items() if c in _present(ind)})
    h = spec_hash(spec)
    resolved = {
        "indicators_used": st.indicators, "indicators_absent": st.dropped,
        "subdomain_weights": st.subdomain_weights,
        "local_layer_weight": st.local_weight, "min_indicators": st.min_indicators,
        "monte_carlo_dx_weight_range": list(dx_weight_range(
            spec["dedi"]["dx_weight"], spec["monte_carlo"].get("dx_weight_half_width", 0)))}
    rows = pd.DataFrame(spec_rows(spec) + [{"key": f"resolved.{k}",
                                            "value": json.dumps(tidy_floats(v))}
                                           for k, v in resolved.items()])
    with staging_db.get_connection() as conn:
        write_table(conn, "index_spec", rows)
        write_table(conn, "_index_spec_json", pd.DataFrame({
            "spec": [json.dumps(spec)], "sha256": [h], "resolved": [json.dumps(resolved)],
            "scenario": [scenario]}, dtype=object))
    for name, why in st.dropped.items():
        context.log.info(f"DX indicator {name} not used: {why}")
    return dg.MaterializeResult(metadata={"spec_sha256": h, "variant": spec["dx"]["variant"],
                                          "publishes_to": f"{SCENARIOS}/{scenario}" if scenario
                                          else CURRENT,
                                          "resolved": dg.MetadataValue.json(resolved)})


# each area-summary geography's column in int_dx_frame (the Monte Carlo's area intervals)
FRAME_AREAS = {"ward24": "_ward", "ltla24": "_ltla", "icb24": "_icb", "region": "_region"}


def _lsoa_frame(conn, indicators: bool = True) -> pd.DataFrame:
    """Each LSOA's areas and population (view ``int_dx_frame``), with every lsoa_indicators
    column if ``indicators``."""
    columns = "*" if indicators else f"lsoa21_code, {', '.join(FRAME_AREAS.values())}, _population"
    return conn.execute(f"SELECT {columns} FROM int_dx_frame").df().set_index("lsoa21_code")


@dg.asset(group_name=GROUP, kinds={"duckdb", "numpy"},
          deps=[index_spec, "lsoa_indicators", "int_lsoa_geography", "int_lsoa_population"],
          description="The digital-exclusion domain DX per LSOA: indicators normalised, "
          "routes (later life, deprivation, disability, access, use) aggregated and "
          "transformed (dx.aggregation), combined, local proxies layered within their LA, "
          "each LSOA's leading route (pipeline/method/dx.py).",
          metadata={"dedi/also_writes": ["int_dx_frame", "int_dx_indicators", "int_dx_weights"]})
def int_dx_lsoa(staging_db: DuckDBResource) -> dg.MaterializeResult:
    with staging_db.get_connection() as conn:
        spec = read_spec(conn)
        run_sql_model(conn, "int_dx_frame", view=True)
        df = _lsoa_frame(conn)
    res = dx_domain(df, spec, df["_ltla"], df["_population"],
                    settings()["iod"]["exponential_constant"])
    st, cfg = res.structure, spec["dx"]["indicators"]
    syn = {c for s in df["synthetic_inputs"].fillna("") for c in s.split(",") if c}
    out = res.frame.reset_index().assign(dx_synthetic_inputs=",".join(
        k for k in st.indicators if cfg[k]["column"] in syn))
    for s in spec["dx"]["subdomains"]:  # a stable schema: absent sub-domains stay NULL
        if f"dx_{s}_score" not in out:
            out[f"dx_{s}_score"] = np.nan
    weights = pd.DataFrame({"indicator": st.indicators,
                            "subdomain": [st.subdomain_of.get(k, "local_layer")
                                          for k in st.indicators],
                            "weight": [res.weights[k] for k in st.indicators],
                            "loading": [res.loadings.get(k, np.nan) for k in st.indicators]})
    with staging_db.get_connection() as conn:
        write_table(conn, "int_dx_lsoa", out)
        write_table(conn, "int_dx_indicators", res.oriented.reset_index())
        write_table(conn, "int_dx_weights", weights)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(out), "indicators_used": st.indicators,
        "indicators_absent": dg.MetadataValue.json(st.dropped),
        "subdomain_weights": dg.MetadataValue.json(st.subdomain_weights),
        "weights": dg.MetadataValue.json(res.weights),
        "lsoas_with_local_layer": int(out["dx_local_layer"].sum()), "preview": preview(out)})


def _dx_inputs(conn, spec: dict) -> tuple[pd.DataFrame, pd.Series, DxStructure]:
    """What int_dx_lsoa used: oriented indicators (LSOA × K), their weights, the structure."""
    oriented = conn.execute("SELECT * FROM int_dx_indicators ORDER BY lsoa21_code"
                            ).df().set_index("lsoa21_code")
    weights = conn.execute("SELECT indicator, weight FROM int_dx_weights").df().set_index(
        "indicator")["weight"]
    st = resolve_structure(spec, set(weights.index))
    return oriented[st.indicators], weights.loc[st.indicators], st


def _domain_ranks(conn) -> pd.DataFrame:
    iod = conn.execute("SELECT * FROM stg_iod2025 ORDER BY lsoa21_code").df()
    return iod.set_index("lsoa21_code")[[f"{d}_rank" for d in IMD_DOMAINS]].set_axis(
        IMD_DOMAINS, axis=1)


@dg.asset(group_name=GROUP, kinds={"duckdb", "numpy"}, deps=[int_dx_lsoa, "stg_iod2025"],
          description="DEDI per LSOA: the IoD combination of the seven exponentially "
          "transformed domain ranks (weights scaled by 1 - w) and DX at w (pipeline/method/dx.py).")
def int_dedi_lsoa(staging_db: DuckDBResource) -> dg.MaterializeResult:
    iod_cfg = settings()["iod"]
    with staging_db.get_connection() as conn:
        spec = read_spec(conn)
        ranks = _domain_ranks(conn)
        dx = conn.execute("SELECT lsoa21_code, dx_rank FROM int_dx_lsoa ORDER BY 1").df()
    if ranks.index.tolist() != dx["lsoa21_code"].tolist():
        raise ValueError("stg_iod2025 and int_dx_lsoa disagree on the LSOA set")
    w = float(spec["dedi"]["dx_weight"])
    dedi = dedi_index(ranks, dx.set_index("lsoa21_code")["dx_rank"], iod_cfg["domain_weights"],
                      w, iod_cfg["exponential_constant"])
    out = dedi.rename(columns=lambda c: f"dedi_{c}").reset_index()
    with staging_db.get_connection() as conn:
        write_table(conn, "int_dedi_lsoa", out)
    return dg.MaterializeResult(metadata={"dagster/row_count": len(out), "dx_weight": w,
                                          "preview": preview(out)})


@dg.asset(group_name=GROUP, kinds={"duckdb", "numpy"},
          deps=[int_dx_lsoa, int_dedi_lsoa, "stg_iod2025"],
          description="Monte Carlo uncertainty and first-order sensitivity of DEDI: w, "
          "indicator weights, normalisation and left-out indicator perturbed; DX and DEDI "
          "recomputed by the same functions as the point estimate (pipeline/method/uncertainty.py).",
          metadata={"dedi/also_writes": ["int_dedi_area_uncertainty", "sensitivity"]})
def int_dedi_uncertainty(staging_db: DuckDBResource) -> dg.MaterializeResult:
    iod_cfg = settings()["iod"]
    with staging_db.get_connection() as conn:
        spec = read_spec(conn)
        df = _lsoa_frame(conn, indicators=False)
        oriented, weights, st = _dx_inputs(conn, spec)
        ranks = _domain_ranks(conn)
    t0 = time.perf_counter()
    mc = run_monte_carlo(
        oriented, st, weights.to_numpy(), transform_domains(ranks, iod_cfg["exponential_constant"]),
        iod_cfg["domain_weights"], float(spec["dedi"]["dx_weight"]), spec["monte_carlo"],
        {g: df[FRAME_AREAS[g]].to_numpy() for g in settings()["area_summary"]["geographies"]},
        df["_population"].to_numpy(dtype="float64"), df["_ltla"].to_numpy(),
        iod_cfg["exponential_constant"], aggregation=spec["dx"].get("aggregation", "linear"))
    seconds = time.perf_counter() - t0
    h = spec_hash(spec)
    with staging_db.get_connection() as conn:
        write_table(conn, "int_dedi_uncertainty", mc.lsoa.reset_index())
        write_table(conn, "int_dedi_area_uncertainty", mc.areas)
        write_table(conn, "sensitivity", mc.sensitivity.assign(spec_sha256=h))
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(mc.lsoa), "monte_carlo_draws": int(spec["monte_carlo"]["draws"]),
        "monte_carlo_seconds": round(seconds, 2),
        "sensitivity": dg.MetadataValue.md(mc.sensitivity[["factor", "first_order_index"]]
                                           .to_markdown(index=False))})


def diagnostics_inputs(conn) -> tuple[dict, tuple]:
    """The spec, and the arguments of :func:`pipeline.method.diagnostics.dx_diagnostics` as
    this build's staging tables give them."""
    spec = read_spec(conn)
    resolved = json.loads(conn.execute("SELECT resolved FROM _index_spec_json").fetchone()[0])
    oriented, _, st = _dx_inputs(conn, spec)
    dx = conn.execute("SELECT * FROM int_dx_lsoa ORDER BY lsoa21_code").df()
    iod = conn.execute("SELECT * FROM stg_iod2025 ORDER BY lsoa21_code").df()
    domain_scores = iod.set_index("lsoa21_code")[[f"{d}_score" for d in IMD_DOMAINS + ["imd"]]]
    domain_scores.columns = IMD_DOMAINS + ["imd"]
    return spec, (oriented, spec, st, dx.set_index("lsoa21_code"),
                  resolved["indicators_absent"], _lsoa_frame(conn), domain_scores,
                  settings()["iod"]["exponential_constant"])




@dg.asset(group_name=GROUP, kinds={"duckdb", "pandas"},
          deps=[int_dx_lsoa, int_dedi_lsoa, int_dedi_uncertainty, "stg_iod2025"],
          op_tags=AFTER_READY_STEPS,
          description="Diagnostics of DX (indicator correlations, double counting, indicators "
          "absent) and of its four designs, linear and exponential x full risk and net of IMD "
          "(Cronbach's alpha and loadings per route, effective weights, DX vs the IMD and its "
          "domains, decile-1 route shares, top LTLAs).")
def indicator_diagnostics(context: dg.AssetExecutionContext, staging_db: DuckDBResource,
                          side: SideProcessResource) -> dg.MaterializeResult:
    with staging_db.get_connection() as conn:
        spec = read_spec(conn)
        out = side.run(dx_diagnostics, *diagnostics_inputs(conn)[1])  # sklearn: the side process
    out["spec_sha256"] = spec_hash(spec)
    with staging_db.get_connection() as conn:
        write_table(conn, "indicator_diagnostics", out)
    ours = out[(out["diagnostic"] == "effective_weight") & (out["variant"] == variant_label(spec))]
    eff = ours.set_index("item")["value"].round(3)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(out),
        "effective_weights": dg.MetadataValue.json(eff.to_dict()),
        "preview": preview(out, 20)})
