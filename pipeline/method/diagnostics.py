"""Diagnostics of the DX indicators and of the four DX designs: correlations, Cronbach's
alpha, loadings, effective versus nominal weights, DX vs IMD domains, the routes of decile 1,
the LTLAs with the highest DX."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pipeline.method.spec import AGGREGATIONS, VARIANTS, double_counts

if TYPE_CHECKING:
    from pipeline.method.dx import DxStructure


def correlation_long(oriented: pd.DataFrame, threshold: float = 0.9) -> pd.DataFrame:
    """Spearman correlations of every indicator pair (pairwise complete); |r| > threshold
    flagged as a double-counting risk."""
    r = oriented.corr(method="spearman")
    rows = [{"diagnostic": "indicator_correlation", "item": a, "other": b, "value": r.loc[a, b],
             "flag": bool(abs(r.loc[a, b]) > threshold)}
            for i, a in enumerate(r.index) for b in r.columns[i + 1:]]
    return pd.DataFrame(rows)


def cronbach_alpha(normalised: pd.DataFrame) -> float:
    """Cronbach's alpha of the (normalised) indicators over complete cases."""
    x = normalised.dropna()
    k = x.shape[1]
    if k < 2 or len(x) < 2:
        return float("nan")
    return float(k / (k - 1) * (1 - x.var(ddof=1).sum() / x.sum(axis=1).var(ddof=1)))


def dx_vs_domains(dx_score: pd.Series, domain_scores: pd.DataFrame) -> pd.DataFrame:
    """Spearman correlation of DX with each IMD domain score."""
    return pd.DataFrame([{"diagnostic": "dx_domain_correlation", "item": "dx", "other": d,
                          "value": float(dx_score.corr(domain_scores[d], method="spearman")),
                          "flag": False} for d in domain_scores])


def subdomain_reliability(normalised: pd.DataFrame, subdomain_of: dict[str, str],
                          loadings: pd.Series | None = None) -> pd.DataFrame:
    """Per sub-domain of 2+ indicators: Cronbach's alpha; of 3+: one-factor ML loadings."""
    from pipeline.method.dx import factor_analysis_weights

    rows = []
    for s in dict.fromkeys(subdomain_of.values()):
        cols = [k for k, v in subdomain_of.items() if v == s]
        if len(cols) < 2:
            continue
        rows.append({"diagnostic": "cronbach_alpha", "item": s, "other": ",".join(cols),
                     "value": cronbach_alpha(normalised[cols]), "flag": False})
        if len(cols) >= 3:
            have = loadings.reindex(cols) if loadings is not None else pd.Series(dtype=float)
            load = have if have.notna().all() and len(have) else factor_analysis_weights(
                normalised[cols])[1]
            rows += [{"diagnostic": "factor_loading", "item": k, "other": s,
                      "value": float(load[k]), "flag": bool(load[k] <= 0)} for k in cols]
    return pd.DataFrame(rows)


def effective_weights(normalised: pd.DataFrame, subdomains: dict[str, np.ndarray],
                      subdomain_of: dict[str, str], subdomain_weights: dict[str, float],
                      within: dict[str, float]) -> pd.DataFrame:
    """Effective weight of each national indicator in DX, over complete cases: the share of
    DX's variance it carries (they sum to 1; a negative one works against the others).

    DX = Σ_s T_s with T_s = W_s·S_s, S_s the route score as combined (exponentially
    transformed or re-normalised), so route s carries cov(T_s, DX)/Var(DX) exactly. Within a
    route, A_s = Σ_i w_i·z_i (weights normalised) and indicator i carries the part
    w_i·cov(z_i, A_s)/Var(A_s) of its route's share. One rule for either aggregation.
    """
    subs = pd.DataFrame(subdomains, index=normalised.index)
    ok = normalised.notna().all(axis=1) & subs.notna().all(axis=1)
    x, sub = normalised[ok], subs[ok]
    terms = pd.DataFrame({s: sub[s] * w for s, w in subdomain_weights.items()})
    dx = terms.sum(axis=1)
    var = dx.var(ddof=1)
    rows = []
    for s, ws in subdomain_weights.items():
        cols = [k for k in x if subdomain_of[k] == s]
        tot = sum(within[k] for k in cols)
        a = sum(x[k] * within[k] / tot for k in cols)
        share = terms[s].cov(dx) / var if var > 0 else np.nan
        va = a.var(ddof=1)
        for k in cols:
            part = within[k] / tot * x[k].cov(a) / va if va > 0 else 1.0 / len(cols)
            rows.append({"diagnostic": "effective_weight", "item": k,
                         "other": f"nominal {s} (complete cases: {len(x)} LSOAs)",
                         "value": float(share * part),
                         "nominal_weight": float(ws * within[k] / tot),
                         "flag": bool(share * part <= 0)})
    return pd.DataFrame(rows)


def route_shares(leading: pd.Series, decile: pd.Series) -> pd.DataFrame:
    """Among the LSOAs in DX decile 1, the share whose leading route is each route."""
    top = leading[decile == 1]
    counts = top.value_counts()
    return pd.DataFrame([{"diagnostic": "decile1_route_share", "item": r,
                          "other": f"{int(n)} of {len(top)} LSOAs in DX decile 1",
                          "value": float(n / len(top)), "flag": False}
                         for r, n in counts.items()])


