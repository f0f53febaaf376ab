"""Convergent validity: how well DX, DEDI and the IMD find what an external reference says.

Pure functions. A reference is any LSOA-level measure the project does not hold (e.g. % of
adults not using the internet), oriented so that higher = more excluded, optionally with a
binary group (e.g. an "offline" cluster). Measures per index:

- Spearman ρ between the index score and the reference;
- AUC: P(index score of a group member > that of a non-member), ties counting half;
- decile agreement: share of LSOAs whose index decile equals the reference decile (and within
  one decile), deciles taken among the LSOAs the reference covers (1 = most excluded);
- calibration: the mean reference value in each index decile (charted as a PNG).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

INDEXES = {"dx": "dx_score", "dedi": "dedi_score", "imd": "imd_score"}


def deciles(values: pd.Series) -> pd.Series:
    """Deciles of ``values`` (1 = the highest 10%), as the IoD: ceil(10·rank/n)."""
    rank = values.rank(ascending=False, method="first")
    return np.ceil(10 * rank / len(values)).astype(int)


def convergent_validity(scores: pd.DataFrame, reference: pd.Series,
                        group: pd.Series | None = None) -> pd.DataFrame:
    """Long table (index, measure, decile, value, n_lsoas) over the LSOAs both cover.

    ``scores``: one column per index (higher = more deprived/excluded), indexed by LSOA.
    ``reference``: higher = more excluded. ``group``: booleans (True = in the group).
    """
    from scipy.stats import mannwhitneyu, spearmanr  # (~0.3 s) only when a reference is given

    ref = reference.dropna()
    common = scores.index.intersection(ref.index)
    if len(common) < 10:
        raise ValueError(f"the reference covers only {len(common)} LSOA(s) of the index")
    ref = ref.loc[common]
    ref_dec = deciles(ref)
    rows = []
    for name in scores:
        s = scores.loc[common, name]
        dec = deciles(s)
        rows += [
            {"index": name, "measure": "spearman_rho", "value": float(spearmanr(s, ref)[0])},
            {"index": name, "measure": "decile_agreement", "value": float((dec == ref_dec).mean())},
            {"index": name, "measure": "decile_agreement_within_one",
             "value": float(((dec - ref_dec).abs() <= 1).mean())},
        ]
        if group is not None:
            g = group.reindex(common).fillna(False).astype(bool)
            if g.any() and (~g).any():
                u = mannwhitneyu(s[g], s[~g]).statistic
                rows.append({"index": name, "measure": "auc",
                             "value": float(u / (g.sum() * (~g).sum()))})
        cal = ref.groupby(dec).mean()
        rows += [{"index": name, "measure": "calibration_mean_reference", "decile": int(d),
                  "value": float(v)} for d, v in cal.items()]
    out = pd.DataFrame(rows)
    out["decile"] = out.get("decile", pd.Series(dtype=float)).astype("Int64")
    out["n_lsoas"] = len(common)
    return out[["index", "measure", "decile", "value", "n_lsoas"]]


def calibration_chart(results: pd.DataFrame, path: Path, title: str,
                      data_status: str = "real") -> Path:
    """Line chart of the mean reference value by decile of each index (PNG); a chart of a
    synthetic (demo) build says so in its title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cal = results[results["measure"] == "calibration_mean_reference"]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for name, part in cal.groupby("index", sort=False):
        rho = results.query("index == @name and measure == 'spearman_rho'")["value"]
        ax.plot(part["decile"], part["value"], marker="o",
                label=f"{name.upper()} (Spearman ρ = {rho.iloc[0]:.2f})")
    ax.set_xticks(range(1, 11))
    ax.set_xlabel("decile of the index (1 = most deprived / excluded)")
    ax.set_ylabel("mean reference value")
    if data_status != "real":
        title = f"{data_status.upper()} DEMO DATA - not real statistics\n{title}"
    ax.set_title(title, fontsize=10, color="black" if data_status == "real" else "firebrick")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
