"""The one run loop: plan the partitions, run their batches on an executor, publish each partition in date order.

The flow (``flows/articles.py``, batches as Prefect tasks), the benchmark (worker processes
without Prefect, or one batch at a time for the stage profile) and the tests all run this loop;
they differ only in the :class:`Executor` that runs the batches.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import secrets
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures as cf
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Literal, Protocol

from news_pipeline import progress, state
from news_pipeline.batch import process_batch, warm_up
from news_pipeline.catalog import Catalog
from news_pipeline.config import Settings
from news_pipeline.io import publish
from news_pipeline.io.landing import list_files, select_partitions
from news_pipeline.partition import finalize_partition
from news_pipeline.reporting.run_report import write_run_report
from news_pipeline.results import BatchResult, PartitionPlan, PartitionResult
from news_pipeline.timing import Timings

log = logging.getLogger("news_pipeline")


def new_run_id() -> str:
    """A sortable, readable run id: UTC time plus a random suffix."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def _unchanged(catalog: Catalog, day: dt.date, n_files: int) -> PartitionResult:
    """An unchanged partition as its last publish left it: the counts its manifest records."""
    record = publish.read_manifest(catalog, day) or {}
    counts = ("curated", "quarantined", "duplicates", "near_duplicates", "reasons", "warnings", "removed")
    kept = {k: record[k] for k in counts if k in record}
    return PartitionResult(day, n_files=n_files, skipped=True, published=True, **kept)


def plan_partitions(
    settings: Settings,
    dates: list[dt.date] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    force: bool = False,
) -> tuple[list[PartitionPlan], list[PartitionResult]]:
    """The partitions to process (new or changed, or all with ``force``) and those skipped as unchanged."""
    catalog, todo, skipped = Catalog.of(settings), [], []
    for part in select_partitions(settings.raw_dir, dates, start, end):
        files = list_files(settings.raw_dir, part)
        day = part.ingest_date
        reason = (
            "forced" if force else state.change_reason(catalog, settings.raw_dir, day, files, settings.max_file_bytes)
        )
        if reason is None:
            skipped.append(_unchanged(catalog, day, files.height))
            continue
        rows = files.select("source_path", "abs_path", "size", "mtime_ns")
        size = settings.batch_size
        batches = [rows.slice(i, size) for i in range(0, rows.height, size)] or [rows]
        todo.append(PartitionPlan(day, files.height, batches, reason))
    planned = {p.ingest_date for p in todo}
    for plan in todo:
        # the cleaning learns each site's recurring lines from the earlier days this run leaves as they
        # are: so a partition's text does not depend on the order in which a run's batches finish
        window = (plan.ingest_date - dt.timedelta(days=k) for k in range(settings.boilerplate_window_days, 0, -1))
        plan.history_days = [d for d in window if d not in planned]
    return todo, skipped


class Executor(Protocol):
    """Where batches run: ``submit`` starts one, ``as_completed`` yields the started ones as they finish."""

    def submit(self, settings: Settings, plan: PartitionPlan, run_id: str, batch_no: int) -> Any:
        """Start batch ``batch_no`` of ``plan``; a future whose ``result()`` is its :class:`BatchResult`."""

    def as_completed(self, futures: list[Any]) -> Iterable[Any]: ...

    def publish(
        self, settings: Settings, plan: PartitionPlan, run_id: str, batches: list[BatchResult]
    ) -> PartitionResult:
        """Publish a partition whose batches are all done (in this process, in date order)."""


class LocalExecutor:
    """Batches on ``workers`` threads or worker processes, or one at a time right here (``inline``)."""

    def __init__(self, kind: Literal["threads", "processes", "inline"] = "threads", workers: int = 2) -> None:
        self.kind = kind
        if kind == "processes":
            # spawned, as Prefect's runner does: forking a process that runs Polars' threads can deadlock
            context = multiprocessing.get_context("spawn")
            self._pool: cf.Executor | None = cf.ProcessPoolExecutor(workers, mp_context=context, initializer=warm_up)
        else:
            self._pool = cf.ThreadPoolExecutor(workers) if kind == "threads" else None

    def submit(self, settings: Settings, plan: PartitionPlan, run_id: str, batch_no: int) -> cf.Future:
        args = (settings, plan.ingest_date, run_id, batch_no, plan.batches[batch_no], plan.history_days)
        if self._pool is not None:
            return self._pool.submit(process_batch, *args)
        done: cf.Future = cf.Future()
        done.set_result(process_batch(*args))
        return done

    def as_completed(self, futures: list[cf.Future]) -> Iterator[cf.Future]:
        return cf.as_completed(futures)

    def publish(
        self, settings: Settings, plan: PartitionPlan, run_id: str, batches: list[BatchResult]
    ) -> PartitionResult:
        return finalize_partition(settings, plan, run_id, batches)

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown()


