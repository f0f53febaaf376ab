"""``dedi explore``: one self-contained offline HTML page (map, weight sliders, search).

The page embeds, for every England LSOA, the published normal scores of the DX indicators and
the seven IoD domain ranks (``pipeline/outputs/audit.py`` recomputes them from the release and checks
them against the published ranks), so DX and DEDI can be recomputed in the browser by the
method of ``pipeline/method/dx.py`` (``pipeline/outputs/explorer/dedi.js`` is its port). Boundaries
are simplified for the web and embedded for the chosen area (default all England). No CDN, no
server: the file works from disk.
"""

from __future__ import annotations

import base64
import gzip
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipeline.config import paths, settings
from pipeline.outputs.audit import IMD_DOMAINS, Recomputed, recompute
from pipeline.outputs.labels import LABELS, absent_inputs
from pipeline.outputs.warehouse import connect, marts_dir, release_folder
from pipeline.release.dictionary import units_of

ASSETS = Path(__file__).parent
QUANTUM = 1e-4          # degrees (~7-11 m): coordinates are stored as integers of this
SIMPLIFY = 2e-4         # degrees (~15-20 m): Douglas-Peucker tolerance for the web
OUTLINE_SIMPLIFY = 5e-4  # degrees (~35-55 m): LTLA and ICB outlines drawn over the LSOAs
LEVELS = ("ward24", "ltla24", "icb24", "region")
MAX_POSTCODES = 400_000  # postcode search is embedded up to this many live postcodes
MAX_CATCHMENT_PAIRS = 400_000  # GP practice catchments are embedded up to this many pairs



def _pack(a: Any, dtype: str) -> str:
    """An array as ``gz:`` + base64 of its gzipped little-endian bytes (the page inflates it
    with the browser's DecompressionStream): about half the size of plain base64."""
    raw = np.ascontiguousarray(a, dtype=dtype).tobytes()
    return "gz:" + base64.b64encode(gzip.compress(raw, 6, mtime=0)).decode()


def _codes(series: pd.Series) -> tuple[list[str], np.ndarray]:
    cat = pd.Categorical(series.fillna(""))
    return list(cat.categories), cat.codes.astype("int32")


def _labelled(series: pd.Series) -> tuple[list[str], str]:
    """A repetitive text column as its distinct labels and an int32 index per row."""
    labels, idx = _codes(series)
    return labels, _pack(idx, "<i4")


def _rings(geoms: np.ndarray, origin: tuple[float, float]) -> tuple[list[int], list[int]]:
    """Polygons as one int list: per shape its ring count, per ring its length and the
    quantised coordinates delta-coded; returns (offsets of the shapes, the ints)."""
    ints: list[int] = []
    offset = []
    for g in geoms:
        offset.append(len(ints))
        polys = list(g.geoms) if hasattr(g, "geoms") else [g]
        rings = [r for p in polys if not p.is_empty for r in (p.exterior, *p.interiors)]
        ints.append(len(rings))
        for r in rings:
            xy = np.asarray(r.coords)[:-1]
            q = np.round((xy - origin) / QUANTUM).astype(np.int64)
            d = np.diff(q, axis=0, prepend=[[0, 0]])
            ints.append(len(q))
            ints.extend(d.ravel().tolist())
    return offset, ints


