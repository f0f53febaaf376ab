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

from pipeline.config import settings
from pipeline.inputs.files import file_sha256
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


def deadline_for(expected_bytes: int | None, cfg: dict) -> float:
    """The limit of a whole download: ``deadline_floor_seconds`` plus the time the expected
    size takes at ``min_kb_per_second`` when the server says the size, else
    ``deadline_seconds`` (settings.yaml ``fetch``)."""
    if expected_bytes:
        return float(cfg["deadline_floor_seconds"]) + expected_bytes / (
            1000.0 * float(cfg["min_kb_per_second"]))
    return float(cfg["deadline_seconds"])


def _stream(url: str, part: Path, timeout: float, deadline: float | None
            ) -> tuple[str, int, str]:
    """Stream ``url`` into ``part``; returns (sha256, bytes, Content-Type). ``timeout`` is the
    inactivity limit of every read, ``deadline`` (seconds) the limit of the whole download
    (None: scaled to the size the server announces, :func:`deadline_for`)."""
    h = hashlib.sha256()
    size = 0
    start = time.monotonic()
    with _open(url, timeout) as resp, open(part, "wb") as out:
        expected = resp.headers.get("Content-Length")
        expected_n = int(expected) if expected and expected.isdigit() else None
        ctype = resp.headers.get("Content-Type", "")
        if deadline is None:
            deadline = deadline_for(expected_n, settings()["fetch"])
        last_report = start
        try:
            while block := resp.read1(1 << 16):  # returns what has arrived: deadline checked
                out.write(block)
                h.update(block)
                size += len(block)
                now = time.monotonic()
                if now - start > deadline:
                    raise FetchError(f"{url}: download took longer than {deadline:.0f} s "
                                     f"({size:,} bytes so far, slower than "
                                     f"fetch.min_kb_per_second); the server is too slow - try "
                                     "again later, or lower fetch.min_kb_per_second")
                if now - last_report > 2:
                    total = f" of {expected_n / 1e6:.1f}" if expected_n else ""
                    print(f"    {size / 1e6:.1f}{total} MB", file=sys.stderr)
                    last_report = now
        except FetchError:
            raise
        except Exception as exc:  # noqa: BLE001 - any read error means a partial file
            raise FetchError(f"{url}: download interrupted after {size} bytes: {exc}") from exc
        if expected_n is not None and size != expected_n:
            raise FetchError(f"{url}: incomplete download, {size} of {expected_n} bytes")
    return h.hexdigest(), size, ctype


HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body")


def verify_download(path: Path, target: str, url: str, content_type: str = "") -> None:
    """The downloaded bytes are what ``target``'s format says (an error page, a truncated CSV
    or a broken zip is refused, naming the URL)."""
    with open(path, "rb") as fh:  # the head only: downloads can be hundreds of MB
        head = fh.read(2048).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    suffix = Path(target).suffix.lower()
    if path.stat().st_size == 0:
        raise FetchError(f"{url}: the server sent an empty file")
    if head.startswith(HTML_MARKERS) or ("text/html" in content_type and suffix != ".html"):
        raise FetchError(f"{url}: the server sent an HTML page ({content_type or 'no type'}), "
                         f"not the {suffix} file: the address has probably moved - check the "
                         "publisher's release page and `dedi fetch --base-url`")
    if suffix in (".zip", ".xlsx"):
        if not zipfile.is_zipfile(path):
            raise FetchError(f"{url}: not a valid {suffix} archive (truncated or corrupt)")
        try:
            with zipfile.ZipFile(path) as z:
                bad = z.testzip()
                names = z.namelist()
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise FetchError(f"{url}: corrupt {suffix} archive ({exc})") from exc
        if bad:
            raise FetchError(f"{url}: corrupt {suffix} archive (member {bad} fails its CRC)")
        if suffix == ".xlsx" and "[Content_Types].xml" not in names:
            raise FetchError(f"{url}: a zip but not an Excel workbook")
    elif suffix == ".csv":
        _verify_csv(path, url)
    elif suffix in (".json", ".geojson"):
        try:
            json.loads(path.read_bytes())
        except ValueError as exc:
            raise FetchError(f"{url}: not valid JSON (truncated?): {exc}") from exc


def _verify_csv(path: Path, url: str) -> None:
    """Parse the whole CSV: every row has the header's number of fields (a download cut
    without a Content-Length ends mid-row)."""
    import csv
    import io

    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    rows = csv.reader(io.StringIO(text))
    try:
        header = next(rows)
    except StopIteration:
        raise FetchError(f"{url}: empty CSV") from None
    n = 1
    for n, row in enumerate(rows, start=2):
        if row and len(row) != len(header):
            raise FetchError(f"{url}: CSV row {n} has {len(row)} fields, the header "
                             f"{len(header)}: the file is truncated or corrupt")
    if n == 1:
        raise FetchError(f"{url}: CSV has a header but no rows")


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


