"""One build per staging folder, one publisher per marts folder: a busy folder is refused at
once (before Dagster loads), with advice that fits; a scenario never waits for the live build."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.build.locks import BuildLocked, PublishLocked, refuse_if_busy
from pipeline.config import scenario_dir
from tests.conftest import ROOT

HOLD = """import sys, time
from pathlib import Path
from pipeline.build.locks import build_lock, marts_lock
with build_lock(Path(sys.argv[1])), marts_lock(Path(sys.argv[2])):
    print("held", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def live_build(tmp_path):
    """Another process holding the live staging and marts folders, as a running build does."""
    staging, marts = tmp_path / "staging", tmp_path / "marts"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(staging), str(marts)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield staging, marts, holder.pid
    finally:
        holder.kill()
        holder.wait()


def test_a_second_live_build_is_refused_before_dagster_loads(live_build, tmp_path):
    staging, marts, pid = live_build
    raw = tmp_path / "raw" / "iod"
    raw.mkdir(parents=True)
    (raw / "placeholder.csv").write_text("x")
    code = ("import sys; from pipeline.cli.main import main; rc = main(['build', '--quiet']); "
            "print(rc, 'dagster' in sys.modules)")
    env = {"DEDI_RAW_DIR": str(tmp_path / "raw"), "DEDI_STAGING_DIR": str(staging),
           "DEDI_MARTS_DIR": str(marts), "PATH": "/usr/bin:/bin"}
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=120)
    assert p.stdout.split() == ["3", "False"], p.stderr  # refused; Dagster never imported
    assert p.stderr.count("\n") == 1 and f"pid {pid}" in p.stderr
    assert "DEDI_STAGING_DIR" in p.stderr and "--scenario" not in p.stderr


def test_a_scenario_build_does_not_wait_for_the_live_build(live_build):
    staging, marts, _ = live_build
    refuse_if_busy(scenario_dir(staging, "w02"), scenario_dir(marts, "w02"), live=False)


def test_the_same_scenario_twice_is_told_what_fits(live_build):
    staging, marts, pid = live_build
    with pytest.raises(BuildLocked, match=f"pid {pid}.*DEDI_STAGING_DIR"):
        refuse_if_busy(staging, marts)
    sub = subprocess.Popen([sys.executable, "-c", HOLD, str(scenario_dir(staging, "w02")),
                            str(scenario_dir(marts, "w02"))], cwd=ROOT, stdout=subprocess.PIPE,
                           text=True)
    try:
        assert sub.stdout.readline().strip() == "held"
        with pytest.raises(BuildLocked) as exc:
            refuse_if_busy(scenario_dir(staging, "w02"), scenario_dir(marts, "w02"), live=False)
        assert "--scenario" not in str(exc.value)
        with pytest.raises(PublishLocked) as exc:
            refuse_if_busy(Path(staging.parent / "other"), scenario_dir(marts, "w02"),
                           live=False)
        assert "--scenario" not in str(exc.value) and "another name" in str(exc.value)
    finally:
        sub.kill()
        sub.wait()
