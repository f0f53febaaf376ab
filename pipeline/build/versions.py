"""Change detection, in one place: versions of what a build reads (the raw topic folders, the
files behind each vintage, each LA's local files: sha256 of their bytes) and of the code (the
``pipeline`` package, settings, spec, GX suites and SQL models). A file is identified by its
sha256; only the sensor, which polls every 30 s, compares the cheap size and mtime instead
(:func:`file_stat`) and hands what changed to a build, which hashes.

Dagster gets these as data versions (``pipeline/defs/raw.py``) and code versions, and decides
what is stale. ``dedi build`` also keeps the last successful build's versions in
``<staging>/build_state.json``: when nothing differs it answers "up to date" without loading
Dagster at all (nothing would be stale). No heavy imports here.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path

from pipeline.config import CURRENT, PROJECT_ROOT, current_db
from pipeline.inputs.files import file_sha256

TOPICS = ("iod", "geography", "census2021", "connectivity", "gp", "nhs_app", "schools", "local")
STATE_FILE = "build_state.json"


def file_stat(f: Path) -> str:
    """A file's cheap fingerprint, size and mtime (what the sensor polls with)."""
    st = f.stat()
    return f"{st.st_size}|{st.st_mtime_ns}"


def files_sha256(files: list) -> dict[str, str]:
    """Path -> sha256 of local files (``LocalFile``): what a per-LA output was staged from."""
    return {str(f.path): file_sha256(f.path) for f in files}


def vintage_files(raw_dir: Path, fingerprint=None) -> dict[str, dict[str, str]]:
    """Fingerprint of the files behind each partition: ``nhs_app`` month -> its files,
    ``iod`` release -> its File 7, ``local`` period -> its files. ``fingerprint`` of one file:
    size and mtime (cheap, for the sensor) or its sha256 (exact, for builds)."""
    from pipeline.sources import iod, nhs_app
    from pipeline.sources import local_proxies as lp
    from pipeline.sources.common import SourceError

    fingerprint = fingerprint or file_stat

    months = {m: ";".join(f"{f.name}|{fingerprint(f)}" for f in files)
              for m, files in nhs_app.months_available(raw_dir).items()}
    releases = {}
    for r in iod.RELEASES:
        try:
            f = iod.locate_release(raw_dir, r)
        except SourceError:
            continue
        releases[r] = f"{f.name}|{fingerprint(f)}"
    local: dict[str, str] = {}
    for f in lp.discover(raw_dir):
        if f.period:
            local[f.period] = (local.get(f.period, "")
                               + f"{f.la_code}/{f.path.name}|{fingerprint(f.path)};")
    return {"nhs_app": months, "iod": releases, "local": dict(sorted(local.items()))}


def vintage_fingerprints(raw_dir: Path) -> dict[str, dict[str, str]]:
    """The sha256 of the files behind each partition (what ``dedi build`` compares)."""
    return vintage_files(raw_dir, file_sha256)


def raw_fingerprint(raw_dir: Path, exclude: set[Path] | None = None) -> str:
    """Hash of (path, size, mtime) of every data file under the raw folder but ``exclude``
    (``provenance.json`` files describe data files; they change when those do)."""
    h = hashlib.sha256()
    if raw_dir.exists():
        for f in sorted(p for p in raw_dir.rglob("*") if p.is_file()):
            if (exclude and f in exclude) or f.name == "provenance.json":
                continue
            h.update(f"{f.relative_to(raw_dir)}|{file_stat(f)}\n".encode())
    return h.hexdigest()


def folder_version(folder: Path) -> str:
    """sha256 over the relative names and sha256 of every file under ``folder`` (``absent``
    when it holds none)."""
    h = hashlib.sha256()
    files = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
    for f in files:
        # os.fsencode: the name's bytes, whatever the encoding (no UnicodeEncodeError)
        h.update(os.fsencode(f.relative_to(folder)) + f"\0{file_sha256(f)}\n".encode())
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
    for macros in sorted((PROJECT_ROOT / "assets" / "macros").glob("*.sql")):
        h.update(macros.read_bytes())
    h.update((PROJECT_ROOT / "pipeline" / "defs" / "_staging.py").read_bytes())
    h.update((PROJECT_ROOT / "pipeline" / "config" / "settings.yaml").read_bytes())
    return h.hexdigest()[:16]


def with_folder(code: str, folder: Path) -> str:
    """``code`` extended by the SQL files of ``folder`` (the views a publication creates: a
    changed view republishes without recomputing what the marts are made of)."""
    h = hashlib.sha256(code.encode())
    for f in sorted(folder.glob("*.sql")):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
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
    return (marts / CURRENT).resolve().name if current_db(marts).exists() else None


def up_to_date(staging: Path, marts: Path, raw: Path, index_config: dict) -> bool:
    """True when the last successful build read exactly these versions and its release is
    still the published one (after ``dedi rollback`` it is not: the build republishes)."""
    state = last_build(staging)
    return bool(state) and state.get("inputs") == inputs(raw, index_config) and \
        state.get("release") == published_release(marts) is not None
