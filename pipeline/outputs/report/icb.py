"""``dedi report``: one static, offline HTML page per ICB, good to email.

Maps (DEDI decile, DX decile, rank shift), an LTLA league table with the Monte Carlo
intervals as error bars, the highest-need wards and GP practices, the 20 highest-need LSOAs,
a plain-English guide and the caveats.
Figures are matplotlib PNGs inlined as data URIs; there is no script and no external request.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from pipeline.outputs.labels import LABELS, absent_inputs
from pipeline.outputs.maps import map_pngs, png_bytes, stamp
from pipeline.outputs.report.html import escape, fill, html_table, image
from pipeline.outputs.warehouse import connect, marts_dir, metadata, release_folder

TEMPLATE = Path(__file__).with_name("templates") / "report.html"
def _rank(v) -> str:
    return "–" if v is None or pd.isna(v) else f"{round(float(v)):,}"


def _short_source(s: str | None) -> str:
    """'Ofcom Connected Nations fixed coverage by postcode' -> 'Ofcom', etc."""
    s = s or ""
    for key, short in (("Ofcom", "Ofcom postcodes"), ("IoD 2025", "IoD 2025 File 8"),
                       ("DERI", "GMCA DERI")):
        if key in s:
            return short
    return s or "–"


def _source_list(sources: pd.DataFrame) -> pd.DataFrame:
    """Each input file once (a file staged into two tables is one input), with its title,
    vintage and publisher."""
    if sources.empty:
        return pd.DataFrame(columns=["title", "vintage", "publisher", "file"])
    s = sources.assign(title=sources["title"].fillna(sources["staging_table"]),
                       vintage=sources["vintage"].fillna("n/a"),
                       publisher=sources["publisher"].fillna(""),
                       file=sources["file"].fillna("").map(lambda f: Path(f).name))
    return s.drop_duplicates(["title", "vintage", "publisher", "file"])


# the report's maps: legend text of legend_size points at dpi (18 px), about 12 px on screen
# where the page shows a map at half its pixel width (two maps side by side)
MAP_STYLE = {"figsize": (5.2, 5.6), "dpi": 110, "legend_size": 12.0, "title_size": 13.0}


def _maps(gdf: gpd.GeoDataFrame, n: int, synthetic: bool) -> str:
    pngs = map_pngs(gdf, ("dedi_decile", "dx_decile", "dedi_rank_change", "imd_decile_change"),
                    n, synthetic,
                    **MAP_STYLE, legend_below=True)
    return "".join(f'<figure>{image(png, col)}</figure>' for col, png in pngs.items())


def _league_chart(ltla: pd.DataFrame, n_ltla: int, synthetic: bool) -> bytes:
    d = ltla.sort_values("dedi_rank", ascending=False)
    fig, ax = plt.subplots(figsize=(7.5, 0.38 * len(d) + 1.2))
    y = np.arange(len(d))
    lo = (d["dedi_rank"] - d["rank_p05"]).clip(lower=0)
    hi = (d["rank_p95"] - d["dedi_rank"]).clip(lower=0)
    ax.errorbar(d["dedi_rank"], y, xerr=[lo, hi], fmt="o", color="#3e4989", ecolor="#8e9bd1",
                elinewidth=3, capsize=3, label="DEDI (90% Monte Carlo interval)")
    ax.scatter(d["imd_rank"], y, marker="|", s=120, color="#b35806", label="IMD 2025", zorder=3)
    ax.set_yticks(y, d["LTLA"])
    ax.set_xlim(0, n_ltla + 1)
    ax.set_xlabel(f"rank of average score among {n_ltla} local authorities (1 = most deprived)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    stamp(fig, synthetic)
    return png_bytes(fig)


PLACES = 15  # wards and GP practices listed per ICB
PLACE_COLUMNS = {"dedi_average_score_rank": "DEDI rank", "dedi_rank_p05": "p05",
                 "dedi_rank_p95": "p95", "imd_average_score_rank": "IMD rank",
                 "dedi_share_most_deprived_10pct": "dedi_share",
                 "imd_share_most_deprived_10pct": "imd_share", "lsoa_count": "LSOAs"}


def _places(conn, view: str, icb: str, names: dict[str, str],
            share: str) -> tuple[pd.DataFrame, int]:
    """The ICB's ``PLACES`` highest-need areas of a summary view (wards, GP practices) by
    DEDI average-score rank, as the report's table; with the number of such areas in England."""
    d = conn.execute(f"SELECT * FROM {view} WHERE icb24_code = ? "
                     "ORDER BY dedi_average_score_rank LIMIT ?", [icb, PLACES]).df()
    total = conn.execute(f"SELECT count(*) FROM {view}").fetchone()[0]
    t = d[[*names, *[c for c in PLACE_COLUMNS if c in d]]].rename(
        columns={**names, **PLACE_COLUMNS})
    if "p05" in t:
        t.insert(t.columns.get_loc("p05"), "DEDI 90% interval",
                 t["p05"].map(_rank) + "–" + t["p95"].map(_rank))
        t = t.drop(columns=["p05", "p95"])
    t[f"% {share} in DEDI decile 1"] = (100 * t.pop("dedi_share")).round(1)
    t[f"% {share} in IMD decile 1"] = (100 * t.pop("imd_share")).round(1)
    return t, total


