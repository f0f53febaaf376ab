"""Running a build around Dagster: the run, change detection (versions), locks and resources;
speed tuning in ``tuning/``."""
