"""``dedi fetch``: download official files into the raw layout with checksums and provenance.

Each download streams to ``<target>.part`` in the target folder, is checked (HTTP status,
Content-Length, optional pinned sha256) and only then renamed into place, so a failed or
partial download never leaves a half file. Each topic folder's ``provenance.json`` records
URL, time, size, sha256 and licence of every file fetched.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.sources import census, connectivity, geography, gp, iod, postcodes, schools
from pipeline.sources.common import PROVENANCE_FILE, FetchSpec, read_provenance

SOURCES = [iod, geography, census, connectivity, gp, schools, postcodes]
USER_AGENT = "dedi-fetch/0.1 (+https://github.com/; open data pipeline)"
ARCGIS_PAGE = 2000


class FetchError(RuntimeError):
    """A download failed; nothing was written for it."""


def all_specs(names: list[str] | None = None) -> list[FetchSpec]:
    """Every fetch spec, or those whose source name or topic matches ``names``."""
    specs = [s for m in SOURCES for s in m.FETCH]
    if not names:
        return specs
    return [s for s in specs if s.source in names or s.target.split("/")[0] in names]


def _rebase(url: str, base_url: str | None) -> str:
    """Send the request to a mirror (e.g. a local test server), keeping path and query."""
    if not base_url:
        return url
    u = urllib.parse.urlsplit(url)
    b = urllib.parse.urlsplit(base_url.rstrip("/"))
    return urllib.parse.urlunsplit((b.scheme, b.netloc, b.path + u.path, u.query, ""))


def _open(url: str, timeout: float, attempts: int = 3):
    last: Exception | None = None
    for i in range(attempts):
        try:
            req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
            return urllib.request.urlopen(req, timeout=timeout)
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
            last = exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            last = exc
        time.sleep(0.5 * (i + 1))
    raise FetchError(f"{url}: {last}")


def _stream(url: str, part: Path, timeout: float) -> tuple[str, int]:
    """Stream ``url`` into ``part``; returns (sha256, bytes). Raises on short reads."""
    h = hashlib.sha256()
    size = 0
    with _open(url, timeout) as resp, open(part, "wb") as out:
        expected = resp.headers.get("Content-Length")
        expected_n = int(expected) if expected and expected.isdigit() else None
        last_report = time.monotonic()
        try:
            while block := resp.read(1 << 20):
                out.write(block)
                h.update(block)
                size += len(block)
                if time.monotonic() - last_report > 2:
                    total = f" of {expected_n / 1e6:.1f}" if expected_n else ""
                    print(f"    {size / 1e6:.1f}{total} MB", file=sys.stderr)
                    last_report = time.monotonic()
        except Exception as exc:  # noqa: BLE001 - any read error means a partial file
            raise FetchError(f"{url}: download interrupted after {size} bytes: {exc}") from exc
        if expected_n is not None and size != expected_n:
            raise FetchError(f"{url}: incomplete download, {size} of {expected_n} bytes")
    return h.hexdigest(), size


def _arcgis(url: str, part: Path, geometry: bool, timeout: float) -> None:
    """Page through an ArcGIS FeatureServer query; write GeoJSON (geometry) or CSV."""
    features: list[dict[str, Any]] = []
    offset = 0
    while True:
        q = urllib.parse.urlencode({
            "where": "1=1", "outFields": "*", "f": "geojson", "returnGeometry": str(geometry).lower(),
            "resultOffset": offset, "resultRecordCount": ARCGIS_PAGE})
        with _open(f"{url}?{q}", timeout) as resp:
            try:
                page = json.loads(resp.read())
            except json.JSONDecodeError as exc:
                raise FetchError(f"{url}: page at offset {offset} is not JSON") from exc
        if "error" in page:
            raise FetchError(f"{url}: server error {page['error']}")
        batch = page.get("features", [])
        features.extend(batch)
        more = page.get("exceededTransferLimit") or page.get("properties", {}).get(
            "exceededTransferLimit")
        print(f"    {len(features)} records", file=sys.stderr)
        if not batch or not more:
            break
        offset += len(batch)
    if geometry:
        part.write_text(json.dumps({"type": "FeatureCollection", "features": features}),
                        encoding="utf-8")
    else:
        pd.DataFrame([f.get("properties") or f.get("attributes") for f in features]).to_csv(
            part, index=False)


def _record(topic_dir: Path, name: str, entry: dict[str, Any]) -> None:
    prov = read_provenance(topic_dir)
    prov.setdefault("files", {})[name] = entry
    tmp = topic_dir / f".{PROVENANCE_FILE}.tmp"
    tmp.write_text(json.dumps(prov, indent=2), encoding="utf-8")
    os.replace(tmp, topic_dir / PROVENANCE_FILE)


def fetch_one(spec: FetchSpec, raw_dir: Path, base_url: str | None = None,
              force: bool = False, timeout: float = 120.0) -> Path:
    """Download one spec into ``raw_dir``; returns the final path."""
    target = raw_dir / spec.target
    if target.exists() and not force:
        print(f"  = {spec.target} exists (use --force to download again)", file=sys.stderr)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    url = _rebase(spec.url, base_url)
    print(f"  ↓ {spec.source}: {url}", file=sys.stderr)
    try:
        if spec.extra.get("kind") == "arcgis":
            _arcgis(url, part, bool(spec.extra.get("geometry")), timeout)
            h = hashlib.sha256(part.read_bytes()).hexdigest()
            size = part.stat().st_size
        else:
            h, size = _stream(url, part, timeout)
        if spec.sha256 and h != spec.sha256:
            raise FetchError(f"{url}: sha256 {h} does not match the pinned {spec.sha256}")
        os.replace(part, target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    _record(target.parent, target.name, {
        "source": spec.source, "url": url, "official_url": spec.url, "description": spec.description,
        "retrieved_at": datetime.now(UTC).isoformat(timespec="seconds"), "bytes": size,
        "sha256": h, "licence": spec.licence, "synthetic": False})
    print(f"  ✓ {spec.target} ({size / 1e6:.1f} MB, sha256 {h[:12]}…)", file=sys.stderr)
    member = spec.extra.get("extract")
    if member:
        return _extract(target, member)
    return target


def _extract(archive: Path, member: str) -> Path:
    """Unpack one member of a downloaded zip next to it (atomically), recording provenance."""
    out = archive.parent / member
    part = out.with_name(out.name + ".part")
    try:
        with zipfile.ZipFile(archive) as z, z.open(member) as src, open(part, "wb") as dst:
            while block := src.read(1 << 20):
                dst.write(block)
        os.replace(part, out)
    except KeyError as exc:
        part.unlink(missing_ok=True)
        raise FetchError(f"{archive}: has no member {member}") from exc
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    entry = read_provenance(archive.parent)["files"][archive.name]
    _record(archive.parent, out.name, {**entry, "extracted_from": archive.name,
                                       "bytes": out.stat().st_size,
                                       "sha256": hashlib.sha256(out.read_bytes()).hexdigest()})
    return out


def fetch_all(specs: list[FetchSpec], raw_dir: Path, base_url: str | None = None,
              force: bool = False) -> list[Path]:
    """Fetch every spec; stops at the first failure (files already fetched stay)."""
    print(f"dedi fetch: {len(specs)} file(s) into {raw_dir}", file=sys.stderr)
    return [fetch_one(s, raw_dir, base_url, force) for s in specs]
