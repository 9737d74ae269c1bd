"""A wall-clock limit for pure-Python work that has none of its own (pdfminer's parsing).

External programs get a ``timeout`` from :mod:`subprocess`; a library call in this process
can only be interrupted by a signal. :func:`time_limit` arms ``SIGALRM`` around a block,
which works in the main thread of a process: a pool's worker or a serial run. In any other
thread (a Dask worker's) the block runs without a limit.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class TimeLimit(BaseException):
    """The block ran out of time.

    A ``BaseException``, so that a library's ``except Exception`` cannot swallow it.
    """


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`TimeLimit` in the block once it has run ``seconds``.

    A no-op outside the main thread, for ``seconds <= 0``, and inside another limit
    (the outer one stays in force).
    """
    if (
        seconds <= 0
        or threading.current_thread() is not threading.main_thread()
        or signal.getitimer(signal.ITIMER_REAL)[0] > 0
    ):
        yield
        return

    def expired(signum: int, frame: FrameType | None) -> None:
        raise TimeLimit(f"over {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
