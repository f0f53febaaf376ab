"""``dedi dev``: the Dagster UI (``dagster dev``) on DEDI's definitions and the build's own
instance, stopped cleanly (webserver, daemon and code servers too) on SIGTERM or SIGINT, and
when ``dedi dev`` itself is killed."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path

STOP_WAIT = 30.0  # seconds dagster dev gets to stop its services before they are killed
PR_SET_PDEATHSIG = 1


def _child_setup() -> None:
    """In the child, before exec: Ctrl-C works even where the shell ignored SIGINT (a job in
    the background), and the child is told to stop (SIGINT) if ``dedi dev`` dies."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGINT)


def _stop(child: subprocess.Popen) -> int:
    """Ask dagster dev to stop (SIGINT: it shuts its services down), then kill what is left
    of its process group."""
    if child.poll() is None:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=STOP_WAIT)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(child.pid, signal.SIGKILL)  # anything that outlived it
    except (ProcessLookupError, PermissionError):
        pass
    child.wait()
    return 0


def run(extra: list[str], home: Path) -> int:
    """Run ``dagster dev -m pipeline.definitions EXTRA`` with ``DAGSTER_HOME=home`` until it
    ends or this process is told to stop."""
    beside = Path(sys.executable).with_name("dagster")  # the venv's, even if not activated
    exe = str(beside) if beside.exists() else "dagster"
    home = home.resolve()  # Dagster wants an absolute DAGSTER_HOME
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    print(f"dedi dev: Dagster instance {home} (every dedi build's runs); Ctrl-C stops it",
          file=sys.stderr)
    child = subprocess.Popen([exe, "dev", "-m", "pipeline.definitions", *extra], env=env,
                             start_new_session=True, preexec_fn=_child_setup)
    stopping = []

    def on_signal(signum, _frame) -> None:
        stopping.append(signum)
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    try:
        code = child.wait()
    except KeyboardInterrupt:
        return _stop(child)
    _stop(child)
    return code
