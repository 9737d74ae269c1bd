"""Scanned page images: PNG, JPEG, TIFF (multi-page too), and the like."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

from PIL import Image, ImageSequence, UnidentifiedImageError

from pipeline.exceptions import CorruptFile
from pipeline.extract.ocr import OcrOptions, ocr_page
from pipeline.records import Page

MAX_PIXELS = 120_000_000
"""Refuse images larger than this (A3 at 600 dpi is ~70 MP; an A0 sheet at 300 dpi ~140 MP)."""
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def read_image(path: Path, options: OcrOptions) -> tuple[Page, ...]:
    """OCR every frame of an image file, one page per frame."""
    pages: list[Page] = []
    with tempfile.TemporaryDirectory(prefix="minutes-img-") as tmp, _open(path) as image:
        for index, frame in enumerate(ImageSequence.Iterator(image), start=1):
            dpi = _dpi(frame)
            # PNM: uncompressed, so writing it costs next to nothing, and Tesseract reads it.
            page_file = Path(tmp) / f"page-{index:05d}.pnm"
            try:
                _for_ocr(frame).save(page_file, "PPM")
            except (OSError, ValueError) as error:
                raise CorruptFile(f"cannot decode image frame {index}: {error}") from error
            pages.append(ocr_page(page_file, index, options, dpi=dpi or options.dpi))
    return tuple(pages)


def _open(path: Path) -> Image.Image:
    with warnings.catch_warnings():
        # Pillow only warns below twice its limit; a bomb is an error here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(path)
            width, height = image.size
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
            raise CorruptFile(f"image too large to be a page scan ({error})") from error
        except UnidentifiedImageError as error:
            raise CorruptFile("not a readable image") from error
        except OSError as error:
            raise CorruptFile(f"cannot read image: {error}") from error
    if width * height > MAX_PIXELS:
        image.close()
        raise CorruptFile(
            f"image too large to be a page scan ({width}x{height} pixels, limit {MAX_PIXELS:,})"
        )
    return image


def _for_ocr(frame: Image.Image) -> Image.Image:
    # Tesseract reads 1-bit, grey and RGB; palette and alpha images need converting.
    frame.load()
    if frame.mode in {"1", "L", "RGB"}:
        return frame
    if frame.mode in {"RGBA", "LA", "P", "PA"}:
        background = Image.new("RGB", frame.size, "white")
        rgba = frame.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return frame.convert("L")


def _dpi(frame: Image.Image) -> int | None:
    dpi = frame.info.get("dpi")
    if isinstance(dpi, tuple) and dpi and dpi[0]:
        value = round(float(dpi[0]))
        return value if 70 <= value <= 1200 else None
    return None
