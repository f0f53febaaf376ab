"""LSOA 2011 -> 2021 harmonisation: hand-computed cases and every change type on real codes."""

import pandas as pd
import pytest

from pipeline.method.harmonise import harmonise_lsoa11_to_lsoa21
from tests.conftest import SHARED, requires_shared

LOOKUP = pd.DataFrame({
    "lsoa11_code": ["A11", "B11", "C11", "C11", "D11", "E11", "F11", "G11"],
    "lsoa21_code": ["A21", "B21", "C21a", "C21b", "DE21", "DE21", "X21", "X21"],
    "change_code": ["U", "U", "S", "S", "M", "M", "X", "X"],
})


def test_each_change_type_hand_computed():
    values = pd.DataFrame({"lsoa11_code": ["A11", "C11", "D11", "E11", "F11", "G11", "Z11"],
                           "v": [1.0, 5.0, 2.0, 4.0, 10.0, 20.0, 99.0]})
    out, rep = harmonise_lsoa11_to_lsoa21(values, LOOKUP, ["v"])
    got = out.set_index("lsoa21_code")["v"].to_dict()
    assert got["A21"] == 1.0                      # U: carried over
    assert got["C21a"] == got["C21b"] == 5.0      # S: copied to each part
    assert got["DE21"] == 3.0                     # M: mean of the parts
    assert got["X21"] == 15.0                     # X: mean of the best-fit rows
    assert pd.isna(got["B21"])                    # no value: kept, reported
    assert rep.lsoa21_without_value == ["B21"]
    assert rep.lsoa11_not_in_lookup == ["Z11"]    # nothing silently dropped
    assert rep.complex_lsoa21 == ["X21"]
    assert rep.lsoa21_by_change == {"M": 1, "S": 2, "U": 2, "X": 1}


def test_merge_weighted_by_population():
    values = pd.DataFrame({"lsoa11_code": ["D11", "E11"], "v": [2.0, 4.0]})
    w = pd.Series({"D11": 3000.0, "E11": 1000.0})
    out, rep = harmonise_lsoa11_to_lsoa21(values, LOOKUP, ["v"], weights=w)
    assert out.set_index("lsoa21_code").loc["DE21", "v"] == pytest.approx(2.5)
    assert "weighted" in rep.weighting


@requires_shared
def test_real_codes_every_change_type():
    from pipeline.sources.connectivity import read_deri_broadband
    from pipeline.sources.geography import read_lsoa11_lsoa21

    lookup = read_lsoa11_lsoa21(SHARED / "geography" / "lookup_lsoa11_lsoa21_ltla22.parquet")
    deri = read_deri_broadband(SHARED / "connectivity" /
                               "deri_v1_6_broadband_component_lsoa11.parquet")
    v = deri.set_index("lsoa11_code")["broadband_component"]
    out, rep = harmonise_lsoa11_to_lsoa21(deri, lookup, ["broadband_component"])
    h = out.set_index("lsoa21_code")
    assert len(out) == 33755 and not rep.lsoa21_without_value and not rep.lsoa11_not_in_lookup
    # U: Hartlepool 009A unchanged.
    assert h.loc["E01011949", "broadband_component"] == v["E01011949"]
    # S, M, X picked from the lookup itself.
    s = lookup[lookup["change_code"] == "S"].iloc[0]
    assert h.loc[s["lsoa21_code"], "broadband_component"] == v[s["lsoa11_code"]]
    m21 = lookup[lookup["change_code"] == "M"]["lsoa21_code"].iloc[0]
    parts = lookup.loc[lookup["lsoa21_code"] == m21, "lsoa11_code"]
    assert h.loc[m21, "broadband_component"] == pytest.approx(v[parts].mean())
    # X: Northumberland 043F is formed from Gateshead 024C and Northumberland 039D.
    assert h.loc["E01035637", "change_code"] == "X"
    assert h.loc["E01035637", "broadband_component"] == pytest.approx(
        (v["E01008187"] + v["E01027506"]) / 2)
    assert len(rep.complex_lsoa21) == 6


def test_fallback_is_put_on_the_primary_scale_by_quantile():
    from pipeline.method.harmonise import fill_on_primary_scale

    idx = [f"L{i}" for i in range(6)]
    primary = pd.Series([10.0, 20.0, 30.0, 40.0, None, None], index=idx)   # e.g. % premises
    fallback = pd.Series([0.1, 0.2, 0.3, 0.4, 0.05, 0.45], index=idx)      # another scale
    out = fill_on_primary_scale(primary, fallback)
    assert out[:4].tolist() == [10.0, 20.0, 30.0, 40.0]           # primary values kept
    # L4 is the lowest fallback value (percentile 1/6) and L5 the highest (6/6)
    assert out["L4"] == pytest.approx(primary.dropna().quantile(1 / 6))
    assert out["L5"] == pytest.approx(40.0)
    assert out["L4"] < out["L5"]                                  # order follows the fallback
    assert out.between(10.0, 40.0).all()                          # within the primary's range
