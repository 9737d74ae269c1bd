"""An exclusive lock on a file, so parallel processes build a shared cache only once."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class FileLock:
    """``flock`` held for the duration of a ``with`` block; the file is created if need be."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = -1

    def __enter__(self) -> FileLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
