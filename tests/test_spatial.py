"""The pinned DuckDB spatial extension loads offline and agrees with geopandas."""

import duckdb
import geopandas as gpd
import pytest
from shapely.geometry import box

from pipeline.spatial import load_spatial


def test_spatial_extension_loads_offline_and_measures_area():
    con = duckdb.connect()
    load_spatial(con)
    area = con.execute("SELECT ST_Area(ST_GeomFromText('POLYGON((0 0,2 0,2 3,0 3,0 0))'))"
                       ).fetchone()[0]
    assert area == pytest.approx(6.0)
    # A point-in-polygon join gives the same answer as a geopandas spatial join.
    polys = gpd.GeoDataFrame({"code": ["A", "B"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)])
    pts = gpd.GeoDataFrame({"id": [1, 2, 3]}, geometry=gpd.points_from_xy([0.5, 1.5, 5], [0.5, 0.5, 5]))
    gp = gpd.sjoin(pts, polys, how="left", predicate="within").sort_values("id")["code"].tolist()
    con.register("p", polys.to_wkb())
    con.register("q", pts.to_wkb())
    dd = con.execute("SELECT q.id, p.code FROM q LEFT JOIN p ON ST_Within("
                     "ST_GeomFromWKB(q.geometry), ST_GeomFromWKB(p.geometry)) ORDER BY q.id"
                     ).fetchall()
    assert [c for _, c in dd] == [c if isinstance(c, str) else None for c in gp]
