"""Score text restoration against ground truth and print the tables.

    python -m benchmarks.run_eval [--quick] [--out benchmarks/results/eval.json] [--check]

Writes every figure to ``--out`` as JSON and prints Markdown tables. With
``--check`` the exit status is 1 when ``minutes`` misses a target, else 0.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from benchmarks import evaluate
from benchmarks.damage import DEFAULT_CACHE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run_eval", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="a small subset, for CI")
    parser.add_argument("--out", type=Path, default=evaluate.DEFAULT_OUT, help="JSON report")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--no-ocr", action="store_true", help="skip the Tesseract cases")
    parser.add_argument(
        "--cache", type=Path, default=DEFAULT_CACHE, help="where OCR output is kept between runs"
    )
    parser.add_argument(
        "--jobs", type=int, default=None, help="parallel Tesseract processes (default: all cores)"
    )
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    report = evaluate.run(
        quick=args.quick,
        out=args.out,
        ocr=not args.no_ocr,
        cache_dir=args.cache,
        jobs=args.jobs,
        log=log,
    )
    for part, reason in report["skipped"].items():
        log(f"skipped {part}: {reason}")
    print(evaluate.markdown(report))
    log(f"report written to {args.out} ({time.perf_counter() - started:.1f} s)")
    failures = report["check"]["failures"]
    if args.check:
        for failure in failures:
            print(f"target missed: {failure}", file=sys.stderr)
        if failures:
            return 1
        log("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
