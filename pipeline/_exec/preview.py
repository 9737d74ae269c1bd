"""Render PDF pages small, for people to look at (the review report), with ``pdftoppm``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from pipeline.exceptions import CorruptFile, MissingDependency

PREVIEW_DPI = 100
"""Enough to read a page on screen at a fraction of the size of the 300 dpi OCR render."""


def render_preview(
    pdf: Path, page: int, out_dir: Path, *, dpi: int = PREVIEW_DPI, timeout: float = 60
) -> Path:
    """Render one page (1-based) of ``pdf`` as a PNG in ``out_dir``; return its path."""
    exe = shutil.which("pdftoppm")
    if exe is None:
        raise MissingDependency("pdftoppm is not installed (Debian: apt-get install poppler-utils)")
    root = out_dir / f"preview-{page:05d}"
    cmd = [exe, "-q", "-r", str(dpi), "-png", "-f", str(page), "-l", str(page)]
    # Absolute paths: a file name starting with "-" must not read as an option.
    cmd += ["-singlefile", str(pdf.resolve()), str(root.resolve())]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:
        raise CorruptFile(f"pdftoppm timed out rendering a preview of page {page}") from error
    image = root.with_suffix(".png")
    if proc.returncode != 0 or not image.exists():
        detail = proc.stderr.decode("utf-8", "replace").strip() or f"exit {proc.returncode}"
        raise CorruptFile(f"cannot render page {page}: {detail}")
    return image
