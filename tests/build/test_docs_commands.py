"""Every command of the README and docs/ runs, in the order a user meets it, in a folder laid
out like a checkout (the session's demo and real builds copied in, ../shared beside it).

A shell per document, as a user opens a terminal per guide: `uv run X` runs the venv's X and
`make` the project's Makefile. The files a user brings (venues, a travel-time matrix, a
reference) are written first, in the documented formats. The few commands that cannot run
here are listed in NOT_RUN with where they are tested instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import HAVE_SHARED, ROOT, SHARED

NOT_RUN = {  # command (start of line) -> why, and where it is tested instead
    "make test": "it is this test suite",
    "uv run dedi fetch": "needs the publishers' hosts (tests/unit/inputs: the fetcher on fixtures)",
    "export DEDI_RAW_DIR=data/real": "the folder `dedi fetch` would fill",
    "uv run dedi dev": "a server (tests/unit/cli/test_dev.py starts and stops it)",
    "uv run --group dev jupyter lab": "a server (tests/outputs/test_notebook.py runs the notebook)",
}
UV = """#!/bin/sh
# `uv run [--group G] X ...` runs the test's venv's X; `uv sync` is done (the venv is synced)
if [ "$1" = run ]; then
  shift; [ "$1" = --group ] && shift 2
  name=$1; shift
  [ -x "$VENV/$name" ] && exec "$VENV/$name" "$@"
  exec "$name" "$@"
