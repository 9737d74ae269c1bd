"""Writing outputs: every file lands whole or not at all."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write UTF-8 text (or bytes) to ``path`` through a temporary file and a rename.

    A reader (or a run killed half-way) sees the old file or the new one,
    never a truncated mix.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); outputs are for sharing, so give
        # them the mode a plainly created file would get.
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    # Reading the umask means setting it; do it once, before any thread exists.
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()


def csv_text(fields: Sequence[str], rows: Iterable[Mapping[str, object]]) -> str:
    """Rows as RFC 4180 CSV text (``\\r\\n`` line ends, ``None`` as an empty cell)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), extrasaction="raise")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return buffer.getvalue()


def write_csv(path: Path, fields: Sequence[str], rows: Iterable[Mapping[str, object]]) -> None:
    """Write a CSV file atomically."""
    write_atomic(path, csv_text(fields, rows))
