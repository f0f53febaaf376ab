"""Publication: releases switch atomically, survive kills, and one build runs at a time."""

import json
import os
import signal
import subprocess
import sys
import time

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.build.run import BuildLocked, build_lock
from pipeline.release.publish import publish
from tests.conftest import ROOT, dedi_env


def _tables(run: int) -> dict[str, pd.DataFrame]:
    return {"lsoa_index": pd.DataFrame({"lsoa21_code": [f"E01{i:06d}" for i in range(2000)],
                                        "run": run}),
            "area_summary": pd.DataFrame({"area_code": ["E06000001"], "run": run})}


def _consistent(marts) -> str:
    """All published files belong to the same run; returns that run id. Resolves `current`
    once, as the README tells readers to."""
    marts = (marts / "current").resolve()
    run = json.loads((marts / "manifest.json").read_text())["run_id"]
    for t in ("lsoa_index", "area_summary"):
        assert json.loads(pq.read_schema(marts / f"{t}.parquet").metadata[b"dedi"])["run_id"] == run
        assert pd.read_parquet(marts / f"{t}.parquet")["run"].astype(str).unique().tolist() == [run]
    with duckdb.connect(str(marts / "dedi.duckdb"), read_only=True) as con:
        meta = dict(con.execute("SELECT key, value FROM build_metadata").fetchall())
        assert json.loads(meta["run_id"]) == run
        assert con.execute("SELECT DISTINCT run FROM lsoa_index").fetchall() == [(int(run),)]
    return run


def test_publish_switches_release_and_prunes(tmp_path):
    for run in range(1, 5):
        publish(tmp_path, _tables(run), {"run_id": str(run)}, keep=2)
        assert _consistent(tmp_path) == str(run)
    assert len([p for p in (tmp_path / "releases").iterdir()]) == 2
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "current", "releases"]


def test_failed_publish_keeps_current(tmp_path):
    publish(tmp_path, _tables(1), {"run_id": "1"})
    bad = {"lsoa_index": pd.DataFrame({"x": [object()]})}  # cannot be written
    with pytest.raises(Exception):  # noqa: B017 - whatever the writer raises
        publish(tmp_path, bad, {"run_id": "2"})
    assert _consistent(tmp_path) == "1"
    assert not list((tmp_path / "releases").glob(".incomplete-*"))


def test_extra_files_made_during_publication_are_waited_for_and_their_failure_keeps_current(
        tmp_path):
    """England maps are drawn while publication writes the tables (pipeline/defs/marts.py):
    publish() takes them as a function, called once the tables are written."""
    chart = tmp_path / "chart.png"

    def drawn() -> dict:
        assert (next((tmp_path / "m" / "releases").glob(".incomplete-*")) / "dedi.duckdb").exists()
        chart.write_bytes(b"png")
        return {"maps/chart.png": chart}

    publish(tmp_path / "m", _tables(1), {"run_id": "1"}, extra=drawn)
    assert (tmp_path / "m" / "current" / "maps" / "chart.png").read_bytes() == b"png"

    def failed() -> dict:
        raise RuntimeError("the maps could not be drawn")

    with pytest.raises(RuntimeError, match="could not be drawn"):
        publish(tmp_path / "m", _tables(2), {"run_id": "2"}, extra=failed)
    assert _consistent(tmp_path / "m") == "1"
    assert not list((tmp_path / "m" / "releases").glob(".incomplete-*"))


CHILD = """
import sys, pandas as pd
from pathlib import Path
from pipeline.release.publish import publish
sys.path.insert(0, {root!r})
from tests.unit.release.test_publish import _tables
run = 100
while True:
    run += 1
    publish(Path({marts!r}), _tables(run), {{"run_id": str(run)}}, keep=3)
    print(run, flush=True)
"""


def test_killed_publisher_never_leaves_a_mixed_or_partial_release(tmp_path):
    publish(tmp_path, _tables(1), {"run_id": "1"})
    code = CHILD.format(root=str(ROOT), marts=str(tmp_path))
    seen = set()
    for delay in (0.9, 1.3, 1.7, 2.1, 2.6):  # bounded: five kills at varied points
        p = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        seen.add(_consistent(tmp_path))
    assert len(seen) >= 2, "the publisher never completed a release; the test proved nothing"


def test_second_build_on_same_staging_is_refused(tmp_path):
    with build_lock(tmp_path):
        with pytest.raises(BuildLocked, match=f"pid {os.getpid()}.*{tmp_path}"):
            with build_lock(tmp_path):
                pass
    with build_lock(tmp_path):  # released afterwards
        pass


def test_cli_build_reports_lock(tmp_path, capsys):
    from pipeline.cli import main as cli
    from tests.conftest import BuildDirs

    dirs = BuildDirs(tmp_path / "raw", tmp_path / "staging", tmp_path / "marts")
    (dirs.raw / "iod").mkdir(parents=True)
    (dirs.raw / "iod" / "placeholder.csv").write_text("x")
    with dedi_env(dirs), build_lock(dirs.staging):
        assert cli.main(["build", "--quiet"]) == 3
    assert "another dedi build" in capsys.readouterr().err
