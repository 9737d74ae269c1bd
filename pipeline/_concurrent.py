"""The executor that runs per-document work, hidden behind one small seam.

Stages never see which engine runs them: the batch asks :func:`executor` for
a :class:`concurrent.futures.Executor` and maps a picklable function over its
inputs. ``jobs=1`` runs in the calling process, which keeps tracebacks and
debuggers simple.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class SerialExecutor(Executor):
    """Runs each task at submission, in this process."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # delivered through the future, as a pool would
            future.set_exception(error)
        return future


def default_jobs() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _init_worker() -> None:
    # One Tesseract thread per worker process: the pool already fills the cores.
    os.environ["OMP_THREAD_LIMIT"] = "1"


@contextmanager
def executor(jobs: int | None = None) -> Iterator[Executor]:
    """An executor with ``jobs`` workers (default: all cores)."""
    jobs = jobs or default_jobs()
    if jobs <= 1:
        yield SerialExecutor()
        return
    pool: Any = ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker)
    with pool:
        yield pool
