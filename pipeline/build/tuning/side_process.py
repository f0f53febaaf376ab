"""A second Python process for the build's GIL-bound side work: GX, maps and diagnostics.

A build runs its Dagster steps in one process, and they hold the GIL: the build is one busy
core (BENCHMARKS.md). Importing GX (~2.5 s of CPU) and matplotlib on a thread beside the steps
only took turns with them. While :func:`side_process` runs, one spawned process imports them
(and sklearn) at once on the second core, then runs what the steps hand it (:func:`run`): the
blocking GX checks (``pipeline.quality.expectations.validate_table``), the England maps and DX's
diagnostics (sklearn's factor analysis). A step waits for its result, so Dagster's order,
lineage and blocking checks are unchanged; the results are the same as in-process (tested).

``dedi build`` starts it before importing Dagster; a run that Dagster launches itself (a
schedule, the UI) starts one through the ``side`` resource (``pipeline/build/resources.py``). Where
none runs (a notebook, ``dedi report``), :func:`run` does the work in the caller's process.
"""

from __future__ import annotations

import importlib
import pickle
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import cache
from typing import Any

PRELOAD = ("pipeline.quality.expectations:warm_up", "pipeline.outputs.maps:warm_up",  # in this order
           "pipeline.method.diagnostics:warm_up")


def _function(ref: str) -> Callable[..., Any]:
    """``"package.module:function"`` -> the function (importing its module here: the build's
    process need not import matplotlib or GX to hand their work over)."""
    module, name = ref.split(":")
    return getattr(importlib.import_module(module), name)


def _serve(conn, preload: tuple[str, ...]) -> None:
    """The side process: preload, then run each ``(ref, args)`` that arrives and send
    back ``(True, result)`` or ``(False, exception)``, until the build closes the pipe.
    A call that arrives while preloading is answered before the next preload starts (the
    first check need not wait for matplotlib and sklearn)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's to handle
    broken = None  # a preload that failed fails every call, with its reason
    for i, ref in enumerate(preload):
        while i and conn.poll():
            if not _answer(conn, broken):
                return
        try:
            _function(ref)()
        except Exception as exc:  # noqa: BLE001 - reported to the build, call by call
            broken = RuntimeError(f"the build's side process could not load {ref}: "
                                  f"{type(exc).__name__}: {exc}")
            break
    while _answer(conn, broken):
        pass


def _answer(conn, broken: Exception | None) -> bool:
    """Receive one ``(ref, args)`` and send back its result; False once the build has closed
    its end (or died)."""
    try:
        ref, args = conn.recv()
    except EOFError:
        return False
    if broken is not None:
        conn.send((False, broken))
        return True
    try:
        reply = (True, _function(ref)(*args))
    except Exception as exc:  # noqa: BLE001 - raised again in the build's process
        try:
            pickle.dumps(exc)
        except Exception:  # noqa: BLE001 - an exception that cannot travel: its text
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        reply = (False, exc)
    try:
        conn.send(reply)
    except Exception as exc:  # noqa: BLE001 - a result that cannot travel
        conn.send((False, RuntimeError(f"{ref}: its result cannot be sent back to the "
                                       f"build: {type(exc).__name__}: {exc}")))
    return True


class SideProcess:
    """One spawned process running :func:`_serve`, fed one call at a time."""

    def __init__(self, preload: tuple[str, ...] = PRELOAD) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, preload), daemon=True,
                                   name="dedi-side")
        self.process.start()
        child.close()
        # one call at a time, in the order submitted, sent and awaited on this one thread
        self._calls = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dedi-side")

    def _call(self, ref: str, args: tuple) -> Any:
        try:
            self._conn.send((ref, args))
            ok, value = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise RuntimeError(
                f"the build's side process (pid {self.process.pid}: GX checks, maps, "
                f"diagnostics) stopped with exit code {self.process.exitcode}; run the "
                "build again") from exc
        if not ok:
            raise value
        return value

    def submit(self, ref: str, *args: Any) -> Future:
        """Start function ``ref`` (``"module:function"``) of ``args`` in the side process, after
        the calls already submitted; its future's result (or exception) is the call's."""
        return self._calls.submit(self._call, ref, args)

    def call(self, ref: str, *args: Any) -> Any:
        """Function ``ref`` of ``args``, in the side process (the GIL is free while this
        waits); its exception is raised here."""
        return self.submit(ref, *args).result()

    def close(self) -> None:
        self.process.terminate()  # a call still waiting then ends with EOF
        self.process.join()
        self._calls.shutdown(wait=True, cancel_futures=True)  # calls not yet sent: dropped
        self._conn.close()


_CURRENT: SideProcess | None = None


def run(ref: str, *args: Any) -> Any:
    """Function ``ref`` (``"module:function"``) of ``args``: in the build's side process when
    one runs, else here."""
    side = _CURRENT
    return _function(ref)(*args) if side is None else side.call(ref, *args)


def submit(ref: str, *args: Any) -> Future | None:
    """:meth:`SideProcess.submit` when a side process runs; None (nothing started) when none
    does."""
    side = _CURRENT
    return None if side is None else side.submit(ref, *args)


def later(ref: str, *args: Any) -> Callable[[], Any]:
    """A function giving ``ref`` of ``args``: started now in the side process when one runs
    (the function waits for it), else run here the first time the function is called."""
    future = submit(ref, *args)
    return future.result if future is not None else cache(lambda: _function(ref)(*args))


# (run id, name) -> (the inputs it was started from, its future): see start_early
_EARLY: dict[tuple[str, str], tuple[Any, Future]] = {}


def start_early(run_id: str, name: str, inputs: Any, ref: str, *args: Any) -> bool:
    """Start ``ref`` of ``args`` in the side process now, for a later step of run ``run_id`` to
    :func:`collect` as ``name`` from the same ``inputs``; False (nothing started) when no side
    process runs."""
    future = submit(ref, *args)
    if future is not None:
        _EARLY[(run_id, name)] = (inputs, future)
    return future is not None


def collect(run_id: str, name: str, inputs: Any) -> tuple[bool, Any]:
    """``(True, result)`` of what :func:`start_early` started as ``name`` for this run from
    equal ``inputs`` (its exception is raised here); ``(False, None)`` when nothing was."""
    started = _EARLY.pop((run_id, name), None)
    if started is None or started[0] != inputs:
        return False, None
    return True, started[1].result()


def to_pandas(table) -> Any:
    """An Arrow table from a DuckDB query as pandas, made by DuckDB: the same frame as the
    query's own ``.df()`` (every staging table checked)."""
    import duckdb

    return duckdb.from_arrow(table).df()


@contextmanager
def side_process(preload: tuple[str, ...] = PRELOAD) -> Iterator[SideProcess]:
    """Start the side process (it begins preloading at once); stop it when the block ends.
    Inside another such block (``dedi build`` starts it before importing Dagster), the
    running one is used and left to that block."""
    global _CURRENT
    if _CURRENT is not None:
        yield _CURRENT
        return
    side = SideProcess(preload)
    _CURRENT = side
    try:
        yield side
    finally:
        _CURRENT = None
        _EARLY.clear()
        side.close()
