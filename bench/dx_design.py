"""The numbers behind DX's design (docs/method.md section 1), from a published release.

Usage: ``uv run python bench/dx_design.py [MARTS_DIR]`` after e.g.
``DEDI_RAW_DIR=../shared/data DEDI_MARTS_DIR=/tmp/real/marts uv run dedi build``. Prints, for
each of the four designs (linear and exponential aggregation x full risk and net of IMD), the
diagnostics ``indicator_diagnostics`` holds: Cronbach's alpha per route and of the routes,
one-factor loadings, effective against nominal weights, Spearman correlation with the IMD and
each domain, the share of each leading route among the LSOAs in DX decile 1, and the LTLAs
with the highest population-weighted mean DX.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pandas as pd

DESIGNS = ["exponential/full_risk", "exponential/net_of_imd", "linear/full_risk",
           "linear/net_of_imd"]


def table(d: pd.DataFrame, diagnostic: str, key: str = "item") -> pd.DataFrame:
    """One diagnostic, a column per design."""
    rows = d[d["diagnostic"] == diagnostic]
    return rows.pivot_table(index=key, columns="variant", values="value", aggfunc="first"
                            ).reindex(columns=DESIGNS).round(3)


def main(marts: Path) -> None:
    con = duckdb.connect(str(marts / "current" / "dedi.duckdb"), read_only=True)
    d = con.execute("SELECT * FROM indicator_diagnostics").df()
    built = con.execute("SELECT key, value FROM index_spec WHERE key IN "
                        "('dx.aggregation', 'dx.variant')").fetchall()
    print("this release's design:", dict(built), "\n")
    pd.set_option("display.width", 160)
    for title, diagnostic, key in [
            ("Cronbach's alpha (per route; 'routes': of the route scores)", "cronbach_alpha",
             "item"),
            ("One-factor loadings (routes of 3+ indicators)", "factor_loading", "item"),
            ("Effective weights (share of DX variance)", "effective_weight", "item"),
            ("Spearman correlation of DX with the IMD and its domains", "dx_domain_correlation",
             "other"),
            ("Share of each leading route among the LSOAs in DX decile 1",
             "decile1_route_share", "item")]:
        print(f"## {title}")
        print(table(d, diagnostic, key).to_string(na_rep="-"), "\n")
    nominal = d[(d["diagnostic"] == "effective_weight")].pivot_table(
        index="item", columns="variant", values="nominal_weight").reindex(columns=DESIGNS)
    print("## Nominal weights\n" + nominal.round(3).to_string(na_rep="-"), "\n")
    top = d[d["diagnostic"] == "top_ltla"]
    print("## LTLAs with the highest population-weighted mean DX")
    print(pd.DataFrame({v: top[top["variant"] == v]["item"].tolist() for v in DESIGNS}
                       ).head(10).to_string())


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "data/marts"))