def run_partitions(
    settings: Settings, plans: list[PartitionPlan], run_id: str, executor: Executor, timings: Timings | None = None
) -> list[PartitionResult]:
    """Submit every batch, then publish each partition, in date order, as soon as its batches are done.

    Partitions publish in date order (duplicates look back at earlier partitions) while the
    executor's workers go on with later partitions' batches. Progress goes to
    :mod:`news_pipeline.progress`; each batch's and partition's stage timings are added to ``timings``.
    """
    total, done, results = sum(p.n_files for p in plans), 0, []
    progress.report(0, total, "starting")
    submitted = {
        plan.ingest_date: [executor.submit(settings, plan, run_id, i) for i in range(len(plan.batches))]
        for plan in plans
    }
    for plan in plans:
        batches = []
        for future in executor.as_completed(submitted[plan.ingest_date]):
            batches.append(future.result())
            done += batches[-1].n_files
            progress.report(done, total, plan.ingest_date.isoformat())
        result = executor.publish(settings, plan, run_id, batches)
        if timings is not None:
            for b in batches:
                timings.merge(b.timings)
            timings.merge(result.timings)
        results.append(result)
    return results


ExecutorFactory = Callable[[int], AbstractContextManager[Executor]]


def local_executor(settings: Settings) -> ExecutorFactory:
    """Worker processes for runs of ``PROCESSES_FROM_FILES`` files or more, else threads (as ``task_runner=auto``)."""

    @contextmanager
    def factory(n_files: int) -> Iterator[Executor]:
        with LocalExecutor(batch_runner_kind(settings, n_files), settings.workers) as executor:
            yield executor

    return factory


# Below this many files a run stays in threads: two worker processes cost ~10 s of CPU to start (imports,
# gazetteer, fastText model) on the cores the batches need. A 10,000-file day took 19.3 s end to end on
# threads against 24.4 s on processes; at 100,000 files processes are faster (see benchmarks/README.md).
PROCESSES_FROM_FILES = 25_000


def batch_runner_kind(settings: Settings, n_files: int | None) -> str:
    """``settings.task_runner`` with ``auto`` resolved: processes from ``PROCESSES_FROM_FILES`` files, else threads."""
    if settings.task_runner != "auto":
        return settings.task_runner
    return "processes" if n_files is None or n_files >= PROCESSES_FROM_FILES else "threads"


def run(
    settings: Settings,
    executor_for: ExecutorFactory,
    *,
    run_id: str | None = None,
    dates: list[dt.date] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    force: bool = False,
    logical_date: dt.date | None = None,
    logger: logging.Logger | logging.LoggerAdapter = log,
    timings: Timings | None = None,
) -> dict:
    """A whole run under the data folder's lock: plan, process and publish, write the run report; the report."""
    run_id = run_id or new_run_id()
    catalog, started = Catalog.of(settings), dt.datetime.now(dt.UTC)
    with publish.run_lock(catalog, run_id, settings.lock_timeout):
        publish.clear_staging(catalog, keep=run_id)
        plans, skipped = plan_partitions(settings, dates, start, end, force)
        missing = logical_date is not None and logical_date not in {p.ingest_date for p in plans + skipped}
        if missing:
            logger.warning("no landing folder for the logical date %s yet", logical_date)
        logger.info("run %s: %d partitions to process, %d unchanged", run_id, len(plans), len(skipped))
        with executor_for(sum(p.n_files for p in plans)) as executor:
            results = run_partitions(settings, plans, run_id, executor, timings)
        publish.clear_staging(catalog)
        report = write_run_report(settings, run_id, started, results + skipped, logical_date, missing)
        return report
