"""``dedi fetch`` against a local HTTP server: success, provenance, failures leave no half file."""

import hashlib
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.cli import main as cli
from pipeline.inputs.fetch import FetchError, fetch_one
from pipeline.sources import geography, iod
from pipeline.sources.common import FetchSpec

N_LOOKUP = 4500


def _lookup_features(geometry: bool) -> list[dict]:
    feats = []
    for i in range(N_LOOKUP):
        country = "W" if i % 10 == 9 else "E"
        props = {"LSOA21CD": f"{country}01{i:06d}", "LSOA21NM": f"Area {i}",
                 "WD24CD": f"{country}05{i // 5:06d}", "WD24NM": f"Ward {i // 5}",
                 "LAD24CD": f"{country}0{'6' if country == 'E' else '6'}{i // 100:06d}",
                 "LAD24NM": f"LA {i // 100}", "ObjectId": i + 1}
        x, y = -2 + (i % 100) * 0.01, 52 + (i // 100) * 0.01  # small triangles in England
        geom = {"type": "Polygon",
                "coordinates": [[[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y]]]}
        feats.append({"type": "Feature", "properties": props, "geometry": geom if geometry else None})
    return feats


class Handler(BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path.endswith("/FeatureServer/0/query"):
            q = dict(urllib.parse.parse_qsl(u.query))
            off, n = int(q["resultOffset"]), int(q["resultRecordCount"])
            feats = _lookup_features(q["returnGeometry"] == "true")
            page = {"type": "FeatureCollection", "features": feats[off:off + n]}
            if off + n < len(feats):
                page["properties"] = {"exceededTransferLimit": True}
            return self._send(200, json.dumps(page).encode())
        if u.path.startswith("/html"):  # an error page served with 200
            return self._send(200, b"<!DOCTYPE html><html><body>Page moved</body></html>",
                              "text/html; charset=utf-8")
        if u.path.startswith("/trickle"):  # one byte at a time, never finishing in time
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for _ in range(1000):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.3)
            except OSError:
                pass
            return None
        if u.path.startswith("/cut-nolength"):  # truncated, and no Content-Length to tell
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"LSOA code (2021),IMD score,IMD rank\nE01000001,12.3,207\n"
                             b"E01000002,8.1")
            self.wfile.flush()
            self.close_connection = True
            return None
        if u.path.startswith("/truncated"):
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"LSOA code (2021),partial\n" * 10)
            self.wfile.flush()
            self.connection.close()
            return None
        body = self.files.get(u.path)
        if body is None:
            return self._send(404, b"not found")
        return self._send(200, body)

    def _send(self, status: int, body: bytes, ctype: str = "application/octet-stream") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


@pytest.fixture(scope="module")
def file7_bytes(demo_build) -> bytes:
    return iod.locate(demo_build.raw).read_bytes()


def test_fetch_iod_via_cli_records_provenance(server, file7_bytes, tmp_path):
    spec = iod.FETCH[0]
    Handler.files[urllib.parse.urlsplit(spec.url).path] = file7_bytes
    raw = tmp_path / "raw"
    assert cli.main(["fetch", "iod2025", "--raw-dir", str(raw), "--base-url", server]) == 0
    target = raw / spec.target
    assert target.read_bytes() == file7_bytes
    prov = json.loads((raw / "iod" / "provenance.json").read_text())["files"][target.name]
    assert prov["sha256"] == hashlib.sha256(file7_bytes).hexdigest()
    assert prov["bytes"] == len(file7_bytes) and prov["official_url"] == spec.url
    assert prov["licence"].startswith("Open Government Licence") and prov["retrieved_at"]
    assert prov["synthetic"] is False
    assert len(iod.read_iod2025(iod.locate(raw))) == 320
    assert not list(raw.rglob("*.part"))


def test_http_error_leaves_nothing(server, tmp_path):
    spec = FetchSpec(source="x", url=f"{server}/missing.csv", target="iod/missing.csv")
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch_one(spec, tmp_path)
    assert not list(tmp_path.rglob("*.csv*"))


