"""Command line: ``minutes extract``, ``minutes run``.

A thin layer over :mod:`pipeline.api`: parse arguments, call the library,
turn its errors into one line on stderr and an exit status.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pipeline import __version__, api, teach
from pipeline._cluster import SCHEDULER_ENV, Cluster
from pipeline.batch import Work, progress_for
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
        help="give up on a page (its OCR, or parsing its text layer) after this long "
        "(default: 300)",
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
    options = api.RunOptions(ocr=_ocr_options(args), threshold=args.threshold)
    progress = progress_for(sys.stderr, quiet=args.quiet)
    with contextlib.ExitStack() as stack:
        cluster = stack.enter_context(Cluster(args.scheduler)) if args.scheduler else None
        if cluster is not None and not args.quiet:
            print(
                f"minutes: running on {args.scheduler} ({cluster.threads} worker threads, "
                f"sources shipped by {args.ship}); dashboard: {cluster.dashboard}",
                file=sys.stderr,
            )
        result = api.run(
            args.raw,
            args.out,
            options,
            jobs=args.jobs,
            force=args.force,
            progress=progress,
            cluster=cluster,
            ship=args.ship,
        )
    ok = len(result.outcomes) - len(result.failed)
    if not args.quiet:
        reused = result.count(Work.UNCHANGED)
        renormalised = result.count(Work.RENORMALISED)
        print(
            f"minutes: {ok} of {len(result.outcomes)} documents processed "
            f"({reused} unchanged, {renormalised} normalised again), "
            f"{len(result.failed)} failed; outputs in {args.out}",
            file=sys.stderr,
        )
    return ExitCode.SOME_FAILED if result.failed else ExitCode.OK


def _jobs(value: str) -> int:
    try:
        jobs = int(value)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(
            f"expected a number of processes (1 or more), got {value!r}"
        )
    return jobs


def _told(verb: str, entries: Sequence[str], added: Sequence[str], path: Path) -> None:
    words = [word for entry in entries for word in teach.entry_words(entry)]
    listed = sorted(set(words) - set(added))
    line = f"minutes: {path}: {verb} {', '.join(added)}" if added else f"minutes: {path}: no change"
    line += f" (already listed: {', '.join(listed)})" if listed else ""
    print(line)


def _cmd_lexicon_add(args: argparse.Namespace) -> int:
    added = teach.accept(args.words, args.lexicons)
    _told("accepted", args.words, added, teach.list_path(args.lexicons, "accept"))
    return ExitCode.OK


def _cmd_lexicon_protect(args: argparse.Namespace) -> int:
    added = teach.protect(args.names, args.lexicons)
    _told("protected", args.names, added, teach.list_path(args.lexicons, "protect"))
    return ExitCode.OK


def _cmd_lexicon_decisions(args: argparse.Namespace) -> int:
    taught = teach.apply_decisions(args.csv, args.lexicons)
    print(
        f"minutes: {taught.decided} decisions ({taught.undecided} rows undecided): "
        f"{len(taught.accepted)} words accepted, {len(taught.protected)} protected"
    )
    for verb, words in (("accepted", taught.accepted), ("protected", taught.protected)):
        if words:
            print(f"  {verb}: {', '.join(words)}")
    return ExitCode.OK


def _add_lexicon_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``minutes lexicon add|protect|decisions``: teach the user lists (pipeline.teach)."""
    lexicon = commands.add_parser(
        "lexicon",
        help="teach the lexicon: accept words, protect names, apply review decisions",
        description="Add to the user lists of the lexicon (lexicons/user/accept.txt and "
        "protect.txt). The next 'minutes run' uses them.",
    )
    lexicon.add_argument(
        "--lexicons",
        type=Path,
        default=None,
        metavar="DIR",
        help="lexicon folder (default: $MINUTES_LEXICONS, else lexicons/)",
    )
    actions = lexicon.add_subparsers(dest="lexicon_command", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add", help="accept words as valid Swedish", description="Add words to accept.txt."
    )
    add.add_argument("words", nargs="+", metavar="WORD")
    add.set_defaults(handler=_cmd_lexicon_add)
    protect = actions.add_parser(
        "protect",
        help="never change these words or names",
        description="Add words or names to protect.txt.",
    )
    protect.add_argument("names", nargs="+", metavar="NAME")
    protect.set_defaults(handler=_cmd_lexicon_protect)
    decisions = actions.add_parser(
        "decisions",
        help="apply the decisions filled in a review's decisions.csv",
        description="Read OUT/review/decisions.csv once its 'decision' column is filled: "
        "'reject' protects the original, 'accept' accepts the replacement (or the original, "
        "when the replacement is empty or the same) as a word; empty rows are skipped.",
    )
    decisions.add_argument("csv", type=Path, metavar="CSV")
    decisions.set_defaults(handler=_cmd_lexicon_decisions)


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
        description=(
            "Process every file under --raw and write the outputs under --out.\n\n"
            "Work is cached in OUT/.cache by content: a re-run redoes only what changed\n"
            "(OCR only for new or edited files; a changed lexicon re-normalises from the\n"
            "cache, a word taught with 'minutes lexicon' only the files it can change),\n"
            "and a run that was killed picks up where it stopped. A file that\n"
            "cannot be read gets a 'failed' row in documents.csv and one line on stderr;\n"
            "the others are processed all the same. Sources are only ever read."
        ),
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
        type=_jobs,
        default=None,
        metavar="N",
        help="worker processes; the pages of a scan are shared among them (default: all cores)",
    )
    run.add_argument(
        "--force", action="store_true", help="redo everything, ignoring what earlier runs cached"
    )
    cluster = run.add_argument_group("Dask cluster (pip install 'minutes[cluster]')")
    cluster.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=os.environ.get(SCHEDULER_ENV),
        help="run the tasks on this Dask scheduler, e.g. tcp://host:8786 "
        f"(default: ${SCHEDULER_ENV}, else the local pool)",
    )
    cluster.add_argument(
        "--ship",
        choices=("path", "bytes"),
        default="path",
        help="workers read sources at their paths (shared storage), or get them sent as bytes",
    )
    run.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="print errors only (default: a progress bar on a terminal, a line per file elsewhere)",
    )
    _add_threshold(run)
    _add_ocr_arguments(run)
    run.set_defaults(handler=_cmd_run)
    _add_lexicon_commands(commands)
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