def _geometry(release: Path, lsoa: pd.DataFrame, keep: np.ndarray,
              geo: dict[str, Any]) -> dict[str, Any]:
    """Simplified LSOA polygons of the kept LSOAs, quantised and delta-coded, with the outlines
    and label points of their LTLAs and ICBs (dissolved from the LSOAs) to orient by."""
    gdf = gpd.read_parquet(release / "lsoa_index.geoparquet", columns=["lsoa21_code", "geometry"])
    pos = pd.Series(np.arange(len(lsoa)), index=lsoa["lsoa21_code"])
    gdf = gdf[gdf["lsoa21_code"].isin(lsoa["lsoa21_code"][keep])].reset_index(drop=True)
    geoms = shapely.simplify(gdf.geometry.values, SIMPLIFY, preserve_topology=True)
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    offset, ints = _rings(geoms, (minx, miny))
    out = {"index": _pack(pos[gdf["lsoa21_code"]].to_numpy(), "<i4"),
           "offset": _pack(offset, "<i4"), "coords": _pack(ints, "<i4"),
           "origin": [minx, miny], "quantum": QUANTUM, "bbox": [minx, miny, maxx, maxy],
           "count": len(gdf), "outlines": {}}
    areas = gdf.assign(**{f"{g}_code": lsoa.set_index("lsoa21_code").loc[
        gdf["lsoa21_code"], f"{g}_code"].to_numpy() for g in ("ltla24", "icb24")})
    ltla = areas.dissolve("ltla24_code", as_index=False)[["ltla24_code", "icb24_code",
                                                           "geometry"]]
    for g, shapes in (("ltla24", ltla), ("icb24", ltla.dissolve("icb24_code", as_index=False))):
        simple = shapely.simplify(shapes.geometry.values, OUTLINE_SIMPLIFY, preserve_topology=True)
        o, c = _rings(simple, (minx, miny))
        codes = geo[g]["codes"]
        out["outlines"][g] = {"of": _pack([codes.index(k) for k in shapes[f"{g}_code"]], "<i4"),
                              "offset": _pack(o, "<i4"), "coords": _pack(c, "<i4")}
    at = shapely.point_on_surface(ltla.geometry.values)
    out["labels"] = [[geo["ltla24"]["codes"].index(k), round(float(p.x), 4), round(float(p.y), 4)]
                     for k, p in zip(ltla["ltla24_code"], at, strict=True)]
    return out


def _postcodes(lsoa: pd.DataFrame, keep: np.ndarray) -> dict[str, int] | None:
    """Live postcode -> LSOA position, from the raw folder's postcode directory if present."""
    from pipeline.sources.common import SourceError
    from pipeline.sources.postcodes import locate, stage_postcode_directory

    files = locate(paths().raw)
    if not files:
        return None
    try:
        with tempfile.TemporaryDirectory() as tmp, duckdb.connect() as conn:
            stage_postcode_directory(conn, files, "pc", Path(tmp))
            pc = conn.execute("SELECT postcode, lsoa21_code FROM pc WHERE NOT terminated").df()
    except SourceError as exc:  # the map works without it
        print(f"dedi explore: postcode search is off: {exc}", file=sys.stderr)
        return None
    pos = pd.Series(np.arange(len(lsoa)), index=lsoa["lsoa21_code"])
    pc = pc[pc["lsoa21_code"].isin(lsoa["lsoa21_code"][keep])]
    if len(pc) > MAX_POSTCODES:
        print(f"dedi explore: {len(pc):,} postcodes is too many to embed; postcode search is "
              "off (use --area for a region, ICB or LTLA)", file=sys.stderr)
        return None
    return dict(zip(pc["postcode"].str.replace(" ", ""), pos[pc["lsoa21_code"]].astype(int),
                    strict=True))


def _practices(catchment: pd.DataFrame | None, lsoa: pd.DataFrame,
               keep: np.ndarray) -> dict[str, Any] | None:
    """GP practices whose patients live in the kept LSOAs, each with the positions of the kept
    LSOAs of its catchment (``gp_practice_catchment``; the page draws no other), for the
    explorer's GP practice level; None without a catchment, or with more pairs than the page
    should carry."""
    if catchment is None or catchment.empty:
        return None
    pos = pd.Series(np.arange(len(lsoa)), index=lsoa["lsoa21_code"])
    c = catchment[catchment["lsoa21_code"].isin(set(lsoa["lsoa21_code"][keep]))]
    if len(c) > MAX_CATCHMENT_PAIRS:
        print(f"dedi explore: {len(c):,} GP practice-LSOA pairs is too many to embed; the GP "
              "practice level is off (use --area for a region, ICB or LTLA)", file=sys.stderr)
        return None
    c = c.sort_values(["practice_code", "lsoa21_code"])
    first = c.drop_duplicates("practice_code")
    sizes = c.groupby("practice_code", sort=True).size().to_numpy()
    return {"codes": first["practice_code"].tolist(), "names": first["practice_name"].tolist(),
            "offset": _pack(np.concatenate([[0], np.cumsum(sizes)]), "<i4"),
            "lsoas": _pack(pos[c["lsoa21_code"]].to_numpy(), "<i4")}


