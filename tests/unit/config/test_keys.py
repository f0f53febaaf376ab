"""All configuration lives in settings.yaml and index_spec.yaml, and every key is read."""

import ast

import pytest
import yaml

from pipeline.config import SETTINGS_FILE, schema
from pipeline.method.spec import SPEC_FILE
from tests.conftest import ROOT

# Maps whose keys are data (names of domains, indicators, ...), not configuration keys.
DATA_MAPS = schema.data_maps(schema.SETTINGS) | schema.data_maps(schema.INDEX_SPEC)


def _literals() -> set[str]:
    """Every string constant in the pipeline's code: the keys it can read."""
    out: set[str] = set()
    for f in (ROOT / "pipeline").rglob("*.py"):
        out |= {n.value for n in ast.walk(ast.parse(f.read_text()))
                if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return out


def unread_keys(tree: dict, literals: set[str], prefix: str = "") -> list[str]:
    """Key paths of ``tree`` that no code names (children of DATA_MAPS entries are data)."""
    dead = []
    for k, v in tree.items():
        path = f"{prefix}.{k}" if prefix else str(k)
        if prefix not in DATA_MAPS and str(k) not in literals:
            dead.append(path)
        if isinstance(v, dict):
            dead += unread_keys(v, literals, path)
    return dead


@pytest.mark.parametrize("path", [SETTINGS_FILE, SPEC_FILE], ids=["settings", "index_spec"])
def test_no_dead_configuration_keys(path):
    assert unread_keys(yaml.safe_load(path.read_text()), _literals()) == []


def test_a_dead_key_is_caught():
    literals = _literals()
    spec = yaml.safe_load(SPEC_FILE.read_text())
    spec["monte_carlo"]["never_read_anywhere"] = 1
    spec["dx"]["indicators"]["connectivity"]["colour"] = "blue"
    assert unread_keys(spec, literals) == ["dx.indicators.connectivity.colour",
                                           "monte_carlo.never_read_anywhere"]