def pins_file() -> Path:
    """pipeline/sources/pins.json (``DEDI_PINS_FILE`` may point elsewhere, e.g. in tests)."""
    return Path(os.environ.get("DEDI_PINS_FILE", Path(__file__).parents[1] / "sources" /
                               "pins.json"))


def pins() -> dict[str, str]:
    """Pinned sha256 of the immutable sources (source -> hex), kept in the repository."""
    f = pins_file()
    return json.loads(f.read_text(encoding="utf-8")) if f.exists() else {}


def record_pin(source: str, sha256: str) -> None:
    """Pin an immutable source's hash (``dedi fetch --pin``); commit pins.json afterwards."""
    current = {**pins(), source: sha256}
    f = pins_file()
    tmp = f.with_name(f".{f.name}.tmp")
    tmp.write_text(json.dumps(dict(sorted(current.items())), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, f)


def fetch_one(spec: FetchSpec, raw_dir: Path, base_url: str | None = None,
              force: bool = False, timeout: float | None = None,
              deadline: float | None = None, pin: bool = False) -> Path:
    """Download one spec into ``raw_dir``; returns the final path (the extracted member for
    zipped sources). Nothing is installed unless the download is complete, of the right
    format, matches a pinned sha256 and (for zips) holds the member to extract."""
    cfg = settings().get("fetch", {})
    timeout = timeout or cfg["read_timeout_seconds"]
    target = raw_dir / spec.target
    member = spec.extra.get("extract")
    out = target.parent / member if member else target
    if target.exists() and out.exists() and not force:
        print(f"  = {spec.target} exists (use --force to download again)", file=sys.stderr)
        return out
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    member_part = out.with_name(out.name + ".part")
    url = _rebase(spec.url, base_url)
    print(f"  ↓ {spec.source}: {url}", file=sys.stderr)
    try:
        if spec.extra.get("kind") == "arcgis":
            _arcgis(url, part, bool(spec.extra.get("geometry")), timeout)
            h = file_sha256(part)
            size, ctype = part.stat().st_size, ""
        else:
            h, size, ctype = _stream(url, part, timeout, deadline)
        verify_download(part, spec.target, url, ctype)
        pinned = spec.sha256 or (pins().get(spec.source) if spec.immutable else None)
        if pinned and h != pinned:
            raise FetchError(f"{url}: sha256 {h} does not match the pinned {pinned}: the "
                             "publisher changed the file, or it was corrupted on the way")
        if member:  # extract before installing anything: all or nothing
            _extract_part(part, member, member_part, url)
        os.replace(part, target)
        if member:
            os.replace(member_part, out)
    except BaseException:
        part.unlink(missing_ok=True)
        member_part.unlink(missing_ok=True)
        raise
    old = read_provenance(target.parent).get("files", {}).get(target.name, {})
    entry = {"source": spec.source, "url": url, "official_url": spec.url,
             "description": spec.description,
             "retrieved_at": datetime.now(UTC).isoformat(timespec="seconds"), "bytes": size,
             "sha256": h, "licence": spec.licence, "synthetic": False}
    if old.get("sha256") and old["sha256"] != h:
        entry["previous_sha256"] = old["sha256"]
        print(f"  ! {spec.target} changed since {old.get('retrieved_at')}: sha256 "
              f"{old['sha256'][:12]}… -> {h[:12]}…", file=sys.stderr)
    _record(target.parent, target.name, entry)
    if member:
        _record(target.parent, out.name, {**entry, "extracted_from": target.name,
                                          "bytes": out.stat().st_size,
                                          "sha256": file_sha256(out)})
    print(f"  ✓ {spec.target} ({size / 1e6:.1f} MB, sha256 {h[:12]}…)", file=sys.stderr)
    if spec.immutable and not pinned:
        if pin:
            record_pin(spec.source, h)
            print(f"  pinned {spec.source} = {h[:12]}… in {pins_file()} (commit it)",
                  file=sys.stderr)
        else:
            print(f"  ! {spec.source} is an immutable release without a pinned sha256: run "
                  f"`dedi fetch --pin {spec.source}` once from the official host and commit "
                  f"{pins_file().name}", file=sys.stderr)
    return out


def _extract_part(archive: Path, member: str, part: Path, url: str) -> None:
    """Unpack ``member`` of the downloaded zip to ``part`` and check it."""
    try:
        with zipfile.ZipFile(archive) as z, z.open(member) as src, open(part, "wb") as dst:
            while block := src.read(1 << 20):
                dst.write(block)
    except KeyError:
        raise FetchError(f"{url}: the archive has no member {member}; nothing was installed "
                         "(the publisher may have renamed it)") from None
    verify_download(part, member, f"{url} [{member}]")


def fetch_all(specs: list[FetchSpec], raw_dir: Path, base_url: str | None = None,
              force: bool = False, pin: bool = False) -> list[Path]:
    """Fetch every spec; stops at the first failure (files already fetched stay)."""
    print(f"dedi fetch: {len(specs)} file(s) into {raw_dir}", file=sys.stderr)
    return [fetch_one(s, raw_dir, base_url, force, pin=pin) for s in specs]
