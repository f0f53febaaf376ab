"""The keys ``settings.yaml`` and ``index_spec.yaml`` may hold: a misspelt key stops the build
with one line naming it and the nearest valid name, instead of being ignored.

A leaf is ``None``; ``{"*": ...}`` is a map whose keys are data (domain, indicator, route or
LA names), each holding what ``"*"`` holds. Adding a key to either file means adding it here
(``tests/unit/config/test_schema.py`` checks that both files match exactly).
"""

from __future__ import annotations

import difflib
from typing import Any

ANY = "*"
_LEAF = None


def _leaves(*names: str) -> dict[str, None]:
    return dict.fromkeys(names, _LEAF)


SETTINGS: dict[str, Any] = {
    "paths": _leaves("raw_dir", "staging_dir", "marts_dir", "demo_staging_dir", "demo_marts_dir"),
    "iod": {"domain_weights": {ANY: _LEAF},
            **_leaves("exponential_constant", "england_lsoa_count", "england_lsoa11_count"),
            "method_changes_2019_2025": {ANY: _leaves("comparable", "note")}},
    "area_summary": _leaves("geographies", "extent_full_weight_upto_percentile",
                            "extent_slide_from", "extent_slide_to",
                            "local_concentration_population_share"),
    "indicators": {"nhs_app": _leaves("first_month", "min_registered_patients"),
                   "school_fsm": _leaves("k_primary", "k_secondary", "distance_floor_m"),
                   "local_proxies": {"denominators": {ANY: _LEAF}}},
    "validation": _leaves("references"),
    "raw_checks": {"max_share_outside": _LEAF, "max_share_unmatched": _LEAF,
                   "quarantine": _leaves("local_proxies")},
    "fetch": _leaves("read_timeout_seconds", "min_kb_per_second", "deadline_floor_seconds",
                     "deadline_seconds"),
    "publish": _leaves("keep_releases", "prune_grace_seconds"),
    "scale_out": _leaves("local_by_la", "workers", "storage"),
    "duckdb": {ANY: _LEAF},  # any DuckDB configuration option, passed through
    "suppression": _leaves("min_count"),
    "checks": _leaves("imd_reproduction_max_mean_abs_diff"),
    "hubs": _leaves("time_limit_seconds", "median_max_pairs"),
    "evaluate": {**_leaves("comparisons_per_unit", "match_decile", "match_geography",
                           "bootstrap_draws", "level", "max_pre_periods", "max_post_periods",
                           "min_clusters", "seed"),
                 "iod_reference_dates": {ANY: _LEAF}},
}

INDEX_SPEC: dict[str, Any] = {
    "dx": {**_leaves("variant", "aggregation", "normalisation", "weighting", "min_indicators"),
           "subdomains": {ANY: _leaves("weight")},
           "indicators": {ANY: _leaves("column", "direction", "weight", "subdomain",
                                       "double_counts", "local")},
           "local_layer": _leaves("weight")},
    "dedi": _leaves("dx_weight"),
    "monte_carlo": _leaves("draws", "seed", "dx_weight_half_width", "dirichlet_concentration",
                           "normalisations", "aggregations", "leave_one_out"),
    "diagnostics": _leaves("double_counting_correlation"),
}


def unknown_key(tree: Any, schema: dict[str, Any], prefix: str = "") -> str | None:
    """The first key of ``tree`` the schema does not know, as ``'a.b' (did you mean 'a.c'?)``;
    None when every key is known."""
    if not isinstance(tree, dict):
        return None
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if ANY in schema:
            sub = schema[ANY]
        elif str(key) in schema:
            sub = schema[str(key)]
        else:
            near = difflib.get_close_matches(str(key), [str(k) for k in schema], n=1, cutoff=0.5)
            hint = (f"did you mean '{f'{prefix}.' if prefix else ''}{near[0]}'?" if near else
                    f"valid here: {', '.join(sorted(map(str, schema)))}")
            return f"'{path}' ({hint})"
        if isinstance(sub, dict):
            found = unknown_key(value, sub, path)
            if found:
                return found
    return None


def data_maps(schema: dict[str, Any], prefix: str = "") -> set[str]:
    """The dotted paths of the maps whose keys are data."""
    out: set[str] = set()
    for key, sub in schema.items():
        path = f"{prefix}.{key}" if prefix else key
        if key == ANY:
            out.add(prefix)
        if isinstance(sub, dict):
            out |= data_maps(sub, prefix if key == ANY else path)
    return out
