"""Shared fixtures: the demo build and the real-England build, each built once per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DEDI_SHARED_DATA", ROOT.parent / "shared" / "data"))
HAVE_SHARED = (SHARED / "iod" / "File_7_IoD2025_reconstructed.csv").exists()
requires_shared = pytest.mark.skipif(not HAVE_SHARED, reason=f"real data not found at {SHARED}")


@dataclass(frozen=True)
class BuildDirs:
    raw: Path
    staging: Path
    marts: Path


@contextmanager
def dedi_env(dirs: BuildDirs) -> Iterator[BuildDirs]:
    """Point DEDI_* at ``dirs`` for the duration of the block."""
    keys = {"DEDI_RAW_DIR": dirs.raw, "DEDI_STAGING_DIR": dirs.staging,
            "DEDI_MARTS_DIR": dirs.marts}
    old = {k: os.environ.get(k) for k in keys}
    os.environ.update({k: str(v) for k, v in keys.items()})
    try:
        yield dirs
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def build(dirs: BuildDirs):
    """Run the full Dagster build for ``dirs``; returns the BuildOutcome."""
    from pipeline.build.run import run_build

    with dedi_env(dirs):
        return run_build(quiet=True)


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory) -> BuildDirs:
    """The synthetic demo area, generated and built once."""
    from pipeline.demo.generator import generate

    base = tmp_path_factory.mktemp("demo")
    dirs = BuildDirs(base / "raw", base / "staging", base / "marts")
    generate(dirs.raw)
    outcome = build(dirs)
    assert outcome.success, outcome.failures
    return dirs


@pytest.fixture(scope="session")
def real_build(tmp_path_factory) -> BuildDirs:
    """The real-England build from ../shared/data, built once per session."""
    if not HAVE_SHARED:
        pytest.skip(f"real data not found at {SHARED}")
    base = tmp_path_factory.mktemp("real")
    dirs = BuildDirs(SHARED, base / "staging", base / "marts")
    outcome = build(dirs)
    assert outcome.success, outcome.failures
    return dirs


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session (skipped where Debian chromium is missing)."""
    from tests.browser import chromium_browser, have_chromium

    if not have_chromium:
        pytest.skip("Debian chromium not installed (.ci/run installs it)")
    with chromium_browser() as b:
        yield b


def marts_fingerprint(marts: Path) -> tuple[str | None, dict[str, str]]:
    """What a reader of ``marts`` sees: where ``current`` points and the sha256 of every file
    in that release (a failed build must leave both unchanged)."""
    import hashlib

    link = marts / "current"
    if not link.is_symlink():
        return None, {}
    release = link.resolve()
    files = {str(f.relative_to(release)): hashlib.sha256(f.read_bytes()).hexdigest()
             for f in sorted(release.rglob("*")) if f.is_file() and f.name != ".superseded"}
    return os.readlink(link), files
