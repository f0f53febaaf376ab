"""The pandas baseline (bench/baseline_pandas.py) and DEDI agree on real England: same IMD
reproduction, DX, DEDI and LTLA / ICB area summaries (the baseline shares no code with DEDI)."""

import duckdb
import numpy as np
import pandas as pd
import pytest

from bench import baseline_pandas
from tests.conftest import SHARED

pytestmark = pytest.mark.real

MEASURES = ["population", "lsoa_count", "average_score", "average_rank", "extent",
            "local_concentration", "proportion_most_deprived_10pct"]


@pytest.fixture(scope="module")
def both(real_build):
    res = baseline_pandas.run(SHARED)
    con = duckdb.connect(str(real_build.marts / "current" / "dedi.duckdb"), read_only=True)
    lsoa = con.execute("SELECT * FROM lsoa_index ORDER BY lsoa21_code").df()
    areas = con.execute("SELECT * FROM area_summary WHERE geography IN ('ward24', 'ltla24', "
                        "'icb24')").df()
    con.close()
    return res, lsoa, areas


def test_baseline_reproduces_the_published_imd(both):
    res, _, _ = both
    assert len(res["lsoa"]) == 33755
    assert res["imd_max_abs_diff"] < 1e-3


def test_baseline_lsoa_results_equal_dedi(both):
    res, lsoa, _ = both
    bl = res["lsoa"]
    assert bl["lsoa21_code"].tolist() == lsoa["lsoa21_code"].tolist()
    for col in ("imd_rank", "dx_rank", "dx_decile", "dedi_rank", "dedi_decile"):
        assert (bl[col].to_numpy(int) == lsoa[col].to_numpy(int)).all(), col
    for col in ("imd_score", "dx_score", "dedi_score"):
        np.testing.assert_allclose(bl[col], lsoa[col], rtol=0, atol=1e-9, err_msg=col)
    # DEDI moves LSOAs: the comparison is not of two copies of the IMD
    assert (lsoa["dedi_rank"] != lsoa["imd_rank"]).mean() > 0.5


def test_baseline_area_summaries_equal_dedi(both):
    res, _, areas = both
    bl = res["area_summary"]
    assert len(bl) == len(areas) == 3 * (areas.query("index == 'imd'").shape[0])
    m = areas.merge(bl, on=["geography", "area_code", "index"], suffixes=("", "_baseline"),
                    how="outer", indicator=True)
    assert (m["_merge"] == "both").all()
    for col in MEASURES:
        np.testing.assert_allclose(m[col].astype(float), m[f"{col}_baseline"].astype(float),
                                   rtol=0, atol=1e-9, err_msg=col)
        if col not in ("population", "lsoa_count"):
            assert (m[f"{col}_rank"] == m[f"{col}_rank_baseline"]).all(), col
    assert set(pd.unique(m["index"])) == {"imd", "dx", "dedi"}
