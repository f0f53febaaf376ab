"""A key DEDI does not know, in settings.yaml or index_spec.yaml, stops with its name and the
nearest valid one; the shipped files hold exactly the keys of pipeline/config/schema.py."""

import pytest
import yaml

from pipeline.config import SETTINGS_FILE, schema, settings
from pipeline.errors import SettingsError, SpecError
from pipeline.method.spec import SPEC_FILE, load_spec


def _paths(tree: dict, sch: dict, prefix: str = "") -> set[str]:
    out = set()
    for k, v in tree.items():
        path = f"{prefix}.{k}" if prefix else str(k)
        sub = sch.get(schema.ANY, sch.get(str(k)))
        out.add(path if schema.ANY not in sch else f"{prefix}.*")
        if isinstance(v, dict) and isinstance(sub, dict):
            out |= _paths(v, sub, f"{prefix}.*" if schema.ANY in sch else path)
    return out


def _schema_paths(sch: dict, prefix: str = "") -> set[str]:
    out = set()
    for k, v in sch.items():
        path = f"{prefix}.{k}" if prefix else k
        out.add(path)
        if isinstance(v, dict):
            out |= _schema_paths(v, path)
    return out


@pytest.mark.parametrize(("path", "sch"), [(SETTINGS_FILE, schema.SETTINGS),
                                           (SPEC_FILE, schema.INDEX_SPEC)],
                         ids=["settings", "index_spec"])
def test_the_shipped_files_hold_exactly_the_schema(path, sch):
    tree = yaml.safe_load(path.read_text())
    assert schema.unknown_key(tree, sch) is None
    optional = {"dx.indicators.*.local", "dx.indicators.*.double_counts"}  # per indicator
    assert _schema_paths(sch) - _paths(tree, sch) <= optional


def test_a_misspelt_settings_key_names_it_and_the_nearest(tmp_path, monkeypatch):
    cfg = yaml.safe_load(SETTINGS_FILE.read_text())
    cfg["suppression"] = {"min_cout": 20}
    f = tmp_path / "settings.yaml"
    f.write_text(yaml.safe_dump(cfg))
    monkeypatch.setenv("DEDI_SETTINGS", str(f))
    with pytest.raises(SettingsError, match=r"unknown key 'suppression.min_cout' \(did you mean "
                       r"'suppression.min_count'\?\)") as exc:
        settings()
    assert str(f) in str(exc.value) and "\n" not in str(exc.value)


def test_a_misspelt_spec_key_names_it_and_the_nearest(tmp_path):
    spec = yaml.safe_load(SPEC_FILE.read_text())
    spec["dx"]["indicators"]["age_75plus"]["wieght"] = 2
    f = tmp_path / "index_spec.yaml"
    f.write_text(yaml.safe_dump(spec))
    with pytest.raises(SpecError, match=r"unknown key 'dx.indicators.age_75plus.wieght' \(did "
                       r"you mean 'dx.indicators.age_75plus.weight'\?\)"):
        load_spec(f)
    del spec["dx"]["indicators"]["age_75plus"]["wieght"]
    spec["dx"]["aggregaton"] = "linear"
    f.write_text(yaml.safe_dump(spec))
    with pytest.raises(SpecError, match=r"'dx.aggregaton' \(did you mean 'dx.aggregation'\?\)"):
        load_spec(f)
