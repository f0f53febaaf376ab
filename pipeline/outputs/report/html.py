"""The HTML pieces both reports are made of: escaped text, inlined PNGs, tables, templates."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np
import pandas as pd

escape = html.escape


def image(data: bytes, alt: str) -> str:
    """A PNG inlined as a data URI (the reports make no external request)."""
    return (f'<img alt="{escape(alt)}" src="data:image/png;base64,'
            f'{base64.b64encode(data).decode()}">')


def html_table(df: pd.DataFrame, cls: str = "") -> str:
    """``df`` as an HTML table; numbers and the headings over them right-aligned (class
    ``num``), so that a number sits under its own heading."""
    numeric = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
               for c in df.columns]
    head = "".join(f'<th class="{"num" if k else ""}">{escape(str(c))}</th>'
                   for c, k in zip(df.columns, numeric, strict=True))
    body = "".join("<tr>" + "".join(
        f'<td class="{"num" if isinstance(v, int | float | np.number) else ""}">'
        f"{escape(cell_text(v))}</td>" for v in row) + "</tr>" for row in df.itertuples(index=False))
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def cell_text(v) -> str:
    """A table cell: a dash for missing, one decimal for floats, thousands separators."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "–"
    if isinstance(v, float | np.floating):
        return f"{v + 0.0:,.1f}" if round(v, 1) != 0 else "0.0"  # never "-0.0"
    if isinstance(v, int | np.integer):
        return f"{v:,}"
    return str(v)


def p_value(p: float | None) -> str:
    """A p-value as people read it: "< 0.001" rather than "0.000"."""
    if p is None or not np.isfinite(p):
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def fill(template: Path, parts: dict[str, object]) -> str:
    """``template`` with every ``{{KEY}}`` replaced by ``parts[KEY]`` (already escaped) and
    ``{{STYLE}}`` by the reports' shared stylesheet."""
    parts = {"STYLE": (template.parent / "report.css").read_text(encoding="utf-8"), **parts}
    page = template.read_text(encoding="utf-8")
    for k, v in parts.items():
        page = page.replace("{{" + k + "}}", str(v))
    return page
