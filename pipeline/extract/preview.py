"""Page images for people: each page of a scan or PDF as a small JPEG (about 100 dpi).

The review report shows them beside the cleaned text. A page being OCR'd is already
decoded at full resolution, so its preview is made from that image in the same task
(:func:`screen_jpeg`); :func:`page_preview` makes one from the source for the pages
that are not OCR'd in this run (text layers, pages taken from the cache).

A preview made in the OCR task saves the review a second render of the page, which
on a scanned batch costs about a fifth of the OCR itself.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from PIL import Image, ImageSequence

from pipeline._exec.pdftoppm import render_page
from pipeline.exceptions import CorruptFile
from pipeline.records import SourceKind

PREVIEW_DPI = 100
"""Enough to read a page on screen at a ninth of the pixels of a 300 dpi scan."""
PDF_DPI = 300
"""A PDF page is rendered as for OCR at this resolution, and reduced to :data:`PREVIEW_DPI`:
so a preview is the same, byte for byte, whether the OCR task or the review made it."""
MAX_PREVIEW = (1240, 1754)
"""Largest page image (A4 at 150 dpi): a scan without a resolution is shrunk to fit."""

QUALITY = 72
"""JPEG quality: text stays crisp enough to read at a tenth of a PNG's size."""


def screen_jpeg(image: Image.Image, dpi: float | None = None) -> bytes:
    """``image`` (a page scanned at ``dpi``) as a JPEG of about :data:`PREVIEW_DPI`."""
    image = on_white(image)
    factor = round(dpi / PREVIEW_DPI) if dpi else 1
    if factor > 1:
        image = image.reduce(factor)  # box filter in integer steps: fast, and enough for text
    image.thumbnail(MAX_PREVIEW, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=QUALITY, optimize=True)
    return buffer.getvalue()


def preview_of(image: Image.Image | Path, dpi: float | None) -> bytes | None:
    """:func:`screen_jpeg` of an image (or image file) just OCR'd, or ``None`` if it fails:
    the review then makes the preview itself, and says why if it cannot."""
    try:
        if isinstance(image, Path):
            with Image.open(image) as opened:
                return screen_jpeg(opened, dpi)
        return screen_jpeg(image, dpi)
    except Exception:  # Pillow's codecs raise many types; a preview must never cost the OCR
        return None


def page_preview(path: Path, kind: SourceKind, number: int) -> bytes:
    """The preview of page ``number`` (1-based) of a PDF or image file."""
    if kind is SourceKind.PDF:
        with (
            tempfile.TemporaryDirectory(prefix="minutes-preview-") as tmp,
            Image.open(render_page(path, number, Path(tmp), dpi=PDF_DPI)) as image,
        ):
            return screen_jpeg(image, PDF_DPI)
    with Image.open(path) as image:
        for n, frame in enumerate(ImageSequence.Iterator(image), start=1):
            if n == number:
                return screen_jpeg(frame, image_dpi(frame))
    raise CorruptFile(f"the image has no frame {number}")


def image_dpi(frame: Image.Image) -> int | None:
    """The resolution an image file declares, if it is a plausible scanning resolution."""
    dpi = frame.info.get("dpi")
    if isinstance(dpi, tuple) and dpi and dpi[0]:
        value = round(float(dpi[0]))
        return value if 70 <= value <= 1200 else None
    return None


def on_white(image: Image.Image, modes: frozenset[str] = frozenset({"L", "RGB"})) -> Image.Image:
    """``image`` in one of ``modes``, or else in grey or RGB with any transparency on white."""
    if image.mode in modes:
        return image
    if image.mode in {"RGBA", "LA", "P", "PA"}:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", image.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("L")
