"""Publishing one partition from its staged batches, in named steps: link, validate, build outputs, commit.

:func:`finalize_partition` reads the staged batches' metadata, links the rows to their duplicates
and stories (also in earlier partitions), runs the quality gate, and, unless an error-severity
partition rule failed, writes the partition's four files (curated, quarantine, signatures,
ledger) and makes them visible together; the manifest, written last, is the commit point.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Iterator

import polars as pl
import pyarrow as pa

from news_pipeline import schemas, state
from news_pipeline.catalog import Catalog, partition_file
from news_pipeline.config import Settings
from news_pipeline.io import publish
from news_pipeline.io.parquet import iter_earlier, write_parquet
from news_pipeline.locations import Location
from news_pipeline.reporting import datadocs
from news_pipeline.results import BatchResult, PartitionPlan, PartitionResult
from news_pipeline.stages import dedup
from news_pipeline.stages.extract import recurring
from news_pipeline.timing import Timings


def read_staged_meta(staged: list[str], day: dt.date) -> pl.DataFrame:
    """The text-free columns of a partition's staged batches, with ``ingest_date``."""
    frames = [pl.read_parquet(p, columns=schemas.STAGED_META) for p in staged]
    return pl.concat(frames).with_columns(pl.lit(day).alias("ingest_date"))


def _story_window_start(settings: Settings, ingest_date: dt.date) -> dt.date:
    """The first day whose articles can still be a story with ``ingest_date``'s."""
    return ingest_date - dt.timedelta(days=settings.story_window_days)


def earlier_signatures(settings: Settings, ingest_date: dt.date, current: pl.DataFrame) -> pl.DataFrame:
    """The rows of earlier partitions that can be a duplicate or a story of ``current`` (read one at a time)."""
    cols = ["doc_id", "source_path", "content_hash", "story_id", "minhash"]
    parts = iter_earlier(Catalog.of(settings).signatures, ingest_date, cols)
    earlier = dedup.relevant_earlier(parts, current, _story_window_start(settings, ingest_date))
    if earlier is None:
        empty = schemas.polars_schema(schemas.SIGNATURES) | {"ingest_date": pl.Date()}
        return pl.DataFrame(schema=empty)
    return earlier


def link(settings: Settings, rows: pl.DataFrame, earlier: pl.DataFrame, ingest_date: dt.date) -> pl.DataFrame:
    """``rows`` with ``duplicate_of`` and ``story_id`` against themselves and earlier partitions."""
    recent = earlier.filter(pl.col("ingest_date") >= _story_window_start(settings, ingest_date))
    return rows.join(dedup.assign_duplicates(rows, earlier), on="doc_id", how="left").join(
        dedup.assign_stories(rows, recent, settings.story_similarity), on="doc_id", how="left"
    )


def _quarantined(meta: pl.DataFrame, row_reasons: pl.DataFrame) -> pl.DataFrame:
    """``doc_id`` and ``reasons`` of every rejected file: before validation, then by the row rules."""
    return pl.concat(
        [
            meta.filter(pl.col("reasons").list.len() > 0).select("doc_id", "reasons"),
            row_reasons.select("doc_id", pl.col("reasons").cast(pl.List(pl.String))),
        ]
    )


def removed_totals(staged: list[str]) -> dict[str, dict[str, int]]:
    """Blocks and characters each boilerplate rule removed, summed over the staged batches."""
    removed = pl.concat([pl.read_parquet(p, columns=["removed"]) for p in staged]).explode("removed").drop_nulls()
    if removed.height == 0:
        return {}
    totals = removed.unnest("removed").group_by("rule").agg(pl.col("blocks").sum(), pl.col("chars").sum()).sort("rule")
    return {rule: {"blocks": blocks, "chars": chars} for rule, blocks, chars in totals.iter_rows()}


def partition_line_counts(catalog: Catalog, run_id: str, plan: PartitionPlan) -> pl.DataFrame:
    """The partition's recurring-line counts: its batches' own, summed, without the lines of a single page."""
    counts = None
    for batch_no in range(len(plan.batches)):
        own = pl.read_parquet(catalog.staged_line_counts(run_id, plan.ingest_date, batch_no))
        counts = recurring.merge_counts(counts, own)
    return recurring.prune_counts(counts if counts is not None else pl.DataFrame(schema=recurring.COUNTS_SCHEMA))


def _count(result: PartitionResult, linked: pl.DataFrame, quarantined: pl.DataFrame) -> None:
    result.curated, result.quarantined = linked.height, quarantined.height
    result.duplicates = linked["duplicate_of"].is_not_null().sum()
    stories = linked.filter(pl.col("duplicate_of").is_null() & (pl.col("story_id") != pl.col("doc_id")))
    result.near_duplicates = stories.height
    result.reasons = dict(Counter(r.split(":", 1)[0] for rs in quarantined["reasons"].to_list() for r in rs))


