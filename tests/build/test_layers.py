"""Layers you can see: every table the build creates has one SQL model or one named owner."""

import duckdb

from tests.conftest import ROOT

LAYERS = ("staging", "intermediate", "marts")
MODELS = {p.stem: p.parent.name for layer in LAYERS for p in (ROOT / "assets" / layer).glob("*.sql")}
# assets/views/v_*.sql are views created in the published warehouse (pipeline/release/dictionary.py),
# assets/queries/*.sql worked examples for analysts: neither is a staging table.
VIEWS = sorted((ROOT / "assets" / "views").glob("*.sql"))
HELPER_TABLES = {"_sources": "pipeline.defs._staging.record_source"}


def _owners() -> dict[str, str]:
    """Table -> the asset that writes it (its own name, or declared in dedi/also_writes)."""
    from pipeline.definitions import defs

    out = {}
    for spec in defs.resolve_all_asset_specs():
        name = spec.key.to_user_string()
        out[name] = name
        for t in spec.metadata.get("dedi/also_writes", []):
            assert t not in out, f"table {t} has two owners: {out[t]} and {name}"
            out[t] = name
    return out


def test_every_staging_table_has_one_model_or_owner(demo_build):
    con = duckdb.connect(str(demo_build.staging / "staging.duckdb"), read_only=True)
    tables = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()}
    owners = _owners()
    orphans = sorted(t for t in tables
                     if t not in MODELS and t not in owners and t not in HELPER_TABLES)
    assert orphans == [], f"tables with no model file or owner: {orphans}"
    assert set(MODELS) <= tables, f"models never built: {sorted(set(MODELS) - tables)}"


def test_models_sit_in_their_layer():
    assert MODELS, "no SQL models found"
    for name, layer in MODELS.items():
        if layer == "staging":
            assert name.startswith("stg_"), name
        elif layer == "intermediate":
            assert name.startswith("int_"), name
        else:
            assert layer == "marts" and not name.startswith(("stg_", "int_")), (name, layer)
    assert VIEWS and all(v.stem.startswith("v_") for v in VIEWS)
    files = sorted(p.name for p in (ROOT / "assets").glob("*/*.sql"))
    assert len(files) == len(set(files)), "a model name is used in two layers"
    assert not list((ROOT / "assets").glob("*.sql")), "SQL models belong in a layer folder"
