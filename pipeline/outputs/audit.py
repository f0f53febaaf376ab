"""DX and DEDI recomputed from a published release, step by step (no staging needed).

The explorer embeds these normal scores and domain ranks, and ``dedi explain`` prints them.
Both use the very functions of the build (``pipeline/method/dx.py``), and :func:`recompute`
refuses to go on unless it lands on the published ranks exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from pipeline.config import settings
from pipeline.method.dx import (
    DxStructure,
    dedi_scores,
    dedi_weights,
    dx_scores,
    indicator_weights,
    normalise,
    orient,
    rank_rows,
    resolve_structure,
    transform_domains,
)
from pipeline.method.spec import set_values
from pipeline.outputs.warehouse import metadata

IMD_DOMAINS = list(settings()["iod"]["domain_weights"])


@dataclass
class Recomputed:
    """Every intermediate of DX and DEDI for every LSOA (rows sorted by LSOA code)."""

    lsoa: pd.DataFrame                 # lsoa_index (published)
    indicators: pd.DataFrame           # lsoa_indicators (published)
    spec: dict
    structure: DxStructure
    values: pd.DataFrame               # raw indicator values, one column per used indicator
    z: pd.DataFrame                    # normalised (oriented) indicators
    weights: dict[str, float]          # within sub-domain / local layer
    subdomains: dict[str, np.ndarray]  # route scores as combined (transformed or standardised)
    layer: np.ndarray                  # local layer score (NaN where no proxy)
    dx_score: np.ndarray
    dx_rank: np.ndarray
    transformed: dict[str, np.ndarray]  # exponentially transformed domain ranks (incl. "dx")
    dedi_weights: dict[str, float]     # per cent, the seven domains scaled and DX
    dedi_score: np.ndarray
    dedi_rank: np.ndarray
    meta: dict


def compute(lsoa: pd.DataFrame, ind: pd.DataFrame, spec: dict, used: set[str],
            meta: dict | None = None) -> Recomputed:
    """DX and DEDI for ``spec`` from published rows (sorted by LSOA code), by the build's
    functions; ``used`` are the indicators the build had data for."""
    cfg = spec["dx"]["indicators"]
    st = resolve_structure(spec, used)
    values = ind[[cfg[k]["column"] for k in st.indicators]].set_axis(st.indicators, axis=1)
    oriented = orient(values, {k: cfg[k]["direction"] for k in st.indicators})
    method = spec["dx"]["normalisation"]
    la = lsoa["ltla24_code"]
    z = normalise(oriented, method, {k: la for k in st.local})
    w, _ = indicator_weights(z, spec, st)
    iod = settings()["iod"]
    score, parts = dx_scores(z.T.to_numpy(), w, st, method, la.to_numpy(),
                             lsoa["population"].to_numpy(dtype="float64"),
                             spec["dx"].get("aggregation", "linear"), iod["exponential_constant"])
    dx_rank = rank_rows(score)[0]
    ranks = lsoa[[f"{d}_rank" for d in IMD_DOMAINS]].set_axis(IMD_DOMAINS, axis=1)
    transformed = transform_domains(ranks, iod["exponential_constant"])
    dx_weight = float(spec["dedi"]["dx_weight"])
    dscore = dedi_scores(transformed, dx_rank, iod["domain_weights"], np.array([dx_weight]),
                         iod["exponential_constant"])[0]
    transformed["dx"] = transform_domains(pd.DataFrame({"dx": dx_rank}),
                                          iod["exponential_constant"])["dx"]
    dw = {k: float(v) for k, v in dedi_weights(iod["domain_weights"], dx_weight).items()}
    return Recomputed(lsoa, ind, spec, st, values, z,
                      dict(zip(st.indicators, w.tolist(), strict=True)),
                      {s: v[0] for s, v in parts["subdomains"].items()}, parts["layer"][0],
                      score[0], dx_rank, transformed, dw, dscore, rank_rows(dscore)[0],
                      meta or {})


def recompute(conn: duckdb.DuckDBPyConnection) -> Recomputed:
    """Recompute DX and DEDI from the published ``lsoa_indicators``, ``lsoa_index`` and spec,
    and check that the result is the published ranks."""
    meta = metadata(conn)
    spec = meta.get("index_spec")
    if not spec:
        raise LookupError("this release predates the recorded index spec; rebuild it with "
                          "`dedi build`")
    lsoa = conn.execute("SELECT * FROM lsoa_index ORDER BY lsoa21_code").df()
    ind = conn.execute("SELECT * FROM lsoa_indicators ORDER BY lsoa21_code").df()
    if lsoa["lsoa21_code"].tolist() != ind["lsoa21_code"].tolist():
        raise LookupError("lsoa_index and lsoa_indicators hold different LSOAs")
    r = compute(lsoa, ind, spec, set(meta["dx_indicators_used"]), meta)
    bad = ((r.dx_rank != lsoa["dx_rank"].to_numpy())
           | (r.dedi_rank != lsoa["dedi_rank"].to_numpy()))
    if bad.any():
        raise LookupError(f"recomputing DX/DEDI from the published tables does not give the "
                          f"published ranks for {int(bad.sum())} LSOAs (e.g. "
                          f"{lsoa['lsoa21_code'][bad].iloc[0]}); the release may be damaged: "
                          "rebuild it with `dedi build`")
    return r


def with_weights(r: Recomputed, dx_weight: float, subdomains: dict[str, float],
                 indicators: dict[str, float], aggregation: str | None = None) -> Recomputed:
    """The same release under other weights, or another aggregation of the routes (what the
    explorer's sliders and its "routes combined" choice do)."""
    sets = {"dedi.dx_weight": dx_weight,
            **({"dx.aggregation": aggregation} if aggregation else {}),
            **{f"dx.subdomains.{k}.weight": v for k, v in subdomains.items()},
            **{f"dx.indicators.{k}.weight": v for k, v in indicators.items()}}
    spec = set_values(r.spec, sets)
    return compute(r.lsoa, r.indicators, spec, set(r.structure.indicators), r.meta)
