"""Synthetic generators never read the index's own inputs (no IMD ranks or domains)."""

import ast

import numpy as np
import pandas as pd

from pipeline.demo import generator as demo
from tests.conftest import ROOT


def test_demo_inputs_do_not_depend_on_the_imd(tmp_path, monkeypatch):
    """Generate the demo twice, the second time with File 7's ranks shuffled: every file the
    generators derive (NHS App, GP patients, assisted bins, Census, File 8, ...) is identical."""
    demo.generate(tmp_path / "a")
    real_file7 = demo._file7

    def shuffled(df, scores, pop):
        out = real_file7(df, scores, pop)
        for c in [c for c in out.columns if "Rank" in c or "Score" in c]:
            out[c] = out[c].sample(frac=1, random_state=1).to_numpy()
        return out

    monkeypatch.setattr(demo, "_file7", shuffled)
    demo.generate(tmp_path / "b")
    a_files = {f.relative_to(tmp_path / "a") for f in (tmp_path / "a").rglob("*") if f.is_file()}
    changed = []
    for rel in sorted(a_files):
        if rel.parts[0] == "iod" and rel.name.startswith("File_7") or rel.name == "provenance.json":
            continue
        fa, fb = tmp_path / "a" / rel, tmp_path / "b" / rel
        same = (pd.read_parquet(fa).equals(pd.read_parquet(fb)) if rel.suffix == ".parquet"
                else fa.read_bytes() == fb.read_bytes())
        if not same:
            changed.append(str(rel))
    assert changed == []
    f7a = pd.read_csv(next((tmp_path / "a" / "iod").glob("File_7*")))
    f7b = pd.read_csv(next((tmp_path / "b" / "iod").glob("File_7*")))
    assert not np.array_equal(f7a.iloc[:, 5], f7b.iloc[:, 5])  # the shuffle did happen


def test_no_build_code_imports_the_generators():
    """Only the demo command reaches pipeline.demo.synthetic: no asset can generate data."""
    for f in (ROOT / "pipeline" / "defs").glob("*.py"):
        tree = ast.parse(f.read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)
                 for a in n.names} | {n.module for n in ast.walk(tree)
                                      if isinstance(n, ast.ImportFrom) and n.module}
        assert not {"synthetic", "pipeline.demo.synthetic", "pipeline.demo.generator", "demo"} & names, f.name
