"""`dedi dev`: -h sets the host; the UI reads the builds' own instance (every dedi build's runs);
SIGTERM or SIGINT stop it cleanly, services included, and so does a SIGKILL of dedi dev."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _session(sid: int) -> list[int]:
    """Processes of a session (dedi dev starts dagster dev in a session of its own)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                out.append(int(d.name))
    return out


def _get(url: str, data: dict | None = None) -> bytes:
    body = json.dumps(data).encode() if data else None
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.read()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL],
                         ids=["SIGTERM", "SIGINT", "SIGKILL"])
def test_dev_serves_the_builds_and_stops_cleanly(demo_build, sig):
    port = _free_port()
    env = {**os.environ, "DEDI_RAW_DIR": str(demo_build.raw),
           "DEDI_STAGING_DIR": str(demo_build.staging), "DEDI_MARTS_DIR": str(demo_build.marts)}
    env.pop("DAGSTER_HOME", None)
    dev = subprocess.Popen([sys.executable, "-m", "pipeline.cli.main", "dev", "-h", "127.0.0.1",
                            "-p", str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 150
        while True:
            assert dev.poll() is None, dev.stderr.read()
            try:
                _get(f"{url}/server_info")
                break
            except OSError:
                assert time.monotonic() < deadline, "dagster dev did not come up"
                time.sleep(1)
        leader = _dagster_dev(dev.pid)  # leads a session of its own
        assert len(_session(leader)) >= 3  # dagster dev, its webserver and its daemon
        if sig == signal.SIGTERM:  # the UI lists the demo build's runs
            q = {"query": "{ runsOrError { ... on Runs { results { jobName status } } } }"}
            runs = json.loads(_get(f"{url}/graphql", q))["data"]["runsOrError"]["results"]
            assert {"jobName": "dedi_build", "status": "SUCCESS"} in runs
        dev.send_signal(sig)
        if sig != signal.SIGKILL:
            assert dev.wait(timeout=60) == 0
        deadline = time.monotonic() + 60
        while _session(leader) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _session(leader) == [], "services outlived dedi dev"
        with pytest.raises(OSError):
            _get(f"{url}/server_info")
    finally:
        if dev.poll() is None:
            dev.kill()
        dev.wait()


def _dagster_dev(pid: int) -> int:
    """The dagster dev process dedi dev started."""
    kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    assert kids, "dedi dev started no dagster dev"
    return int(kids[0])
