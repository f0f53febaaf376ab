"""dedi hubs on a published release: outputs, the report in headless Chromium, existing hubs,
bad input in one line with nothing published, and spopt's covered demand on a real ICB."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import HubsError
from tests.browser import non_blank, screenshot, visit
from tests.conftest import dedi_env

DEMO_ICB = "icb24:E54009901"


def _hubs(dirs, **kw):
    from pipeline.outputs.hubs import HubsRequest, write_hubs

    with dedi_env(dirs):
        return write_hubs(HubsRequest(**kw))


def _venues(path, rows):
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


def test_demo_hubs_publish_tables_report_and_template(demo_build, browser, tmp_path):
    folder = _hubs(demo_build, area=DEMO_ICB, k=4, radius_km=2, name="demo-test")
    assert folder == demo_build.marts / "hubs" / "demo-test"
    names = {p.name for p in folder.iterdir()}
    assert {"hubs.duckdb", "report.html", "interventions.csv", "request.json"} <= names
    assert {f"{t}.{e}" for t in ("hub_sites", "hub_coverage", "hub_curve")
            for e in ("parquet", "json")} <= names
    sites = pd.read_parquet(folder / "hub_sites.parquet")
    curve = pd.read_parquet(folder / "hub_curve.parquet")
    cover = pd.read_parquet(folder / "hub_coverage.parquet")
    assert sites["order_chosen"].tolist() == [1, 2, 3, 4]
    assert curve["k"].tolist() == [1, 2, 3, 4] and curve["proven_optimal"].all()
    assert (curve["covered_demand"].diff().dropna() >= 0).all()  # never decreases
    assert sites["cumulative_demand"].iloc[-1] == pytest.approx(curve["covered_demand"].iloc[-1])
    assert cover.loc[cover["covered"], "distance_m"].max() <= 2000
    assert cover["demand"][cover["covered"]].sum() == pytest.approx(
        curve["covered_demand"].iloc[-1], abs=1)
    interventions = pd.read_csv(folder / "interventions.csv")
    assert list(interventions.columns) == ["unit_type", "unit_code", "start_date",
                                           "intervention"]
    assert set(interventions["unit_code"]) == set(cover.loc[cover["covered"], "lsoa21_code"])
    page = folder / "report.html"
    with visit(browser, page, width=1200) as v:
        png = screenshot(v, "hubs_demo")
        assert v.errors == [] and v.foreign_requests(page.resolve().as_uri()) == []
        assert "4 hub(s) bring" in v.page.locator("#headline").inner_text()
        assert v.page.locator("#synthetic-banner").is_visible()
        assert v.page.locator("img").count() == 2  # the map and the curve, inlined
    assert non_blank(png) > 0.05  # a mostly white page with a map and a chart


def test_existing_hubs_are_always_chosen(demo_build, tmp_path):
    from tests.build.bad_inputs.cases import ONSPD

    pcd = pd.read_csv(demo_build.raw / ONSPD, dtype=str)
    old = _venues(tmp_path / "open.csv", [
        {"site_id": "LIB1", "name": "Central Library", "type": "library",
         "postcode": pcd["pcds"].iloc[0]},
        {"site_id": "CC2", "name": "Community Centre", "type": "community centre",
         "postcode": pcd["pcds"].iloc[-1]}])
    folder = _hubs(demo_build, area=DEMO_ICB, k=5, radius_km=1.5, existing=old, name="open")
    sites = pd.read_parquet(folder / "hub_sites.parquet")
    assert sites["site_id"].tolist()[:2] == ["LIB1", "CC2"] and sites["existing"].tolist()[:2] == [
        True, True]
    assert len(sites) == 5 and not sites["existing"].iloc[2:].any()


@pytest.mark.parametrize(("kw", "expect"), [
    ({"k": 0}, r"--k 0: the number of hubs must be at least 1"),
    ({"k": 500}, r"--k 500: only 320 candidate sites"),
    ({"radius_km": 0}, r"--radius-km 0: the reach must be a positive distance"),
    ({"area": "icb24:E54999999"}, r"no icb24 with code E54999999 in this release"),
    ({"area": "ward:X"}, r"expected icb24:CODE, ltla24:CODE, region:CODE or england"),
    ({"demand": "dx-deciles:3-1"}, r"deciles must run from 1 to 10"),
    ({"candidates": "VENUES_UNKNOWN_POSTCODE"}, r"row 3 \(site 'V2'\): unknown postcode 'ZZ9 9ZZ'"),
    ({"candidates": "VENUES_FAR"}, r"row 2 \(site 'FAR'\) lies more than 2 km from every LSOA"),
    ({"existing": "VENUES_MANY", "k": 2}, r"3 existing hubs, more than --k 2"),
    ({"objective": "closest"}, r"--objective 'closest': expected coverage"),
])
def test_bad_input_is_one_line_and_publishes_nothing(demo_build, tmp_path, kw, expect):
    from tests.build.bad_inputs.cases import ONSPD

    pc = pd.read_csv(demo_build.raw / ONSPD, dtype=str)["pcds"]
    files = {
        "VENUES_UNKNOWN_POSTCODE": [{"site_id": "V1", "name": "a", "type": "library",
                                     "postcode": pc.iloc[0]},
                                    {"site_id": "V2", "name": "b", "type": "library",
                                     "postcode": "ZZ9 9ZZ"}],
        "VENUES_FAR": [{"site_id": "FAR", "name": "far", "type": "library", "lat": 51.5,
                        "lon": -0.12}],
        "VENUES_MANY": [{"site_id": f"E{i}", "name": "x", "type": "library",
                         "postcode": pc.iloc[i]} for i in range(3)],
    }
    for key in ("candidates", "existing"):
        if kw.get(key) in files:
            kw[key] = _venues(tmp_path / f"{kw[key]}.csv", files[kw[key]])
    before = sorted(p.name for p in (demo_build.marts / "hubs").glob("*")) if (
        demo_build.marts / "hubs").exists() else []
    args = {"area": DEMO_ICB, "k": 3, "radius_km": 2, "name": "bad", **kw}
    with pytest.raises(HubsError, match=expect) as exc:
        _hubs(demo_build, **args)
    assert "\n" not in str(exc.value)
    after = sorted(p.name for p in (demo_build.marts / "hubs").glob("*")) if (
        demo_build.marts / "hubs").exists() else []
    assert after == before


@pytest.mark.real
def test_a_real_icb_covers_what_spopt_covers(real_build):
    """NHS Cheshire and Merseyside, every LSOA a candidate, k = 10, 2 km: the acceptance run;
    spopt's MCLP on the same instance covers the same demand."""
    import pulp
    from spopt.locate import MCLP

    from pipeline.method.siting import reach_within
    from pipeline.outputs.hubs import HubsRequest, plan

    with dedi_env(real_build):
        result = plan(HubsRequest(area="icb24:E54000008", k=10, radius_km=2))
    curve = result["hub_curve"]
    assert curve["proven_optimal"].all() and len(result["hub_sites"]) == 10
    gdf = result["areas"]
    xy = gdf[["x", "y"]].to_numpy()
    reach = reach_within(xy, xy, 2000.0)
    cost = np.where(reach.toarray() > 0, 1.0, 3000.0)
    model = MCLP.from_cost_matrix(cost, gdf["demand"].to_numpy(), service_radius=2000.0,
                                  p_facilities=10)
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    covered = np.zeros(len(gdf), dtype=bool)
    for clients in model.fac2cli:
        covered[list(clients)] = True
    assert curve["covered_demand"].iloc[-1] == pytest.approx(
        float(gdf["demand"].to_numpy()[covered].sum()), abs=0.5)
    print(json.dumps({"covered_share": float(curve["covered_share"].iloc[-1])}))


