"""External validation references: any LSOA-level file a user supplies (CSV or parquet), on
LSOA 2011 or 2021 codes. 2011 codes are harmonised with the ONS LSOA 2011 -> 2021 lookup."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.method.harmonise import harmonise_lsoa11_to_lsoa21
from pipeline.sources.common import SourceError, read_table, to_number

CODE_COLUMNS = ("lsoa21_code", "lsoa21cd", "lsoa11_code", "lsoa11cd", "lsoa_code", "lsoa",
                "lsoa code", "lsoa code (2021)", "lsoa code (2011)", "geography code")


@dataclass
class Reference:
    """A user's reference measure: where it is and how to read it."""

    file: str
    column: str
    name: str = ""
    code_column: str | None = None
    group_column: str | None = None
    group_values: list[str] = field(default_factory=list)
    direction: int = 1  # -1 when a higher reference value means LESS excluded

    def __post_init__(self) -> None:
        self.name = self.name or f"{Path(self.file).stem}:{self.column}"


def _code_column(df: pd.DataFrame, ref: Reference, path: Path) -> str:
    if ref.code_column:
        if ref.code_column not in df:
            raise SourceError(path, f"missing LSOA code column '{ref.code_column}'")
        return ref.code_column
    by_name = {str(c).strip().lower(): c for c in df.columns}
    for c in CODE_COLUMNS:
        if c in by_name:
            return by_name[c]
    raise SourceError(path, f"no LSOA code column found (looked for {list(CODE_COLUMNS)}); name it "
                      "with --code-column")


def read_reference(ref: Reference, lsoa21_codes: set[str],
                   lookup: pd.DataFrame | None) -> tuple[pd.DataFrame, str]:
    """The reference per LSOA 2021 (columns ``reference``, ``group``) and the geography it came
    on (``LSOA 2021`` or ``LSOA 2011 (harmonised)``). Errors name the file, column and rows."""
    path = Path(ref.file)
    df = read_table(path)
    code = _code_column(df, ref, path)
    if ref.column not in df:
        raise SourceError(path, f"missing reference column '{ref.column}' (columns: "
                          f"{list(df.columns)[:12]})")
    out = pd.DataFrame({"code": df[code].astype(str).str.strip(),
                        "reference": ref.direction * to_number(df, ref.column, path,
                                                               allow_suppressed=True)})
    if ref.group_column:
        if ref.group_column not in df:
            raise SourceError(path, f"missing group column '{ref.group_column}'")
        out["group"] = df[ref.group_column].astype(str).str.strip().isin(
            [str(v) for v in ref.group_values]).astype(float)
    dup = out["code"].duplicated(keep=False)
    if dup.any():
        rows = [int(i) + 2 for i in out.index[dup][:5]]
        raise SourceError(path, f"column '{code}': duplicated LSOA code(s) at file row(s) {rows}")
    in21 = out["code"].isin(lsoa21_codes).mean()
    in11 = out["code"].isin(set(lookup["lsoa11_code"])).mean() if lookup is not None else 0.0
    if max(in21, in11) < 0.5:
        raise SourceError(path, f"column '{code}': fewer than half the codes are England LSOA "
                          f"2021 ({in21:.0%}) or LSOA 2011 ({in11:.0%}) codes"
                          + ("" if lookup is not None else "; LSOA 2011 codes need the ONS "
                             "lookup in geography/ (dedi fetch ons_lookup_lsoa11_lsoa21_ltla22)"))
    values = [c for c in ("reference", "group") if c in out]
    if in21 >= in11:
        res = out.rename(columns={"code": "lsoa21_code"})
        geography = "LSOA 2021"
    else:
        res, _ = harmonise_lsoa11_to_lsoa21(out.rename(columns={"code": "lsoa11_code"}), lookup,
                                           values)
        geography = "LSOA 2011 (harmonised to 2021 with the ONS lookup)"
    res = res[res["lsoa21_code"].isin(lsoa21_codes)].set_index("lsoa21_code")
    if "group" in res:
        res["group"] = res["group"] >= 0.5  # a harmonised share of group members
    return res[values], geography
