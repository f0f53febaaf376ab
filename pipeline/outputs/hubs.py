"""``dedi hubs``: where to put digital health hubs in an area, from a published release.

Reads ``lsoa_index`` and its boundaries (never writes ``current``), places each LSOA at one
point (its representative point: no population-weighted centroids are published in the
release), weighs its residents by a demand definition, solves the maximal covering location
problem exactly (:mod:`pipeline.method.siting`) for k = 1..K, and writes
``<marts>/hubs/<name>/`` atomically: ``hub_sites``, ``hub_coverage``, ``hub_curve`` (DuckDB,
parquet, JSON), ``report.html`` and an ``interventions.csv`` template for ``dedi evaluate``.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from pipeline.config import paths, settings
from pipeline.errors import HubsError
from pipeline.method.siting import (
    CoverageModel,
    MedianModel,
    distances_all,
    nearest_chosen,
    nearest_of,
    order_of_choice,
    reach_from_minutes,
    reach_within,
)
from pipeline.outputs.warehouse import connect, marts_dir, metadata, release_folder
from pipeline.sources.connectivity import pcds

GEOGRAPHIES = {"icb24": "icb24_code", "ltla24": "ltla24_code", "region": "region_code"}
VENUE_COLUMNS = ("site_id", "name", "type")
BNG = "EPSG:27700"
OBJECTIVES = ("coverage", "distance")


@dataclass
class HubsRequest:
    """What ``dedi hubs`` (or the ``dedi_hubs`` Dagster job) is asked for."""

    area: str = "england"
    k: int = 10
    radius_km: float = 2.0
    candidates: str = "lsoa"              # lsoa | gp | schools | FILE (a venues CSV)
    existing: str | None = None           # a venues CSV of sites already open
    demand: str = "dx-deciles:1-3"        # dx-deciles:A-B | dx-weighted | a numeric column
    name: str | None = None
    scenario: str | None = None
    travel_times: str | None = None       # CSV origin_lsoa21, site_id, minutes (replaces radius)
    max_minutes: float | None = None
    time_limit_seconds: float | None = None  # None: settings.yaml hubs.time_limit_seconds
    objective: str = "coverage"           # coverage (MCLP) | distance (p-median)


def parse_area(area: str, lsoa: pd.DataFrame) -> tuple[str, np.ndarray]:
    """``icb24:E54000008``, ``ltla24:E08000012``, ``region:E12000002`` or ``england`` -> (the
    area's name, a mask of its LSOAs)."""
    if area.lower() == "england":
        return "England", np.ones(len(lsoa), dtype=bool)
    level, _, code = area.partition(":")
    if level not in GEOGRAPHIES or not code:
        raise HubsError(f"--area {area!r}: expected icb24:CODE, ltla24:CODE, region:CODE or "
                        "england")
    col = GEOGRAPHIES[level]
    mask = (lsoa[col] == code).to_numpy()
    if not mask.any():
        known = sorted(lsoa[col].dropna().unique())[:5]
        raise HubsError(f"--area {area!r}: no {level} with code {code} in this release (e.g. "
                        f"{', '.join(known)})")
    return str(lsoa.loc[mask, col.replace("_code", "_name")].iloc[0]), mask


def demand_weights(spec: str, lsoa: pd.DataFrame) -> tuple[np.ndarray, str]:
    """Each LSOA's demand and the definition in words. ``dx-deciles:1-3``: residents of the
    LSOAs in national DX deciles 1-3; ``dx-weighted``: residents x R, R = (N - DX rank + 1)/N
    (1 for the most excluded LSOA, falling linearly); else a numeric published column."""
    pop = lsoa["population"].fillna(0).to_numpy(dtype="float64")
    m = re.fullmatch(r"dx-deciles:(\d+)-(\d+)", spec)
    if m:
        lo, hi = int(m[1]), int(m[2])
        if not 1 <= lo <= hi <= 10:
            raise HubsError(f"--demand {spec!r}: deciles must run from 1 to 10, low to high")
        inside = lsoa["dx_decile"].between(lo, hi).to_numpy()
        return np.where(inside, pop, 0.0), (f"residents of the LSOAs in national DX deciles "
                                            f"{lo}-{hi}")
    if spec == "dx-weighted":
        n = len(lsoa)
        r = (n - lsoa["dx_rank"].to_numpy(dtype="float64") + 1) / n
        return pop * r, ("residents weighted by R = (N - DX rank + 1) / N: 1 for the most "
                         "excluded LSOA of England, falling linearly")
    if spec in lsoa and pd.api.types.is_numeric_dtype(lsoa[spec]):
        return lsoa[spec].fillna(0).to_numpy(dtype="float64"), f"the published column {spec}"
    raise HubsError(f"--demand {spec!r}: expected dx-deciles:1-3, dx-weighted or a numeric "
                    f"column of lsoa_index (e.g. population, dedi_score)")


def read_venues(path: Path, pcd: pd.DataFrame | None) -> pd.DataFrame:
    """A venues CSV (site_id, name, type and either easting/northing, lat/lon or postcode) ->
    site_id, name, type, x, y (British National Grid). One line names the file and row of a
    venue that cannot be placed."""
    if not path.exists():
        raise HubsError(f"{path}: file not found")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.columns = [c.strip().lower() for c in df.columns]
    missing = [c for c in VENUE_COLUMNS if c not in df]
    if missing:
        raise HubsError(f"{path}: missing column(s) {missing}; expected site_id, name, type and "
                        "easting/northing, lat/lon or postcode")
    if df.empty:
        raise HubsError(f"{path}: no venues (a header and no rows)")
    if df["site_id"].duplicated().any():
        row = int(np.flatnonzero(df["site_id"].duplicated())[0]) + 2
        raise HubsError(f"{path}: column 'site_id': {df['site_id'].iloc[row - 2]!r} repeated at "
                        f"row {row}; give each venue its own id")
    if {"easting", "northing"} <= set(df):
        x, y = (pd.to_numeric(df[c], errors="coerce") for c in ("easting", "northing"))
    elif {"lat", "lon"} <= set(df):
        pts = gpd.GeoSeries(gpd.points_from_xy(pd.to_numeric(df["lon"], errors="coerce"),
                                               pd.to_numeric(df["lat"], errors="coerce")),
                            crs="EPSG:4326").to_crs(BNG)
        x, y = pd.Series(pts.x), pd.Series(pts.y)
    elif "postcode" in df:
        if pcd is None:
            raise HubsError(f"{path}: venues located by postcode need the ONS Postcode "
                            "Directory in <raw>/geography/ (ONSPD*.zip or NSPL*.csv)")
        at = pcd.set_index("postcode").reindex(pcds(df["postcode"]))
        x, y = pd.Series(at["easting"].to_numpy()), pd.Series(at["northing"].to_numpy())
    else:
        raise HubsError(f"{path}: expected easting/northing, lat/lon or postcode columns")
    bad = (x.isna() | y.isna()).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        what = (f"unknown postcode {df['postcode'].iloc[row]!r}" if "postcode" in df and
                not {"easting", "northing", "lat", "lon"} & set(df) else "no usable location")
        raise HubsError(f"{path}: row {row + 2} (site {df['site_id'].iloc[row]!r}): {what}; "
                        "correct it or remove the row")
    return pd.DataFrame({"site_id": df["site_id"], "name": df["name"], "type": df["type"],
                         "x": x.to_numpy(dtype="float64"), "y": y.to_numpy(dtype="float64")})


def read_travel_times(path: Path, lsoas: pd.Series, sites: pd.Series) -> sparse.csr_matrix:
    """A user's travel-time matrix (origin_lsoa21, site_id, minutes) as area LSOAs × sites in
    minutes; pairs absent from the file are absent. Every area LSOA and every site must
    appear: a matrix that misses some would silently treat them as out of reach."""
    if not path.exists():
        raise HubsError(f"{path}: file not found")
    df = pd.read_csv(path, dtype={"origin_lsoa21": str, "site_id": str})
    missing = [c for c in ("origin_lsoa21", "site_id", "minutes") if c not in df]
    if missing:
        raise HubsError(f"{path}: missing column(s) {missing}; expected origin_lsoa21, site_id, "
                        "minutes (from your routing tool)")
    minutes = pd.to_numeric(df["minutes"], errors="coerce")
    bad = minutes.isna() | (minutes < 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise HubsError(f"{path}: column 'minutes': {df['minutes'].iloc[row]!r} at row "
                        f"{row + 2}; expected a number of minutes, 0 or more")
    for what, col, need in (("LSOA(s) of the area", "origin_lsoa21", lsoas),
                            ("candidate site(s)", "site_id", sites)):
        gone = sorted(set(need) - set(df[col]))
        if gone:
            raise HubsError(f"{path}: {len(gone)} {what} have no row, e.g. {gone[:3]}; the "
                            "matrix must cover every origin and every site (use a large "
                            "number of minutes for pairs out of reach)")
    i = pd.Index(lsoas).get_indexer(df["origin_lsoa21"])
    j = pd.Index(sites).get_indexer(df["site_id"])
    keep = (i >= 0) & (j >= 0)
    return sparse.csr_matrix((np.maximum(minutes[keep].to_numpy(), 1e-9), (i[keep], j[keep])),
                             shape=(len(lsoas), len(sites)))


def _postcodes(raw: Path) -> pd.DataFrame | None:
    """The raw folder's ONS Postcode Directory (postcode, easting, northing), or None."""
    from pipeline.sources import postcodes

    found = postcodes.locate(raw)
    if not found:
        return None
    with duckdb.connect() as con, tempfile.TemporaryDirectory() as tmp:
        postcodes.stage_postcode_directory(con, found, "pcd", Path(tmp))
        return con.execute("SELECT postcode, easting, northing FROM pcd").df()


def _candidates(req: HubsRequest, area: gpd.GeoDataFrame, raw: Path,
                postcodes: Callable[[], pd.DataFrame | None]) -> pd.DataFrame:
    """The candidate sites: every area LSOA's point, open GP practices (epraccur, placed with
    the ONS Postcode Directory), open schools (GIAS), or a venues file."""
    if req.candidates == "gp":
        from pipeline.sources import gp

        try:
            practices = gp.read_epraccur(gp.locate_epraccur(raw))
        except FileNotFoundError as exc:
            raise HubsError(f"--candidates gp: no epraccur file in {raw}/gp/") from exc
        pcd = postcodes()
        if pcd is None:
            raise HubsError(f"--candidates gp: GP practices are placed by postcode, and {raw}/"
                            "geography/ holds no ONS Postcode Directory (ONSPD*.zip or "
                            "NSPL*.csv): add it, or use --candidates lsoa, schools or a file")
        open_ = practices[practices["status_code"].eq("A")]
        at = pcd.set_index("postcode").reindex(pcds(open_["postcode"]))
        out = pd.DataFrame({"site_id": open_["practice_code"].to_numpy(),
                            "name": open_["practice_name"].to_numpy(), "type": "GP practice",
                            "x": at["easting"].to_numpy(), "y": at["northing"].to_numpy()})
        placed = out.dropna(subset=["x", "y"]).reset_index(drop=True)
        if placed.empty:
            raise HubsError(f"{gp.locate_epraccur(raw)}: none of the {len(open_)} open GP "
                            "practices has a postcode the ONS Postcode Directory holds; use a "
                            "current epraccur and ONSPD, or --candidates lsoa, schools or a file")
        return placed
    if req.candidates == "lsoa":
        return pd.DataFrame({"site_id": area["lsoa21_code"], "name": area["lsoa21_name"],
                             "type": "LSOA point", "x": area["x"], "y": area["y"]})
    if req.candidates == "schools":
        from pipeline.sources import schools

        try:
            g = schools.read_gias(schools.locate(raw))
        except FileNotFoundError as exc:
            raise HubsError(f"--candidates schools: no GIAS file in {raw}/schools/") from exc
        g = g[g[["easting", "northing"]].notna().all(axis=1)]  # a few open schools have none
        return pd.DataFrame({"site_id": "URN " + g["urn"].astype(str),
                             "name": g.get("name", g["urn"]).astype(str),
                             "type": "school (" + g["phase"].astype(str) + ")",
                             "x": g["easting"], "y": g["northing"]})
    return read_venues(Path(req.candidates), postcodes())


def _near(sites: pd.DataFrame, area: gpd.GeoDataFrame, radius_m: float) -> np.ndarray:
    """Sites inside the area or within the radius of one of its LSOA points."""
    from scipy.spatial import cKDTree

    d, _ = cKDTree(area[["x", "y"]].to_numpy()).query(sites[["x", "y"]].to_numpy(), k=1)
    return d <= radius_m


@dataclass
class Instance:
    """A request's covering problem: the area's LSOAs (points in BNG metres, ``demand``), the
    candidate sites (existing first), the reach relation, the costs of serving (minutes of a
    travel-time matrix, or every straight-line distance for the p-median; else None) and what
    the report says of them."""

    name: str
    areas: gpd.GeoDataFrame
    sites: pd.DataFrame
    reach: sparse.csr_matrix
    cost: sparse.csr_matrix | None
    definition: str
    meta: dict


def instance(req: HubsRequest) -> Instance:
    """Read the release and the candidate files and build the request's instance; one line
    (:class:`HubsError`) for every input it cannot use."""
    if req.k <= 0:
        raise HubsError(f"--k {req.k}: the number of hubs must be at least 1")
    if req.radius_km <= 0:
        raise HubsError(f"--radius-km {req.radius_km}: the reach must be a positive distance")
    if req.objective not in OBJECTIVES:
        raise HubsError(f"--objective {req.objective!r}: expected coverage (the most demand "
                        "within reach) or distance (the least demand-weighted distance)")
    if req.travel_times and not (req.max_minutes and req.max_minutes > 0):
        raise HubsError("--travel-times needs --max-minutes, a positive number of minutes")
    release = release_folder(req.scenario)
    with connect(release=release) as conn:
        meta = metadata(conn)
        lsoa = conn.execute("SELECT * FROM lsoa_index ORDER BY lsoa21_code").df()
    shapes = gpd.read_parquet(release / "lsoa_index.geoparquet", columns=["lsoa21_code",
                                                                          "geometry"])
    name, mask = parse_area(req.area, lsoa)
    weights, definition = demand_weights(req.demand, lsoa)
    gdf = gpd.GeoDataFrame(lsoa[mask].reset_index(drop=True).merge(
        shapes, on="lsoa21_code", how="left"), geometry="geometry", crs=shapes.crs).to_crs(BNG)
    pts = gdf.geometry.representative_point()
    gdf["x"], gdf["y"] = pts.x.to_numpy(), pts.y.to_numpy()
    gdf["demand"] = weights[mask]
    radius = req.radius_km * 1000.0
    raw = paths().raw
    postcodes = cache(lambda: _postcodes(raw))  # the ONSPD staged once, and only if needed
    sites = _candidates(req, gdf, raw, postcodes)
    far = (np.zeros(len(sites), dtype=bool) if req.travel_times  # the matrix says who
           else ~_near(sites, gdf, radius))
    if req.candidates not in ("lsoa", "schools", "gp") and far.any():
        row = int(np.flatnonzero(far)[0])
        raise HubsError(f"{req.candidates}: row {row + 2} (site {sites['site_id'].iloc[row]!r}) "
                        f"lies more than {req.radius_km:g} km from every LSOA of {name}; "
                        "remove it or choose the area it serves")
    sites = sites[~far].reset_index(drop=True)
    sites["existing"] = False
    if req.existing:
        old = read_venues(Path(req.existing), postcodes())
        if len(old) > req.k:
            raise HubsError(f"{req.existing}: {len(old)} existing hubs, more than --k {req.k}; "
                            "raise --k to the existing hubs plus the new ones")
        outside = ~_near(old, gdf, radius)
        if outside.any():
            row = int(np.flatnonzero(outside)[0])
            raise HubsError(f"{req.existing}: row {row + 2} lies more than {req.radius_km:g} km "
                            f"from every LSOA of {name}")
        sites = pd.concat([old.assign(existing=True), sites[~sites["site_id"].isin(
            old["site_id"])]], ignore_index=True)
    if req.k > len(sites):
        raise HubsError(f"--k {req.k}: only {len(sites)} candidate sites in or near {name}; "
                        "lower --k or widen --candidates")
    xy, site_xy = gdf[["x", "y"]].to_numpy(), sites[["x", "y"]].to_numpy()
    if req.travel_times:
        cost = read_travel_times(Path(req.travel_times), gdf["lsoa21_code"], sites["site_id"])
        reach = reach_from_minutes(cost, float(req.max_minutes))
    else:
        reach, cost = reach_within(xy, site_xy, radius), None
        if req.objective == "distance":
            most = int(settings()["hubs"]["median_max_pairs"])
            if len(xy) * len(site_xy) > most:
                raise HubsError(f"--objective distance: {len(xy):,} LSOAs x {len(site_xy):,} "
                                f"sites is more than settings.yaml hubs.median_max_pairs "
                                f"({most:,}) pairs; choose a smaller --area or fewer "
                                "--candidates, or use --objective coverage")
            cost = distances_all(xy, site_xy)
    return Instance(name, gdf, sites, reach, cost, definition, meta)


def plan(req: HubsRequest) -> dict:
    """Solve the request; returns the three tables and what the report needs."""
    inst = instance(req)
    gdf, sites, reach = inst.areas, inst.sites, inst.reach
    weights, existing = gdf["demand"].to_numpy(dtype="float64"), sites["existing"].to_numpy()
    limit = req.time_limit_seconds or time_limit()
    if req.objective == "distance":
        within = float(req.max_minutes) if req.travel_times else req.radius_km * 1000.0
        try:
            model = MedianModel(inst.cost, weights, within, existing, limit)
        except ValueError as err:  # only a travel-time matrix can leave an LSOA unserved
            raise HubsError(f"{req.travel_times}: {err}; every LSOA with demand needs at "
                            "least one site in the matrix") from None
    else:
        model = CoverageModel(reach, weights, existing, limit)
    curve = model.curve(req.k)
    best = curve[-1]
    order, added = order_of_choice(best.chosen, reach, weights, existing)
    total = float(gdf["demand"].sum())
    chosen = sites.iloc[order].reset_index(drop=True)
    ll = gpd.GeoSeries(gpd.points_from_xy(chosen["x"], chosen["y"]), crs=BNG).to_crs(4326)
    within = gpd.sjoin(gpd.GeoDataFrame(geometry=gpd.points_from_xy(chosen["x"], chosen["y"]),
                                        crs=BNG), gdf[["lsoa21_code", "geometry"]],
                       how="left", predicate="within")
    within = within[~within.index.duplicated()]
    hub_sites = pd.DataFrame({
        "order_chosen": np.arange(1, len(chosen) + 1), "site_id": chosen["site_id"],
        "name": chosen["name"], "type": chosen["type"], "existing": chosen["existing"],
        "easting": chosen["x"].round(1), "northing": chosen["y"].round(1),
        "lat": ll.y.round(6), "lon": ll.x.round(6),
        "lsoa21_code": within["lsoa21_code"].to_numpy(), "demand_added": added.round(1),
        "cumulative_demand": np.cumsum(added).round(1),
        "cumulative_share": (np.cumsum(added) / total if total else np.zeros(len(added)))})
    near, dist = nearest_chosen(gdf[["x", "y"]].to_numpy(), chosen[["x", "y"]].to_numpy())
    hub_coverage = pd.DataFrame({
        "lsoa21_code": gdf["lsoa21_code"], "lsoa21_name": gdf["lsoa21_name"],
        "dx_decile": gdf["dx_decile"], "demand": gdf["demand"].round(1),
        "nearest_site_id": chosen["site_id"].to_numpy()[near],
        "distance_m": dist.round(0), "covered": best.covered})
    if req.travel_times:  # the nearest chosen site in minutes, where the matrix has a pair
        at, minutes = nearest_of(inst.cost[:, order])
        site = np.full(len(gdf), None, dtype=object)
        site[at >= 0] = chosen["site_id"].to_numpy()[at[at >= 0]]
        hub_coverage["nearest_site_id"] = site
        hub_coverage["minutes"] = np.round(np.where(np.isfinite(minutes), minutes, np.nan), 1)
    prev = [0.0] + [s.covered_demand for s in curve[:-1]]

    def mean_distance(s) -> float:
        """Demand-weighted mean distance (m) or minutes to the nearest chosen site."""
        if inst.cost is not None:
            d = nearest_of(inst.cost[:, s.chosen])[1]
        else:
            d = nearest_chosen(gdf[["x", "y"]].to_numpy(), sites[["x", "y"]].to_numpy()[
                s.chosen])[1]
        ok = np.isfinite(d) & (weights > 0)
        return float((weights[ok] * d[ok]).sum() / weights[ok].sum()) if ok.any() else np.nan

    hub_curve = pd.DataFrame({
        "k": [len(s.chosen) for s in curve],
        "covered_demand": [round(s.covered_demand, 1) for s in curve],
        "covered_share": [s.covered_demand / total if total else 0.0 for s in curve],
        "marginal_gain": [round(s.covered_demand - p, 1) for s, p in zip(curve, prev,
                                                                         strict=True)],
        ("mean_minutes" if req.travel_times else "mean_distance_m"):
            [round(mean_distance(s), 1) for s in curve],
        "proven_optimal": [s.optimal for s in curve],
        "mip_gap": [s.mip_gap for s in curve]})
    return {"hub_sites": hub_sites, "hub_coverage": hub_coverage, "hub_curve": hub_curve,
            "area": inst.name, "areas": gdf, "definition": inst.definition, "total": total,
            "reach": (f"travel time up to {req.max_minutes:g} minutes, from the user's matrix "
                      f"{req.travel_times}" if req.travel_times else
                      f"straight-line distance up to {req.radius_km:g} km (British National "
                      "Grid), from each LSOA's representative point"),
            "meta": inst.meta, "request": req}


def write_hubs(req: HubsRequest) -> Path:
    """Plan, then publish ``<marts>/hubs/<name>/`` in one rename (never a half folder)."""
    from pipeline.outputs.report.hubs import hubs_report

    result = plan(req)
    name = req.name or re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{req.area}-k{req.k}-r{req.radius_km:g}")
    root = marts_dir(req.scenario) / "hubs"
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".incomplete-{name}-", dir=root))
    try:
        with duckdb.connect(str(tmp / "hubs.duckdb")) as con:
            for t in ("hub_sites", "hub_coverage", "hub_curve"):
                df = result[t]
                con.register("df", df)
                con.execute(f"CREATE TABLE {t} AS SELECT * FROM df")
                con.unregister("df")
                df.to_parquet(tmp / f"{t}.parquet", index=False)
                (tmp / f"{t}.json").write_text(df.to_json(orient="records", indent=1),
                                               encoding="utf-8")
        covered = result["hub_coverage"].loc[result["hub_coverage"]["covered"], "lsoa21_code"]
        near = result["hub_coverage"].set_index("lsoa21_code")["nearest_site_id"]
        pd.DataFrame({"unit_type": "lsoa", "unit_code": covered.to_numpy(), "start_date": "",
                      "intervention": [f"digital health hub {near[c]}" for c in covered]}
                     ).to_csv(tmp / "interventions.csv", index=False)
        (tmp / "report.html").write_text(hubs_report(result), encoding="utf-8")
        (tmp / "request.json").write_text(json.dumps(req.__dict__, indent=1), encoding="utf-8")
        final = root / name
        if final.exists():
            old = root / f".replaced-{name}"
            shutil.rmtree(old, ignore_errors=True)
            final.rename(old)
            tmp.rename(final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def time_limit() -> float:
    """The solver's time limit per k (settings.yaml ``hubs.time_limit_seconds``)."""
    return float(settings()["hubs"]["time_limit_seconds"])
