"""Statistical disclosure control for published counts: the rule of
``assets/macros/disclosure.sql``, for the frames Python publishes. A count from 1 to
``threshold - 1`` is small; a small count is blanked, with what would reveal it; zero is
published (it reveals no one)."""

from __future__ import annotations

import pandas as pd


def is_small_count(counts: pd.Series, threshold: int) -> pd.Series:
    """True where a count is small: 0 < count < ``threshold`` (missing counts are not)."""
    return counts.gt(0) & counts.lt(threshold)


def suppress_small_counts(df: pd.DataFrame, columns: list[str], threshold: int) -> pd.DataFrame:
    """Blank (NA) every small count in ``columns``; other values unchanged."""
    out = df.copy()
    for c in columns:
        if c in out:
            out[c] = out[c].astype("Float64").mask(is_small_count(out[c], threshold))
    return out


def suppress_small_count_rates(df: pd.DataFrame, pairs: dict[str, str],
                               threshold: int) -> pd.DataFrame:
    """For each count column -> rate column pair, blank both where the count is small (a
    rate and its denominator would reveal it)."""
    out = df.copy()
    for count_col, rate_col in pairs.items():
        if count_col in out:
            small = is_small_count(out[count_col], threshold)
            out[count_col] = out[count_col].astype("Float64").mask(small)
            if rate_col in out:
                out[rate_col] = out[rate_col].astype("Float64").mask(small)
    return out


def published_population(lsoa: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """LSOA rows with ``population`` as it will be published (small counts blanked) and
    blanked populations weighted 0, so that area totals and population-weighted summaries
    are built from published values only (no differencing attack can recover a blanked one)."""
    out = suppress_small_counts(lsoa, ["population"], threshold)
    out["population"] = out["population"].fillna(0).astype("float64")
    return out
