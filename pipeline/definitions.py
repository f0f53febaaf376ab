"""Dagster ``Definitions`` for DEDI: assembles the per-source modules, nothing else.

Each module of ``pipeline/defs/`` holds a source's (or a layer's) assets with their checks;
``automation`` holds the job, schedule and sensor; ``pipeline/build/resources.py`` the resources.
"""

import warnings

import dagster as dg

from pipeline.build.resources import build_resources
from pipeline.build.tuning.side_process import SideProcess
from pipeline.defs import (
    automation,
    census,
    connectivity,
    geography,
    index,
    indicators,
    iod,
    local,
    local_la,
    marts,
    nhs_app,
    raw,
    schools,
    validation,
)

# Dagster's own SensorDefinition.with_attributes passes owners=None to a beta parameter, which
# printed a BetaWarning on every build; DEDI sets no sensor owners
warnings.filterwarnings("ignore", message="Parameter `owners` of initializer `SensorDefinition",
                        category=dg.BetaWarning)

MODULES = [iod, geography, census, connectivity, nhs_app, schools, local, local_la, indicators,
           index, validation, marts]


def build_definitions(side: SideProcess | None = None) -> dg.Definitions:
    """All definitions for the current environment (paths from DEDI_* env vars); ``side``: a
    running side process for their runs to share (``dedi build``)."""
    return dg.Definitions(
        assets=[*raw.RAW_ASSETS, *raw.versioned(dg.load_assets_from_modules(MODULES))],
        asset_checks=dg.load_asset_checks_from_modules(MODULES),
        jobs=automation.JOBS, schedules=automation.SCHEDULES,
        sensors=automation.SENSORS,
        resources=build_resources(side), executor=dg.in_process_executor,
    )


defs = build_definitions()
