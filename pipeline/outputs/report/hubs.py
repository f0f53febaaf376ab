"""The hub-siting report: one offline HTML page (map, coverage curve, site table, caveats)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from pipeline.outputs.maps import DECILES, png_bytes, stamp
from pipeline.outputs.report.html import escape, fill, html_table, image

TEMPLATE = Path(__file__).parent / "templates" / "hubs.html"


def _map(result: dict, synthetic: bool) -> bytes:
    """LSOAs by DX decile, covered ones outlined, the chosen sites numbered."""
    gdf, sites = result["areas"], result["hub_sites"]
    covered = result["hub_coverage"]["covered"].to_numpy()
    fig, ax = plt.subplots(figsize=(8.5, 7.5))
    stamp(fig, synthetic)
    deciles = gdf["dx_decile"].fillna(10).astype(int).to_numpy()
    gdf.plot(ax=ax, color=DECILES(deciles - 1), edgecolor="white", linewidth=0.2)
    gdf[covered].boundary.plot(ax=ax, color="#111111", linewidth=0.6)
    ax.scatter(sites["easting"], sites["northing"], s=90, c="#ff2d55", edgecolors="white",
               linewidths=1.2, zorder=5)
    for r in sites.itertuples():
        ax.annotate(str(r.order_chosen), (r.easting, r.northing), color="white", fontsize=7,
                    ha="center", va="center", zorder=6, fontweight="bold")
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_title(f"{result['area']}: DX deciles (1 = most excluded), covered LSOAs outlined, "
                 "hubs numbered in order", fontsize=10)
    legend = [Patch(color=DECILES(i), label=f"DX decile {i + 1}") for i in range(10)]
    legend.append(Patch(facecolor="none", edgecolor="#111111", label="covered LSOA"))
    ax.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9,
              frameon=False)
    return png_bytes(fig, dpi=110)


def _curve(result: dict, synthetic: bool) -> bytes:
    c = result["hub_curve"]
    fig, ax = plt.subplots(figsize=(7, 3.4))
    stamp(fig, synthetic)
    ax.plot(c["k"], 100 * c["covered_share"], marker="o", color="#3e4989")
    ax.set_xlabel("number of hubs (k)", fontsize=10)
    ax.set_ylabel("demand covered (%)", fontsize=10)
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(labelsize=9)
    return png_bytes(fig, dpi=110)


def hubs_report(result: dict) -> str:
    """The page, offline (every image inlined)."""
    meta, req = result["meta"], result["request"]
    synthetic = meta.get("data_status") != "real"
    curve, sites = result["hub_curve"], result["hub_sites"]
    last = curve.iloc[-1]
    proven = bool(curve["proven_optimal"].all())
    headline = (f"{len(sites)} hub(s) bring {last['covered_demand']:,.0f} of "
                f"{result['total']:,.0f} ({100 * last['covered_share']:.1f}%) of the demand in "
                f"{result['area']} within reach.")
    median = req.objective == "distance"
    unit = "mean_minutes" if "mean_minutes" in curve else "mean_distance_m"
    if median:
        mean = (f"{last[unit]:,.1f} minutes" if unit == "mean_minutes" else
                f"{last[unit] / 1000:,.2f} km")
        headline = (f"{len(sites)} hub(s) chosen to be nearest the demand in {result['area']}:"
                    f" its mean distance to the nearest hub is {mean}, and "
                    f"{100 * last['covered_share']:.1f}% of it is within reach.")
    table = sites[["order_chosen", "site_id", "name", "type", "existing", "lsoa21_code",
                   "demand_added", "cumulative_demand"]].copy()
    table["existing"] = np.where(sites["existing"], "existing", "new")
    table["cumulative share (%)"] = (100 * sites["cumulative_share"]).round(1)
    ctable = curve[["k", "covered_demand", "marginal_gain", unit]].copy()
    ctable["covered share (%)"] = (100 * curve["covered_share"]).round(1)
    banner = ('<p class="banner" id="synthetic-banner">SYNTHETIC DEMO DATA - not real '
              'statistics</p>' if synthetic else "")
    return fill(TEMPLATE, {
        "TITLE": escape(f"Where to put {req.k} digital health hub(s): {result['area']}"),
        "BANNER": banner,
        "META": escape(f"release built {meta.get('built_at')} · data status "
                       f"{meta.get('data_status', '?').upper()} · spec "
                       f"{str(meta.get('index_spec_sha256', ''))[:12]}"),
        "HEADLINE": escape(headline),
        "MAP": f"<figure>{image(_map(result, synthetic), 'map of the chosen sites')}</figure>",
        "CURVE_CHART": image(_curve(result, synthetic), "coverage curve"),
        "CURVE_TABLE": html_table(ctable),
        "SITES": html_table(table),
        "DEMAND": escape(result["definition"]),
        "REACH": escape(result["reach"]),
        "PROBLEM": ("the p-median: the least demand-weighted distance to the nearest hub"
                    if median else "the maximal covering location problem"),
        "OBJECTIVE": ("The sites are chosen to make the demand-weighted distance to the nearest"
                      " hub as small as possible for the number of hubs (--objective distance)"
                      if median else "The sites are chosen to bring the most demand within "
                      "reach for the number of hubs"),
        "OPTIMAL": "" if proven else escape(
            " - not proven optimal for every k: the solver's time limit was reached (MIP gap "
            f"up to {np.nanmax(curve['mip_gap']):.2%})"),
        "ATTRIBUTION": escape(meta.get("attribution", "")),
    })