def test_the_distance_objective_sites_hubs_nearest_the_demand(demo_build, browser):
    """--objective distance (the p-median) on the demo ICB: a mean distance no coverage
    solution beats, published beside the coverage columns, and said in the report."""
    cover = _hubs(demo_build, area=DEMO_ICB, k=4, radius_km=2, name="cover")
    near = _hubs(demo_build, area=DEMO_ICB, k=4, radius_km=2, objective="distance",
                 name="near")
    a, b = (pd.read_parquet(f / "hub_curve.parquet") for f in (cover, near))
    assert b["proven_optimal"].all() and b["k"].tolist() == [1, 2, 3, 4]
    assert (b["mean_distance_m"] <= a["mean_distance_m"] + 1e-6).all()
    assert (b["mean_distance_m"].diff().dropna() <= 1e-6).all()  # more hubs, never farther
    assert (a["covered_demand"] >= b["covered_demand"]).all()
    cov = pd.read_parquet(near / "hub_coverage.parquet")
    w = cov["demand"]
    assert (w * cov["distance_m"]).sum() / w.sum() == pytest.approx(b["mean_distance_m"].iloc[-1],
                                                                    rel=1e-3)
    page = near / "report.html"
    with visit(browser, page, width=1200) as v:
        screenshot(v, "hubs_distance_demo")
        assert "mean distance to the nearest hub" in v.page.locator("#headline").inner_text()
        assert "p-median" in v.page.content()


