"""The researcher's notebook runs in the project environment on the demo build and draws."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

from tests.conftest import ROOT, dedi_env


def test_notebook_executes_on_the_demo_build(demo_build):
    nb = nbformat.read(ROOT / "notebooks" / "explore_marts.ipynb", as_version=4)
    with dedi_env(demo_build):  # the kernel inherits DEDI_MARTS_DIR: no path in the notebook
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 2  # the chart and the map
    text = "".join(o.get("text", "") for o in outputs)
    assert "data status: synthetic" in text and str(demo_build.marts.resolve()) in text
