"""Command line: ``minutes extract``, ``minutes run``.

A thin layer over :mod:`pipeline.api`: parse arguments, call the library,
turn its errors into one line on stderr and an exit status.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from pipeline import __version__, api
from pipeline.exceptions import ExitCode, MinutesError, describe
from pipeline.export import write_csv

EXIT_STATUS_HELP = """\
exit status:
  0  every document succeeded
  1  some documents failed (each has a 'failed' row in documents.csv; the rest were written)
  2  usage error
  3  the input file of 'minutes extract' could not be read
  4  a program the pipeline needs (tesseract, pdftoppm) is missing
"""


def _ocr_options(args: argparse.Namespace) -> api.OcrOptions:
    return api.OcrOptions(language=args.lang, dpi=args.dpi, timeout=args.page_timeout)


def _add_ocr_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("OCR")
    group.add_argument("--lang", default="swe", help="Tesseract language(s) (default: %(default)s)")
    group.add_argument(
        "--dpi", type=int, default=300, help="render PDF pages at this resolution (default: 300)"
    )
    group.add_argument(
        "--page-timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="give up on a page after this long (default: 300)",
    )


def _add_threshold(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        metavar="P",
        help="apply corrections at least this confident (0-1, default 0.5); list the rest",
    )


def _cmd_extract(args: argparse.Namespace) -> int:
    document = api.extract(args.file, _ocr_options(args))
    sys.stdout.write(document.text)
    return ExitCode.OK


def _read_input(name: str) -> str:
    """Text of FILE or of stdin (``-``), in whatever encoding it came."""
    if name == "-":
        data = sys.stdin.buffer.read()
        if not data.strip():
            return ""
        text, _encoding = api.decode(data)
        return text.replace("\r\n", "\n")
    return api.extract(name).text


def _cmd_normalize(args: argparse.Namespace) -> int:
    result = api.normalize(_read_input(args.file), threshold=args.threshold)
    text = api.reflow(result.text) if args.reflow else result.text
    sys.stdout.buffer.write(text.encode("utf-8"))
    if args.changes:
        rows = (
            {
                "page": c.page,
                "line": c.line,
                "column": c.column,
                "original": c.original,
                "replacement": c.replacement,
                "stage": c.stage,
                "confidence": f"{c.confidence:.3f}",
                "applied": "true" if c.applied else "false",
                "alternatives": json.dumps([list(a) for a in c.alternatives], ensure_ascii=False),
            }
            for c in result.changes
        )
        write_csv(args.changes, [f for f in api.CORRECTION_FIELDS if f != "source"], rows)
    return ExitCode.OK


def _cmd_segment(args: argparse.Namespace) -> int:
    text = api.normalize(api.extract(args.file, _ocr_options(args)).text).text
    segmented = api.segment(text, source=str(args.file))
    if args.json:
        json.dump(api.segmented_to_json(segmented), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(api.segmented_to_text(segmented))
    return ExitCode.OK


def _cmd_run(args: argparse.Namespace) -> int:
    if not args.raw.is_dir():
        print(f"minutes: error: {args.raw}: not a folder", file=sys.stderr)
        return ExitCode.USAGE
    options = api.RunOptions(ocr=_ocr_options(args), threshold=args.threshold)
    result = api.run(args.raw, args.out, options, jobs=args.jobs)
    ok = len(result.outcomes) - len(result.failed)
    if not args.quiet:
        print(
            f"minutes: {ok} of {len(result.outcomes)} documents processed, "
            f"{len(result.failed)} failed; outputs in {args.out}",
            file=sys.stderr,
        )
    return ExitCode.SOME_FAILED if result.failed else ExitCode.OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="minutes",
        description="Clean text and tidy tables from archived Swedish meeting minutes.",
        epilog=EXIT_STATUS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    extract = commands.add_parser(
        "extract",
        help="print the text extracted from one file",
        description="Print the text of a PDF, image or text file (form feeds between pages).",
    )
    extract.add_argument("file", type=Path, metavar="FILE")
    _add_ocr_arguments(extract)
    extract.set_defaults(handler=_cmd_extract)

    normalize = commands.add_parser(
        "normalize",
        help="repair the text of a file and print it",
        description="Repair encoding damage, OCR damage and lost diacritics; print UTF-8.",
    )
    normalize.add_argument(
        "file", nargs="?", default="-", metavar="FILE", help="a text, PDF or image ('-': stdin)"
    )
    normalize.add_argument("--reflow", action="store_true", help="join the lines of paragraphs")
    normalize.add_argument(
        "--changes", type=Path, metavar="CSV", help="write every change made or proposed here"
    )
    _add_threshold(normalize)
    normalize.set_defaults(handler=_cmd_normalize)

    segment = commands.add_parser(
        "segment",
        help="print the meetings, attendees and agenda items of a file",
        description="Extract, normalise and segment one file.",
    )
    segment.add_argument("file", type=Path, metavar="FILE")
    segment.add_argument("--json", action="store_true", help="print JSON")
    _add_ocr_arguments(segment)
    segment.set_defaults(handler=_cmd_segment)

    run = commands.add_parser(
        "run",
        help="process a folder of sources",
        description="Process every file under --raw and write the outputs under --out.",
        epilog=EXIT_STATUS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "--raw", type=Path, default=Path("data/raw"), help="sources (default: %(default)s)"
    )
    run.add_argument(
        "--out", type=Path, default=Path("data/clean"), help="outputs (default: %(default)s)"
    )
    run.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=None,
        metavar="N",
        help="worker processes (default: all cores)",
    )
    run.add_argument("--quiet", "-q", action="store_true", help="print errors only")
    _add_threshold(run)
    _add_ocr_arguments(run)
    run.set_defaults(handler=_cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``minutes`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except MinutesError as error:
        print(f"minutes: error: {describe(error)}", file=sys.stderr)
        return int(error.exit_code)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
