"""Hub siting as a Dagster job with run config (``dedi_hubs``): the same operation as
``dedi hubs``, launched from the Dagster UI's launchpad. It reads a published release (or a
scenario) and writes ``<marts>/hubs/<name>/``; it never touches ``current``."""

import dagster as dg

from pipeline.outputs.hubs import HubsRequest, write_hubs


class HubsConfig(dg.Config):
    """The options of ``dedi hubs`` (docs/method.md, "Where to put digital health hubs")."""

    area: str = "england"         # icb24:CODE, ltla24:CODE, region:CODE or england
    k: int = 10                   # hubs, existing ones included
    radius_km: float = 2.0        # straight-line reach
    candidates: str = "lsoa"      # lsoa | gp | schools | a venues CSV path
    existing: str | None = None   # a venues CSV of hubs already open
    demand: str = "dx-deciles:1-3"
    name: str | None = None
    scenario: str | None = None
    travel_times: str | None = None  # CSV origin_lsoa21, site_id, minutes
    max_minutes: float | None = None
    objective: str = "coverage"   # coverage (maximal covering) | distance (p-median)


@dg.op(description="Pick the k sites that bring the most high-risk residents within reach "
       "(exact maximal covering, pipeline/method/siting.py) and write <marts>/hubs/<name>/.")
def site_hubs(context: dg.OpExecutionContext, config: HubsConfig) -> str:
    folder = write_hubs(HubsRequest(**config.model_dump()))
    context.log.info(f"wrote {folder}")
    context.add_output_metadata({"folder": dg.MetadataValue.path(str(folder)),
                                 "report": dg.MetadataValue.path(str(folder / "report.html"))})
    return str(folder)


@dg.job(description="Where to put digital health hubs (dedi hubs), with run config.")
def dedi_hubs():
    site_hubs()
