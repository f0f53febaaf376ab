"""The numbers behind DX's design (docs/method.md section 1), from a built staging folder.

Usage: ``uv run python bench/dx_design.py STAGING_DIR`` after e.g.
``DEDI_RAW_DIR=../shared/data DEDI_STAGING_DIR=/tmp/real/st uv run dedi build``. Prints the
published diagnostics, the decile-1 changes by region, and the two alternatives the design
rejected or offers: age pooled into one capability sub-domain, and the net_of_imd variant.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.method.diagnostics import effective_weights_structured
from pipeline.method.dx import dx_domain, normalise
from pipeline.method.spec import load_spec


def effective(ind: pd.DataFrame, spec: dict) -> pd.Series:
    """Effective weights of the national indicators of ``spec`` on these data."""
    res = dx_domain(ind, spec)
    st = res.structure
    z = normalise(res.oriented[st.national], spec["dx"]["normalisation"])
    eff = effective_weights_structured(z, st.subdomain_of, st.subdomain_weights, res.weights)
    return eff.set_index("item")["value"].round(3)


def main(staging: Path) -> None:
    con = duckdb.connect(str(staging / "staging.duckdb"), read_only=True)
    d = con.execute("SELECT diagnostic, item, other, round(value, 3) AS value FROM "
                    "indicator_diagnostics WHERE diagnostic IN ('effective_weight', "
                    "'cronbach_alpha', 'factor_loading', 'dx_domain_correlation')").df()
    print(d.to_string(index=False))
    print(con.execute("SELECT g.region_name, count(*) FILTER (change LIKE 'enters%') AS enters, "
                      "count(*) FILTER (change LIKE 'leaves%') AS leaves FROM "
                      "dedi_decile1_changes JOIN int_lsoa_geography g USING (lsoa21_code) "
                      "GROUP BY 1 ORDER BY 2 DESC").df().to_string(index=False))
    ind = con.execute("SELECT i.*, s.imd_score FROM lsoa_indicators i JOIN stg_iod2025 s "
                      "USING (lsoa21_code) ORDER BY 1").df().set_index("lsoa21_code")
    spec = load_spec()
    pooled = copy.deepcopy(spec)
    pooled["dx"]["indicators"]["age_75plus"]["subdomain"] = "capability"
    pooled["dx"]["subdomains"] = {"access": {"weight": 1 / 3}, "capability": {"weight": 2 / 3}}
    print("effective weights, age pooled into capability:", effective(ind, pooled).to_dict())
    for variant in ("full_risk", "net_of_imd"):
        v = load_spec(overrides={"variant": variant})
        res = dx_domain(ind, v)
        rho = res.frame["dx_score"].corr(ind["imd_score"], method="spearman")
        print(f"{variant}: indicators {res.structure.indicators}, sub-domain weights "
              f"{ {k: round(w, 3) for k, w in res.structure.subdomain_weights.items()} }, "
              f"Spearman(DX, IMD score) = {rho:.3f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
