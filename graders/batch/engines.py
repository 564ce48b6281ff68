"""Where jobs run: threads on this machine, or the workers of a Dask cluster.

Both run the same function, :func:`graders.batch.job.run_isolated`, which starts one
grading process per job, so a class graded on a cluster gets exactly the points it
would get here. Outcomes come back in completion order.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed

from graders.batch.job import Job, JobStatus, Outcome, run_isolated, stop_running_jobs
from graders.core.progress import Event

#: Hears what a running job reports (its criteria), from the engine's threads.
JobListener = Callable[[Job, Event], None]


class EngineUnavailable(RuntimeError):
    """The chosen engine is not installed or cannot be reached; the message says what to do."""


def _lost(job: Job, error: BaseException) -> Outcome:
    return Outcome(job.student, job.assignment, job.fingerprint, JobStatus.ERROR,
                   error=f"the job was lost by the engine: {type(error).__name__}: {error}"[:500])  # fmt: skip


class LocalEngine:
    """``jobs`` grading processes at a time on this machine (needs nothing extra);
    ``on_event`` hears what each running job reports."""

    def __init__(self, jobs: int, on_event: JobListener | None = None) -> None:
        self.jobs = max(1, jobs)
        self.on_event = on_event

    def run(self, jobs: list[Job]) -> Iterator[Outcome]:
        """Each job's outcome as it ends. Stopped (Ctrl+C, SIGTERM) or abandoned, it starts
        no further job and ends the running ones, whose threads remove their folders."""
        pool = ThreadPoolExecutor(max_workers=self.jobs)
        try:
            futures = {pool.submit(run_isolated, job, self._listener(job)): job for job in jobs}
            for future in as_completed(futures):
                try:
                    yield future.result()
                except Exception as error:  # noqa: BLE001 - run_isolated should not raise
                    yield _lost(futures[future], error)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            stop_running_jobs()
            raise
        finally:
            pool.shutdown(wait=True)

    def _listener(self, job: Job) -> Callable[[Event], None] | None:
        return functools.partial(self.on_event, job) if self.on_event else None


class DaskEngine:
    """Jobs on a Dask distributed cluster (``scheduler`` address), or on a local one.

    Workers need nngrade installed and must see the same paths (submissions, output and
    data folders on a shared file system). A job reports when it is done, not while it
    runs (its criteria stay on its worker).
    """

    def __init__(self, jobs: int, scheduler: str | None = None) -> None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise EngineUnavailable(
                'the dask engine needs Dask distributed: pip install "nngrade[cluster]"'
            ) from None
        self.jobs = max(1, jobs)
        self.scheduler = scheduler

    def run(self, jobs: list[Job]) -> Iterator[Outcome]:
        from distributed import Client, LocalCluster
        from distributed import as_completed as completed

        cluster = None
        try:
            if self.scheduler:
                client = Client(self.scheduler, timeout="30s")
            else:
                cluster = LocalCluster(
                    n_workers=self.jobs, threads_per_worker=1, processes=True,
                    dashboard_address=None,
                )  # fmt: skip
                client = Client(cluster)
        except OSError as error:
            raise EngineUnavailable(
                f"cannot reach the Dask scheduler {self.scheduler}: {error}"
            ) from None
        try:
            futures = {
                client.submit(run_isolated, job, key=f"nngrade-{job.student}-{job.assignment}-{i}"): job
                for i, job in enumerate(jobs)
            }  # fmt: skip
            for future in completed(futures):
                try:
                    yield future.result()
                except Exception as error:  # noqa: BLE001 - a worker died: record, go on
                    yield _lost(futures[future], error)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def make_engine(
    name: str, jobs: int, scheduler: str | None = None, on_event: JobListener | None = None
) -> LocalEngine | DaskEngine:
    """The engine ``name``; ``on_event`` hears running jobs where the engine can tell."""
    if name == "dask":
        return DaskEngine(jobs, scheduler)
    if scheduler:
        raise EngineUnavailable("--scheduler needs --engine dask")
    return LocalEngine(jobs, on_event)