def test_the_dagster_job_sites_hubs_from_run_config(demo_build):
    from pipeline.definitions import build_definitions

    with dedi_env(demo_build):
        job = build_definitions().resolve_job_def("dedi_hubs")
        res = job.execute_in_process(run_config={"ops": {"site_hubs": {"config": {
            "area": DEMO_ICB, "k": 2, "radius_km": 2.0, "name": "from-dagster"}}}})
    assert res.success
    folder = demo_build.marts / "hubs" / "from-dagster"
    assert res.output_for_node("site_hubs") == str(folder)
    assert len(pd.read_parquet(folder / "hub_sites.parquet")) == 2


def _matrix(demo_build, tmp_path, drop_origin=False, drop_site=False) -> str:
    """Minutes at 15 km/h between every demo LSOA point (as the user's routing tool would
    give them): 8 minutes = 2 km."""
    from scipy.spatial import distance_matrix

    from pipeline.outputs.hubs import HubsRequest, plan

    with dedi_env(demo_build):
        gdf = plan(HubsRequest(area=DEMO_ICB, k=1, radius_km=2))["areas"]
    xy, codes = gdf[["x", "y"]].to_numpy(), gdf["lsoa21_code"].to_numpy()
    minutes = distance_matrix(xy, xy) / 250.0
    o, s = np.meshgrid(np.arange(len(codes)), np.arange(len(codes)), indexing="ij")
    df = pd.DataFrame({"origin_lsoa21": codes[o.ravel()], "site_id": codes[s.ravel()],
                       "minutes": minutes.ravel().round(3)})
    if drop_origin:
        df = df[df["origin_lsoa21"] != codes[5]]
    if drop_site:
        df = df[df["site_id"] != codes[7]]
    f = tmp_path / "minutes.csv"
    df.to_csv(f, index=False)
    return str(f)


def test_a_travel_time_matrix_replaces_the_radius(demo_build, tmp_path):
    by_km = _hubs(demo_build, area=DEMO_ICB, k=3, radius_km=2, name="km")
    by_min = _hubs(demo_build, area=DEMO_ICB, k=3, travel_times=_matrix(demo_build, tmp_path),
                   max_minutes=8.0, name="minutes")
    a = pd.read_parquet(by_km / "hub_curve.parquet")["covered_demand"]
    b = pd.read_parquet(by_min / "hub_curve.parquet")["covered_demand"]
    assert b.tolist() == pytest.approx(a.tolist(), abs=1)  # 8 min at 15 km/h = 2 km
    cover = pd.read_parquet(by_min / "hub_coverage.parquet")
    assert cover.loc[cover["covered"], "minutes"].max() <= 8.0
    assert "travel time up to 8 minutes" in (by_min / "report.html").read_text()


@pytest.mark.parametrize(("drop", "expect"), [
    ({"drop_origin": True}, r"1 LSOA\(s\) of the area have no row"),
    ({"drop_site": True}, r"1 candidate site\(s\) have no row")])
def test_a_matrix_that_misses_lsoas_or_sites_is_refused(demo_build, tmp_path, drop, expect):
    f = _matrix(demo_build, tmp_path, **drop)
    with pytest.raises(HubsError, match=expect):
        _hubs(demo_build, area=DEMO_ICB, k=3, travel_times=f, max_minutes=8.0, name="bad")


def test_the_explorer_shows_a_siting_on_its_map(demo_build, browser):
    from pipeline.outputs.explorer.page import write_explorer

    _hubs(demo_build, area=DEMO_ICB, k=3, radius_km=2, name="overlay")
    with dedi_env(demo_build):
        path = write_explorer(hubs="overlay", out=demo_build.marts / "explorer" / "hubs.html")
        with pytest.raises(LookupError, match="no hub siting named 'nope'"):
            write_explorer(hubs="nope")
    with visit(browser, path, "area=icb24:E54009901") as v:
        v.page.wait_for_function("window.DEDI_STATE && window.DEDI_STATE.ready")
        assert v.errors == []
        assert 'siting "overlay"' in v.page.locator("#hubs-note").inner_text()
        png = screenshot(v, "explorer_hubs_overlay")
    assert non_blank(png) > 0.2


def test_gp_practices_as_candidates_need_the_postcode_directory(demo_build, real_build):
    # the demo's epraccur has no postcodes; the real shared data has no ONSPD: one line each
    with pytest.raises(HubsError, match=r"epraccur_synthshire\.parquet: none of the 22 open GP "
                       r"practices has a postcode"):
        _hubs(demo_build, area=DEMO_ICB, k=3, radius_km=2, candidates="gp", name="gp")
    with pytest.raises(HubsError, match=r"holds no ONS Postcode Directory"):
        _hubs(real_build, area="icb24:E54000008", k=3, radius_km=2, candidates="gp")
