"""Atomic publishing: a staged file becomes visible whole, the manifest commits a partition, one run at a time.

Each dataset partition is a single file, ``<dataset>/ingest_date=YYYY-MM-DD/part-0.parquet``.
It is written whole under ``state/staging/`` (outside the dataset roots, so readers' globs
never see it), flushed to disk, then moved over the old file with one ``os.replace``: a
reader opens either the complete old file or the complete new one, never a mix or a gap.

When ``data_dir`` is object storage (``s3://bucket/prefix``), staging and the run lock stay in the
local work folder; a staged file is published by uploading it to its final key in one request
(an object is replaced whole: readers get the old or the new one), and the manifest, uploaded
last, stays the commit point. Ledger, signatures and manifests live with the data on object
storage, so every machine that runs against the prefix sees the same state.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from news_pipeline.catalog import Catalog
from news_pipeline.io import fs, versioned
from news_pipeline.locations import Location, Url


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


def write_manifest(catalog: Catalog, ingest_date: dt.date, record: dict) -> None:
    """Atomically record what was published for a partition (written last, so a crash leaves none)."""
    write_text(catalog.manifest(ingest_date), json.dumps(record, indent=2, sort_keys=True, default=str))


def read_manifest(catalog: Catalog, ingest_date: dt.date) -> dict | None:
    """The last publish record of a partition, or None when it was never (completely) published."""
    try:
        return json.loads(fs.read_text(catalog.manifest(ingest_date)))
    except (OSError, ValueError):
        return None


def clear_staging(catalog: Catalog, keep: str | None = None) -> None:
    """Remove the scratch space of earlier (crashed) runs; only call this while holding the lock."""
    root = catalog.staging_root
    if root.exists():
        for entry in root.iterdir():
            if entry.name != keep:
                shutil.rmtree(entry, ignore_errors=True)


class RunLockBusy(RuntimeError):
    """Another run holds the data folder."""


@contextmanager
def run_lock(catalog: Catalog, run_id: str, timeout: float = 0):
    """Hold the data folder for one run; a second run waits ``timeout`` seconds, then gives up clearly.

    The lock is a local file (under the work folder for a data folder on object storage): it keeps
    out runs on this machine, not on others.
    """
    catalog.local_state.mkdir(parents=True, exist_ok=True)
    lock = FileLock(catalog.lock, timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        try:
            info = json.loads(catalog.lock_holder.read_text())
            who = f"run {info['run_id']} (pid {info['pid']} on {info['host']}, started {info['started']})"
        except (OSError, ValueError, KeyError):
            who = "another run"
        waited = f" after waiting {timeout:g} s" if timeout else ""
        raise RunLockBusy(
            f"{who} is writing to {catalog.data_dir}; gave up{waited} (use --wait SECONDS to wait for it)"
        ) from None
    try:
        started = dt.datetime.now(dt.UTC).isoformat()
        holder = {"run_id": run_id, "pid": os.getpid(), "host": socket.gethostname(), "started": started}
        catalog.lock_holder.write_text(json.dumps(holder))
        yield
    finally:
        catalog.lock_holder.unlink(missing_ok=True)
        lock.release()