def _practice_note(conn, shown: int, total: int) -> str:
    """How to read the GP practice table, or why it is empty, in words."""
    if shown:
        return (f"By the rank of the patient-weighted average DEDI score among England's "
                f"{total:,} summarised practices (1 = most deprived). Each practice is the "
                "LSOAs where its registered patients live, each weighted by its patients there; "
                "shares are of patients. Practices are listed under the ICB where most of their "
                "patients live; they have no Monte Carlo interval.")
    supplied = conn.execute("SELECT count(*) FROM sources WHERE staging_table = "
                            "'stg_gp_patients_lsoa'").fetchone()[0]
    return ("No GP practice is summarised in this build: no file of patients registered at a GP "
            "practice by LSOA (NHS Digital) was supplied." if not supplied else
            "No summarised GP practice has most of its patients in this ICB (a practice with a "
            "small count of patients in England is not summarised).")


def report_html(conn, icb: str, release: Path, shapes: gpd.GeoDataFrame | None = None) -> str:
    """The report page for one ICB from a read-only connection to the published marts
    (``shapes``: the release's LSOA boundaries, read once by the caller for many ICBs)."""
    meta = metadata(conn)
    synthetic = meta["data_status"] != "real"
    lsoa = conn.execute("SELECT * FROM lsoa_index WHERE icb24_code = ? ORDER BY dedi_rank",
                        [icb]).df()
    if lsoa.empty:
        known = [r[0] for r in conn.execute("SELECT DISTINCT icb24_code FROM lsoa_index ORDER BY 1"
                                            ).fetchall()]
        raise LookupError(f"no LSOA has ICB code {icb!r} (known: {', '.join(known[:50])})")
    n = conn.execute("SELECT count(*) FROM lsoa_index").fetchone()[0]
    name = lsoa["icb24_name"].iloc[0]
    gdf = shapes if shapes is not None else _shapes(release)
    change = conn.execute("SELECT lsoa21_code, imd_decile_change, comparable FROM "
                          "lsoa_index_history WHERE vintage = 2025").df()
    change["imd_decile_change"] = change["imd_decile_change"].where(change["comparable"])
    gdf = gdf.merge(lsoa[["lsoa21_code", "dedi_decile", "dx_decile", "dedi_rank_change"]],
                    on="lsoa21_code").merge(change[["lsoa21_code", "imd_decile_change"]],
                                            on="lsoa21_code", how="left")
    icbs = conn.execute("SELECT * FROM v_icb_summary").df()
    me = icbs[icbs["icb24_code"] == icb].iloc[0]
    ltla = conn.execute(
        "SELECT ltla24_name AS LTLA, dedi_average_score_rank AS dedi_rank, dedi_rank_p05 AS "
        "rank_p05, dedi_rank_p95 AS rank_p95, imd_average_score_rank AS imd_rank, "
        "round(100 * dedi_share_most_deprived_10pct, 1) AS dedi_pct_decile1, "
        "round(100 * imd_share_most_deprived_10pct, 1) AS imd_pct_decile1, lsoa_count "
        "FROM v_ltla_summary WHERE ltla24_code IN (SELECT DISTINCT ltla24_code FROM lsoa_index "
        "WHERE icb24_code = ?) ORDER BY dedi_rank", [icb]).df()
    n_ltla = conn.execute("SELECT count(*) FROM v_ltla_summary").fetchone()[0]
    wards, n_wards = _places(conn, "v_ward_summary", icb,
                             {"ward24_name": "ward", "ltla24_name": "LTLA"}, "LSOAs")
    practices, n_practices = _places(conn, "v_gp_practice_summary", icb,
                                     {"practice_name": "GP practice", "practice_code": "code"},
                                     "patients")
    spec = meta.get("index_spec") or {}
    used = meta.get("dx_indicators_used", [])
    cfg = spec.get("dx", {}).get("indicators", {})
    ind = conn.execute("SELECT * FROM lsoa_indicators WHERE lsoa21_code IN (SELECT lsoa21_code "
                       "FROM lsoa_index WHERE icb24_code = ?)", [icb]).df()
    top = lsoa.head(20).merge(ind.drop(columns=["lsoa21_name", "ltla24_code", "data_status",
                                                "connectivity_source"]), on="lsoa21_code")
    cols = {"lsoa21_name": "LSOA", "lsoa21_code": "code", "ltla24_name": "LTLA",
            "dedi_rank": "DEDI rank", "dedi_decile": "DEDI decile", "dx_rank": "DX rank",
            "dx_decile": "DX decile", "imd_decile": "IMD decile"}
    table = top[list(cols)].rename(columns=cols)
    for k in used:
        if k == "nhs_app_non_uptake":
            continue
        table[LABELS.get(k, k)] = top[cfg[k]["column"]].round(1)
    table["connectivity source"] = top["connectivity_source"].map(_short_source)
    nhs_note = "NHS App uptake is absent from this build (no practice-level file)."
    if "nhs_app_non_uptake" in used:
        label = "NHS App uptake %" + (" (SYNTHETIC)" if synthetic else "")
        table[label] = (100 - top["nhs_app_non_uptake_pct"]).round(1)
        nhs_note = ("NHS App uptake: % of registered patients living in the LSOA who have "
                    "registered for the NHS App" + (" (synthetic in this build)." if synthetic
                                                    else "."))
    entering = int(((lsoa["dedi_decile"] == 1) & (lsoa["imd_decile"] != 1)).sum())
    leaving = int(((lsoa["dedi_decile"] != 1) & (lsoa["imd_decile"] == 1)).sum())
    sources = pd.DataFrame(meta.get("sources", []))
    vintages = "".join(f"<li>{escape(str(r['title']))}: {escape(str(r['vintage']))} "
                       f"({escape(str(r['publisher']))}), file <code>{escape(r['file'])}</code>"
                       f"</li>" for r in _source_list(sources).to_dict("records"))
    absent = absent_inputs(conn, spec)
    ltla_table = ltla.assign(**{"DEDI 90% interval": ltla["rank_p05"].map(_rank) + "–"
                                + ltla["rank_p95"].map(_rank)}).drop(columns=["rank_p05",
                                                                              "rank_p95"])
    ltla_table = ltla_table.rename(columns={
        "dedi_rank": "DEDI rank", "imd_rank": "IMD rank", "dedi_pct_decile1":
        "% LSOAs in DEDI decile 1", "imd_pct_decile1": "% in IMD decile 1",
        "lsoa_count": "LSOAs"})
    parts = {
        "TITLE": escape(f"{name} ({icb}): digital exclusion and deprivation"),
        "BANNER": ('<div class="banner">SYNTHETIC DEMO DATA: every number in this report is '
                   'made up by the demo generator and is not a real statistic.</div>'
                   if synthetic else ""),
        "ICB_NAME": escape(name), "ICB_CODE": escape(icb),
        "META": escape(f"DEDI {meta.get('code_version', meta.get('dedi_version', ''))} · built "
                  f"{meta.get('built_at', '')} · data status {meta['data_status']} · index spec "
                  f"{str(meta.get('index_spec_sha256', ''))[:12]} · DX weight w = "
                  f"{spec.get('dedi', {}).get('dx_weight', '')}"
                  + (f" · scenario {meta['scenario']}" if meta.get("scenario") else "")),
        "KEY": html_table(pd.DataFrame({
            "": ["LSOAs", "residents", "LSOAs in the most deprived 10% (IMD 2025)",
                 "LSOAs in the most deprived 10% (DEDI)",
                 "entering the most deprived 10% with DEDI", "leaving it",
                 f"ICB rank of average DEDI score among {len(icbs)} ICBs (90% interval)"],
            "value": [f"{len(lsoa):,}", f"{lsoa['population'].sum():,.0f}",
                      f"{int((lsoa['imd_decile'] == 1).sum()):,}",
                      f"{int((lsoa['dedi_decile'] == 1).sum()):,}", f"{entering:,}",
                      f"{leaving:,}",
                      f"{int(me['dedi_average_score_rank'])} ({_rank(me['dedi_rank_p05'])}–"
                      f"{_rank(me['dedi_rank_p95'])}); IMD: {int(me['imd_average_score_rank'])}"]}),
            "key"),
        "MAPS": _maps(gdf, n, synthetic),
        "LEAGUE_CHART": image(_league_chart(ltla, n_ltla, synthetic), "LTLA league table"),
        "LEAGUE_TABLE": html_table(ltla_table, "league"),
        "TOP20": html_table(table, "top20"),
        "WARDS": html_table(wards, "places"), "N_WARDS": f"{n_wards:,}",
        "PLACES": str(PLACES),
        "PRACTICES": html_table(practices, "places") if len(practices) else "",
        "PRACTICE_NOTE": escape(_practice_note(conn, len(practices), n_practices)),
        "NHS_NOTE": escape(nhs_note),
        "ABSENT": ("Absent from this build, so not in DX: " + "; ".join(escape(a) for a in absent)
                   + "." if absent else "Every input of the spec was supplied."),
        "SYNTHETIC_NOTE": ("<li><b>Every input of this build is synthetic</b> (the demo): "
                           "nothing here describes real places.</li>" if synthetic else
                           "<li>No input of this build is synthetic: each is the file named "
                           "under the vintages below, as it was supplied (the <code>sources"
                           "</code> table says where each came from).</li>"),
        "VINTAGES": vintages,
        "ATTRIBUTION": escape(meta.get("attribution", "")),
        "N": f"{n:,}",
    }
    return fill(TEMPLATE, parts)


def _shapes(release: Path) -> gpd.GeoDataFrame:
    return gpd.read_parquet(release / "lsoa_index.geoparquet", columns=["lsoa21_code",
                                                                         "geometry"])


def write_reports(icbs: list[str] | None, scenario: str | None = None,
                  progress: bool = True) -> list[Path]:
    """Write ``<marts>/reports/<icb24_code>.html`` for the ICBs named (or all of them)."""
    out_dir = marts_dir(scenario) / "reports"
    out_dir.mkdir(parents=True, exist_ok=True)
    release = release_folder(scenario)
    written = []
    shapes = _shapes(release)
    with connect(release=release) as conn:
        codes = icbs or [r[0] for r in conn.execute(
            "SELECT DISTINCT icb24_code FROM lsoa_index WHERE icb24_code IS NOT NULL ORDER BY 1"
        ).fetchall()]
        for i, code in enumerate(codes, 1):
            page = report_html(conn, code, release, shapes)
            path = out_dir / f"{code}.html"
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(page, encoding="utf-8")
            tmp.replace(path)
            written.append(path)
            if progress and len(codes) > 1:
                print(f"  [{i}/{len(codes)}] {code}", file=sys.stderr)
    return written
