"""Errors the pipeline raises for bad input, each with its exit code.

Every error carries a one-line reason meant for a person; :func:`describe`
turns it into the line printed on stderr and stored in ``documents.csv``.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    """Exit statuses of the ``minutes`` command."""

    OK = 0
    SOME_FAILED = 1
    """At least one document failed; every other one was still written."""
    USAGE = 2
    """Bad command line (argparse's own convention)."""
    INPUT_FILE = 3
    """A single-file command (``minutes extract``) could not read its input."""
    MISSING_DEPENDENCY = 4
    """An external program such as ``tesseract`` is not installed."""
    INTERRUPTED = 130


class MinutesError(Exception):
    """Base class: a problem with one input that should not stop a batch."""

    exit_code: ExitCode = ExitCode.INPUT_FILE

    def __init__(self, reason: str, path: Path | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


class UnreadableFile(MinutesError):
    """The file cannot be opened (missing, permissions, a directory, a loop)."""


class EmptyFile(MinutesError):
    """The file has no bytes, or no text once decoded."""


class UnsupportedFormat(MinutesError):
    """The content is none of the formats we read (PDF, image, text)."""


class CorruptFile(MinutesError):
    """A PDF or image whose structure cannot be parsed."""


class EncryptedPdf(MinutesError):
    """A PDF that needs a password."""


class OcrFailed(MinutesError):
    """Tesseract failed or timed out on a page."""


class UsageError(MinutesError):
    """The command was asked something it cannot do (overlapping folders, a busy output)."""

    exit_code = ExitCode.USAGE


class MissingDependency(MinutesError):
    """An external program the pipeline needs is not installed."""

    exit_code = ExitCode.MISSING_DEPENDENCY


def describe(error: BaseException, path: Path | None = None) -> str:
    """One line naming the file and the reason, for stderr and the CSV.

    >>> describe(EmptyFile("file is empty"), Path("raw/a.txt"))
    'raw/a.txt: file is empty'
    """
    where = path if path is not None else getattr(error, "path", None)
    reason = error.reason if isinstance(error, MinutesError) else f"{type(error).__name__}: {error}"
    reason = " ".join(str(reason).split())  # one line, whatever the library said
    return f"{where}: {reason}" if where is not None else reason
