"""IMD 2019 and 2025 on one geography (lsoa_index_history) and its area summaries."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from pipeline.sources import geography
from tests.conftest import SHARED


def _con(dirs):
    return duckdb.connect(str(dirs.marts / "current" / "dedi.duckdb"), read_only=True)


@pytest.mark.real
def test_history_has_both_vintages_and_accounts_for_every_lsoa(real_build):
    with _con(real_build) as con:
        h = con.execute("SELECT * FROM lsoa_index_history").df()
        areas = con.execute("SELECT * FROM area_summary_history").df()
        notes = con.execute("SELECT * FROM iod_method_changes").df()
    assert len(h) == 2 * 33_755 and h.groupby("vintage").size().tolist() == [33_755, 33_755]
    # U/S/M/X against the ONS lookup (a 2021 LSOA takes its most complex code)
    lk = geography.read_lsoa11_lsoa21(geography.locate(SHARED, "lsoa11_lsoa21"))
    order = {"U": 0, "S": 1, "M": 2, "X": 3}
    expected = (lk.groupby("lsoa21_code")["change_code"]
                .agg(lambda s: max(s, key=order.get)).value_counts().to_dict())
    got = h[h["vintage"] == 2025]["change_code"].value_counts().to_dict()
    assert got == expected, (got, expected)
    assert sum(got.values()) == 33_755
    # every LSOA 2011 of the IoD 2019 is in the lookup, so every 2019 rank lands somewhere
    from pipeline.sources import iod

    f2019 = iod.read_iod2019(iod.locate_2019(SHARED))
    assert len(f2019) == 32_844 and set(f2019["lsoa11_code"]) <= set(lk["lsoa11_code"])
    v19 = h[h["vintage"] == 2019]
    assert v19["imd_rank"].notna().all() and v19["imd_rank"].between(1, 32_844).all()
    # complex changes are not comparable; the rest are
    assert not h.loc[h["change_code"] == "X", "comparable"].any()
    assert h.loc[h["change_code"] != "X", "comparable"].all()
    # domains the IoD 2025 changed materially are never comparable
    bad = set(notes.loc[~notes["comparable"], "domain"])
    assert bad == {"income", "crime", "barriers", "living_environment"}
    for d in bad:
        assert not h[f"{d}_comparable"].any()
    assert h.loc[h["comparable"], "health_comparable"].all()
    # percentile changes: on 2025 rows only, and they match the two percentiles
    v25 = h[h["vintage"] == 2025].set_index("lsoa21_code")
    assert v19["imd_percentile_change"].isna().all()
    diff = v25["imd_percentile"] - v19.set_index("lsoa21_code")["imd_percentile"]
    assert (v25["imd_percentile_change"] - diff).abs().max() < 1e-9
    # an unchanged LSOA keeps its published 2019 rank
    u = v19[v19["change_code"] == "U"].merge(f2019, left_on="lsoa21_code",
                                             right_on="lsoa11_code")
    assert (u["imd_rank"] == u["imd2019_rank"]).all()
    # area summaries for both vintages: 6,784 wards, 296 LTLAs, 42 ICBs, 9 regions each
    counts = areas.groupby(["vintage", "geography"]).size().unstack()
    assert counts.loc[2019].to_dict() == counts.loc[2025].to_dict() == {
        "ward24": 6784, "icb24": 42, "ltla24": 296, "region": 9}
    assert areas.loc[areas["vintage"] == 2025, "average_rank_rank_change"].notna().all()
    # Blackpool is the most deprived LTLA on average rank in both releases (as published for
    # the IoD 2019), and the 2025 rows equal the current area_summary of the IMD
    top = areas[(areas["geography"] == "ltla24") & (areas["average_rank_rank"] == 1)]
    assert top.set_index("vintage")["area_name"].to_dict() == {2019: "Blackpool",
                                                               2025: "Blackpool"}
    with _con(real_build) as con:
        cur = con.execute("SELECT geography, area_code, average_rank_rank FROM area_summary "
                          "WHERE index = 'imd'").df()
    both = cur.merge(areas[areas["vintage"] == 2025], on=["geography", "area_code"],
                     suffixes=("", "_h"))
    assert len(both) == len(cur) and (both["average_rank_rank"] == both["average_rank_rank_h"]
                                      ).all()


def test_demo_history_without_iod2019_is_not_comparable(demo_build):
    with _con(demo_build) as con:
        h = con.execute("SELECT vintage, change_code, comparable, imd_rank FROM "
                        "lsoa_index_history").df()
    assert len(h) == 640
    assert (h["change_code"] == "no 2019 value").all() and not h["comparable"].any()
    assert h.loc[h["vintage"] == 2019, "imd_rank"].isna().all()
    assert pd.notna(h.loc[h["vintage"] == 2025, "imd_rank"]).all()
