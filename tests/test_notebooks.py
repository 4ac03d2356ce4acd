"""The research notebooks are generated from notebooks/make_notebooks.py, committed without outputs, and run
top to bottom (on the shared corpus, or on corpus/samples when it is absent) so they never rot."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ["01_explore_scan.ipynb", "02_measure_detector.ipynb"]


def _generator():
    spec = importlib.util.spec_from_file_location("make_notebooks", NOTEBOOKS / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_is_generated_and_stripped(name: str) -> None:
    text = (NOTEBOOKS / name).read_text(encoding="utf-8")
    assert text == _generator().render(name), "run: python notebooks/make_notebooks.py"
    nb = nbformat.reads(text, as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")


@pytest.mark.slow
@pytest.mark.parametrize("shared", ["default", "absent"])
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom(name: str, shared: str, monkeypatch: pytest.MonkeyPatch,
                                     tmp_path: Path) -> None:
    """On the shared corpus beside the checkout, and on corpus/samples when there is none."""
    from nbclient import NotebookClient

    if shared == "absent":
        monkeypatch.setenv("GOUJI_SHARED", str(tmp_path / "no-shared"))
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(nb, timeout=1200, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 2  # the charts were drawn
