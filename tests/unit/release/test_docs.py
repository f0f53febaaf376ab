"""Docs that are generated stay generated: the README's asset table and the user sections."""

from __future__ import annotations

from pipeline.release.asset_table import END, START, asset_table
from tests.conftest import ROOT


def test_readme_asset_table_matches_the_definitions():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split(START, 1)[1].split(END, 1)[0].strip()
    assert block == asset_table().strip(), "run `uv run dedi docs`"
    from pipeline.definitions import build_definitions

    keys = build_definitions().resolve_asset_graph().get_all_asset_keys()
    assert len(keys) > 40 and all(f"`{k.to_user_string()}`" in block for k in keys)


def test_readme_has_a_section_per_user_group_with_commands_and_screenshots():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for heading, command in (("## For ICS analysts", "uv run dedi report --icb E54000008"),
                             ("## For public health teams", "uv run dedi sql"),
                             ("## For researchers", "uv run dedi explain")):
        section = readme.split(heading, 1)[1].split("\n## ", 1)[0]
        assert command in section, heading
    for img in ("docs/img/explorer.png", "docs/img/report.png"):
        assert f"]({img})" in readme and (ROOT / img).stat().st_size > 50_000
    assert "duckdb data/marts" not in readme  # no command the environment lacks