def area_of(lsoa: pd.DataFrame, area: str) -> tuple[str, str, str]:
    """``--area`` (``E54000008`` or ``icb24:E54000008``) as (level, code, name)."""
    level, _, code = area.rpartition(":")
    for g in LEVELS if not level else (level,):
        hit = lsoa.loc[lsoa.get(f"{g}_code", pd.Series(dtype=str)) == code]
        if len(hit):
            return g, code, str(hit[f"{g}_name"].iloc[0])
    raise LookupError(f"--area {area}: no LSOA has this ward, LTLA, ICB or region code "
                      "(e.g. E54000008 for an ICB)")


def explorer_path(scenario: str | None, area: str | None, level: str | None = None) -> Path:
    """``<marts>/explorer/index.html`` for England, ``<level>-<code>.html`` for one area."""
    folder = marts_dir(scenario) / "explorer"
    return folder / (f"{level}-{area}.html" if area else "index.html")


def payload(r: Recomputed, release: Path, area: str | None = None,
            change: pd.Series | None = None, absent: list[str] | None = None,
            catchment: pd.DataFrame | None = None) -> dict[str, Any]:
    """Everything the page needs, JSON-serialisable (arrays packed by :func:`_pack`);
    ``change`` is each LSOA's IMD decile change 2019 -> 2025 (NaN where not comparable);
    ``catchment``: the published ``gp_practice_catchment`` (the GP practice level)."""
    lsoa, meta, spec = r.lsoa, r.meta, r.spec
    n = len(lsoa)
    keep = np.ones(n, dtype=bool)
    where = None
    if area:
        level, code, name = area_of(lsoa, area)
        keep = (lsoa[f"{level}_code"] == code).to_numpy()
        where = {"level": level, "code": code, "name": name}
    geo = {}
    for g in LEVELS:
        names, idx = _codes(lsoa[f"{g}_code"])
        lookup = lsoa.drop_duplicates(f"{g}_code").set_index(f"{g}_code")[f"{g}_name"]
        geo[g] = {"codes": names, "names": [str(lookup.get(c, c)) for c in names],
                  "of": _pack(idx, "<i4")}
    cfg = spec["dx"]["indicators"]
    st = r.structure
    iod = settings()["iod"]
    sources = pd.DataFrame(meta.get("sources", []))
    units, units_idx = _labelled(lsoa["connectivity_units"]) if \
        "connectivity_units" in lsoa else ([""], _pack(np.zeros(n), "<i4"))
    return {
        "meta": {
            "data_status": meta["data_status"], "warning": meta.get("warning", ""),
            "built_at": meta.get("built_at"), "scenario": meta.get("scenario"),
            "spec_sha256": meta.get("index_spec_sha256"), "attribution": meta.get("attribution"),
            "absent": absent or [], "dedi_version": meta.get("dedi_version"),
            "vintages": _vintages(sources), "area": where,
        },
        "n": n,
        "codes": lsoa["lsoa21_code"].tolist(),
        "names": lsoa["lsoa21_name"].fillna("").tolist(),
        "geo": geo,
        "population": _pack(lsoa["population"].fillna(0).to_numpy(), "<f8"),
        "ranks": {d: _pack(lsoa[f"{d}_rank"].to_numpy(), "<i4") for d in IMD_DOMAINS},
        "method": {
            "normalisation": spec["dx"]["normalisation"],
            "aggregation": spec["dx"].get("aggregation", "linear"),
            "constant": iod["exponential_constant"],
            "transform_k": 1.0 - math.exp(-100.0 / iod["exponential_constant"]),
            "imd_weights": iod["domain_weights"],
            "dx_weight": spec["dedi"]["dx_weight"],
            "subdomains": {s: v["weight"] for s, v in spec["dx"]["subdomains"].items()
                           if s in st.subdomain_weights},
            "local_weight": spec["dx"].get("local_layer", {}).get("weight", 0.0),
            "indicators": [{"name": k, "label": LABELS.get(k, k), "column": cfg[k]["column"],
                            "units": units_of("lsoa_indicators", cfg[k]["column"]),
                            "subdomain": st.subdomain_of.get(k), "local": k in st.local,
                            "weight": cfg[k]["weight"]} for k in st.indicators],
        },
        "z": {k: _pack(r.z[k].to_numpy(), "<f8") for k in st.indicators},
        "raw": {k: _pack(r.values[k].to_numpy(dtype="float64"), "<f8") for k in st.indicators},
        "published": {
            "imd_rank": _pack(lsoa["imd_rank"], "<i4"),
            "dx_rank": _pack(lsoa["dx_rank"], "<i4"),
            "dedi_rank": _pack(lsoa["dedi_rank"], "<i4"),
            "p_decile1": _pack(lsoa["dedi_prob_most_deprived_decile"], "<f8"),
            "p05": _pack(lsoa["dedi_rank_p05"].fillna(0), "<i4"),
            "p95": _pack(lsoa["dedi_rank_p95"].fillna(0), "<i4"),
            "imd_decile_change": _pack(np.full(n, np.nan) if change is None else
                                       change.reindex(lsoa["lsoa21_code"]).to_numpy(), "<f4"),
        },
        "connectivity_source": dict(zip(("labels", "of"), _labelled(lsoa["connectivity_source"]),
                                        strict=True)),
        "connectivity_units": {"labels": units, "of": units_idx},
        "geometry": _geometry(release, lsoa, keep, geo),
        "postcodes": _postcodes(lsoa, keep),
        "practices": _practices(catchment, lsoa, keep),
    }


