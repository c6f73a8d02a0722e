"""The one module that owns paths, partition files and atomic publishing.

Each dataset partition is a single file, ``<dataset>/ingest_date=YYYY-MM-DD/part-0.parquet``.
It is written whole under ``state/staging/`` (outside the dataset roots, so readers' globs
never see it), flushed to disk, then moved over the old file with one ``os.replace``: a
reader opens either the complete old file or the complete new one, never a mix or a gap.
The files readers see (curated and quarantine) are written as the next version of the file
they replace (:mod:`news_pipeline.versioned`): Polars and DuckDB open a path twice, footer
first and pages later, and find the old pages still in place if a publish came in between.

When ``data_dir`` is object storage (``s3://bucket/prefix``), staging and the run lock stay in the
local ``Settings.work_dir``; a staged file is published by uploading it to its final key in one
request (an object is replaced whole: readers get the old or the new one), and the manifest,
uploaded last, stays the commit point. Ledger, signatures and manifests live with the data on
object storage, so every machine that runs against the prefix sees the same state.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pyarrow as pa
from filelock import FileLock, Timeout

from news_pipeline.io import fs, versioned
from news_pipeline.io.fs import Location, Url
from news_pipeline.config import Settings

PART_FILE = "part-0.parquet"
RUN_ID_KEY = b"news_pipeline.run_id"
_WRITE_OPTIONS = {"compression": "zstd", "compression_level": 3, "write_statistics": True}


def partition_dir(root: Location, ingest_date: dt.date) -> Location:
    """``root/ingest_date=YYYY-MM-DD``."""
    return root / f"ingest_date={ingest_date.isoformat()}"


def partition_file(root: Location, ingest_date: dt.date) -> Location:
    """The single data file of a partition."""
    return partition_dir(root, ingest_date) / PART_FILE


def staging_dir(settings: Settings, run_id: str) -> Path:
    """Scratch space of one run, outside every dataset root (always local)."""
    return settings.local_state_dir / "staging" / run_id


def ledger_root(settings: Settings) -> Location:
    """Per-partition record of every raw file processed: path, size, mtime, SHA-256, outcome, run."""
    return settings.state_dir / "ledger"


def partition_roots(settings: Settings) -> list[Location]:
    """Every root that holds one file per partition, all replaced together when a partition is published."""
    return [settings.quarantine_dir, settings.curated_dir, signatures_root(settings), ledger_root(settings)]


def file_run_id(path: Location) -> str | None:
    """The run that wrote a partition file (from its metadata), or None if it is missing or unreadable."""
    try:
        return (fs.read_parquet_schema(path).metadata or {}).get(RUN_ID_KEY, b"").decode() or None
    except (OSError, pa.ArrowException):
        return None


def signatures_root(settings: Settings) -> Location:
    """Per-partition near-duplicate signatures and story ids, read by later partitions."""
    return settings.state_dir / "signatures"


def manifest_path(settings: Settings, ingest_date: dt.date) -> Location:
    """The record of the last successful publish of a partition."""
    return settings.state_dir / "partitions" / f"{ingest_date.isoformat()}.json"


def write_parquet(
    tables: Iterable[pa.Table],
    schema: pa.Schema,
    path: Path,
    run_id: str | None = None,
    row_group_size: int = 50_000,
    replaces: Location | None = None,
) -> int:
    """Write batches to one zstd Parquet file with exactly ``schema``, fsync it, return the row count.

    ``run_id`` goes into the file's key-value metadata, so a partition's files can be checked to
    come from the same (completed) run without reading any rows. With ``replaces`` (the local
    file this one will be published over), the file keeps the current version's pages where they
    are (:mod:`news_pipeline.versioned`), so readers that opened the old version keep working.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    file_schema = schema.with_metadata({**(schema.metadata or {}), RUN_ID_KEY: run_id or ""})
    if isinstance(replaces, Path):
        return versioned.write_versioned(tables, file_schema, replaces, path, row_group_size=row_group_size,
                                         **_WRITE_OPTIONS)  # fmt: skip
    rows = versioned.write_plain(tables, file_schema, path, row_group_size, _WRITE_OPTIONS)
    versioned.fsync(path)
    return rows


def publish_file(staged: Path, final: Location) -> None:
    """Atomically put ``staged`` at ``final`` (same file system, or an object key), durable once this returns."""
    if isinstance(final, Url):
        fs.upload(staged, final)  # one object, replaced whole
        staged.unlink()
        return
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, final)
    versioned.fsync(final.parent)


def write_text(path: Location, text: str) -> None:
    """Atomically create or replace a small text file (or object); durable once this returns."""
    if isinstance(path, Url):
        fs.write_bytes(path, text.encode())  # one object, replaced whole
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    versioned.fsync(tmp)
    publish_file(tmp, path)


def write_manifest(settings: Settings, ingest_date: dt.date, record: dict) -> None:
    """Atomically record what was published for a partition (written last, so a crash leaves none)."""
    write_text(manifest_path(settings, ingest_date), json.dumps(record, indent=2, sort_keys=True, default=str))


def read_manifest(settings: Settings, ingest_date: dt.date) -> dict | None:
    """The last publish record of a partition, or None when it was never (completely) published."""
    try:
        return json.loads(fs.read_text(manifest_path(settings, ingest_date)))
    except (OSError, ValueError):
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


def clear_staging(settings: Settings, keep: str | None = None) -> None:
    """Remove the scratch space of earlier (crashed) runs; only call this while holding the lock."""
    root = settings.local_state_dir / "staging"
    if root.exists():
        for entry in root.iterdir():
            if entry.name != keep:
                shutil.rmtree(entry, ignore_errors=True)


class RunLockBusy(RuntimeError):
    """Another run holds the data folder."""


@contextmanager
def run_lock(settings: Settings, run_id: str):
    """Hold the data folder for one run; a second run waits ``lock_timeout`` seconds, then gives up clearly.

    The lock is a local file (under ``work_dir`` for a data folder on object storage): it keeps out
    runs on this machine, not on others.
    """
    state = settings.local_state_dir
    state.mkdir(parents=True, exist_ok=True)
    path = state / "run.lock"
    holder = state / "run.lock.json"
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
