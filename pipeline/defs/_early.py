"""Side work started as soon as its inputs are written: one Dagster success hook.

A build runs its steps one after another, and GX checks and DX's diagnostics run in the
build's side process (``pipeline/build/tuning/side_process.py``). When a step whose tables such work reads
succeeds, this hook starts that work there at once; the step that owns it (a check, or
``indicator_diagnostics``) runs later and collects the result, so the work overlaps the steps
in between. Only *when* the work runs changes: it reads the same tables (each written once per
run, by its asset's step, upstream of the trigger), and a step that finds nothing started (no
side process, another job, different inputs) does the work itself.
"""

from collections.abc import Callable
from typing import Any

import dagster as dg

from pipeline.build.tuning.side_process import collect, run, start_early

# op_tags: among the steps ready to run, Dagster's in-process executor runs the higher first
FIRST = {"dagster/priority": "1"}  # a step whose table most side work needs
LATE = {"dagster/priority": "-1"}  # a step that collects side work: after the other ready ones

# asset -> what to start once its step has succeeded: f(run_id, staging connection)
STARTERS: dict[str, list[Callable[[str, object], None]]] = {}


def start_after(asset: str, starter: Callable[[str, object], None]) -> None:
    """Run ``starter(run_id, conn)`` when the step of ``asset`` succeeds (jobs with the hook)."""
    STARTERS.setdefault(asset, []).append(starter)


def side_work(after: str, owner: str, ref: str, args: Callable[[Any], tuple]
              ) -> Callable[[str, Any], Any]:
    """Side work ``ref(*args(conn))`` of step ``owner``, started when the step of ``after``
    succeeds; returns ``result(run_id, conn)``: what was started for this run, else the work
    done now (in the side process when one runs)."""
    start_after(after, lambda run_id, conn: start_early(run_id, owner, None, ref, *args(conn)))

    def result(run_id: str, conn) -> Any:
        done, out = collect(run_id, owner, None)
        return out if done else run(ref, *args(conn))

    return result


@dg.success_hook(required_resource_keys={"staging_db"})
def start_side_work(context: dg.HookContext) -> None:
    """Start the side work whose inputs the step just wrote (see the module's docstring)."""
    starters = STARTERS.get(context.step_key)
    if not starters:
        return
    try:
        with context.resources.staging_db.get_connection() as conn:
            for starter in starters:
                starter(context.run_id, conn)
    except Exception as exc:  # noqa: BLE001 - the owning step then does the work itself
        context.log.warning(f"side work after {context.step_key} not started early: "
                            f"{type(exc).__name__}: {exc}")