fi
[ "$1" = sync ] && exit 0
echo "uv shim: $*" >&2; exit 1
"""


def documents() -> list[Path]:
    """The README, then docs/*.md in the order the README first links them, then the rest."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = list(dict.fromkeys(re.findall(r"\(docs/([\w-]+\.md)\)", readme)))
    rest = sorted(p.name for p in (ROOT / "docs").glob("*.md") if p.name not in linked)
    return [ROOT / "README.md", *(ROOT / "docs" / n for n in [*linked, *rest])]


def commands(doc: Path) -> list[str]:
    """The command lines of a document's bash blocks (continuations joined)."""
    out = []
    for block in re.findall(r"```(?:bash|sh)\n(.*?)```", doc.read_text(encoding="utf-8"), re.S):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                out.append(line.strip())
    return out


def script(doc: Path) -> str:
    lines = ["set -u"]
    for i, cmd in enumerate(commands(doc)):
        skip = next((why for start, why in NOT_RUN.items() if cmd.startswith(start)), None)
        if skip:
            lines.append(f"echo {_q(f'not run: {cmd} ({skip})')}")
            continue
        cmd = re.sub(r"^make ", f"make -f {ROOT}/Makefile ", cmd)
        lines += [f"echo {_q(f'::: {i}: {cmd}')}",
                  f"{cmd} > .out 2>&1 || {{ cat .out; echo {_q(f'FAILED: {cmd}')}; exit 1; }}",
                  "tail -n 3 .out"]
    return "\n".join(lines) + "\n"


def _q(s: str) -> str:
    return "'" + s.replace("'", "'\\''") + "'"


def _user_files(home: Path, marts: Path) -> None:
    """What a user brings: venues and open hubs in Liverpool (lat, lon), a travel-time matrix
    for Cheshire and Merseyside, an LSOA reference for `dedi validate`."""
    import duckdb
    import geopandas as gpd

    venues = pd.DataFrame({"site_id": [f"V{i}" for i in range(1, 9)],
                           "name": [f"Library {i}" for i in range(1, 9)], "type": "library",
                           "lat": np.linspace(53.38, 53.46, 8), "lon": np.linspace(-2.98, -2.88, 8)})
    venues.to_csv(home / "venues.csv", index=False)
    venues.iloc[:1].to_csv(home / "open.csv", index=False)
    g = gpd.read_parquet(marts / "current" / "lsoa_index.geoparquet",
                         columns=["lsoa21_code", "icb24_code", "geometry"])
    g = g[g["icb24_code"] == "E54000008"].to_crs(27700)
    xy = np.column_stack([g.geometry.centroid.x, g.geometry.centroid.y])
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) / 1000
    i, j = np.nonzero(d <= 4.0)
    codes = g["lsoa21_code"].to_numpy()
    pd.DataFrame({"origin_lsoa21": codes[i], "site_id": codes[j],
                  "minutes": np.round(2 + d[i, j] / 20 * 60, 1)}).to_csv(home / "minutes.csv",
                                                                          index=False)
    with duckdb.connect(str(marts / "current" / "dedi.duckdb"), read_only=True) as conn:
        lsoa = conn.execute("SELECT lsoa21_code, pct_aged_75plus FROM lsoa_indicators").df()
    pd.DataFrame({"lsoa21_code": lsoa["lsoa21_code"], "pct_non_users": lsoa["pct_aged_75plus"],
                  "cluster": np.where(lsoa["pct_aged_75plus"] > 15, "e-withdrawn", "other")}
                 ).to_csv(home / "offline.csv", index=False)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory, demo_build, real_build):
    """A folder like a checkout after `make demo` and the README's real build."""
    base = tmp_path_factory.mktemp("user")
    home = base / "dedi"
    home.mkdir()
    for entry in ROOT.iterdir():  # the code, docs and config, not the data or .git
        if entry.name not in ("data", ".git", ".venv") and not entry.name.startswith("."):
            (home / entry.name).symlink_to(entry)
    (base / "shared").symlink_to(SHARED.parent)  # ../shared/data, as in CI
    data = home / "data"
    for src, dst in ((demo_build.raw, "raw"), (demo_build.staging, "staging-demo"),
                     (demo_build.marts, "marts-demo"), (real_build.staging, "staging"),
                     (real_build.marts, "marts")):
        shutil.copytree(src, data / dst, symlinks=True)
    shim = base / "bin"
    shim.mkdir()
    (shim / "uv").write_text(UV)
    (shim / "uv").chmod(0o755)
    _user_files(home, data / "marts")
    return home, shim


@pytest.mark.real
@pytest.mark.skipif(not HAVE_SHARED, reason="the docs' commands are written for real data")
@pytest.mark.parametrize("doc", documents(), ids=[d.name for d in documents()])
def test_every_documented_command_runs(checkout, doc):
    home, shim = checkout
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEDI_", "DAGSTER_HOME"))}
    env.update({"PATH": f"{shim}:{Path(sys.executable).parent}:{env.get('PATH', '')}",
                "VENV": str(Path(sys.executable).parent), "HOME": str(home.parent)})
    p = subprocess.run(["bash", "-c", script(doc)], cwd=home, env=env, input="",
                       capture_output=True, text=True, timeout=1500)
    assert p.returncode == 0, f"{doc.name}:\n{p.stdout[-4000:]}\n{p.stderr[-2000:]}"
    assert "Traceback" not in p.stdout + p.stderr


def test_every_skipped_command_exists():
    """NOT_RUN names commands the docs really hold (a stale entry would hide nothing)."""
    every = [c for d in documents() for c in commands(d)]
    for start in NOT_RUN:
        assert any(c.startswith(start) for c in every), start


def test_the_harness_stops_at_a_failing_command(tmp_path):
    """A documented command that fails fails the test (the harness is not vacuous)."""
    doc = tmp_path / "guide.md"
    doc.write_text("```bash\nuv run python -c 'print(1)'\nuv run python -c 'raise SystemExit(3)'"
                   "\nuv run python -c 'print(2)'\n```\n")
    (tmp_path / "uv").write_text(UV)
    (tmp_path / "uv").chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}",
           "VENV": str(Path(sys.executable).parent)}
    p = subprocess.run(["bash", "-c", script(doc)], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 1 and "FAILED: uv run python -c 'raise SystemExit(3)'" in p.stdout
    assert "::: 2" not in p.stdout
