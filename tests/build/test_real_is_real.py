"""A real build is real: no generated data, demo and real never mix, provenance rebuilt."""

import json
import shutil
import subprocess
import sys

import duckdb
import pandas as pd

from pipeline.cli import main as cli
from pipeline.demo.generator import generate
from pipeline.inputs.rawdir import inspect
from tests.conftest import ROOT, BuildDirs, build, dedi_env


def _dedi(args: list[str], env: dict) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "pipeline.cli.main", *args], cwd=ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=120)


def test_build_with_a_missing_raw_folder_stops_and_creates_nothing(tmp_path):
    env = {"DEDI_RAW_DIR": str(tmp_path / "typo"), "DEDI_STAGING_DIR": str(tmp_path / "st"),
           "DEDI_MARTS_DIR": str(tmp_path / "marts")}
    r = _dedi(["build"], env)
    assert r.returncode == 2
    assert "does not exist" in r.stderr and "dedi demo" in r.stderr and "dedi fetch" in r.stderr
    assert "Traceback" not in r.stderr
    assert list(tmp_path.iterdir()) == []  # no raw, staging or marts folder


def test_build_with_an_empty_raw_folder_stops(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / ".gitkeep").write_text("")
    dirs = BuildDirs(tmp_path / "raw", tmp_path / "st", tmp_path / "marts")
    with dedi_env(dirs):
        assert cli.main(["build", "--quiet"]) == 2
    assert [p.name for p in (tmp_path / "raw").iterdir()] == [".gitkeep"]
    assert not dirs.staging.exists() and not dirs.marts.exists()


def test_demo_and_real_files_never_mix(tmp_path, capsys):
    raw = tmp_path / "raw"
    generate(raw)
    assert inspect(raw).kind == "demo"
    # a real-looking file dropped into the demo folder: build and fetch both refuse
    (raw / "iod" / "File_7_IoD2025_from_a_user.csv").write_text("LSOA code (2021)\nE01000001\n")
    assert inspect(raw).kind == "mixed"
    with dedi_env(BuildDirs(raw, tmp_path / "st", tmp_path / "marts")):
        assert cli.main(["build", "--quiet"]) == 2
        assert cli.main(["fetch", "iod2025"]) == 2
    err = capsys.readouterr().err
    assert "mixes the synthetic demo" in err and "holds the synthetic demo" in err
    assert not (tmp_path / "marts").exists()
    # the demo never writes into a real folder
    real = tmp_path / "real"
    (real / "iod").mkdir(parents=True)
    (real / "iod" / "File_7.csv").write_text("x\n")
    with dedi_env(BuildDirs(real, tmp_path / "st", tmp_path / "marts")):
        assert cli.main(["demo"]) == 2
    assert [p.name for p in real.rglob("*")] == ["iod", "File_7.csv"]


def test_synthetic_file_in_a_real_folder_stops_the_build(demo_build, tmp_path):
    """A demo file without its provenance (copied by hand) still carries dedi_synthetic:
    the build refuses to publish a mixture."""
    raw = tmp_path / "raw"
    shutil.copytree(demo_build.raw, raw)
    for p in raw.rglob("provenance.json"):  # make the folder look real ...
        p.unlink()
    (raw / "SYNTHETIC_DEMO_DATA.txt").unlink()
    f = raw / "gp" / "gp-reg-pat-prac-lsoa-all.csv"  # ... with one file really real
    df = pd.read_csv(f).drop(columns="dedi_synthetic")
    df.to_csv(f, index=False)
    outcome = build(BuildDirs(raw, tmp_path / "st", tmp_path / "marts"))
    assert not outcome.success
    assert "synthetic demo files" in "\n".join(outcome.failures)
    assert not (tmp_path / "marts" / "current").exists()


def test_sources_are_rebuilt_every_build(demo_build, tmp_path):
    """Same staging folder, second build without the Ofcom zip and local files: sources
    lists only the files of the second build."""
    staging = tmp_path / "st"
    shutil.copytree(demo_build.staging, staging)
    raw = tmp_path / "raw"
    shutil.copytree(demo_build.raw, raw)
    shutil.rmtree(raw / "local")
    (raw / "connectivity" / "202601_fixed_postcode_coverage_r01.zip").unlink()
    dirs = BuildDirs(raw, staging, tmp_path / "marts")
    assert build(dirs).success
    con = duckdb.connect(str(dirs.marts / "current" / "dedi.duckdb"), read_only=True)
    files = [r[0] for r in con.execute("SELECT file FROM sources").fetchall()]
    assert all(f.startswith(str(raw)) for f in files), files
    assert not any("local" in f or "fixed_postcode" in f for f in files)
    meta = dict(con.execute("SELECT key, value FROM build_metadata").fetchall())
    absent = json.loads(meta["absent_indicators"])
    assert "assisted_bin_collection_rate_pct" in absent
    cov = con.execute("SELECT indicator, source FROM coverage").df().set_index("indicator")
    assert cov.loc["connectivity_exclusion", "source"].startswith("IoD 2025 broadband")
