"""The Prefect flow: the run loop of :mod:`news_pipeline.runner`, with batches and publishes as Prefect tasks.

Only wiring lives here. Tasks handle a batch of files or a whole partition and pass paths and
small records; a batch's file listing travels as one small frame, never article text.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from zoneinfo import ZoneInfo

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.runtime import flow_run
from prefect.states import Failed
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

from flows.concurrency import data_dir_slot
from news_pipeline import batch, partition, progress, results, runner
from news_pipeline.config import Settings
from news_pipeline.reporting.run_report import to_markdown

_TASK_OPTIONS = {"cache_policy": NO_CACHE, "persist_result": False}
_ARTIFACT_EVERY_S = 2.0  # the UI's progress artifact is updated at most this often (and at the end)


def _transient(task, task_run, state) -> bool:
    """Retry only what may pass on a second try: I/O errors (a flaky mount, an object store hiccup)."""
    try:
        state.result()
    except OSError:
        return True
    except BaseException:
        return False
    return False


def task_runner_for(settings: Settings, n_files: int | None = None):
    """The runner of the batch tasks: worker processes, threads, or Dask (a cluster at ``dask_address`` or a local one).

    ``auto`` (the default) picks worker processes, one per core, from ``runner.PROCESSES_FROM_FILES``
    files on, else threads.
    """
    kind = runner.batch_runner_kind(settings, n_files)
    if kind == "processes":
        return ProcessPoolTaskRunner(max_workers=settings.workers, initializer=batch.warm_up)
    if kind == "dask":
        from prefect_dask import DaskTaskRunner

        if settings.dask_address:
            return DaskTaskRunner(address=settings.dask_address)
        cluster = {"n_workers": settings.workers, "threads_per_worker": 1, "processes": True, "dashboard_address": None}
        return DaskTaskRunner(cluster_kwargs=cluster)
    return ThreadPoolTaskRunner(max_workers=settings.workers)


class DataQualityGateError(RuntimeError):
    """A partition failed an error-severity rule and was not published."""


@task(name="process-batch", retries=2, retry_delay_seconds=2, retry_condition_fn=_transient, **_TASK_OPTIONS)
def process_batch(
    settings: Settings,
    ingest_date: dt.date,
    run_id: str,
    batch_no: int,
    files: pl.DataFrame,
    history_days: list[dt.date],
) -> results.BatchResult:
    return batch.process_batch(settings, ingest_date, run_id, batch_no, files, history_days)


@task(name="publish-partition", retries=1, retry_delay_seconds=2, retry_condition_fn=_transient, **_TASK_OPTIONS)
def publish_partition(
    settings: Settings, plan: results.PartitionPlan, run_id: str, batches: list[results.BatchResult]
) -> results.PartitionResult:
    result = partition.finalize_partition(settings, plan, run_id, batches)
    logger = get_run_logger()
    day = plan.ingest_date
    if result.failures:
        logger.error("partition %s not published: %s", day, "; ".join(result.failures))
    else:
        logger.info("partition %s published: %d curated, %d quarantined", day, result.curated, result.quarantined)
    return result


class PrefectExecutor:
    """The runner's :class:`~news_pipeline.runner.Executor` on a Prefect task runner: batches and publishes as tasks."""

    def __init__(self, task_runner) -> None:
        self.task_runner = task_runner

    def submit(self, settings: Settings, plan: results.PartitionPlan, run_id: str, batch_no: int):
        params = {
            "settings": settings,
            "ingest_date": plan.ingest_date,
            "run_id": run_id,
            "batch_no": batch_no,
            "files": plan.batches[batch_no],
            "history_days": plan.history_days,
        }
        # named by date and batch in the UI (not by a hash suffix)
        name = f"batch {plan.ingest_date} {batch_no + 1}/{len(plan.batches)}"
        return self.task_runner.submit(process_batch.with_options(task_run_name=name), params)

    def as_completed(self, futures: list) -> Iterator:
        return as_completed(futures)

    def publish(
        self, settings: Settings, plan: results.PartitionPlan, run_id: str, batches: list[results.BatchResult]
    ) -> results.PartitionResult:
        name = f"publish {plan.ingest_date}"
        return publish_partition.with_options(task_run_name=name)(settings, plan, run_id, batches)


