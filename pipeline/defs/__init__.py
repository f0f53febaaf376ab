"""Dagster definitions, one module per source plus the marts; checks sit beside their assets."""
