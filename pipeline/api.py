"""The library face of the pipeline; ``cli.py`` is a thin layer over it.

Typical use::

    from pipeline.api import extract, run

    extract("data/raw/m04_export.txt").encoding        # 'cp1252'
    run(Path("data/raw"), Path("data/clean")).failed    # () when all went well
"""

from __future__ import annotations

from pipeline.batch import RunOptions, RunResult, run
from pipeline.extract import OcrOptions, extract
from pipeline.records import Document, OcrWord, Page, PageKind, SourceKind

__all__ = [
    "Document",
    "OcrOptions",
    "OcrWord",
    "Page",
    "PageKind",
    "RunOptions",
    "RunResult",
    "SourceKind",
    "extract",
    "run",
]
