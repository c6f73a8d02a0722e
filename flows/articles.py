"""The Prefect flow: discover partitions, then per partition process batches and publish.

Only wiring lives here; the work is in :mod:`news_pipeline.pipeline`. Tasks handle a batch of
files or a whole partition and pass paths and small records, never frames of article text.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from news_pipeline import pipeline, report, storage
from news_pipeline.settings import Settings

_TASK_OPTIONS = {"cache_policy": NO_CACHE, "persist_result": False}


class DataQualityGateError(RuntimeError):
    """A partition failed an error-severity rule and was not published."""


@task(name="process-batch", **_TASK_OPTIONS)
def process_batch(settings: Settings, ingest_date: dt.date, run_id: str, batch_no: int, files: list) -> pipeline.BatchResult:
    return pipeline.process_batch(settings, ingest_date, run_id, batch_no, files)


@task(name="publish-partition", **_TASK_OPTIONS)
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


@flow(name="news-pipeline", persist_result=False, log_prints=False, task_runner=ThreadPoolTaskRunner(max_workers=2))
def process_articles(
    raw_dir: str | None = None,
    data_dir: str | None = None,
    dates: list[dt.date] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    force: bool = False,
    run_id: str | None = None,
    lock_timeout: float | None = None,
) -> dict:
    """Turn the landing zone's new or changed date folders (or the given ones) into curated and quarantine Parquet."""
    settings = _settings(raw_dir=raw_dir, data_dir=data_dir, lock_timeout=lock_timeout)
    run_id = run_id or pipeline.new_run_id()
    started = dt.datetime.now(dt.UTC)
    with storage.run_lock(settings, run_id):
        storage.clear_staging(settings, keep=run_id)
        plans, skipped = pipeline.plan_partitions(settings, dates, start, end, force)
        get_run_logger().info("run %s: %d partitions to process, %d unchanged", run_id, len(plans), len(skipped))
        previous = None
        finals = []
        for plan in plans:
            batches = [
                process_batch.submit(settings, plan.ingest_date, run_id, i, files) for i, files in enumerate(plan.batches)
            ]
            # partitions publish in date order: duplicates look back at earlier partitions
            previous = publish_partition.submit(settings, plan, run_id, batches, wait_for=[previous] if previous else None)
            finals.append(previous)
        results = [f.result() for f in finals]
        storage.clear_staging(settings)
        summary = report.write_run_report(settings, run_id, started, results + skipped)
    create_markdown_artifact(key="news-pipeline-run", markdown=report.to_markdown(summary), description=f"run {run_id}")
    failed = summary["failed_partitions"]
    if failed:
        raise DataQualityGateError(
            f"data-quality gate stopped {len(failed)} partition(s) from being published: {', '.join(failed)}"
        )
    return summary

