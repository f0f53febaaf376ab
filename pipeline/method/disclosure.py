"""Statistical disclosure control for published counts."""

from __future__ import annotations

import pandas as pd


def suppress_small_counts(df: pd.DataFrame, columns: list[str], threshold: int) -> pd.DataFrame:
    """Blank (NA) every count below ``threshold`` in ``columns``; other values unchanged."""
    out = df.copy()
    for c in columns:
        if c in out:
            out[c] = out[c].astype("Float64").mask(out[c] < threshold)
    return out
