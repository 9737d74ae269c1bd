"""Rasterise PDF pages with Poppler's ``pdftoppm``: for OCR, and small for people to look at."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from pipeline.exceptions import CorruptFile, MissingDependency, OcrFailed

PREVIEW_DPI = 100
"""Enough to read a page on screen at a fraction of the size of the 300 dpi OCR render."""


def render_page(
    pdf: Path, page: int, out_dir: Path, *, dpi: int = 300, timeout: float = 120
) -> Path:
    """Render one page (1-based) as an 8-bit greyscale PGM for OCR; return its path.

    PGM, not PNG: compressing a noisy 300 dpi scan to PNG takes seconds, far
    longer than rendering it, and Tesseract reads both.
    """
    try:
        return _render(pdf, page, out_dir / f"page-{page:05d}", ["-gray"], ".pgm", dpi, timeout)
    except subprocess.TimeoutExpired as error:
        raise OcrFailed(f"pdftoppm timed out rendering page {page}") from error


def render_preview(
    pdf: Path, page: int, out_dir: Path, *, dpi: int = PREVIEW_DPI, timeout: float = 60
) -> Path:
    """Render one page (1-based) as a colour PNG for the review report; return its path."""
    try:
        return _render(pdf, page, out_dir / f"preview-{page:05d}", ["-png"], ".png", dpi, timeout)
    except subprocess.TimeoutExpired as error:
        raise CorruptFile(f"pdftoppm timed out rendering a preview of page {page}") from error


def _render(
    pdf: Path, page: int, root: Path, flags: list[str], suffix: str, dpi: int, timeout: float
) -> Path:
    exe = shutil.which("pdftoppm")
    if exe is None:
        raise MissingDependency("pdftoppm is not installed (Debian: apt-get install poppler-utils)")
    cmd = [exe, "-q", "-r", str(dpi), *flags, "-f", str(page), "-l", str(page)]
    # Absolute paths: a file name starting with "-" must not read as an option.
    cmd += ["-singlefile", str(pdf.resolve()), str(root.resolve())]
    proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    image = root.with_suffix(suffix)
    if proc.returncode != 0 or not image.exists():
        detail = proc.stderr.decode("utf-8", "replace").strip() or f"exit {proc.returncode}"
        raise CorruptFile(f"cannot render page {page}: {detail}")
    return image
