"""Measure speed and memory and print the tables.

    python -m benchmarks.run_bench [--quick] [--out benchmarks/results/bench.json] [--part P]

Writes every figure to ``--out`` as JSON and prints Markdown tables. Timings
are not checked against anything: the exit status is 0 unless the harness
itself fails.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks import bench


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run_bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="small sizes and one run of each")
    parser.add_argument("--out", type=Path, default=bench.DEFAULT_OUT, help="JSON report")
    parser.add_argument(
        "--part",
        action="append",
        choices=bench.PARTS,
        help="measure only this part (repeatable; default: all)",
    )
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    report = bench.run(
        bench.QUICK if args.quick else bench.FULL,
        quick=args.quick,
        parts=args.part or bench.PARTS,
        out=args.out,
        log=log,
    )
    print(bench.markdown(report))
    log(f"report written to {args.out} ({report['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
