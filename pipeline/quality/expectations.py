"""Great Expectations 1.x: run the JSON suites in ``expectations/`` against data frames."""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.config import PROJECT_ROOT

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
EXPECTATIONS_DIR = Path(os.environ.get("DEDI_EXPECTATIONS_DIR", PROJECT_ROOT / "expectations"))


@dataclass
class SuiteResult:
    """Outcome of one suite: overall success and one line per failed expectation."""

    suite: str
    success: bool
    evaluated: int
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        head = f"GX suite '{self.suite}': {self.evaluated - len(self.failures)}/{self.evaluated} passed"
        return head if self.success else head + "\n  - " + "\n  - ".join(self.failures)


def load_suite_json(name: str) -> dict[str, Any]:
    """The suite's JSON as stored in ``expectations/<name>.json``."""
    return json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text(encoding="utf-8"))


def import_gx():
    """``great_expectations``, imported (about 3 s).

    GX imports altair, which imports jsonschema, which builds a Lark grammar for the "iri"
    string format at import time (~0.9 s) whenever the optional ``rfc3987-syntax`` is
    installed (JupyterLab, a dev dependency, brings it). DEDI never validates that format, and
    a plain ``pip install dedi`` does not have the package, so this process does without it:
    jsonschema then simply leaves the "iri" format unchecked."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    import great_expectations

    return great_expectations


@lru_cache(maxsize=1)
def _batch_definition():
    gx = import_gx()

    for noisy in ("great_expectations", "great_expectations.core", "tzlocal"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = {"globally": False}
    asset = ctx.data_sources.add_pandas("dedi").add_dataframe_asset("frame")
    return asset.add_batch_definition_whole_dataframe("whole")


def _describe(res) -> str:
    cfg = res.expectation_config
    kw = {k: v for k, v in cfg.kwargs.items() if k != "batch_id"}
    r = res.result or {}
    seen = r.get("observed_value")
    bad = r.get("partial_unexpected_list")
    detail = f"observed {seen}" if seen is not None else f"{r.get('unexpected_count')} unexpected"
    if bad:
        detail += f", e.g. {bad[:5]}"
    if res.exception_info and res.exception_info.get("raised_exception"):
        detail = res.exception_info.get("exception_message")
    return f"{cfg.type}({kw}): {detail}"


def validate(name: str, df: pd.DataFrame, parameters: dict[str, Any] | None = None) -> SuiteResult:
    """Validate ``df`` against suite ``name`` with runtime ``$PARAMETER`` values."""
    gx = import_gx()

    suite = gx.ExpectationSuite(**load_suite_json(name))
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": df})
    # pass/fail alone first (2-3x faster: no unexpected-value lists); a failed suite runs again
    # with GX's default SUMMARY results, which name the unexpected values
    res = batch.validate(suite, expectation_parameters=parameters or {},
                         result_format="BOOLEAN_ONLY")
    if not res.success:
        res = batch.validate(suite, expectation_parameters=parameters or {})
    failures = [_describe(r) for r in res.results if not r.success]
    return SuiteResult(name, bool(res.success), len(res.results), failures)


def warm_up() -> None:
    """Import GX and make its context (a build does this in its side process, at once).

    GX opens a tqdm progress bar (disabled) per validation, and tqdm's default lock is a
    multiprocessing one, which the resource tracker reports as leaked when the build stops
    its side process. A thread lock does here: the side process validates one suite at a time.
    """
    import threading

    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())
    import_gx()
    _batch_definition()


def validate_arrow(name: str, table, parameters: dict[str, Any]) -> SuiteResult:
    """:func:`validate` of a DuckDB query's Arrow table."""
    import duckdb

    return validate(name, duckdb.from_arrow(table).df(), parameters)
