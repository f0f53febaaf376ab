"""``dedi explain LSOA``: the audit trail behind one LSOA's DX and DEDI, step by step.

Every number comes from the published release through :mod:`pipeline.outputs.audit`, which recomputes
DX and DEDI with the build's own functions and checks the published ranks; the printout gives
what is needed to redo the arithmetic by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from pipeline.config import settings
from pipeline.method.dx import aggregate, leading_route, route_contributions
from pipeline.outputs.audit import IMD_DOMAINS, recompute
from pipeline.outputs.warehouse import connect


def _f(v: float, d: int = 4) -> str:
    return "missing" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{d}f}"


def _rank_of(values: pd.Series, i: int, groups: pd.Series | None = None) -> tuple[float, int]:
    """Average ascending rank of row ``i`` among the non-missing values (within row ``i``'s
    group when ``groups`` is given), and how many values it was ranked among."""
    if groups is not None:
        values = values[(groups == groups.iloc[i]).to_numpy()].reindex(values.index)
    return float(values.rank(method="average").iloc[i]), int(values.notna().sum())


def explain(code: str, scenario: str | None = None) -> str:
    """The audit trail as text."""
    with connect(scenario) as conn:
        r = recompute(conn)
    lsoa = r.lsoa
    hits = np.flatnonzero(lsoa["lsoa21_code"].to_numpy() == code)
    if not len(hits):
        raise LookupError(f"{code}: not an LSOA of this release (LSOA 2021 codes look like "
                          f"{lsoa['lsoa21_code'].iloc[0]})")
    i = int(hits[0])
    row = lsoa.iloc[i]
    spec, st, meta = r.spec, r.structure, r.meta
    cfg = spec["dx"]["indicators"]
    n = len(lsoa)
    iod = settings()["iod"]
    C = iod["exponential_constant"]
    sources = pd.DataFrame(meta.get("sources", []))
    src_full = dict(zip(sources.get("staging_table", []), sources.get("file", []), strict=False))
    src = {t.split(":")[0]: f for t, f in src_full.items()}
    from pipeline.release.dictionary import entry, units_of

    out = [f"DEDI audit trail for {code} ({row['lsoa21_name']}): {row['ltla24_name']}, "
           f"{row['icb24_name']}, {row['region_name']}",
           f"release built {meta.get('built_at')} · data status {meta['data_status'].upper()} · "
           f"index spec {str(meta.get('index_spec_sha256'))[:12]}"
           + (f" · scenario {meta['scenario']}" if meta.get("scenario") else ""), ""]

    out.append("1. Raw values (published lsoa_indicators; file each comes from)")
    for k in st.indicators:
        col = cfg[k]["column"]
        e = entry("lsoa_indicators", col) or {}
        files = "; ".join(src.get(t.strip(), f"{t.strip()} (not supplied)")
                          for t in str(e.get("source", "")).split(",") if t.strip().startswith(
                              ("stg_", "int_")))
        if k in st.local:  # one file per supplying LA and proxy
            la = row["ltla24_code"]
            files = src_full.get(f"stg_local_proxies:{la}/{k}", f"no {k} file from {la}")
        out.append(f"   {k:<26} {col:<34} = {_f(r.values[k].iloc[i], 3):>10}   "
                   f"[{units_of('lsoa_indicators', col, row)}]  from "
                   f"{files or e.get('source', '')}")
    out.append("")

    method = spec["dx"]["normalisation"]
    out.append(f"2. Normalise ({method}): orient (× direction), rank r among the n LSOAs with a "
               "value (ties averaged),")
    out.append("   z = Φ⁻¹((r − 0.5) / n)" if method == "normal_scores" else
               "   z = (r − 0.5) / n" if method == "ranks" else "   z = (x − mean) / sd")
    oriented = r.values * pd.Series({k: cfg[k]["direction"] for k in st.indicators})
    for k in st.indicators:
        groups = lsoa["ltla24_code"] if k in st.local else None
        if np.isnan(r.z[k].iloc[i]):
            out.append(f"   {k:<26} no value here (left out of the weighted mean)")
            continue
        rk, nk = _rank_of(oriented[k], i, groups)
        where = " within its LA" if groups is not None else ""
        out.append(f"   {k:<26} direction {cfg[k]['direction']:+d}  r = {_f(rk, 1)} of n = {nk}"
                   f"{where}  z = {_f(r.z[k].iloc[i], 6)}  weight w = {_f(r.weights[k], 4)}")
    out.append("")

    exponential = spec["dx"].get("aggregation", "linear") == "exponential"
    out.append("3. Routes (sub-domains): weighted mean of z over the indicators the LSOA has, "
               + (f"then ranked (r of n, ascending) and transformed X = −{C}·ln(1 − (r/n)·"
                  f"(1 − e^(−100/{C}))) (dx.aggregation exponential)" if exponential else
                  "then re-normalised the same way (one indicator: kept as is; dx.aggregation "
                  "linear)"))
    zt = r.z.T.to_numpy()
    w = np.array([r.weights[k] for k in st.indicators])
    for s, ws in st.subdomain_weights.items():
        idx = st.members(s)
        mean = aggregate(zt[idx], w[idx])[0]
        parts = " + ".join(f"{_f(w[j], 3)}×{_f(zt[j][i], 4)}" for j in idx)
        line = f"   {s:<12} ({parts}) / Σw = {_f(mean[i], 6)}"
        if len(idx) > 1 or exponential:
            rk, nk = _rank_of(pd.Series(mean), i)
            line += f" -> r = {_f(rk, 1)} of {nk} -> score {_f(r.subdomains[s][i], 6)}"
        out.append(line + f"   route weight {_f(ws, 4)}")
    national = aggregate(np.stack(list(r.subdomains.values())),
                         np.array(list(st.subdomain_weights.values())))[0]
    out.append(f"   national DX = Σ weight × score / Σ weight = {_f(national[i], 6)}")
    parts = route_contributions({s: v[i:i + 1] for s, v in r.subdomains.items()},
                                st.subdomain_weights).iloc[0].dropna()
    lead = leading_route({s: v[i:i + 1] for s, v in r.subdomains.items()},
                         st.subdomain_weights)[0]
    out.append(f"   leading route: {lead} (its term {_f(parts[lead], 4)} of national DX "
               f"{_f(national[i], 4)}; " + ", ".join(
                   f"{k} {_f(v, 4)}" for k, v in parts.items()) + ")")
    if st.local:
        layered = not np.isnan(r.layer[i])
        out.append(f"   local layer: {'score ' + _f(r.layer[i], 6) if layered else 'none here'}"
                   f" (share {st.local_weight}; reorders LSOAs within the LA around the LA's "
                   "mean, which it leaves unchanged: docs/method.md)")
        if layered:
            out.append(f"   layered DX = {_f(r.dx_score[i], 6)}")
    out.append("")

    dx_rank = int(r.dx_rank[i])
    out.append(f"4. DX score {_f(r.dx_score[i], 6)} -> DX rank {dx_rank:,} of {n:,} (1 = highest "
               f"score = most excluded), decile {math.ceil(dx_rank * 10 / n)}")
    out.append("")

    out.append(f"5. Exponential transformation of each domain rank: R = (N − rank + 1)/N, "
               f"X = −{C}·ln(1 − R·(1 − e^(−100/{C})))")
    out.append(f"   {'domain':<20} {'rank':>7} {'R':>9} {'X':>9} {'weight %':>9} {'X·w/100':>9}")
    total = 0.0
    for d in [*IMD_DOMAINS, "dx"]:
        rank = int(row[f"{d}_rank"]) if d != "dx" else dx_rank
        R = (n - rank + 1) / n
        X = r.transformed[d][i]
        wd = r.dedi_weights[d]
        total += X * wd / 100
        out.append(f"   {d:<20} {rank:>7,} {R:>9.6f} {X:>9.4f} {wd:>9.4f} {X * wd / 100:>9.4f}")
    out.append("")

    score = r.dedi_score[i]
    higher = int((r.dedi_score > score).sum())
    order = np.argsort(-r.dedi_score, kind="stable")
    pos = int(np.flatnonzero(order == i)[0])
    near = [order[j] for j in (pos - 1, pos + 1) if 0 <= j < n]
    out.append(f"6. DEDI score = Σ X·w/100 = {_f(total, 6)} (published {_f(row['dedi_score'], 6)})")
    out.append(f"   DEDI rank = 1 + LSOAs with a higher score ({higher:,}) = {int(r.dedi_rank[i]):,}"
               f" of {n:,} (ties by code order); decile {int(row['dedi_decile'])}")
    out.append("   neighbours: " + "; ".join(
        f"{lsoa['lsoa21_code'].iloc[j]} score {_f(r.dedi_score[j], 6)} rank "
        f"{int(r.dedi_rank[j]):,}" for j in near))
    out.append(f"   IMD 2025: score {_f(row['imd_score'], 3)}, rank {int(row['imd_rank']):,} "
               f"(decile {int(row['imd_decile'])}); rank change IMD -> DEDI "
               f"{int(row['dedi_rank_change']):+,}")
    out.append("")
    out.append(f"7. Monte Carlo ({spec['monte_carlo']['draws']} draws: w, indicator weights, "
               "normalisation, aggregation, one indicator left out):")
    out.append(f"   DEDI rank 90% interval {_f(row['dedi_rank_p05'], 0)}–"
               f"{_f(row['dedi_rank_p95'], 0)}, median {_f(row['dedi_rank_p50'], 0)}; "
               f"P(most deprived decile) = {_f(row['dedi_prob_most_deprived_decile'], 3)}")
    return "\n".join(out)
