"""Words for people: the DX indicators' labels, and the inputs a build lacks, with the reason
(the explorer and the reports say "NHS App uptake: no file supplied", not a column name)."""

from __future__ import annotations

from typing import Any

import duckdb

LABELS = {
    "connectivity": "Connectivity (slow/no broadband)",
    "age_75plus": "Aged 75+",
    "disability": "Disabled (Equality Act)",
    "adult_skills_english": "Adult skills / English",
    "older_income_deprived": "Older people income deprived",
    "income_deprived": "Income deprived",
    "employment_deprived": "Employment deprived",
    "households_deprived": "Households deprived in 2+ dimensions",
    "english_proficiency": "Cannot speak English well",
    "social_renting": "Social renting households",
    "overcrowding": "Overcrowded households",
    "school_fsm": "School free school meals",
    "illness_disability": "Illness and disability ratio",
    "nhs_app_non_uptake": "NHS App non-uptake",
    "assisted_bin_collection": "Assisted bin collection (local)",
    "pupil_premium": "Pupil premium (local)",
    "english_second_language": "English as a second language (local)",
    "housing_condition": "Housing condition (local)",
}
# the input behind an indicator, as people name it (where that differs from the label)
INPUTS = {
    "nhs_app_non_uptake": "NHS App uptake",
    "assisted_bin_collection": "assisted bin collection",
    "pupil_premium": "pupil premium",
    "english_second_language": "English as a second language",
    "housing_condition": "housing conditions",
}
REASONS = {"no file supplied": "no file was supplied",
           "no local files": "no local authority has supplied a file"}


def absent_inputs(conn: duckdb.DuckDBPyConnection, spec: dict[str, Any]) -> list[str]:
    """The inputs this release lacks, in words with the reason ("NHS App uptake: no file was
    supplied"), from its ``coverage`` table."""
    by_column = {v["column"]: k for k, v in spec.get("dx", {}).get("indicators", {}).items()}
    rows = conn.execute("SELECT indicator, source FROM coverage WHERE NOT supplied "
                        "ORDER BY indicator").fetchall()
    out = []
    for column, source in rows:
        name = by_column.get(column, column)
        what = INPUTS.get(name) or LABELS.get(name, column.replace("_", " "))
        out.append(f"{what[0].upper()}{what[1:]}: {REASONS.get(source, source)}")
    return out
