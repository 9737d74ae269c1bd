"""Build the sample corpus in ``data/raw/`` from the clean texts in ``data/fixtures/``.

Each fixture becomes one raw form: a scanned PDF with no text layer, a PDF
with a text layer, a multi-page TIFF scan, a PNG scan, a cp1252 export, a
UTF-8 file with mojibake, a file whose diacritics were stripped, and a
Markdown file. For every rendered form the text exactly as laid out on the
pages (line breaks, hyphens at line ends, form feeds between pages) goes to
``data/fixtures/layout/``: that is what a perfect extractor would return.

The output is deterministic: the same fixtures give the same bytes.

    python scripts/make_corpus.py --fixtures data/fixtures --raw data/raw
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ftfy.bad_codecs  # noqa: F401  (registers the sloppy-windows-1252 codec)
import pyphen
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
SERIF = FONT_DIR / "DejaVuSerif.ttf"
SANS = FONT_DIR / "DejaVuSans.ttf"

DPI = 300
A4_PT = (595.28, 841.89)
MARGIN_PT = 72.0
FONT_PT = 11.5
LEADING = 1.45
BULLETS = ("• ", "◦ ", "- ")
_HYPHENATOR = pyphen.Pyphen(lang="sv")


# --- layout: the same line breaking for scans and text-layer PDFs --------------


def logical_lines(text: str) -> list[str]:
    """Undo the fixture's hard wrapping: paragraphs become one line each.

    A line continues the previous one when the previous one was long (it was
    wrapped) and this one does not start a list item. Short lines such as
    headings and attendee lines stay on their own.
    """
    out: list[str] = []
    for raw in text.split("\n"):
        line = raw.rstrip()
        stripped = line.strip()
        continues = (
            out
            and out[-1]
            and stripped
            and len(out[-1]) >= 60
            and not stripped.startswith(BULLETS)
            and not re.match(r"\d+\. ", stripped)
        )
        if continues:
            out[-1] = f"{out[-1]} {stripped}"
        else:
            out.append(stripped)
    return out


def wrap(line: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """Break one logical line to ``width``, hyphenating Swedish words at line ends."""
    if not line:
        return [""]
    indent = "  " if line.startswith(BULLETS) else ""
    words = line.split(" ")
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if measure(candidate) <= width:
            current = candidate
            continue
        # Try to fit the first part of a hyphenated word on this line (word
        # processors do not hyphenate addresses or numbers).
        breakable = not re.search(r"@|://|www\.|\d", word)
        for head, tail in _HYPHENATOR.iterate(word) if breakable else ():
            if len(head) >= 3 and len(tail) >= 3 and measure(f"{current} {head}-") <= width:
                lines.append(f"{current} {head}-")
                current = indent + tail
                break
        else:
            lines.append(current)
            current = indent + word
    lines.append(current)
    return lines


def paginate(lines: list[str], per_page: int) -> list[list[str]]:
    """Split into pages, never starting a page with a blank line."""
    pages: list[list[str]] = [[]]
    for line in lines:
        if len(pages[-1]) >= per_page:
            pages.append([])
        if not pages[-1] and not line:
            continue
        pages[-1].append(line)
    while pages and not any(pages[-1]):
        pages.pop()
    for page in pages:
        while page and not page[-1]:
            page.pop()
    return pages


def lay_out(
    text: str, width: float, measure: Callable[[str], float], per_page: int
) -> list[list[str]]:
    lines: list[str] = []
    for logical in logical_lines(text):
        lines.extend(wrap(logical, width, measure))
    return paginate(lines, per_page)


def layout_text(pages: list[list[str]]) -> str:
    return "\f".join("\n".join(page) + "\n" for page in pages)


# --- scans ---------------------------------------------------------------------


@dataclass(frozen=True)
class ScanStyle:
    angle: float
    noise: float
    speckles: int
    blur: float
    bilevel: bool


def _px(points: float) -> int:
    return round(points * DPI / 72)


def render_scan(text: str, seed: int, style: ScanStyle) -> tuple[list[Image.Image], str]:
    """Render text as A4 page images at 300 dpi, then damage them like a scanner."""
    font = ImageFont.truetype(str(SERIF), _px(FONT_PT))
    width_px, height_px = _px(A4_PT[0]), _px(A4_PT[1])
    margin = _px(MARGIN_PT)
    line_px = _px(FONT_PT * LEADING)
    per_page = (height_px - 2 * margin) // line_px
    pages = lay_out(text, width_px - 2 * margin, font.getlength, per_page)
    rng = random.Random(seed)
    images = []
    for number, lines in enumerate(pages):
        page = Image.new("L", (width_px, height_px), 255)
        draw = ImageDraw.Draw(page)
        for row, line in enumerate(lines):
            draw.text((margin, margin + row * line_px), line, font=font, fill=20)
        images.append(_age(page, random.Random(rng.random() + number), style))
    return images, layout_text(pages)


def _age(page: Image.Image, rng: random.Random, style: ScanStyle) -> Image.Image:
    page = page.rotate(style.angle * rng.uniform(0.7, 1.0), Image.Resampling.BICUBIC, fillcolor=255)
    draw = ImageDraw.Draw(page)
    for _ in range(style.speckles):
        x, y = rng.randrange(page.width), rng.randrange(page.height)
        r = rng.choice((1, 1, 2, 3))
        draw.ellipse((x, y, x + r, y + r), fill=rng.randrange(0, 120))
    # Pillow's noise generator is not seeded; build the noise from our own generator.
    noise = Image.frombytes(
        "L",
        (page.width // 4, page.height // 4),
        bytes(
            max(0, min(255, round(rng.gauss(128, style.noise))))
            for _ in range((page.width // 4) * (page.height // 4))
        ),
    ).resize(page.size, Image.Resampling.NEAREST)
    page = ImageChops.add(page, noise, scale=1.0, offset=-128)
    if style.blur:  # after the noise, as a scanner's optics smooth both
        page = page.filter(ImageFilter.GaussianBlur(style.blur))
    if style.bilevel:
        page = page.point(lambda v: 255 if v > 150 else 0).convert("1", dither=Image.Dither.NONE)
    return page


def save_scan_pdf(images: list[Image.Image], path: Path) -> None:
    """An image-only PDF, one JPEG-compressed page per image, as scanners write them."""
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4_PT, invariant=1)
    for image in images:
        jpeg = io.BytesIO()
        image.convert("L").save(jpeg, "JPEG", quality=45, optimize=True)
        jpeg.seek(0)
        from reportlab.lib.utils import ImageReader

        c.drawImage(ImageReader(jpeg), 0, 0, width=A4_PT[0], height=A4_PT[1])
        c.showPage()
    c.save()
    path.write_bytes(buffer.getvalue())


def save_tiff(images: list[Image.Image], path: Path) -> None:
    first, *rest = images
    first.save(
        path, "TIFF", compression="group4", dpi=(DPI, DPI), save_all=True, append_images=rest
    )


def save_png(images: list[Image.Image], path: Path) -> None:
    (image,) = images
    image.save(path, "PNG", dpi=(DPI, DPI), optimize=True)


# --- text-layer PDF --------------------------------------------------------------


def render_text_pdf(text: str, path: Path, header: str) -> str:
    """A born-digital PDF with a running header and a page-number footer."""
    pdfmetrics.registerFont(TTFont("DejaVuSerif", str(SERIF)))
    pdfmetrics.registerFont(TTFont("DejaVuSans", str(SANS)))

    def measure(s: str) -> float:
        return float(pdfmetrics.stringWidth(s, "DejaVuSerif", FONT_PT))

    line_pt = FONT_PT * LEADING
    per_page = int((A4_PT[1] - 2 * MARGIN_PT) // line_pt)
    pages = lay_out(text, A4_PT[0] - 2 * MARGIN_PT, measure, per_page)
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4_PT, invariant=1)
    c.setTitle(header)
    for number, lines in enumerate(pages, start=1):
        c.setFont("DejaVuSans", 8.5)
        c.drawString(MARGIN_PT, A4_PT[1] - 40, header)
        c.drawRightString(A4_PT[0] - MARGIN_PT, 30, f"Sida {number} av {len(pages)}")
        c.setFont("DejaVuSerif", FONT_PT)
        for row, line in enumerate(lines):
            c.drawString(MARGIN_PT, A4_PT[1] - MARGIN_PT - FONT_PT - row * line_pt, line)
        c.showPage()
    c.save()
    path.write_bytes(buffer.getvalue())
    return layout_text(pages)


# --- damaged text --------------------------------------------------------------


def strip_diacritics(text: str) -> str:
    """What OCR without a Swedish model leaves: å, ä, ö (and é) lose their marks."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", re.sub(r"[\u0300-\u036f]", "", decomposed))