def test_partial_download_keeps_previous_file_and_no_half_file(server, tmp_path):
    spec = FetchSpec(source="x", url=f"{server}/truncated.csv", target="iod/file.csv")
    (tmp_path / "iod").mkdir()
    (tmp_path / "iod" / "file.csv").write_text("previous good copy")
    with pytest.raises(FetchError, match="incomplete|interrupted"):
        fetch_one(spec, tmp_path, force=True)
    assert (tmp_path / "iod" / "file.csv").read_text() == "previous good copy"
    assert not list(tmp_path.rglob("*.part"))
    assert not (tmp_path / "iod" / "provenance.json").exists()


def test_pinned_checksum_mismatch_rejected(server, file7_bytes, tmp_path):
    Handler.files["/pinned.csv"] = file7_bytes
    spec = FetchSpec(source="x", url=f"{server}/pinned.csv", target="iod/pinned.csv",
                     sha256="0" * 64)
    with pytest.raises(FetchError, match="does not match the pinned"):
        fetch_one(spec, tmp_path)
    assert not (tmp_path / "iod" / "pinned.csv").exists()
    ok = FetchSpec(source="x", url=f"{server}/pinned.csv", target="iod/pinned.csv",
                   sha256=hashlib.sha256(file7_bytes).hexdigest())
    assert fetch_one(ok, tmp_path).exists()


def test_arcgis_lookup_is_paged_and_readable(server, tmp_path):
    spec = next(s for s in geography.FETCH if s.target.endswith("ward24_ltla24.csv"))
    path = fetch_one(spec, tmp_path, base_url=server)
    df = geography.read_lsoa_ltla(path)
    assert len(df) == N_LOOKUP - N_LOOKUP // 10  # Welsh rows dropped
    assert df["lsoa21_code"].is_unique


def test_arcgis_boundaries_geojson_readable(server, tmp_path):
    spec = next(s for s in geography.FETCH if s.target.endswith("boundaries_lsoa21.geojson"))
    gdf = geography.read_lsoa_boundaries(fetch_one(spec, tmp_path, base_url=server))
    assert len(gdf) == N_LOOKUP - N_LOOKUP // 10 and gdf.crs.to_epsg() == 4326


def test_every_fetch_spec_lands_where_its_reader_looks(server, demo_build, tmp_path):
    """Serve the demo's Ofcom zip and GIAS file at the official paths; fetch; read back."""
    import duckdb

    from pipeline.inputs.fetch import all_specs
    from pipeline.sources import connectivity, schools

    specs = {s.source: s for s in all_specs()}
    assert {"iod2025", "ofcom_fixed_postcode_coverage", "epraccur", "gias",
            "census21_usual_residents"} <= set(specs)
    for s in specs.values():
        assert s.target.split("/")[0] in {"iod", "geography", "census2021", "connectivity", "gp",
                                          "schools"}
    ofcom = specs["ofcom_fixed_postcode_coverage"]
    Handler.files[urllib.parse.urlsplit(ofcom.url).path] = (
        demo_build.raw / "connectivity" / "202601_fixed_postcode_coverage_r01.zip").read_bytes()
    gias = specs["gias"]
    Handler.files[urllib.parse.urlsplit(gias.url).path] = (
        demo_build.raw / "schools" / "gias_establishments_synthshire.csv").read_bytes()
    for s in (ofcom, gias):
        fetch_one(s, tmp_path, base_url=server)
    facts = connectivity.stage_ofcom_coverage(duckdb.connect(),
                                              connectivity.locate_ofcom(tmp_path), "cov")
    assert facts["postcodes"] == 320 * 12 + 2
    assert len(schools.read_gias(schools.locate(tmp_path))) > 60


