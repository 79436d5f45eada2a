"""Simulation on a Dask cluster: the same chunks as the thread pool, run by worker processes.

A :class:`Cluster` says where to run: ``workers=N`` starts a
:class:`distributed.LocalCluster` of N single-threaded worker processes for the run;
``scheduler="tcp://host:8786"`` connects to a cluster someone else runs. :func:`connect`
opens it (and closes what it started); :func:`run_chunks` sends the job and the prepared
profiles to every worker once (``scatter(..., broadcast=True)``), then one small task per
run of chunks, each naming its trial range only.

Each task computes its chunks with :func:`attain.simulate.runner.compute`, the function
the thread pool calls, and trials draw from their block's keyed stream, so the figures
are byte-identical to a thread-pool run whatever the number of workers or the chunk size.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from attain.errors import Problem, RuleFileError, SolverUnavailableError

__all__ = [
    "CONNECT_TIMEOUT",
    "TASKS_PER_WORKER",
    "Cluster",
    "connect",
    "connect_optional",
    "run_chunks",
]

#: Seconds to wait for a scheduler to answer before giving up.
CONNECT_TIMEOUT = 10.0
#: Tasks per worker: enough to balance uneven workers, few enough that scheduling costs
#: nothing next to the work (a task runs many cache-sized chunks in turn).
TASKS_PER_WORKER = 8


@dataclass(frozen=True)
class Cluster:
    """Where to simulate: a LocalCluster of ``workers`` processes, or a running
    scheduler at ``scheduler`` (an address such as ``tcp://10.0.0.5:8786``)."""

    workers: int | None = None
    scheduler: str | None = None
    timeout: float | None = None  # seconds; CONNECT_TIMEOUT when None

    def __post_init__(self) -> None:
        problems = []
        if (self.workers is None) == (self.scheduler is None):
            problems.append(Problem("cluster", "give either workers or scheduler, not both"))
        if self.workers is not None and self.workers < 1:
            problems.append(Problem("cluster", f"workers must be at least 1 (got {self.workers})"))
        if problems:
            raise RuleFileError(problems)


@dataclass(frozen=True)
class _Shared:
    """What every task reads: sent to each worker once."""

    job: Any  # runner.Job
    profiles: Sequence[Any]  # runner._Profile per variant


@contextlib.contextmanager
def connect(cluster: Cluster) -> Iterator[Any]:
    """A :class:`distributed.Client` on the cluster, closed (with a LocalCluster it
    started) on leaving. A scheduler that does not answer within ``cluster.timeout``
    seconds raises :class:`SolverUnavailableError` naming its address."""
    from distributed import Client, LocalCluster

    if cluster.scheduler is not None:
        timeout = CONNECT_TIMEOUT if cluster.timeout is None else cluster.timeout
        try:
            client = Client(cluster.scheduler, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SolverUnavailableError(
                f"the Dask scheduler at {cluster.scheduler} did not answer within "
                f"{timeout:g} s ({type(exc).__name__}: {exc})"
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    local = LocalCluster(
        n_workers=cluster.workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=50,  # logging.CRITICAL: the library never prints
    )
    try:
        client = Client(local, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        local.close()


@contextlib.contextmanager
def connect_optional(cluster: Cluster | None) -> Iterator[Any]:
    """:func:`connect` to ``cluster``, or ``None`` (the local thread pool) without one."""
    if cluster is None:
        yield None
        return
    with connect(cluster) as client:
        yield client


def _task(shared: _Shared, chunks: Sequence[tuple[int, int]]):
    from attain.simulate.runner import compute, merge

    return merge([compute(shared.job, shared.profiles, first, last) for first, last in chunks])


def run_chunks(client: Any, job: Any, profiles: Sequence[Any], chunks: Sequence[tuple[int, int]]):
    """Yield the pieces of ``chunks`` as the cluster finishes them (in any order)."""
    from distributed import as_completed

    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    n_tasks = max(1, min(len(chunks), n_workers * TASKS_PER_WORKER))
    per_task = -(-len(chunks) // n_tasks)
    groups = [chunks[i : i + per_task] for i in range(0, len(chunks), per_task)]
    # hash=False: a content-hashed key would be the same for the same job run twice, and
    # the first run's cancel of it could then race the second run's tasks ("lost
    # dependencies"); a fresh key per run belongs to this run alone.
    shared = client.scatter(_Shared(job, tuple(profiles)), broadcast=True, hash=False)
    futures = [client.submit(_task, shared, group, pure=False) for group in groups]
    try:
        for future in as_completed(futures, loop=client.loop):
            yield future.result()
    finally:
        client.cancel([*futures, shared])
