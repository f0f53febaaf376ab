"""Consistent versions for every reader: one entry point (`current/`), a marts-level lock, a
stale staging reader that cannot stall a build, and rollback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import duckdb
import pandas as pd
import pytest

from pipeline.release.publish import PublishLocked, current_release, marts_lock, publish, rollback
from tests.conftest import ROOT, BuildDirs, dedi_env

READER = r"""
import json, sys, time
from pathlib import Path
import duckdb, pyarrow.parquet as pq
marts, until = Path(sys.argv[1]), time.time() + float(sys.argv[2])
reads = mixed = 0
while time.time() < until:
    release = (marts / "current").resolve()          # the documented entry point, once
    with duckdb.connect(str(release / "dedi.duckdb"), read_only=True) as con:
        a = json.loads(dict(con.execute("SELECT key, value FROM build_metadata").fetchall())["run_id"])
    b = json.loads(pq.read_schema(release / "lsoa_index.parquet").metadata[b"dedi"])["run_id"]
    c = json.loads((release / "manifest.json").read_text())["run_id"]
    d = pq.read_table(release / "area_summary.parquet").column("run").to_pylist()[0]
    reads += 1
    mixed += len({a, b, c, str(d)}) > 1
print(json.dumps({"reads": reads, "mixed": mixed}))
"""


def _tables(run: int) -> dict[str, pd.DataFrame]:
    return {"lsoa_index": pd.DataFrame({"lsoa21_code": [f"E01{i:06d}" for i in range(5000)],
                                        "run": run}),
            "area_summary": pd.DataFrame({"area_code": ["E06000001"], "run": run})}


def test_readers_never_see_two_releases_across_rebuilds(tmp_path):
    publish(tmp_path, _tables(0), {"run_id": "0"}, keep=2, grace_seconds=600)
    readers = [subprocess.Popen([sys.executable, "-c", READER, str(tmp_path), "12"],
                                stdout=subprocess.PIPE, text=True, cwd=ROOT) for _ in range(2)]
    time.sleep(1.5)  # let the readers start reading
    rebuilds = 0
    while any(r.poll() is None for r in readers):
        rebuilds += 1
        publish(tmp_path, _tables(rebuilds), {"run_id": str(rebuilds)}, keep=2,
                grace_seconds=600)
    results = [json.loads(r.communicate()[0]) for r in readers]
    assert rebuilds >= 10, f"only {rebuilds} rebuilds while the readers ran"
    assert sum(r["reads"] for r in results) >= 100
    assert sum(r["mixed"] for r in results) == 0
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "current", "releases"]
    # superseded releases are kept for the grace period, then pruned
    assert len(list((tmp_path / "releases").iterdir())) == rebuilds + 1
    publish(tmp_path, _tables(999), {"run_id": "999"}, keep=2, grace_seconds=0)
    assert len(list((tmp_path / "releases").iterdir())) == 2


def test_second_publisher_to_the_same_marts_fails_clearly(demo_build, tmp_path, capsys):
    from pipeline.build.run import run_build
    from pipeline.cli import main as cli

    marts = tmp_path / "marts"
    shutil.copytree(demo_build.marts, marts, symlinks=True)
    before = current_release(marts)
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pathlib import Path;"
                               "from pipeline.release.publish import marts_lock\n"
                               "with marts_lock(Path(sys.argv[1])):\n"
                               "    print('held', flush=True); time.sleep(60)", str(marts)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        dirs = BuildDirs(demo_build.raw, tmp_path / "staging", marts)
        with dedi_env(dirs), pytest.raises(PublishLocked, match=f"pid {holder.pid}"):
            run_build(quiet=True)
        assert not dirs.staging.joinpath("staging.duckdb").exists()  # refused before any step
        with dedi_env(dirs):
            assert cli.main(["build", "--quiet"]) == 3
        assert "is building or publishing" in capsys.readouterr().err
        with pytest.raises(PublishLocked):
            publish(marts, _tables(1), {"run_id": "x"})
    finally:
        holder.kill()
        holder.wait()
    assert current_release(marts) == before
    with marts_lock(marts), marts_lock(marts):  # re-entrant within one process
        pass


def test_stale_reader_on_staging_does_not_stall_the_build(demo_build, tmp_path):
    from pipeline.build.resources import StagingDuckDB
    from pipeline.build.run import run_build

    staging = tmp_path / "staging"
    staging.mkdir()
    db = staging / "staging.duckdb"
    duckdb.connect(str(db)).close()
    reader = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time\n"
                               "c = duckdb.connect(sys.argv[1], read_only=True)\n"
                               "print('open', flush=True); time.sleep(120)", str(db)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "open"
        # a Dagster run on the same file fails at once (no retry loop), naming the holder
        with pytest.raises(RuntimeError, match=f"locked by another process \\(pid {reader.pid}\\)"):
            with StagingDuckDB(database=str(db)).get_connection():
                pass
        dirs = BuildDirs(demo_build.raw, staging, tmp_path / "marts")
        with dedi_env(dirs):  # dedi build starts a fresh staging file: the reader keeps the old
            out = run_build(quiet=True)
        assert out.success, out.failures
    finally:
        reader.kill()
        reader.wait()


def test_rollback(tmp_path, capsys):
    from pipeline.cli import main as cli
    from tests.conftest import BuildDirs as D

    for run in (1, 2, 3):
        publish(tmp_path, _tables(run), {"run_id": str(run)}, keep=3)
    names = sorted(p.name for p in (tmp_path / "releases").iterdir())
    assert rollback(tmp_path) == (names[2], names[1])
    assert json.loads((tmp_path / "current" / "manifest.json").read_text())["run_id"] == "2"
    with dedi_env(D(tmp_path / "raw", tmp_path / "st", tmp_path)):
        assert cli.main(["rollback"]) == 0
        assert f"-> {names[0]}" in capsys.readouterr().out
        assert cli.main(["rollback"]) == 2
        assert "oldest release" in capsys.readouterr().err
    publish(tmp_path, _tables(4), {"run_id": "4"}, keep=3)  # building again moves on as usual
    assert json.loads((tmp_path / "current" / "manifest.json").read_text())["run_id"] == "4"
    assert os.readlink(tmp_path / "current").startswith("releases/")


def test_a_changed_view_changes_the_publication_code_version_only(tmp_path):
    """published_marts creates the views of assets/views: its code version covers them, so a
    changed view republishes, while the assets that compute the marts keep theirs."""
    from pipeline.build.versions import PROJECT_ROOT, python_code_version, with_folder
    from pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    version = {k.to_user_string(): graph.get(k).code_version for k in graph.get_all_asset_keys()}
    views = PROJECT_ROOT / "assets" / "views"
    assert version["published_marts"] == with_folder(python_code_version(), views)
    assert version["area_summary"] == version["int_dedi_uncertainty"] == python_code_version()
    folder = tmp_path / "views"
    shutil.copytree(views, folder)
    before = with_folder("c0de", folder)
    first = sorted(folder.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    assert with_folder("c0de", folder) != before
