"""Versions of what a build reads: the raw topic folders (sha256 of their files) and the code
(the ``pipeline`` package, settings, spec, GX suites and SQL models).

Dagster gets these as data versions (``pipeline/defs/raw.py``) and code versions, and decides
what is stale. ``dedi build`` also keeps the last successful build's versions in
``<staging>/build_state.json``: when nothing differs it answers "up to date" without loading
Dagster at all (nothing would be stale). No heavy imports here.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from pipeline.config import PROJECT_ROOT

TOPICS = ("iod", "geography", "census2021", "connectivity", "gp", "nhs_app", "schools", "local")
STATE_FILE = "build_state.json"


@cache
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read once per process while its size and mtime stay the same
    (a build hashes each raw file for its version, its partition and its provenance)."""
    st = path.stat()
    return _sha256(str(path.resolve()), st.st_size, st.st_mtime_ns)


def folder_version(folder: Path) -> str:
    """sha256 over the relative names and sha256 of every file under ``folder`` (``absent``
    when it holds none)."""
    h = hashlib.sha256()
    files = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
    for f in files:
        h.update(f"{f.relative_to(folder)}\0{file_sha256(f)}\n".encode())
    return h.hexdigest() if files else "absent"


@cache
def python_code_version() -> str:
    """Hash of everything a Python asset's result depends on besides its inputs."""
    h = hashlib.sha256()
    files = sorted((PROJECT_ROOT / "pipeline").rglob("*.py"))
    files += sorted((PROJECT_ROOT / "expectations").glob("*.json"))
    files += [PROJECT_ROOT / "pipeline" / "config" / n for n in ("settings.yaml", "index_spec.yaml",
                                                      "data_dictionary.yaml")]
    for f in files:
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def sql_code_version(sql_file: Path) -> str:
    """Hash of one SQL model, the helper that runs it and the settings it reads."""
    h = hashlib.sha256(sql_file.read_bytes())
    h.update((PROJECT_ROOT / "pipeline" / "defs" / "_staging.py").read_bytes())
    h.update((PROJECT_ROOT / "pipeline" / "config" / "settings.yaml").read_bytes())
    return h.hexdigest()[:16]


def inputs(raw: Path, index_config: dict) -> dict:
    """Everything a build's result depends on, as versions."""
    sql = hashlib.sha256()
    for f in sorted((PROJECT_ROOT / "assets").rglob("*.sql")):
        sql.update(f.read_bytes())
    return {"raw_dir": str(raw.resolve()),
            "raw": {t: folder_version(raw / t) for t in TOPICS},
            "code": python_code_version(), "sql": sql.hexdigest()[:16],
            "index_config": json.dumps(index_config, sort_keys=True)}


def last_build(staging: Path) -> dict:
    """The state the last successful build of ``staging`` saved (empty if none)."""
    f = staging / STATE_FILE
    return json.loads(f.read_text(encoding="utf-8")) if f.exists() else {}


def published_release(marts: Path) -> str | None:
    """The release folder ``current`` points to (None when nothing is published)."""
    cur = marts / "current"
    return cur.resolve().name if (cur / "dedi.duckdb").exists() else None


def up_to_date(staging: Path, marts: Path, raw: Path, index_config: dict) -> bool:
    """True when the last successful build read exactly these versions and its release is
    still the published one (after ``dedi rollback`` it is not: the build republishes)."""
    state = last_build(staging)
    return bool(state) and state.get("inputs") == inputs(raw, index_config) and \
        state.get("release") == published_release(marts) is not None
