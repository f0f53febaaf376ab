"""A second Python process for the build's GIL-bound side work: GX, maps and diagnostics.

A build runs its Dagster steps in one process, and they hold the GIL: the build is one busy
core (BENCHMARKS.md). :class:`SideProcess` is one spawned process that imports GX, matplotlib
and sklearn at once on the second core (``PRELOAD``), then runs the functions a step hands
it (the GX checks, the England maps, DX's diagnostics) while the build goes on. A step waits
for its result (``call``) or collects it later in the same step (``submit``), so Dagster's
order, lineage and blocking checks are unchanged; the results are the same as in-process
(tested). Its lifecycle belongs to the ``side`` resource (``pipeline/build/resources.py``):
started when a run begins, stopped when it ends; ``dedi build`` starts one for all its runs
(a ``with`` block) and hands it to the resource.
"""

from __future__ import annotations

import pickle
import signal
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


def load_gx() -> None:
    """Import Great Expectations and build its context (the first check comes soonest)."""
    from pipeline.quality import expectations

    expectations.warm_up()


def load_matplotlib() -> None:
    """Load matplotlib's fonts and renderer (the England maps)."""
    from pipeline.outputs import maps

    maps.warm_up()


def load_sklearn() -> None:
    """Import sklearn's factor analysis (DX's diagnostics)."""
    from pipeline.method import diagnostics

    diagnostics.warm_up()


PRELOAD = (load_gx, load_matplotlib, load_sklearn)  # in the order the build needs them


def _serve(conn, preload: tuple[Callable[[], None], ...]) -> None:
    """The side process: preload, then run each ``(function, args)`` that arrives and send back
    ``(True, result)`` or ``(False, exception)``, until the build closes the pipe. A call that
    arrives while preloading is answered before the next preload starts (the first check need
    not wait for matplotlib and sklearn)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's to handle
    broken = None  # a preload that failed fails every call, with its reason
    for i, load in enumerate(preload):
        while i and conn.poll():
            if not _answer(conn, broken):
                return
        try:
            load()
        except Exception as exc:  # noqa: BLE001 - reported to the build, call by call
            broken = RuntimeError(f"the build's side process could not load "
                                  f"{load.__module__}.{load.__qualname__}: "
                                  f"{type(exc).__name__}: {exc}")
            break
    while _answer(conn, broken):
        pass


def _answer(conn, broken: Exception | None) -> bool:
    """Receive one ``(function, args)`` and send back its result; False once the build has
    closed its end (or died)."""
    try:
        fn, args = conn.recv()
    except EOFError:
        return False
    if broken is not None:
        conn.send((False, broken))
        return True
    try:
        reply = (True, fn(*args))
    except Exception as exc:  # noqa: BLE001 - raised again in the build's process
        try:
            pickle.dumps(exc)
        except Exception:  # noqa: BLE001 - an exception that cannot travel: its text
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        reply = (False, exc)
    try:
        conn.send(reply)
    except Exception as exc:  # noqa: BLE001 - a result that cannot travel
        conn.send((False, RuntimeError(f"{fn.__qualname__}: its result cannot be sent back to "
                                       f"the build: {type(exc).__name__}: {exc}")))
    return True


class SideProcess:
    """One spawned process running :func:`_serve`, fed one call at a time, in order."""

    def __init__(self, preload: tuple[Callable[[], None], ...] = PRELOAD) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, preload), daemon=True,
                                   name="dedi-side")
        self.process.start()
        child.close()
        # one call at a time, in the order submitted, sent and awaited on this one thread
        self._calls = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dedi-side")

    def _call(self, fn: Callable[..., Any], args: tuple) -> Any:
        try:
            self._conn.send((fn, args))
            ok, value = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise RuntimeError(
                f"the build's side process (pid {self.process.pid}: GX checks, maps, "
                f"diagnostics) stopped with exit code {self.process.exitcode}; run the "
                "build again") from exc
        if not ok:
            raise value
        return value

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Start ``fn(*args)`` in the side process after the calls already submitted; the
        future's result (or exception) is the call's. ``fn`` is a module-level function."""
        return self._calls.submit(self._call, fn, args)

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in the side process (the GIL is free while this waits)."""
        return self.submit(fn, *args).result()

    def __enter__(self) -> SideProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.process.terminate()  # a call still waiting then ends with EOF
        self.process.join()
        self._calls.shutdown(wait=True, cancel_futures=True)  # calls not yet sent: dropped
        self._conn.close()
