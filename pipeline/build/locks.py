"""The one advisory-lock mechanism of DEDI: one build per staging folder, one publisher per
marts folder. Light on imports, so that ``dedi build`` refuses a busy folder at once."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK = ".publish.lock"   # in a marts folder
BUILD_LOCK = ".build.lock"  # in a staging folder
_HELD: set[str] = set()  # marts folders this process holds the lock of (re-entrant)


class BuildLocked(RuntimeError):
    """Another build is using the same staging folder."""


class PublishLocked(RuntimeError):
    """Another process is publishing to the same marts folder."""


BUSY = (BuildLocked, PublishLocked)  # what a second concurrent build meets


@contextmanager
def pid_lock(lock_path: Path, busy: Callable[[str], Exception]) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_path`` (released if the process dies) and write
    this process's pid in it; if another process holds it, raise ``busy(holder_pid)`` at once."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            raise busy(fh.read().strip() or "unknown") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def build_lock(staging: Path) -> Iterator[None]:
    """One build per staging folder at a time (each scenario has a staging folder of its own)."""
    with pid_lock(staging / BUILD_LOCK, lambda holder: BuildLocked(
            f"another dedi build (pid {holder}) is using the staging folder {staging}; wait for "
            "it to finish, or give this build a staging folder of its own (DEDI_STAGING_DIR)")):
        yield


@contextmanager
def marts_lock(marts_dir: Path, live: bool = True) -> Iterator[None]:
    """One publisher per marts folder (an advisory lock, released if the process dies).
    Re-entrant within a process: a build holds it from start to publication. ``live``: the
    published marts (not a scenario's), where ``--scenario`` is a way round."""
    marts_dir.mkdir(parents=True, exist_ok=True)
    key = str(marts_dir.resolve())
    if key in _HELD:
        yield
        return
    elsewhere = ("publish elsewhere (DEDI_MARTS_DIR, or --scenario NAME for a variant, which "
                 "has folders of its own)" if live else "give the scenario another name")
    with pid_lock(marts_dir / LOCK, lambda holder: PublishLocked(
            f"another dedi process (pid {holder}) is building or publishing to {marts_dir}; "
            f"wait for it to finish, or {elsewhere}")):
        _HELD.add(key)
        try:
            yield
        finally:
            _HELD.discard(key)


def refuse_if_busy(staging: Path, marts_dir: Path, live: bool = True) -> None:
    """Raise :data:`BUSY` now if another process holds the staging or marts folder (before a
    build spends seconds loading Dagster); the build takes the locks for itself later. A
    folder that does not exist is held by nobody, and is not created here."""
    if staging.exists():
        with build_lock(staging):
            pass
    if marts_dir.exists():
        with marts_lock(marts_dir, live):
            pass
