"""Docs that are generated stay generated (docs/assets.md), and the README stays short."""

from __future__ import annotations

from pipeline.release.asset_table import ASSETS_DOC, HEADER, asset_table
from tests.conftest import ROOT


def test_the_asset_table_in_docs_matches_the_definitions():
    from pipeline.definitions import build_definitions

    defs = build_definitions()
    text = ASSETS_DOC.read_text(encoding="utf-8")
    assert text == HEADER + asset_table(defs) + "\n", "run `uv run dedi docs`"
    keys = defs.resolve_asset_graph().get_all_asset_keys()
    assert len(keys) > 40 and all(f"`{k.to_user_string()}`" in text for k in keys)


def test_readme_is_short_and_has_a_section_per_user_group_with_commands_and_screenshots():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme) <= 15_000, f"README.md is {len(readme)} characters: move detail to docs/"
    for heading, command in (("## For ICS analysts", "uv run dedi report --icb E54000008"),
                             ("## For public health teams", "uv run dedi sql"),
                             ("## For researchers", "uv run dedi explain")):
        section = readme.split(heading, 1)[1].split("\n## ", 1)[0]
        assert command in section, heading
    for img in ("docs/img/explorer.png", "docs/img/report.png"):
        assert f"]({img})" in readme and (ROOT / img).stat().st_size > 50_000
    assert "duckdb data/marts" not in readme  # no command the environment lacks


def test_every_relative_link_in_the_readme_and_docs_resolves():
    import re

    broken = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            if "://" not in target and not (doc.parent / target).exists():
                broken.append(f"{doc.name}: {target}")
    assert not broken, broken


def test_method_sections_are_numbered_once_each_in_order():
    import re

    text = (ROOT / "docs" / "method.md").read_text(encoding="utf-8")
    numbers = [int(n) for n in re.findall(r"^## (\d+)\. ", text, re.M)]
    assert numbers == list(range(1, len(numbers) + 1)), numbers
