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
import socket
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from news_pipeline.settings import Settings

PART_FILE = "part-0.parquet"
RUN_ID_KEY = b"news_pipeline.run_id"
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


def ledger_root(settings: Settings) -> Path:
    """Per-partition record of every raw file processed: path, size, mtime, SHA-256, outcome, run."""
    return settings.state_dir / "ledger"


def partition_roots(settings: Settings) -> list[Path]:
    """Every root that holds one file per partition, all replaced together when a partition is published."""
    return [settings.quarantine_dir, settings.curated_dir, signatures_root(settings), ledger_root(settings)]


def file_run_id(path: Path) -> str | None:
    """The run that wrote a partition file (from its metadata), or None if it is missing or unreadable."""
    try:
        return (pq.read_schema(path).metadata or {}).get(RUN_ID_KEY, b"").decode() or None
    except (OSError, pa.ArrowException):
        return None


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


def write_parquet(
    tables: Iterable[pa.Table], schema: pa.Schema, path: Path, run_id: str | None = None, row_group_size: int = 50_000
) -> int:
    """Write batches to one zstd Parquet file with exactly ``schema``, fsync it, return the row count.

    ``run_id`` goes into the file's key-value metadata, so a partition's files can be checked to
    come from the same (completed) run without reading any rows.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    file_schema = schema.with_metadata({**(schema.metadata or {}), RUN_ID_KEY: run_id or ""})
    with pq.ParquetWriter(path, file_schema, **_WRITE_OPTIONS) as writer:
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


class RunLockBusy(RuntimeError):
    """Another run holds the data folder."""


@contextmanager
def run_lock(settings: Settings, run_id: str):
    """Hold the data folder for one run; a second run waits ``lock_timeout`` seconds, then gives up clearly."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    path = settings.state_dir / "run.lock"
    holder = settings.state_dir / "run.lock.json"
    lock = FileLock(path, timeout=settings.lock_timeout)
    try:
        lock.acquire()
    except Timeout:
        try:
            info = json.loads(holder.read_text())
            who = f"run {info['run_id']} (pid {info['pid']} on {info['host']}, started {info['started']})"
        except (OSError, ValueError, KeyError):
            who = "another run"
        waited = f" after waiting {settings.lock_timeout:g} s" if settings.lock_timeout else ""
        raise RunLockBusy(
            f"{who} is writing to {settings.data_dir}; gave up{waited} (use --wait SECONDS to wait for it)"
        ) from None
    try:
        holder.write_text(json.dumps({"run_id": run_id, "pid": os.getpid(), "host": socket.gethostname(),
                                      "started": dt.datetime.now(dt.UTC).isoformat()}))  # fmt: skip
        yield
    finally:
        holder.unlink(missing_ok=True)
        lock.release()
