"""A guard on `current`: a build of another kind (real or the synthetic demo) or coverage
never replaces the published marts without --replace-current; the demo defaults to folders of
its own."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest

from pipeline.config import CURRENT, DEMO_MARKER, paths
from pipeline.errors import CurrentGuardError
from tests.conftest import ROOT, BuildDirs, build, dedi_env


def _sha(marts) -> str:
    return hashlib.sha256((marts / CURRENT / "dedi.duckdb").read_bytes()).hexdigest()


@pytest.mark.real
def test_a_demo_build_never_replaces_real_current(real_build, demo_build, tmp_path):
    """After real England, `dedi build` with the demo raw folder (as a schedule started without
    DEDI_RAW_DIR would) refuses in one line, and `current` stays byte-identical."""
    marts = tmp_path / "marts"
    shutil.copytree(real_build.marts, marts, symlinks=True)
    before = _sha(marts)
    env = {**os.environ, "DEDI_RAW_DIR": str(demo_build.raw),
           "DEDI_STAGING_DIR": str(tmp_path / "staging"), "DEDI_MARTS_DIR": str(marts)}
    out = subprocess.run([sys.executable, "-m", "pipeline.cli.main", "build", "--quiet"],
                         env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 2, out.stderr
    line = out.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert (f"{marts / CURRENT} holds real data covering 33,755 LSOAs" in line
            and "this build is the synthetic demo" in line and "--replace-current" in line
            and "DEDI_MARTS_DIR" in line), line
    assert _sha(marts) == before
    assert not (tmp_path / "staging").exists()  # refused before anything ran
    with dedi_env(BuildDirs(demo_build.raw, tmp_path / "st2", marts)):  # in-process too
        from pipeline.build.run import run_build

        with pytest.raises(CurrentGuardError, match="holds real data"):
            run_build(quiet=True)
    assert _sha(marts) == before


def test_a_change_of_coverage_is_refused_at_publication(demo_build, tmp_path):
    """The same kind but another coverage (here: `current` said to cover 33,755 LSOAs) is
    refused when the build would publish; --replace-current publishes."""
    marts = tmp_path / "marts"
    shutil.copytree(demo_build.marts, marts, symlinks=True)
    manifest = marts / CURRENT / "manifest.json"
    m = json.loads(manifest.read_text())
    m["row_counts"]["lsoa_index"] = 33755
    manifest.write_text(json.dumps(m))
    before = _sha(marts)
    dirs = BuildDirs(demo_build.raw, tmp_path / "staging", marts)
    out = build(dirs)
    assert not out.success
    assert any("holds the synthetic demo covering 33,755 LSOAs" in f and
               "this build is the synthetic demo covering 320 LSOAs" in f and
               "--replace-current" in f for f in out.failures), out.failures
    assert _sha(marts) == before
    from pipeline.build.run import run_build

    with dedi_env(dirs):
        out = run_build(quiet=True, replace_current=True)
    assert out.success, out.failures
    assert json.loads(manifest.read_text())["row_counts"]["lsoa_index"] == 320


def test_the_demo_publishes_to_folders_of_its_own(tmp_path, monkeypatch):
    for k in ("DEDI_RAW_DIR", "DEDI_STAGING_DIR", "DEDI_MARTS_DIR"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.chdir(tmp_path)
    assert paths().marts.as_posix() == "data/marts"
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / DEMO_MARKER).write_text("synthetic")
    p = paths()
    assert (p.marts.as_posix(), p.staging.as_posix()) == ("data/marts-demo",
                                                          "data/staging-demo")
    monkeypatch.setenv("DEDI_MARTS_DIR", "elsewhere")  # the environment still wins
    assert paths().marts.as_posix() == "elsewhere"
