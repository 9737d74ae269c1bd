"""The executor that runs per-document work, hidden behind one small seam.

Stages never see which engine runs them: the batch hands top-level, picklable
functions to a :class:`Runner`, which feeds them to a
:class:`concurrent.futures.Executor` and yields their results as they finish.
This module alone decides which executor that is (a process pool, or the
calling process for ``jobs=1``, which keeps tracebacks and debuggers simple);
any other ``Executor`` (``distributed.Client.get_executor()``) can be passed
as ``factory``. Workers only compute: the caller does all the writing.
"""

from __future__ import annotations

import ctypes
import heapq
import itertools
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    wait,
)
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Generic, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


class SerialExecutor(Executor):
    """Runs each task at submission, in this process."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # delivered through the future, as a pool would
            future.set_exception(error)
        return future


class WorkerCrashed(Exception):
    """A worker process died while running a task, also when the task ran alone."""


def default_jobs() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_PR_SET_PDEATHSIG = 1


def _init_worker(parent: int) -> None:
    # One Tesseract thread per worker process: the pool already fills the cores.
    os.environ["OMP_THREAD_LIMIT"] = "1"
    # Ctrl-C reaches the whole process group; the parent alone decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform == "linux":
        # A parent killed with SIGKILL cannot shut its pool down; without this its
        # workers would linger, blocked on a queue nobody feeds.
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


def make_executor(jobs: int | None = None) -> Executor:
    """An executor with ``jobs`` workers (default: all cores)."""
    jobs = jobs or default_jobs()
    if jobs <= 1:
        return SerialExecutor()
    # Workers are started from the calling thread (fork), which must outlive them:
    # they are killed when it ends (see _init_worker).
    return ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(os.getpid(),))


@contextmanager
def executor(jobs: int | None = None) -> Iterator[Executor]:
    """An executor with ``jobs`` workers (default: all cores), shut down on exit."""
    pool = make_executor(jobs)
    with pool:
        yield pool


def _shutdown(executor: Executor, *, wait: bool) -> None:
    """Shut an executor down, dropping the tasks it has not started where it can."""
    try:
        executor.shutdown(wait=wait, cancel_futures=True)
    except TypeError:  # distributed's ClientExecutor takes no cancel_futures
        executor.shutdown(wait=wait)


def _ready() -> None:
    """A task that does nothing; running it starts a pool's workers."""


@dataclass(frozen=True, slots=True)
class Done(Generic[K]):
    """A finished task: its key, and its value or the exception it raised."""

    key: K
    value: Any
    error: BaseException | None


@dataclass(order=True)
class _Task(Generic[K]):
    priority: tuple[float, ...]
    order: int
    key: K = field(compare=False)
    fn: Callable[..., Any] = field(compare=False)
    args: tuple[Any, ...] = field(compare=False)
    suspect: bool = field(default=False, compare=False)
    generation: int = field(default=0, compare=False)


class Runner(Generic[K]):
    """Runs keyed tasks on an executor, lowest priority first; yields them as they finish.

    Tasks may be submitted while iterating. If a worker process dies (a crash in
    a C library, the kernel's OOM killer), the executor is replaced and every task
    it took down runs again, one at a time and alone, so only the task that kills
    a worker on its own is reported, as :class:`WorkerCrashed`.
    """

    def __init__(
        self, jobs: int | None = None, *, factory: Callable[[int], Executor] | None = None
    ) -> None:
        self.jobs = jobs or default_jobs()
        self._factory = factory or make_executor
        self._executor = self._factory(self.jobs)
        self._forked = (
            factory is None
            and isinstance(self._executor, ProcessPoolExecutor)
            and multiprocessing.get_start_method() == "fork"
        )
        self._retired: list[Executor] = []
        self._generation = 0
        # No more tasks than workers go to the executor: the rest wait here, where the
        # next free worker gets the most urgent one, not the one submitted first.
        self._limit = 1 if isinstance(self._executor, SerialExecutor) else self.jobs
        self._queue: list[_Task[K]] = []
        self._suspects: deque[_Task[K]] = deque()
        self._running: dict[Future[Any], _Task[K]] = {}
        self._order = itertools.count()
        # Start the workers now, while this process has a single thread to fork from.
        self._executor.submit(_ready).result()

    def submit(
        self, key: K, fn: Callable[..., Any], *args: Any, priority: float | tuple[float, ...] = 0
    ) -> None:
        """Queue ``fn(*args)``; ``fn`` and its arguments must pickle.

        Lower ``priority`` (a number, or a tuple compared item by item) runs first;
        equal ones in the order submitted.
        """
        rank = priority if isinstance(priority, tuple) else (priority,)
        heapq.heappush(self._queue, _Task(rank, next(self._order), key, fn, args))

    def dispatch(self) -> None:
        """Hand queued tasks to idle workers now, rather than at the next iteration."""
        self._fill()

    def renew(self) -> None:
        """Start new workers from this process as it is now, so that they share what it
        has loaded since the old ones were forked; the old ones finish their tasks and exit.

        Only a forked process pool gains from it; any other executor is kept.
        """
        if not self._forked:
            return
        self._retired.append(self._executor)
        self._executor.shutdown(wait=False)  # what it runs still finishes
        self._executor = self._factory(self.jobs)
        self._generation += 1
        self._executor.submit(_ready).result()

    def __iter__(self) -> Iterator[Done[K]]:
        while self._queue or self._suspects or self._running:
            self._fill()
            done, _ = wait(self._running, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: self._running[f].order):
                task = self._running.pop(future)
                error = future.exception()
                if isinstance(error, BrokenExecutor):
                    if self._crashed(task):
                        yield Done(task.key, None, WorkerCrashed("worker process died"))
                    continue
                yield Done(task.key, None if error else future.result(), error)

    def _fill(self) -> None:
        if any(task.suspect for task in self._running.values()):
            return
        if self._suspects:
            if not self._running:  # a suspect runs alone, or a crash would not tell
                self._start(self._suspects.popleft())
            return
        while self._queue and len(self._running) < self._limit:
            self._start(heapq.heappop(self._queue))

    def _start(self, task: _Task[K]) -> None:
        task.generation = self._generation
        self._running[self._executor.submit(task.fn, *task.args)] = task

    def _crashed(self, task: _Task[K]) -> bool:
        """Deal with a task the executor lost; whether it is the one to blame."""
        if task.generation == self._generation:
            _shutdown(self._executor, wait=False)
            self._executor = self._factory(self.jobs)
            self._generation += 1
        if task.suspect:
            return True
        task.suspect = True
        self._suspects.append(task)
        return False

    def close(self) -> None:
        for executor in (*self._retired, self._executor):
            _shutdown(executor, wait=True)

    def __enter__(self) -> Runner[K]:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