def _vintages(sources: pd.DataFrame) -> list[str]:
    if sources.empty:
        return []
    cols = [c for c in ("staging_table", "file", "vintage") if c in sources]
    return [" · ".join(str(v) for v in row if v not in (None, "")) for row in
            sources[cols].itertuples(index=False)]


def render(data: dict[str, Any]) -> str:
    """The HTML page with CSS, JavaScript and data inlined."""
    html = (ASSETS / "index.html").read_text(encoding="utf-8")
    js = "\n".join((ASSETS / f).read_text(encoding="utf-8") for f in ("dedi.js", "app.js"))
    blob = json.dumps(data, separators=(",", ":"), allow_nan=False, default=_jsonable)
    blob = blob.replace("</", "<\\/")
    title = "DEDI explorer" + (" - SYNTHETIC DEMO" if data["meta"]["data_status"] != "real"
                               else "")
    return (html.replace("{{TITLE}}", title)
            .replace("/*{{CSS}}*/", (ASSETS / "style.css").read_text(encoding="utf-8"))
            .replace("/*{{JS}}*/", js).replace("{{DATA}}", blob))


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return None if np.isnan(v) else float(v)
    raise TypeError(f"not JSON serialisable: {type(v)}")


def hub_sites(scenario: str | None, name: str) -> dict[str, Any]:
    """The sites of ``dedi hubs --name NAME`` (``<marts>/hubs/NAME/hub_sites.parquet``) for
    the explorer's map."""
    root = marts_dir(scenario) / "hubs"
    f = root / name / "hub_sites.parquet"
    if not f.exists():
        made = sorted(p.name for p in root.glob("*") if not p.name.startswith(".")) if \
            root.exists() else []
        raise LookupError(f"no hub siting named {name!r} in {root} (made: {made or 'none'}); "
                          "run `dedi hubs --name NAME` first")
    sites = pd.read_parquet(f)
    return {"name": name, "sites": sites[["order_chosen", "site_id", "name", "type", "lon",
                                          "lat", "existing"]].to_dict(orient="records")}


def write_explorer(scenario: str | None = None, area: str | None = None,
                   out: Path | None = None, hubs: str | None = None) -> Path:
    """Write the explorer for the published marts (or a scenario): all England to
    ``explorer/index.html``, one area to its own file that opens at it; with the sites of a
    hub siting on the map when ``hubs`` names one. Returns its path."""
    release = release_folder(scenario)  # `current` resolved once: one release throughout
    with connect(release=release) as conn:
        r = recompute(conn)
        change = conn.execute("SELECT lsoa21_code, imd_decile_change, comparable "
                              "FROM lsoa_index_history WHERE vintage = 2025").df()
        absent = absent_inputs(conn, r.spec)
        catchment = conn.execute("SELECT practice_code, practice_name, lsoa21_code "
                                 "FROM gp_practice_catchment").df()
    change = change.set_index("lsoa21_code")
    data = payload(r, release, area, change["imd_decile_change"].where(change["comparable"]),
                   absent, catchment)
    data["hubs"] = hub_sites(scenario, hubs) if hubs else None
    where = data["meta"]["area"]
    out = out or explorer_path(scenario, where and where["code"], where and where["level"])
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(render(data), encoding="utf-8")
    tmp.replace(out)
    return out
