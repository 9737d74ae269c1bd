"""Run Tesseract on one page image and read back its text and word boxes.

One Tesseract process per page writes both the plain text (``txt``) and the
word table (``tsv``), so a page is recognised once, not once per output.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytesseract
from pytesseract.pytesseract import TesseractError, TesseractNotFoundError

from pipeline.exceptions import MissingDependency, OcrFailed
from pipeline.records import OcrWord

# Tesseract's OpenMP threads fight the process pool for cores; one page per
# process at a time is faster overall on a batch.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


@dataclass(frozen=True, slots=True)
class OcrResult:
    text: str
    words: tuple[OcrWord, ...]


@cache
def languages() -> frozenset[str]:
    """Language models installed for Tesseract."""
    try:
        return frozenset(pytesseract.get_languages(config=""))
    except (TesseractNotFoundError, FileNotFoundError) as error:
        raise MissingDependency(
            "tesseract is not installed (Debian: apt-get install tesseract-ocr tesseract-ocr-swe)"
        ) from error


def version() -> str:
    """Tesseract's version string, e.g. ``5.3.0``."""
    return str(pytesseract.get_tesseract_version())


def recognise(
    image: Path, *, language: str = "swe", dpi: int = 300, psm: int = 3, timeout: float = 300
) -> OcrResult:
    """OCR one page image file.

    ``psm`` 3 (fully automatic layout) keeps the paragraph and list structure
    of minutes; ``dpi`` tells Tesseract the scale when the image does not.
    """
    missing = set(language.split("+")) - languages()
    if missing:
        raise MissingDependency(
            f"Tesseract has no model for {', '.join(sorted(missing))} "
            f"(Debian: apt-get install tesseract-ocr-{'-'.join(sorted(missing))})"
        )
    with tempfile.TemporaryDirectory(prefix="minutes-ocr-") as tmp:
        base = Path(tmp) / "page"
        try:
            pytesseract.pytesseract.run_tesseract(
                str(image.resolve()),  # a leading "-" must not read as an option
                str(base),
                extension="txt",
                lang=language,
                config=f"--psm {psm} --dpi {dpi} -c tessedit_create_tsv=1",
                timeout=timeout,
            )
        except RuntimeError as error:  # pytesseract's timeout
            raise OcrFailed(f"Tesseract timed out after {timeout:g} s") from error
        except TesseractError as error:
            raise OcrFailed(f"Tesseract failed: {error.message}") from error
        except (TesseractNotFoundError, subprocess.SubprocessError) as error:
            raise MissingDependency("tesseract could not be run") from error
        text = base.with_suffix(".txt").read_text(encoding="utf-8")
        tsv = base.with_suffix(".tsv").read_text(encoding="utf-8")
    return OcrResult(text=_tidy(text), words=_parse_tsv(tsv))


def _tidy(text: str) -> str:
    # Tesseract ends every page with a form feed; pages are joined elsewhere.
    return text.replace("\f", "").rstrip() + "\n" if text.strip() else ""


def _parse_tsv(tsv: str) -> tuple[OcrWord, ...]:
    words: list[OcrWord] = []
    lines: dict[tuple[str, str, str, str], int] = {}
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text:
            continue
        key = (row["page_num"], row["block_num"], row["par_num"], row["line_num"])
        line = lines.setdefault(key, len(lines))
        words.append(
            OcrWord(
                text=text,
                confidence=max(0.0, float(row["conf"])),
                left=int(row["left"]),
                top=int(row["top"]),
                width=int(row["width"]),
                height=int(row["height"]),
                line=line,
            )
        )
    return tuple(words)
