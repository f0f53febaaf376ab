"""A raw file's identity: its sha256, read once per process while its size and mtime stay the
same (a build hashes each raw file for its version, its partition and its provenance; fetch
checks downloads with it). No heavy imports: the up-to-date check uses it."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path


@cache
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def file_sha256(path: Path | str) -> str:
    """Hex sha256 of a file, read once per process while its size and mtime stay the same
    (a build hashes each raw file for its version, its partition and its provenance)."""
    path = Path(path)
    st = path.stat()
    return _sha256(str(path.resolve()), st.st_size, st.st_mtime_ns)
