"""The analysts' notebook runs against tables written from the sample corpus, so it never rots."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT

from pipeline.segment import segment
from pipeline.tables import build_tables, write_tables

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = ROOT / "notebooks" / "analysis.ipynb"


def test_committed_notebook_has_no_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    assert all(not cell.outputs and cell.execution_count is None for cell in code)


def test_notebook_runs_on_the_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sources = sorted(p for p in FIXTURES.glob("m0*.*") if not p.name.endswith(".json"))
    docs = [(p.name, segment(p.read_text(encoding="utf-8"), source=p.name)) for p in sources]
    write_tables(tmp_path, build_tables(docs))

    monkeypatch.setenv("MINUTES_CLEAN", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # the kernel spec runs "python": make it this virtualenv's
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()

    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 4  # meetings per year, attendance, participants, themes
    text = "\n".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in outputs)
    assert f"reading tables from {tmp_path}" in text
    assert "8 meetings, 24 people, 16 organisations" in text
    assert "Johan Ekberg" in text  # the most active participant of the sample corpus
    assert "Tema: när kylan kommer" in text
