"""Rasterise PDF pages with Poppler's ``pdftoppm``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from pipeline.exceptions import CorruptFile, MissingDependency, OcrFailed


def render_page(
    pdf: Path, page: int, out_dir: Path, *, dpi: int = 300, timeout: float = 120
) -> Path:
    """Render one page (1-based) as an 8-bit greyscale PGM; return its path.

    PGM, not PNG: compressing a noisy 300 dpi scan to PNG takes seconds, far
    longer than rendering it, and Tesseract reads both.
    """
    exe = shutil.which("pdftoppm")
    if exe is None:
        raise MissingDependency("pdftoppm is not installed (Debian: apt-get install poppler-utils)")
    root = out_dir / f"page-{page:05d}"
    cmd = [exe, "-q", "-r", str(dpi), "-gray", "-f", str(page), "-l", str(page)]
    # Absolute paths: a file name starting with "-" must not read as an option.
    cmd += ["-singlefile", str(pdf.resolve()), str(root.resolve())]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:
        raise OcrFailed(f"pdftoppm timed out rendering page {page}") from error
    image = root.with_suffix(".pgm")
    if proc.returncode != 0 or not image.exists():
        detail = proc.stderr.decode("utf-8", "replace").strip() or f"exit {proc.returncode}"
        raise CorruptFile(f"cannot render page {page}: {detail}")
    return image
