"""The library face of the pipeline; ``cli.py`` is a thin layer over it.

Typical use::

    from pipeline.api import extract, run

    extract("data/raw/m04_export.txt").encoding        # 'cp1252'
    run(Path("data/raw"), Path("data/clean")).failed    # () when all went well
"""

from __future__ import annotations

from pipeline.batch import CORRECTION_FIELDS, RunOptions, RunResult, run
from pipeline.extract import OcrOptions, extract
from pipeline.extract.text import decode
from pipeline.normalise import Normalizer, normalize
from pipeline.normalise.fixes import reflow
from pipeline.records import Change, Document, Normalized, OcrWord, Page, PageKind, SourceKind
from pipeline.segment import segment, segmented_to_json, segmented_to_text

__all__ = [
    "CORRECTION_FIELDS",
    "Change",
    "Document",
    "Normalized",
    "Normalizer",
    "OcrOptions",
    "OcrWord",
    "Page",
    "PageKind",
    "RunOptions",
    "RunResult",
    "SourceKind",
    "decode",
    "extract",
    "normalize",
    "reflow",
    "run",
    "segment",
    "segmented_to_json",
    "segmented_to_text",
]
