"""The one module that owns paths, partition files and atomic publishing.

Each dataset partition is a single file, ``<dataset>/ingest_date=YYYY-MM-DD/part-0.parquet``.
It is written whole under ``state/staging/`` (outside the dataset roots, so readers' globs
never see it), flushed to disk, then moved over the old file with one ``os.replace``: a
reader opens either the complete old file or the complete new one, never a mix or a gap.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from news_pipeline.settings import Settings

PART_FILE = "part-0.parquet"
_WRITE_OPTIONS = {"compression": "zstd", "compression_level": 3, "write_statistics": True}


def partition_dir(root: Path, ingest_date: dt.date) -> Path:
    """``root/ingest_date=YYYY-MM-DD``."""
    return root / f"ingest_date={ingest_date.isoformat()}"


def partition_file(root: Path, ingest_date: dt.date) -> Path:
    """The single data file of a partition."""
    return partition_dir(root, ingest_date) / PART_FILE


def staging_dir(settings: Settings, run_id: str) -> Path:
    """Scratch space of one run, outside every dataset root."""
    return settings.state_dir / "staging" / run_id


def signatures_root(settings: Settings) -> Path:
    """Per-partition near-duplicate signatures and story ids, read by later partitions."""
    return settings.state_dir / "signatures"


def manifest_path(settings: Settings, ingest_date: dt.date) -> Path:
    """The record of the last successful publish of a partition."""
    return settings.state_dir / "partitions" / f"{ingest_date.isoformat()}.json"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_parquet(tables: Iterable[pa.Table], schema: pa.Schema, path: Path, row_group_size: int = 50_000) -> int:
    """Write batches to one zstd Parquet file with exactly ``schema``, fsync it, return the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with pq.ParquetWriter(path, schema, **_WRITE_OPTIONS) as writer:
        for table in tables:
            writer.write_table(table.cast(schema), row_group_size=row_group_size)
            rows += table.num_rows
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())
    return rows


def publish_file(staged: Path, final: Path) -> None:
    """Atomically put ``staged`` at ``final`` (same file system), durable once this returns."""
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, final)
    _fsync_dir(final.parent)


def write_manifest(settings: Settings, ingest_date: dt.date, record: dict) -> None:
    """Atomically record what was published for a partition (written last, so a crash leaves none)."""
    path = manifest_path(settings, ingest_date)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True, default=str))
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    publish_file(tmp, path)


def read_manifest(settings: Settings, ingest_date: dt.date) -> dict | None:
    """The last publish record of a partition, or None when it was never (completely) published."""
    try:
        return json.loads(manifest_path(settings, ingest_date).read_text())
    except (OSError, ValueError):
        return None


def read_earlier(root: Path, before: dt.date, columns: list[str], since: dt.date | None = None) -> pl.DataFrame | None:
    """Rows of the partitions of ``root`` dated before ``before`` (and from ``since``), or None if there are none."""
    files = []
    if root.exists():
        for entry in sorted(root.iterdir()):
            name = entry.name
            if not name.startswith("ingest_date="):
                continue
            try:
                day = dt.date.fromisoformat(name.removeprefix("ingest_date="))
            except ValueError:
                continue
            if day < before and (since is None or day >= since) and (entry / PART_FILE).exists():
                files.append((day, entry / PART_FILE))
    if not files:
        return None
    frames = [
        pl.read_parquet(path, columns=columns).with_columns(pl.lit(day).alias("ingest_date")) for day, path in files
    ]
    return pl.concat(frames, how="vertical_relaxed")


def clear_staging(settings: Settings, keep: str | None = None) -> None:
    """Remove the scratch space of earlier (crashed) runs; only call this while holding the lock."""
    root = settings.state_dir / "staging"
    if root.exists():
        for entry in root.iterdir():
            if entry.name != keep:
                shutil.rmtree(entry, ignore_errors=True)
