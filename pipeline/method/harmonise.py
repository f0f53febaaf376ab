"""LSOA 2011 -> LSOA 2021 harmonisation of rates and scores (ONS best-fit lookup).

Change codes in the ONS lookup: U unchanged, S split (one 2011 LSOA -> several 2021),
M merged (several 2011 -> one 2021), X complex (irregular redrawing). For a rate or score:
U carries the value over, S copies it to every 2021 part, M and X take the (optionally
population-weighted) mean of the 2011 LSOAs the lookup assigns to the 2021 LSOA.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass
class HarmonisationReport:
    """What the harmonisation did, for metadata: nothing is dropped silently."""

    lsoa21_by_change: dict[str, int]
    complex_lsoa21: list[str]
    lsoa11_not_in_lookup: list[str]
    lsoa21_without_value: list[str]
    weighting: str


def harmonise_lsoa11_to_lsoa21(values: pd.DataFrame, lookup: pd.DataFrame, value_cols: list[str],
                               weights: pd.Series | None = None
                               ) -> tuple[pd.DataFrame, HarmonisationReport]:
    """Map ``values`` (``lsoa11_code`` + ``value_cols``) onto LSOA 2021.

    ``lookup`` has ``lsoa11_code``, ``lsoa21_code``, ``change_code``. ``weights`` (indexed by
    lsoa11_code, e.g. population) weight the mean for M/X; equal weights otherwise.
    Returns one row per lookup LSOA 2021 with ``change_code`` and ``n_lsoa11_sources``.
    """
    lk = lookup[["lsoa11_code", "lsoa21_code", "change_code"]].drop_duplicates()
    m = lk.merge(values, on="lsoa11_code", how="left")
    m["_w"] = 1.0 if weights is None else m["lsoa11_code"].map(weights).astype("float64")
    rows = []
    for col in value_cols:
        ok = m[col].notna() & m["_w"].notna()
        m[f"_wx_{col}"] = (m[col] * m["_w"]).where(ok)
        m[f"_w_{col}"] = m["_w"].where(ok)
        rows.append(col)
    g = m.groupby("lsoa21_code", sort=True)
    out = pd.DataFrame({c: g[f"_wx_{c}"].sum(min_count=1) / g[f"_w_{c}"].sum(min_count=1)
                        for c in value_cols})
    # A 2021 LSOA's change code: its own if uniform, else the most complex one (X > M > S > U).
    order = {"U": 0, "S": 1, "M": 2, "X": 3}
    # (the first row of the most complex code of each group, as Python's max would pick)
    first_max = m["change_code"].map(order).fillna(9).groupby(m["lsoa21_code"], sort=True
                                                                ).idxmax()
    out["change_code"] = m.loc[first_max.to_numpy(), "change_code"].to_numpy()
    out["n_lsoa11_sources"] = g["lsoa11_code"].nunique()
    out = out.reset_index()
    report = HarmonisationReport(
        lsoa21_by_change=out["change_code"].value_counts().sort_index().to_dict(),
        complex_lsoa21=sorted(out.loc[out["change_code"] == "X", "lsoa21_code"]),
        lsoa11_not_in_lookup=sorted(set(values["lsoa11_code"]) - set(lk["lsoa11_code"])),
        lsoa21_without_value=sorted(out.loc[out[value_cols].isna().all(axis=1), "lsoa21_code"]),
        weighting="equal weights" if weights is None else "weighted by supplied LSOA 2011 weights",
    )
    return out, report


def fill_on_primary_scale(primary: pd.Series, fallback: pd.Series) -> pd.Series:
    """Fill gaps in ``primary`` from ``fallback`` put on the primary's scale by quantile
    mapping: an LSOA at the p-th percentile of the fallback takes the primary's p-th
    percentile. Keeps one scale when sources differ by LSOA (e.g. Ofcom % premises with
    IoD broadband scores), so ranks stay meaningful. Both share one index."""
    out = primary.copy()
    gap = primary.isna() & fallback.notna()
    have = primary.dropna()
    if not gap.any() or have.empty:
        return out if not have.empty else fallback.copy()
    p = fallback.rank(pct=True, method="average")[gap]
    out[gap] = have.quantile(p.clip(0, 1).to_numpy(), interpolation="linear").to_numpy()
    return out