def top_areas(score: pd.Series, area_name: pd.Series, population: pd.Series, k: int = 10
              ) -> pd.DataFrame:
    """The k areas with the highest population-weighted mean DX score (the IoD's average
    score summary), highest first."""
    frame = pd.DataFrame({"s": score * population, "p": population, "a": area_name})
    g = frame.groupby("a")[["s", "p"]].sum()
    mean = (g["s"] / g["p"]).sort_values(ascending=False).head(k)
    return pd.DataFrame([{"diagnostic": "top_ltla", "item": a, "other": f"rank {i + 1}",
                          "value": float(v), "flag": False}
                         for i, (a, v) in enumerate(mean.items())])


def variant_label(spec: dict) -> str:
    """``aggregation/variant`` of a spec, e.g. ``exponential/full_risk``."""
    return f"{spec['dx'].get('aggregation', 'linear')}/{spec['dx'].get('variant', 'full_risk')}"


def variant_diagnostics(result, spec: dict, domain_scores: pd.DataFrame, ltla_name: pd.Series,
                        population: pd.Series) -> pd.DataFrame:
    """The design diagnostics of one DX variant (a :class:`~pipeline.method.dx.DxResult`):
    Cronbach's alpha and loadings per route and of the routes, effective weights, correlation
    with the IMD and its domains, decile-1 route shares, the LTLAs with the highest DX."""
    from pipeline.method.dx import normalise

    st, frame = result.structure, result.frame
    z = normalise(result.oriented, spec["dx"]["normalisation"])
    subs = {s: frame[f"dx_{s}_score"].to_numpy() for s in st.subdomain_weights}
    routes = pd.DataFrame(subs, index=frame.index)
    parts = [
        subdomain_reliability(z, st.subdomain_of, pd.Series(result.loadings, dtype=float)),
        pd.DataFrame([{"diagnostic": "cronbach_alpha", "item": "routes",
                       "other": ",".join(routes.columns),
                       "value": cronbach_alpha(routes) if routes.shape[1] > 1 else np.nan,
                       "flag": False}]),
        effective_weights(z[st.national], subs, st.subdomain_of, st.subdomain_weights,
                          result.weights),
        dx_vs_domains(frame["dx_score"], domain_scores),
        route_shares(frame["dx_leading_route"], frame["dx_decile"]),
        top_areas(frame["dx_score"], ltla_name, population),
    ]
    return pd.concat([p for p in parts if not p.empty], ignore_index=True).assign(
        variant=variant_label(spec))


def design_diagnostics(frame: pd.DataFrame, spec: dict, domain_scores: pd.DataFrame,
                       constant: float = 23.0) -> list[pd.DataFrame]:
    """:func:`variant_diagnostics` of the four designs (linear and exponential aggregation ×
    full risk and net of IMD), each built by :func:`pipeline.method.dx.dx_domain` from the
    build's ``frame`` (``int_dx_frame``: indicators, ``_ltla``, ``_ltla_name``,
    ``_population``) and otherwise the build's spec."""
    from pipeline.method.dx import dx_domain

    out = []
    for aggregation in AGGREGATIONS:
        for variant in VARIANTS:
            s = copy.deepcopy(spec)
            s["dx"].update(aggregation=aggregation, variant=variant)
            try:
                res = dx_domain(frame, s, frame["_ltla"], frame["_population"], constant)
            except ValueError as exc:  # e.g. too few indicators for some LSOAs in this design
                out.append(pd.DataFrame([{"diagnostic": "design_not_computed", "item": "dx",
                                          "other": str(exc), "value": np.nan, "flag": True,
                                          "variant": variant_label(s)}]))
                continue
            out.append(variant_diagnostics(res, s, domain_scores, frame["_ltla_name"],
                                           frame["_population"]))
    return out


def dx_diagnostics(oriented: pd.DataFrame, spec: dict, st: DxStructure,
                   dx: pd.DataFrame, absent: dict[str, str], frame: pd.DataFrame,
                   domain_scores: pd.DataFrame, constant: float = 23.0) -> pd.DataFrame:
    """Every diagnostic of DX in one long table (``indicator_diagnostics``): indicator
    correlations and the indicators flagged (double counting, not used, synthetic) for the
    build's spec, then the four designs' diagnostics (:func:`design_diagnostics`).
    ``dx``: ``int_dx_lsoa`` by LSOA; ``absent``: indicator -> why it was not used."""
    cfg = spec["dx"]["indicators"]
    thr = spec.get("diagnostics", {}).get("double_counting_correlation", 0.9)
    parts = [
        correlation_long(oriented, thr),
        pd.DataFrame([{"diagnostic": "double_counts_imd_domain", "item": k,
                       "other": ",".join(double_counts(cfg[k])), "value": np.nan, "flag": True}
                      for k in st.indicators if double_counts(cfg[k])]),
        pd.DataFrame([{"diagnostic": "indicator_not_used", "item": k, "other": why,
                       "value": np.nan, "flag": True} for k, why in absent.items()]),
        pd.DataFrame([{"diagnostic": "synthetic_input", "item": k, "other": "", "value": np.nan,
                       "flag": True} for k in (dx["dx_synthetic_inputs"].iloc[0] or "").split(",")
                      if k]),
    ]
    built = pd.concat([p for p in parts if not p.empty], ignore_index=True).assign(
        variant=variant_label(spec))
    variants = design_diagnostics(frame, spec, domain_scores, constant)
    return pd.concat([built, *variants], ignore_index=True)


def warm_up() -> None:
    """Import sklearn's factor analysis (a build does this in its side process)."""
    import sklearn.decomposition  # noqa: F401
