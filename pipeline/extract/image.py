"""Scanned page images: PNG, JPEG, TIFF (multi-page too), and the like."""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from pipeline.exceptions import CorruptFile
from pipeline.extract.ocr import OcrOptions, ocr_page
from pipeline.extract.preview import image_dpi, on_white, preview_of
from pipeline.records import Page

MAX_PIXELS = 120_000_000
"""Refuse images larger than this (A3 at 600 dpi is ~70 MP; an A0 sheet at 300 dpi ~140 MP)."""
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def read_image(path: Path, options: OcrOptions) -> tuple[Page, ...]:
    """OCR every frame of an image file, one page per frame."""
    return tuple(ocr_frame(path, n, options)[0] for n in range(1, len(frame_sizes(path)) + 1))


def frame_sizes(path: Path) -> tuple[int, ...]:
    """Compressed size of each frame (page) of an image file: roughly how long its OCR takes.

    Refuses what no page scan can be.
    """
    with _quiet(), _open(path) as image:
        try:
            frames = max(1, int(getattr(image, "n_frames", 1)))
            if not hasattr(image, "tag_v2"):  # one size for the file, shared by its frames
                return (path.stat().st_size // frames,) * frames
            sizes = []
            for frame in range(frames):
                image.seek(frame)
                # StripByteCounts, or TileByteCounts for a tiled TIFF.
                counts = image.tag_v2.get(279) or image.tag_v2.get(325) or ()
                counts = counts if isinstance(counts, tuple | list) else (counts,)
                sizes.append(sum(int(c) for c in counts))
            return tuple(sizes)
        except Exception as error:  # a damaged TIFF directory chain, say
            raise CorruptFile(f"cannot read image frames: {error}") from error


def ocr_frame(
    path: Path, number: int, options: OcrOptions, *, preview: bool = False
) -> tuple[Page, bytes | None]:
    """OCR frame ``number`` (1-based) of an image file as that page; with ``preview``, its
    page image for people too (see :mod:`pipeline.extract.preview`)."""
    with (
        _quiet(),
        tempfile.TemporaryDirectory(prefix="minutes-img-") as tmp,
        _open(path) as image,
    ):
        try:
            image.seek(number - 1)
            frame: Image.Image = image
            width, height = frame.size
        except Exception as error:
            raise CorruptFile(f"cannot read image frame {number}: {error}") from error
        if width * height > MAX_PIXELS:  # each frame of a TIFF has its own size
            raise CorruptFile(
                f"image frame {number} too large to be a page scan ({width}x{height} pixels)"
            )
        dpi = image_dpi(frame)
        # PNM: uncompressed, so writing it costs next to nothing, and Tesseract reads it.
        page_file = Path(tmp) / f"page-{number:05d}.pnm"
        try:
            frame.load()
            on_white(frame, _TESSERACT_MODES).save(page_file, "PPM")
        except Exception as error:  # decoders raise many types on damaged data
            raise CorruptFile(f"cannot decode image frame {number}: {error}") from error
        page = ocr_page(page_file, number, options, dpi=dpi or options.dpi)
        return page, preview_of(frame, dpi) if preview else None


@contextmanager
def _quiet() -> Iterator[None]:
    # Pillow warns about every oddity of a damaged header it can read past; a file it
    # cannot read past fails with one line of its own, so the warnings only add noise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


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
        except Exception as error:  # plugins raise more than OSError on damaged headers
            raise CorruptFile(f"cannot read image: {error}") from error
    if width * height > MAX_PIXELS:
        image.close()
        raise CorruptFile(
            f"image too large to be a page scan ({width}x{height} pixels, limit {MAX_PIXELS:,})"
        )
    return image


_TESSERACT_MODES = frozenset({"1", "L", "RGB"})
"""What Tesseract reads; palette and alpha images need converting."""
