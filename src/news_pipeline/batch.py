"""One batch of raw files through the stages, into a staged Parquet file: read, decode, clean, extract, ...

The stages run in pipeline order, each timed under its name (:mod:`news_pipeline.timing`). The
result carries where the batch's rows are staged and the timings; the article text stays in the
staged file until its partition is published.
"""

from __future__ import annotations

import datetime as dt
import time

import polars as pl

from news_pipeline import schemas, state
from news_pipeline.catalog import Catalog, partition_file
from news_pipeline.config import Settings, Thresholds
from news_pipeline.io import fs
from news_pipeline.io.landing import read_batch
from news_pipeline.results import BatchResult
from news_pipeline.stages import dedup, entities, ingest, language
from news_pipeline.stages.clean import normalize
from news_pipeline.stages.extract import articles, recurring
from news_pipeline.timing import Timings


def read_line_counts(catalog: Catalog, days: list[dt.date]) -> pl.DataFrame | None:
    """The recurring-line counts of the given earlier partitions, summed; None when there are none."""
    counts = None
    for day in days:
        path = partition_file(catalog.line_counts, day)
        if fs.exists(path):
            counts = recurring.merge_counts(counts, fs.read_parquet(path))
    return counts


def warm_up() -> None:
    """Load what every batch needs once per worker process: the gazetteer and its tables, the fastText model."""
    entities.warm()
    language.load_model()


def early_reasons(thresholds: Thresholds) -> pl.Expr:
    """Reasons known before validation: unreadable files, too little text, no headline, no article or no body."""
    chars = pl.col("raw_text").str.strip_chars().str.len_chars()
    readable = pl.col("read_error").is_null()
    enough = readable & (chars >= thresholds.min_chars)
    # a page with no article (a consent wall, an index of links, an error page) says what it is instead
    no_article = pl.col("no_article").is_not_null()
    too_short = "too_short: the file has only {} characters of text, fewer than {}"
    checks = [
        pl.when(~readable).then(pl.lit("unreadable_file: the file ") + pl.col("read_error")),
        pl.when(readable & (chars < thresholds.min_chars)).then(
            pl.format(too_short, chars, pl.lit(thresholds.min_chars))
        ),
        pl.when(enough & pl.col("title").is_null() & ~no_article).then(pl.lit("no_headline: no headline found")),
        pl.when(enough & no_article).then(pl.col("no_article")),
        pl.when(enough & pl.col("body").is_null() & ~no_article).then(
            pl.lit("no_body: no article text left after removing boilerplate, details block and trailers")
        ),
    ]
    return pl.concat_list(checks).list.drop_nulls().alias("reasons")


def transform(
    raw: pl.DataFrame, timings: Timings, line_history: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """A batch's readable files through the stages: the article rows (cleaned, extracted, with language,
    entities and hashes); per readable file ``no_article`` and ``removed``; the batch's recurring-line counts."""
    docs = raw.filter(pl.col("raw_text").is_not_null()).select("doc_id", "raw_text")
    with timings.stage("normalize"):
        docs = normalize.normalize_text(docs)
    with timings.stage("parse + extract"):
        found, line_counts = articles.parse_articles(docs, line_history)
        # what the boilerplate rules removed and why a page has no article: kept for every readable file
        notes = found.select("doc_id", "no_article", "removed")
        is_article = pl.col("body").is_not_null() & pl.col("title").is_not_null() & pl.col("no_article").is_null()
        found = found.filter(is_article).drop("no_article", "removed")
    with timings.stage("language"):
        found = language.detect_language(found)
    with timings.stage("entities"):
        found = entities.extract_entities(found)
    with timings.stage("hashes"):
        found = found.pipe(dedup.add_content_hash).pipe(dedup.add_minhash)
    return found, notes, line_counts


def process_batch(
    settings: Settings,
    ingest_date: dt.date,
    run_id: str,
    batch_no: int,
    files: pl.DataFrame,
    history_days: list[dt.date] | None = None,
) -> BatchResult:
    """Read, decode, clean and extract one batch of raw files (a frame of ``FILE_LISTING`` rows) into a staged file.

    ``history_days``: earlier days whose recurring-line counts the cleaning adds to the batch's own.
    """
    started, timings, catalog = time.perf_counter(), Timings(), Catalog.of(settings)
    with timings.stage("staging I/O"):
        line_history = read_line_counts(catalog, history_days or [])
    abs_paths = files["abs_path"].to_list()
    with timings.stage("read + decode"):
        raw = read_batch(abs_paths, files["source_path"].to_list(), settings.max_file_bytes)
        raw = ingest.decode_batch(raw, settings.max_file_bytes).with_columns(
            state.path_doc_ids(settings.raw_dir, abs_paths).alias("doc_id"),
            files["size"].cast(pl.Int64),
            files["mtime_ns"].cast(pl.Int64),
        )
    found, notes, line_counts = transform(raw, timings, line_history)
    with timings.stage("other"):
        out = (
            raw.join(found.drop("raw_text"), on="doc_id", how="left")
            .join(notes, on="doc_id", how="left")
            .with_columns(
                early_reasons(settings.thresholds), pl.col("body").str.len_chars().fill_null(0).alias("body_chars")
            )
            .drop("read_error")
        )
    with timings.stage("staging I/O"):
        staged = catalog.staged_batch(run_id, ingest_date, batch_no)
        staged.parent.mkdir(parents=True, exist_ok=True)
        schemas.conform_staged(out).write_parquet(staged, compression="lz4")
        line_counts.write_parquet(catalog.staged_line_counts(run_id, ingest_date, batch_no), compression="lz4")
    return BatchResult(ingest_date, batch_no, str(staged), files.height, time.perf_counter() - started, timings.totals)