def test_nomis_bulk_zip_fetched_and_member_extracted(server, tmp_path):
    from pipeline.sources import census

    spec = next(s for s in census.FETCH if s.source == "census21_ts038")
    Handler.files[urllib.parse.urlsplit(spec.url).path] = _zip({
        "census2021-ts038-ltla.csv": "geography code\nE06000001\n",
        "census2021-ts038-lsoa.csv": "date,geography,geography code,Disability: Total: All "
        "usual residents,Disability: Disabled under the Equality Act\n2021,A,E01000001,1475,152\n"})
    out = fetch_one(spec, tmp_path, base_url=server)
    assert out.name == "census2021-ts038-lsoa.csv"
    df = census.read_long_table(census.locate_any(tmp_path, [census.BULK_FILES["ts038"]]),
                                ["Disabled under the Equality Act"], "ts038")
    assert df["Disabled under the Equality Act"].tolist() == [152]
    prov = json.loads((tmp_path / "census2021" / "provenance.json").read_text())["files"]
    assert prov[out.name]["extracted_from"] == "census2021-ts038.zip"
    assert not list(tmp_path.rglob("*.part"))


# --- a misbehaving server: nothing it sends may be installed --------------------------------


def _zip(members: dict[str, str]) -> bytes:
    """A zip archive of text members."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in members.items():
            z.writestr(name, text)
    return buf.getvalue()


def _nothing_installed(root):
    assert not [p for p in root.rglob("*") if p.is_file()], list(root.rglob("*"))


def test_html_error_page_with_200_is_refused(server, tmp_path):
    spec = FetchSpec(source="iod2025", url=f"{server}/html/File_7.csv", target="iod/File_7.csv")
    with pytest.raises(FetchError, match=r"/html/File_7.csv: the server sent an HTML page"):
        fetch_one(spec, tmp_path)
    _nothing_installed(tmp_path)


def test_trickling_server_hits_the_deadline(server, tmp_path):
    spec = FetchSpec(source="x", url=f"{server}/trickle.csv", target="iod/slow.csv")
    with pytest.raises(FetchError, match="longer than 2 s"):
        fetch_one(spec, tmp_path, timeout=5, deadline=2)
    _nothing_installed(tmp_path)


def test_the_default_deadline_scales_with_the_announced_size(server, tmp_path, monkeypatch):
    """No deadline given: the floor plus the announced size at fetch.min_kb_per_second (here
    1 s + 1,000 bytes at 1 kB/s = 2 s), not an hour; with no size, fetch.deadline_seconds."""
    import yaml

    from pipeline.config import SETTINGS_FILE
    from pipeline.inputs.fetch import deadline_for

    cfg = yaml.safe_load(SETTINGS_FILE.read_text())
    assert deadline_for(250_000_000, cfg["fetch"]) == pytest.approx(60 + 5000)  # 250 MB
    assert deadline_for(None, cfg["fetch"]) == 900
    cfg["fetch"].update(deadline_floor_seconds=1, min_kb_per_second=1)
    f = tmp_path / "cfg" / "settings.yaml"
    f.parent.mkdir()
    f.write_text(yaml.safe_dump(cfg))
    monkeypatch.setenv("DEDI_SETTINGS", str(f))
    spec = FetchSpec(source="x", url=f"{server}/trickle.csv", target="iod/slow.csv")
    t0 = time.monotonic()
    with pytest.raises(FetchError, match=r"longer than 2 s .*slower than fetch.min_kb_per_second"):
        fetch_one(spec, tmp_path / "raw")
    assert time.monotonic() - t0 < 10
    _nothing_installed(tmp_path / "raw")


def test_truncation_without_content_length_is_detected(server, tmp_path):
    spec = FetchSpec(source="x", url=f"{server}/cut-nolength.csv", target="iod/cut.csv")
    with pytest.raises(FetchError, match="row 3 has 2 fields, the header 3: the file is truncated"):
        fetch_one(spec, tmp_path)
    _nothing_installed(tmp_path)


def test_corrupt_zip_is_refused(server, tmp_path):
    good = _zip({"census2021-ts038-lsoa.csv": "a,b\n1,2\n" * 1000})
    data = bytearray(good)
    data[60:80] = b"\0" * 20  # damage the member's bytes
    Handler.files["/corrupt.zip"] = bytes(data)
    spec = FetchSpec(source="x", url=f"{server}/corrupt.zip", target="census2021/c.zip",
                     extra={"extract": "census2021-ts038-lsoa.csv"})
    with pytest.raises(FetchError, match="corrupt .zip archive|not a valid .zip"):
        fetch_one(spec, tmp_path)
    _nothing_installed(tmp_path)
    Handler.files["/cut.zip"] = good[:200]  # cut short, served with a length
    spec = FetchSpec(source="x", url=f"{server}/cut.zip", target="census2021/c.zip")
    with pytest.raises(FetchError, match="not a valid .zip archive"):
        fetch_one(spec, tmp_path)
    _nothing_installed(tmp_path)


def test_zip_without_its_member_installs_nothing_and_is_fetched_again(server, tmp_path):
    ltla = {"census2021-ts038-ltla.csv": "geography code,x\nE06000001,1\n"}
    Handler.files["/nomember.zip"] = _zip(ltla)
    spec = FetchSpec(source="x", url=f"{server}/nomember.zip", target="census2021/t.zip",
                     extra={"extract": "census2021-ts038-lsoa.csv"})
    with pytest.raises(FetchError, match="has no member census2021-ts038-lsoa.csv; nothing"):
        fetch_one(spec, tmp_path)
    _nothing_installed(tmp_path)
    # the publisher fixes the zip: a re-run fetches it
    Handler.files["/nomember.zip"] = _zip({**ltla, "census2021-ts038-lsoa.csv":
                                           "geography code,x\nE01000001,1\n"})
    assert fetch_one(spec, tmp_path).name == "census2021-ts038-lsoa.csv"


def test_changed_file_is_reported_and_recorded(server, file7_bytes, tmp_path, capsys):
    Handler.files["/changing.csv"] = file7_bytes
    spec = FetchSpec(source="x", url=f"{server}/changing.csv", target="iod/changing.csv")
    fetch_one(spec, tmp_path)
    Handler.files["/changing.csv"] = file7_bytes.replace(b"\n", b"\r\n", 1)
    fetch_one(spec, tmp_path, force=True)
    assert "changed since" in capsys.readouterr().err
    prov = json.loads((tmp_path / "iod" / "provenance.json").read_text())["files"]
    assert prov["changing.csv"]["previous_sha256"] == hashlib.sha256(file7_bytes).hexdigest()


def test_immutable_release_is_pinned_once_then_enforced(server, file7_bytes, tmp_path,
                                                        monkeypatch, capsys):
    pins = tmp_path / "pins.json"
    monkeypatch.setenv("DEDI_PINS_FILE", str(pins))
    spec = FetchSpec(source="iod2025", url=f"{server}/release/File_7.csv",
                     target="iod/File_7.csv", immutable=True)
    Handler.files["/release/File_7.csv"] = file7_bytes
    fetch_one(spec, tmp_path / "a")  # no pin yet: said, not guessed
    assert "without a pinned sha256" in capsys.readouterr().err and not pins.exists()
    fetch_one(spec, tmp_path / "b", pin=True)
    assert json.loads(pins.read_text()) == {"iod2025": hashlib.sha256(file7_bytes).hexdigest()}
    Handler.files["/release/File_7.csv"] = file7_bytes.replace(b"\n", b"\r\n", 1)
    with pytest.raises(FetchError, match="does not match the pinned"):
        fetch_one(spec, tmp_path / "c")
    assert not (tmp_path / "c" / "iod" / "File_7.csv").exists()


def test_every_immutable_source_is_marked():
    from pipeline.inputs.fetch import all_specs

    immutable = {s.source for s in all_specs() if s.immutable}
    assert {"iod2025", "iod2025_file8", "iod2019", "census21_ts038",
            "ofcom_fixed_postcode_coverage"} <= immutable
    assert not {"epraccur", "gias"} & immutable  # daily or monthly files change
