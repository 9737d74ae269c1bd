"""The batch's tasks on a Dask cluster: the other implementation of the executor seam.

The local pool and a cluster are both :class:`concurrent.futures.Executor`
(``distributed.Client.get_executor()`` speaks the interface), so
:class:`pipeline._concurrent.Runner` drives either and no stage knows which
one runs it. Dask and distributed are an optional extra, imported only when a
scheduler is named.

Sources reach the workers in one of two ways (``--ship``):

* ``path`` — the workers read the file at the path the client sees: the
  archive sits on storage every host mounts at the same place;
* ``bytes`` — the client sends each source's content with its tasks and the
  worker keeps a private copy while it works: nothing needs to be shared.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any, Literal, TypeVar

from pipeline.exceptions import MinutesError, MissingDependency

T = TypeVar("T")
Ship = Literal["path", "bytes"]

INSTALL_HINT = "pip install 'minutes[cluster]'"
SCHEDULER_ENV = "MINUTES_SCHEDULER"


class Cluster:
    """A connection to a Dask scheduler, handing out executors for the batch's runner."""

    def __init__(self, address: str, *, timeout: float = 30.0) -> None:
        try:
            from distributed import Client
        except ImportError as error:
            raise MissingDependency(
                f"running on a Dask cluster needs dask and distributed ({INSTALL_HINT})"
            ) from error
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except OSError as error:
            raise MissingDependency(f"cannot reach the Dask scheduler at {address}: {error}") from (
                error
            )
        self.address = address

    @property
    def threads(self) -> int:
        """Worker threads in the cluster now: how many tasks it runs at once."""
        threads: dict[str, int] = self.client.nthreads()
        return max(1, sum(threads.values()))

    @property
    def dashboard(self) -> str | None:
        link: str | None = getattr(self.client, "dashboard_link", None)
        return link

    def factory(self, _jobs: int) -> Executor:
        """An executor on the cluster; ``pure=False`` so repeated tasks really rerun."""
        executor: Executor = self.client.get_executor(pure=False)
        return executor

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def shipped(fn: Callable[..., T], name: str, data: bytes, *args: Any) -> T:
    """Run ``fn(path, *args)`` on a worker-local copy of a source sent as bytes.

    The copy is kept per content hash for the worker's life, so the pages of a
    long PDF write it once; errors still name the source as the client knows it.
    """
    folder = Path(tempfile.gettempdir()) / f"minutes-shipped-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    digest = hashlib.sha256(data).hexdigest()
    copy = folder / f"{digest}{Path(name).suffix.lower()}"
    if not copy.exists():
        partial = copy.with_name(f".{copy.name}.{os.getpid()}")
        partial.write_bytes(data)
        os.replace(partial, copy)  # whole or not at all, as another task may read it
    try:
        result = fn(copy, *args)
    except MinutesError as error:
        error.path = Path(name)
        raise
    if dataclasses.is_dataclass(result) and getattr(result, "source", None) == copy:
        # A draft remembers where it was read from: the client's path, not the copy.
        result = dataclasses.replace(result, source=Path(name))  # type: ignore[type-var]
    return result