@contextmanager
def prefect_executor(settings: Settings, n_files: int) -> Iterator[PrefectExecutor]:
    with task_runner_for(settings, n_files) as task_runner:
        yield PrefectExecutor(task_runner)


def _progress_artifact(run_id: str):
    """A progress listener that keeps the UI's progress artifact up to date (an API call of ~16 ms each)."""
    shown: dict = {"artifact": None, "at": 0.0}

    def update(done: int, total: int, label: str) -> None:
        if shown["artifact"] is None:
            description = f"run {run_id}: files processed"
            shown["artifact"] = create_progress_artifact(0.0, key="news-pipeline-progress", description=description)
        elif time.monotonic() - shown["at"] >= _ARTIFACT_EVERY_S or done == total:
            update_progress_artifact(shown["artifact"], 100.0 * done / total if total else 100.0)
            shown["at"] = time.monotonic()

    return update


def _settings(**overrides) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def _logical_date(settings: Settings) -> dt.date | None:
    """The day a scheduled run is for: the day before its scheduled start, in the schedule's time zone."""
    scheduled = flow_run.scheduled_start_time
    if scheduled is None:
        return None
    # via the timestamp: Prefect hands over a pendulum DateTime whose arithmetic drops the zone
    local = dt.datetime.fromtimestamp(scheduled.timestamp(), ZoneInfo(settings.timezone))
    return local.date() - dt.timedelta(days=1)


@flow(name="news-pipeline", persist_result=False, log_prints=False)
def process_articles(
    raw_dir: str | None = None,
    data_dir: str | None = None,
    dates: list[dt.date] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    force: bool = False,
    run_id: str | None = None,
    lock_timeout: float | None = None,
    scheduled: bool = False,
    task_runner: str | None = None,
    dask_address: str | None = None,
) -> dict:
    """Turn the landing zone's new or changed date folders (or the given ones) into curated and quarantine Parquet.

    ``scheduled`` runs (the daily deployment) are for the day before their scheduled start and
    also pick up any other folder with new or changed files, so late arrivals are not missed.
    ``task_runner`` and ``dask_address`` override the settings of where batches run.
    """
    settings = _settings(
        raw_dir=raw_dir,
        data_dir=data_dir,
        lock_timeout=lock_timeout,
        task_runner=task_runner,
        dask_address=dask_address,
    )
    run_id = run_id or runner.new_run_id()
    logical = _logical_date(settings) if scheduled else None
    listener = _progress_artifact(run_id)
    progress.subscribe(listener)
    try:
        with data_dir_slot(settings):
            summary = runner.run(
                settings,
                partial(prefect_executor, settings),
                run_id=run_id,
                dates=dates,
                start=start,
                end=end,
                force=force,
                logical_date=logical,
                logger=get_run_logger(),
            )
    finally:
        progress.unsubscribe(listener)
    create_markdown_artifact(key="news-pipeline-run", markdown=to_markdown(summary), description=f"run {run_id}")
    failed = summary["failed_partitions"]
    if failed:
        where = "; ".join(f"{day}: {path}" for day, path in summary["blocked_files"].items())
        raise DataQualityGateError(
            f"data-quality gate stopped {len(failed)} partition(s) from being published: {', '.join(failed)} "
            f"(failed files and reasons: {where})"
        )
    if summary.get("logical_date_missing"):
        # A scheduled run for a day whose folder never arrived is red in the UI (and triggers notifications):
        # the day's data is missing upstream. The other folders it found were processed and published.
        message = f"no landing folder for {logical}: nothing arrived for the day this run is for"
        return Failed(name="MissingData", message=message, data=summary)
    return summary
