"""Schools: DfE Get Information About Schools (GIAS) establishments, official headers.

Used for the pupil-premium proxy: % of pupils eligible for free school meals (FSM) by school,
with pupil numbers, phase and location (British National Grid easting/northing).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.sources.common import FetchSpec, SourceError, find_one, map_headers, read_table, to_number
from pipeline.sources.guards import check_coordinates, check_range, check_unique

TOPIC = "schools"
FILES = ["gias_establishments*.csv", "edubasealldata*.csv"]
HEADER_MAP = {
    "URN": "urn", "EstablishmentName": "name", "LA (code)": "la_code",
    "EstablishmentStatus (name)": "status", "PhaseOfEducation (name)": "phase",
    "TypeOfEstablishment (name)": "type", "NumberOfPupils": "pupils",
    "PercentageFSM": "pct_fsm", "Easting": "easting", "Northing": "northing",
    "LSOA (code)": "lsoa_code",
}
PRIMARY = {"Primary", "Middle deemed primary", "All-through"}
SECONDARY = {"Secondary", "Middle deemed secondary", "All-through"}

FETCH = [
    FetchSpec(source="gias",
              url="https://ea-edubase-api-prod.azurewebsites.net/edubase/downloads/public/"
                  "edubasealldata.csv",
              target=f"{TOPIC}/edubasealldata.csv",
              description="DfE Get Information About Schools, all establishments (daily extract; "
                          "the publisher appends the date to the file name)"),
]


def locate(raw_dir: Path) -> Path:
    """The GIAS establishments file."""
    return find_one(raw_dir, TOPIC, FILES)


def read_gias(path: Path) -> pd.DataFrame:
    """Open schools with a phase, pupils, % FSM and location (others dropped, counted)."""
    df = map_headers(read_table(path), HEADER_MAP,
                     ["urn", "phase", "pupils", "pct_fsm", "easting", "northing"], path)
    for c in ("pupils", "pct_fsm", "easting", "northing"):
        df[c] = to_number(df, c, path, allow_suppressed=True)
    if df["pct_fsm"].gt(100).any() or df["pct_fsm"].lt(0).any():
        rows = [int(i) + 2 for i in df.index[(df["pct_fsm"] > 100) | (df["pct_fsm"] < 0)][:5]]
        raise SourceError(path, f"column 'PercentageFSM': outside 0..100 at file row(s) {rows}")
    if "status" in df:
        df = df[df["status"].fillna("Open").str.startswith("Open")]
    check_unique(df.rename(columns={"urn": "URN"}), ["URN"], path)  # one row per school
    check_range(df, "pupils", path, 0, 5_000, integral=True, label="NumberOfPupils")
    check_coordinates(df, "easting", "northing", path, "EPSG:27700",
                      labels=("Easting", "Northing"))  # open schools: the ones used
    return df.reset_index(drop=True)
