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
from news_pipeline.catalog import Catalog
from news_pipeline.config import Settings, Thresholds
from news_pipeline.io.landing import read_batch
from news_pipeline.results import BatchResult
from news_pipeline.stages import dedup, entities, ingest, language
from news_pipeline.stages.clean import normalize
from news_pipeline.stages.extract import articles
from news_pipeline.timing import Timings


def warm_up() -> None:
    """Load what every batch needs once per worker process: the gazetteer and its tables, the fastText model."""
    entities.warm()
    language.load_model()


def early_reasons(thresholds: Thresholds) -> pl.Expr:
    """Reasons known before validation: unreadable files, too little text, no headline or body."""
    chars = pl.col("raw_text").str.strip_chars().str.len_chars()
    readable = pl.col("read_error").is_null()
    enough = readable & (chars >= thresholds.min_chars)
    checks = [
        pl.when(~readable).then(pl.lit("unreadable_file: the file ") + pl.col("read_error")),
        pl.when(readable & (chars < thresholds.min_chars)).then(
            pl.format(
                "too_short: the file has only {} characters of text, fewer than {}", chars, pl.lit(thresholds.min_chars)
            )
        ),
        pl.when(enough & pl.col("title").is_null()).then(pl.lit("no_headline: no headline found")),
        pl.when(enough & pl.col("body").is_null()).then(
            pl.lit("no_body: no article text left after removing boilerplate, details block and trailers")
        ),
    ]
    return pl.concat_list(checks).list.drop_nulls().alias("reasons")


def transform(raw: pl.DataFrame, timings: Timings) -> pl.DataFrame:
    """The article rows of a batch's readable files: cleaned, extracted, with language, entities and hashes."""
    docs = raw.filter(pl.col("raw_text").is_not_null()).select("doc_id", "raw_text")
    with timings.stage("normalize"):
        docs = normalize.normalize_text(docs)
    with timings.stage("parse + extract"):
        found = articles.parse_articles(docs)
        found = found.filter(pl.col("body").is_not_null() & pl.col("title").is_not_null())
    with timings.stage("language"):
        found = language.detect_language(found)
    with timings.stage("entities"):
        found = entities.extract_entities(found)
    with timings.stage("hashes"):
        found = found.pipe(dedup.add_content_hash).pipe(dedup.add_minhash)
    return found


def process_batch(
    settings: Settings, ingest_date: dt.date, run_id: str, batch_no: int, files: pl.DataFrame
) -> BatchResult:
    """Read, decode, clean and extract one batch of raw files (a frame of ``FILE_LISTING`` rows) into a staged file."""
    started, timings = time.perf_counter(), Timings()
    abs_paths = files["abs_path"].to_list()
    with timings.stage("read + decode"):
        raw = read_batch(abs_paths, files["source_path"].to_list(), settings.max_file_bytes)
        raw = ingest.decode_batch(raw, settings.max_file_bytes).with_columns(
            state.path_doc_ids(settings.raw_dir, abs_paths).alias("doc_id"),
            files["size"].cast(pl.Int64),
            files["mtime_ns"].cast(pl.Int64),
        )
    found = transform(raw, timings)
    with timings.stage("other"):
        out = (
            raw.join(found.drop("raw_text"), on="doc_id", how="left")
            .with_columns(
                early_reasons(settings.thresholds), pl.col("body").str.len_chars().fill_null(0).alias("body_chars")
            )
            .drop("read_error")
        )
    with timings.stage("staging I/O"):
        staged = Catalog.of(settings).staged_batch(run_id, ingest_date, batch_no)
        staged.parent.mkdir(parents=True, exist_ok=True)
        schemas.conform_staged(out).write_parquet(staged, compression="lz4")
    return BatchResult(ingest_date, batch_no, str(staged), files.height, time.perf_counter() - started, timings.totals)