def build_outputs(
    catalog: Catalog,
    staged: list[str],
    meta: pl.DataFrame,
    linked: pl.DataFrame,
    quarantined: pl.DataFrame,
    run_id: str,
    line_counts: pl.DataFrame,
) -> dict[Location, tuple[Iterator[pa.Table] | list[pa.Table], pa.Schema]]:
    """The tables of each partition root, by root; curated and quarantine are read batch by batch from staging."""
    links = linked.select("doc_id", "duplicate_of", "story_id")
    run = pl.lit(run_id).alias("run_id")

    def curated_tables() -> Iterator[pa.Table]:
        for path in staged:
            batch = pl.read_parquet(path).join(links, on="doc_id", how="inner").with_columns(run)
            yield schemas.conform(batch, schemas.CURATED)

    def quarantine_tables() -> Iterator[pa.Table]:
        for path in staged:
            batch = pl.read_parquet(path, columns=["doc_id", "source_path", "raw_text", "encoding"])
            batch = batch.join(quarantined, on="doc_id", how="inner").with_columns(run)
            yield schemas.conform(batch, schemas.QUARANTINE)

    signatures = linked.select(schemas.SIGNATURES.names)
    return {
        catalog.quarantine: (quarantine_tables(), schemas.QUARANTINE),
        catalog.curated: (curated_tables(), schemas.CURATED),
        catalog.signatures: ([schemas.conform(signatures, schemas.SIGNATURES)], schemas.SIGNATURES),
        catalog.ledger: (
            [schemas.conform(state.ledger_table(meta, quarantined, run_id), schemas.LEDGER)],
            schemas.LEDGER,
        ),
        catalog.line_counts: ([schemas.conform(line_counts, schemas.LINE_COUNTS)], schemas.LINE_COUNTS),
    }


def write_blocked_files(
    catalog: Catalog, run_id: str, day: dt.date, meta: pl.DataFrame, quarantined: pl.DataFrame
) -> Location:
    """For a partition the gate stopped: the files that failed and why, as ``reports/blocked`` Parquet; its path.

    The partition is not published, so its quarantine rows reach no dataset: this is where an operator finds them.
    """
    failed = quarantined.join(meta.select("doc_id", "source_path"), on="doc_id", how="left").with_columns(
        pl.lit(run_id).alias("run_id")
    )
    final = catalog.blocked_files(run_id, day)
    tmp = catalog.staging(run_id) / f"blocked-{day}.parquet"
    write_parquet([schemas.conform(failed, schemas.BLOCKED)], schemas.BLOCKED, tmp, run_id=run_id)
    publish.publish_file(tmp, final)
    return final


def _docs_notes(catalog: Catalog, run_id: str, result: PartitionResult) -> dict[str, str]:
    """What the partition's Data Docs page adds to GX's results: cleaning's removals, a stopped partition's files."""
    removed = "; ".join(
        f"{rule}: {n['blocks']:,} blocks, {n['chars']:,} characters" for rule, n in result.removed.items()
    )
    notes = {"removed by cleaning (per rule)": removed or "nothing"}
    if result.failures:
        notes["files of the stopped partition"] = str(catalog.blocked_files(run_id, result.ingest_date))
    return notes


def commit(catalog: Catalog, day: dt.date, outputs: dict, run_id: str) -> None:
    """Write every partition file in staging, then make them visible together (all complete on disk before any is)."""
    written = []
    for root in catalog.partition_roots:
        tables, table_schema = outputs[root]
        tmp = catalog.staged_partition_file(run_id, day, root)
        final = partition_file(root, day)
        replaces = final if root in catalog.read_by_users else None
        write_parquet(tables, table_schema, tmp, run_id=run_id, replaces=replaces)
        written.append((tmp, final))
    for tmp, final in written:
        publish.publish_file(tmp, final)


def finalize_partition(
    settings: Settings, plan: PartitionPlan, run_id: str, batches: list[BatchResult]
) -> PartitionResult:
    """Link duplicates, validate, and atomically publish one partition's curated and quarantine files.

    A partition that fails an error-severity partition rule is not published; the old files stay.
    """
    from news_pipeline.stages import validate  # imports Great Expectations: seconds

    started, timings, catalog = time.perf_counter(), Timings(), Catalog.of(settings)
    day, result = plan.ingest_date, PartitionResult(plan.ingest_date, n_files=plan.n_files)
    staged = [b.staged for b in sorted(batches, key=lambda b: b.batch_no)]
    with timings.stage("staging I/O"):
        meta = read_staged_meta(staged, day)
    candidates = meta.filter(pl.col("reasons").list.len() == 0)
    with timings.stage("duplicates + stories"):
        earlier = earlier_signatures(settings, day, candidates)
    with timings.stage("validate"):
        rows = validate.validate_rows(candidates, thresholds=settings.thresholds)
    # linked after the row rules: the rows they reject do not count as first-seen documents
    with timings.stage("duplicates + stories"):
        linked = link(settings, rows.passed, earlier, day)
    with timings.stage("validate"):
        early = Counter(r[0].split(":", 1)[0] for r in meta.filter(pl.col("reasons").list.len() > 0)["reasons"])
        checked = validate.validate_partition(
            linked, thresholds=settings.thresholds, n_files=plan.n_files, rejected_early=early
        )
        validation = validate.ArticleValidation(rows, checked)
    result.warnings = [str(w) for w in validation.warnings]
    result.failures = [str(f) for f in validation.partition_failures]
    quarantined = _quarantined(meta, validation.row_reasons)
    _count(result, linked, quarantined)
    result.removed = removed_totals(staged)
    # input of the run's Data Docs, with what cleaning removed and where a stopped partition lists its files
    datadocs.save_validation(catalog, run_id, day, validation, _docs_notes(catalog, run_id, result))
    if not result.failures:
        with timings.stage("publish"):
            line_counts = partition_line_counts(catalog, run_id, plan)
            outputs = build_outputs(catalog, staged, meta, linked, quarantined, run_id, line_counts)
            commit(catalog, day, outputs, run_id)
            result.published = True
            result.seconds = time.perf_counter() - started
            # the commit point: a partition counts as published only when the manifest names this run
            record = {"run_id": run_id, "published": dt.datetime.now(dt.UTC)} | result.to_dict()
            publish.write_manifest(catalog, day, record)
    else:
        with timings.stage("publish"):
            result.blocked_files = str(write_blocked_files(catalog, run_id, day, meta, quarantined))
        result.seconds = time.perf_counter() - started
    result.timings = timings.totals
    return result
