"""``dedi compare-scenarios A B``: which LSOAs and areas change DEDI decile between two
published scenarios (``current`` is the live marts)."""

from __future__ import annotations

import math

import pandas as pd

from pipeline.outputs.warehouse import connect, metadata


def _load(name: str) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    with connect(name) as conn:
        lsoa = conn.execute("SELECT lsoa21_code, lsoa21_name, ltla24_name, icb24_name, "
                            "dedi_rank, dedi_decile FROM lsoa_index").df()
        areas = conn.execute("SELECT geography, area_code, area_name, average_score_rank FROM "
                             "area_summary WHERE index = 'dedi'").df()
        meta = metadata(conn)
    n = areas.groupby("geography")["area_code"].transform("count")
    areas["decile"] = [math.ceil(10 * r / k) for r, k in zip(areas["average_score_rank"], n,
                                                              strict=True)]
    return lsoa, areas, meta


def compare(a: str, b: str) -> dict[str, pd.DataFrame | dict]:
    """LSOAs and areas (LTLA, ICB, region) whose DEDI decile differs between ``a`` and ``b``."""
    la, aa, ma = _load(a)
    lb, ab, mb = _load(b)
    lsoas = la.merge(lb[["lsoa21_code", "dedi_rank", "dedi_decile"]], on="lsoa21_code",
                     suffixes=(f"_{_col(a)}", f"_{_col(b)}"))
    da, db = f"dedi_decile_{_col(a)}", f"dedi_decile_{_col(b)}"
    lsoas = lsoas[lsoas[da] != lsoas[db]].assign(decile_change=lambda d: d[db] - d[da])
    lsoas = lsoas.sort_values([db, f"dedi_rank_{_col(b)}"])
    areas = aa.merge(ab[["geography", "area_code", "average_score_rank", "decile"]],
                     on=["geography", "area_code"], suffixes=(f"_{_col(a)}", f"_{_col(b)}"))
    areas = areas[areas[f"decile_{_col(a)}"] != areas[f"decile_{_col(b)}"]]
    specs = {a: (ma.get("index_spec") or {}).get("dedi", {}),
             b: (mb.get("index_spec") or {}).get("dedi", {})}
    return {"lsoas": lsoas.reset_index(drop=True), "areas": areas.reset_index(drop=True),
            "n_lsoas": len(la), "specs": specs,
            "spec_hashes": {a: ma.get("index_spec_sha256"), b: mb.get("index_spec_sha256")}}


def _col(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)


def format_comparison(result: dict, a: str, b: str, limit: int = 20) -> str:
    """A readable summary for the terminal."""
    lsoas, areas = result["lsoas"], result["areas"]
    out = [f"{a} (spec {str(result['spec_hashes'][a])[:12]}, dedi {result['specs'][a]}) vs "
           f"{b} (spec {str(result['spec_hashes'][b])[:12]}, dedi {result['specs'][b]})",
           f"{len(lsoas):,} of {result['n_lsoas']:,} LSOAs change DEDI decile"]
    if len(lsoas):
        moves = lsoas["decile_change"].value_counts().sort_index()
        out.append("  by change in decile (negative = more deprived in " + b + "): "
                   + ", ".join(f"{k:+d}: {v:,}" for k, v in moves.items()))
        into1 = lsoas[lsoas[f"dedi_decile_{_col(b)}"] == 1]
        out.append(f"  {len(into1):,} enter the most deprived decile in {b}; "
                   f"{int((lsoas[f'dedi_decile_{_col(a)}'] == 1).sum()):,} leave it")
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            out.append(lsoas.head(limit).to_string(index=False))
    out.append(f"{len(areas):,} areas change decile of average DEDI score rank")
    if len(areas):
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            out.append(areas.head(limit).to_string(index=False))
    return "\n".join(out)
