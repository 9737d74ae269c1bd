"""The batch on a Dask cluster: same outputs as the local pool, even when a worker dies."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import RAW

from pipeline import api
from pipeline._cluster import INSTALL_HINT, Cluster
from pipeline.batch import Progress
from pipeline.exceptions import MissingDependency

distributed = pytest.importorskip("distributed", reason="the cluster extra is not installed")

# What a run writes that records the run itself rather than the data.
_BOOKKEEPING = {".cache", "manifest.json"}


def _outputs(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and not (set(p.relative_to(out).parts) & _BOOKKEEPING)
    }


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("raw")
    for path in RAW.iterdir():
        shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture(scope="module")
def local(raw: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("local")
    api.run(raw, out, jobs=2, progress=Progress(lambda _: None))
    return _outputs(out)


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


@pytest.mark.ocr
@pytest.mark.parametrize("ship", ["path", "bytes"])
def test_cluster_gives_the_local_pools_outputs(
    raw: Path, local: dict[str, bytes], scheduler: str, ship: str, tmp_path: Path
) -> None:
    with Cluster(scheduler) as cluster:
        assert cluster.threads == 2
        result = api.run(
            raw, tmp_path, cluster=cluster, ship=ship, progress=Progress(lambda _: None)
        )
    assert not result.failed
    assert _outputs(tmp_path) == local


@pytest.mark.ocr
def test_a_killed_worker_loses_nothing(
    raw: Path, local: dict[str, bytes], scheduler: str, tmp_path: Path
) -> None:
    errors: list[BaseException] = []

    with Cluster(scheduler) as cluster:
        client = cluster.client

        def work() -> None:
            try:
                api.run(raw, tmp_path, cluster=cluster, progress=Progress(lambda _: None))
            except BaseException as error:  # handed to the test thread
                errors.append(error)

        thread = threading.Thread(target=work)
        thread.start()
        # Kill a worker while it is busy with one of the batch's tasks.
        deadline = time.monotonic() + 120
        victim = None
        while victim is None and time.monotonic() < deadline and thread.is_alive():
            busy = [w for w, tasks in client.processing().items() if tasks]
            if busy:
                victim = busy[0]
            else:
                time.sleep(0.05)
        assert victim is not None, "no task ever ran on the cluster"
        pid = client.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)
        thread.join(timeout=600)
    assert not thread.is_alive() and not errors, errors
    assert _outputs(tmp_path) == local


def test_missing_extra_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    with pytest.raises(MissingDependency) as caught:
        Cluster("tcp://127.0.0.1:8786")
    assert INSTALL_HINT in str(caught.value) and "\n" not in str(caught.value)