def mojibake(text: str) -> str:
    """UTF-8 bytes read back as cp1252: ``förvaltning`` → ``fÃ¶rvaltning``.

    As browsers and Windows programs do, the five bytes cp1252 leaves undefined
    are read as the Latin-1 control characters (ftfy's "sloppy" cp1252).
    """
    return text.encode("utf-8").decode("sloppy-windows-1252")


# --- the corpus ------------------------------------------------------------------

SCAN_PDF = ScanStyle(angle=0.8, noise=7, speckles=250, blur=0.6, bilevel=False)
TIFF_SCAN = ScanStyle(angle=-0.5, noise=22, speckles=400, blur=0.7, bilevel=True)
PNG_SCAN = ScanStyle(angle=0.4, noise=20, speckles=300, blur=0.5, bilevel=True)


def build(fixtures: Path, raw: Path) -> list[dict[str, str]]:
    raw.mkdir(parents=True, exist_ok=True)
    layout_dir = fixtures / "layout"
    layout_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, str]] = []

    def add(fixture: str, raw_name: str, form: str, layout: str | None = None) -> None:
        if layout is not None:
            (layout_dir / f"{raw_name}.txt").write_text(layout, encoding="utf-8")
        rows.append(
            {
                "raw": raw_name,
                "fixture": fixture,
                "form": form,
                "layout": f"layout/{raw_name}.txt" if layout is not None else "",
            }
        )

    def read(name: str) -> str:
        return (fixtures / name).read_text(encoding="utf-8")

    images, layout = render_scan(read("m01_scan_pdf.txt"), seed=1, style=SCAN_PDF)
    save_scan_pdf(images, raw / "m01_scan.pdf")
    add("m01_scan_pdf.txt", "m01_scan.pdf", "scanned-pdf", layout)

    layout = render_text_pdf(
        read("m02_textlayer_pdf.txt"),
        raw / "m02_textlayer.pdf",
        "Exempelstad socialförvaltning — minnesanteckningar",
    )
    add("m02_textlayer_pdf.txt", "m02_textlayer.pdf", "text-layer-pdf", layout)

    images, layout = render_scan(read("m03_tiff.txt"), seed=3, style=TIFF_SCAN)
    save_tiff(images, raw / "m03_scan.tiff")
    add("m03_tiff.txt", "m03_scan.tiff", "tiff-scan", layout)

    (raw / "m04_export.txt").write_bytes(
        read("m04_cp1252.txt").replace("\n", "\r\n").encode("cp1252")
    )
    add("m04_cp1252.txt", "m04_export.txt", "cp1252-text")

    (raw / "m05_mojibake.txt").write_text(mojibake(read("m05_mojibake.txt")), encoding="utf-8")
    add("m05_mojibake.txt", "m05_mojibake.txt", "mojibake-text")

    (raw / "m06_stripped.txt").write_text(
        strip_diacritics(read("m06_stripped.txt")), encoding="utf-8"
    )
    add("m06_stripped.txt", "m06_stripped.txt", "stripped-text")

    (raw / "m07_minutes.md").write_text(read("m07_markdown.md"), encoding="utf-8")
    add("m07_markdown.md", "m07_minutes.md", "markdown")

    images, layout = render_scan(read("m08_png.txt"), seed=8, style=PNG_SCAN)
    save_png(images, raw / "m08_scan.png")
    add("m08_png.txt", "m08_scan.png", "png-scan", layout)

    with (fixtures / "corpus.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=["raw", "fixture", "form", "layout"], lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", type=Path, default=Path("data/fixtures"))
    parser.add_argument("--raw", type=Path, default=Path("data/raw"))
    args = parser.parse_args()
    for row in build(args.fixtures, args.raw):
        size = (args.raw / row["raw"]).stat().st_size
        print(f"{row['raw']:<22} {row['form']:<16} {size / 1024:8.1f} KiB")


if __name__ == "__main__":
    main()
