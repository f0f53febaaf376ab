"""Errors of the system, not the data, in one line with what to do: a full disk, a file name
that is not UTF-8, every route weight 0."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from pipeline.config import CURRENT
from tests.conftest import ROOT, BuildDirs, build


def _cli(dirs: BuildDirs, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEDI_RAW_DIR": str(dirs.raw), "DEDI_STAGING_DIR": str(dirs.staging),
           "DEDI_MARTS_DIR": str(dirs.marts)}
    return subprocess.run([sys.executable, "-m", "pipeline.cli.main", "build", "--quiet", *args],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)


def _one_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    assert not any("Traceback" in ln for ln in lines), text
    return lines[-1]


@pytest.fixture
def tiny_disk(tmp_path):
    """A 1 MB file system (tmpfs), where the machine allows mounting one."""
    where = tmp_path / "tiny"
    where.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)],
                      capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    yield where
    subprocess.run(["umount", str(where)], check=False)


def test_a_full_disk_under_the_marts_is_one_line(demo_build, tmp_path, tiny_disk):
    dirs = BuildDirs(demo_build.raw, tmp_path / "staging", tiny_disk / "marts")
    out = build(dirs)
    assert not out.success
    lines = [f for f in out.failures if "the disk is full (No space left on device)" in f]
    assert lines and "DEDI_MARTS_DIR" in lines[0] and "\n" not in lines[0], out.failures
    assert not (dirs.marts / CURRENT).exists()
    assert not [p for p in (dirs.marts / "releases").glob("*")]  # nothing half-published


def test_a_file_name_that_is_not_utf8_is_one_line(demo_build, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(demo_build.raw, raw)
    with open(os.path.join(os.fsencode(raw / "iod"), b"stray\xff.csv"), "wb") as f:
        f.write(b"a,b\n1,2\n")
    out = _cli(BuildDirs(raw, tmp_path / "staging", tmp_path / "marts"))
    assert out.returncode == 2
    line = _one_line(out.stderr)
    assert "the file name b'iod/stray\\xff.csv' is not valid UTF-8" in line
    assert "rename it or move it out" in line


def test_every_route_weight_zero_is_one_line(demo_build, tmp_path):
    sets = [a for s in ("later_life", "deprivation", "disability", "access", "use")
            for a in ("--set", f"dx.subdomains.{s}.weight=0")]
    out = _cli(BuildDirs(demo_build.raw, tmp_path / "staging", tmp_path / "marts"), *sets)
    assert out.returncode == 2
    assert "dx.subdomains: every route weight is 0" in _one_line(out.stderr)
