"""Parquet files of the datasets and the bookkeeping: written with one Arrow schema, fsynced, tagged with their run.

Each file's key-value metadata names the run that wrote it (``news_pipeline.run_id``), so a
partition's files can be checked to come from the same (completed) run without reading rows.
The files readers see (curated and quarantine) are written as the next version of the file they
replace (:mod:`news_pipeline.io.versioned`): Polars and DuckDB open a path twice, footer first and
pages later, and find the old pages still in place if a publish came in between.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from pathlib import Path

import polars as pl
import pyarrow as pa

from news_pipeline.catalog import PART_FILE
from news_pipeline.io import fs, versioned
from news_pipeline.locations import Location

RUN_ID_KEY = b"news_pipeline.run_id"
_WRITE_OPTIONS = {"compression": "zstd", "compression_level": 3, "write_statistics": True}


def write_parquet(
    tables: Iterable[pa.Table],
    schema: pa.Schema,
    path: Path,
    run_id: str | None = None,
    row_group_size: int = 50_000,
    replaces: Location | None = None,
) -> int:
    """Write batches to one zstd Parquet file with exactly ``schema``, fsync it, return the row count.

    ``run_id`` goes into the file's key-value metadata. With ``replaces`` (the local file this one
    will be published over), the file keeps the current version's pages where they are
    (:mod:`news_pipeline.io.versioned`), so readers that opened the old version keep working.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    file_schema = schema.with_metadata({**(schema.metadata or {}), RUN_ID_KEY: run_id or ""})
    if isinstance(replaces, Path):
        return versioned.write_versioned(
            tables, file_schema, replaces, path, row_group_size=row_group_size, **_WRITE_OPTIONS
        )
    rows = versioned.write_plain(tables, file_schema, path, row_group_size, _WRITE_OPTIONS)
    versioned.fsync(path)
    return rows


def file_run_id(path: Location) -> str | None:
    """The run that wrote a partition file (from its metadata), or None if it is missing or unreadable."""
    try:
        return (fs.read_parquet_schema(path).metadata or {}).get(RUN_ID_KEY, b"").decode() or None
    except (OSError, pa.ArrowException):
        return None


def iter_earlier(root: Location, before: dt.date, columns: list[str]) -> Iterator[pl.DataFrame]:
    """The partitions of ``root`` dated before ``before``, oldest first, one frame (with ``ingest_date``) at a time."""
    days = []
    for name in fs.list_names(root):
        try:
            day = dt.date.fromisoformat(name.removeprefix("ingest_date="))
        except ValueError:
            continue
        if name.startswith("ingest_date=") and day < before and fs.exists(root / name / PART_FILE):
            days.append((day, root / name / PART_FILE))
    for day, path in sorted(days):
        yield fs.read_parquet(path, columns=columns).with_columns(pl.lit(day).alias("ingest_date"))
