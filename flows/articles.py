"""The Prefect flow: discover partitions, then per partition process batches and publish.

Only wiring lives here; the work is in :mod:`news_pipeline.pipeline`. Tasks handle a batch of
files or a whole partition and pass paths and small records, never frames of article text.
"""

from __future__ import annotations

import datetime as dt
import time

from zoneinfo import ZoneInfo

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.runtime import flow_run
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

from news_pipeline import pipeline, progress
from news_pipeline.reporting import run_report as report
from news_pipeline.io import storage
from news_pipeline.config import Settings

_TASK_OPTIONS = {"cache_policy": NO_CACHE, "persist_result": False}
_ARTIFACT_EVERY_S = 2.0  # the UI's progress artifact is updated at most this often (and at the end)


def _transient(task, task_run, state) -> bool:
    """Retry only what may pass on a second try: I/O errors (a flaky mount, an object store hiccup)."""
    try:
        state.result()
    except OSError:
        return True
    except BaseException:  # noqa: BLE001 - any other failure is a bug or bad data: retrying repeats it
        return False
    return False


def _warm_worker() -> None:
    """Load what every batch needs once per worker process (parsing tables, gazetteer, fastText model)."""
    from news_pipeline.stages import entities, language

    entities.gazetteer()
    entities._lookups()
    language._model()


# Below this many files a run stays in threads: two worker processes take seconds to start (imports,
# gazetteer, fastText model), which a small run would spend waiting.
PROCESSES_FROM_FILES = 2_000


def task_runner_for(settings: Settings, n_files: int | None = None):
    """The runner of the batch tasks: worker processes, threads, or Dask (a cluster at ``dask_address`` or a local one).

    ``auto`` (the default) picks worker processes, one per core, when there are at least
    ``PROCESSES_FROM_FILES`` files, else threads.
    """
    kind = settings.task_runner
    if kind == "auto":
        kind = "processes" if n_files is None or n_files >= PROCESSES_FROM_FILES else "threads"
    if kind == "processes":
        return ProcessPoolTaskRunner(max_workers=settings.workers, initializer=_warm_worker)
    if kind == "dask":
        from prefect_dask import DaskTaskRunner

        if settings.dask_address:
            return DaskTaskRunner(address=settings.dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": settings.workers, "threads_per_worker": 1, "processes": True,
                                              "dashboard_address": None})  # fmt: skip
    return ThreadPoolTaskRunner(max_workers=settings.workers)


class DataQualityGateError(RuntimeError):
    """A partition failed an error-severity rule and was not published."""


@task(name="process-batch", retries=2, retry_delay_seconds=2, retry_condition_fn=_transient, **_TASK_OPTIONS)
def process_batch(settings: Settings, ingest_date: dt.date, run_id: str, batch_no: int, files: pl.DataFrame) -> pipeline.BatchResult:
    return pipeline.process_batch(settings, ingest_date, run_id, batch_no, files)


@task(name="publish-partition", retries=1, retry_delay_seconds=2, retry_condition_fn=_transient, **_TASK_OPTIONS)
def publish_partition(
    settings: Settings, plan: pipeline.PartitionPlan, run_id: str, batches: list[pipeline.BatchResult]
) -> pipeline.PartitionResult:
    result = pipeline.finalize_partition(settings, plan, run_id, batches)
    logger = get_run_logger()
    if result.failures:
        logger.error("partition %s not published: %s", plan.ingest_date, "; ".join(result.failures))
    else:
        logger.info("partition %s published: %d curated, %d quarantined", plan.ingest_date, result.curated, result.quarantined)
    return result


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
    settings = _settings(raw_dir=raw_dir, data_dir=data_dir, lock_timeout=lock_timeout, task_runner=task_runner,
                         dask_address=dask_address)  # fmt: skip
    logger = get_run_logger()
    run_id = run_id or pipeline.new_run_id()
    started = dt.datetime.now(dt.UTC)
    logical = _logical_date(settings) if scheduled else None
    with storage.run_lock(settings, run_id):
        storage.clear_staging(settings, keep=run_id)
        plans, skipped = pipeline.plan_partitions(settings, dates, start, end, force)
        if logical and logical not in {p.ingest_date for p in plans + skipped}:
            logger.warning("no landing folder for the logical date %s yet", logical)
        logger.info("run %s: %d partitions to process, %d unchanged", run_id, len(plans), len(skipped))
        results = _process(settings, plans, run_id)
        storage.clear_staging(settings)
        summary = report.write_run_report(settings, run_id, started, results + skipped, logical_date=logical)
    create_markdown_artifact(key="news-pipeline-run", markdown=report.to_markdown(summary), description=f"run {run_id}")
    failed = summary["failed_partitions"]
    if failed:
        raise DataQualityGateError(
            f"data-quality gate stopped {len(failed)} partition(s) from being published: {', '.join(failed)}"
        )
    return summary


def _process(settings: Settings, plans: list[pipeline.PartitionPlan], run_id: str) -> list[pipeline.PartitionResult]:
    """Submit every batch (run in parallel by the task runner) and each partition's publish, in date order."""
    total = sum(p.n_files for p in plans)
    artifact = create_progress_artifact(0.0, key="news-pipeline-progress", description=f"run {run_id}: files processed")
    progress.report(0, total, "starting")
    done, results, shown = 0, [], 0.0
    with task_runner_for(settings, total) as runner:
        futures = {
            plan.ingest_date: [
                runner.submit(process_batch, {"settings": settings, "ingest_date": plan.ingest_date, "run_id": run_id,
                                              "batch_no": i, "files": files})  # fmt: skip
                for i, files in enumerate(plan.batches)
            ]
            for plan in plans
        }
        # Partitions publish here, in date order (duplicates look back at earlier partitions), while
        # the runner's workers go on with the later partitions' batches.
        for plan in plans:
            batches = []
            for future in as_completed(futures[plan.ingest_date]):
                batch = future.result()
                batches.append(batch)
                done += batch.n_files
                progress.report(done, total, batch.ingest_date.isoformat())
                if time.monotonic() - shown >= _ARTIFACT_EVERY_S or done == total:  # an API call each: ~16 ms
                    update_progress_artifact(artifact, 100.0 * done / total if total else 100.0)
                    shown = time.monotonic()
            results.append(publish_partition(settings, plan, run_id, batches))
    return results
