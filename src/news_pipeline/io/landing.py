"""The landing zone: its date partitions, the raw files under each of them, and their bytes."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import polars as pl

from news_pipeline.io import fs
from news_pipeline.locations import Location, Url, is_url

_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_OBJECT_READERS = 16  # object-storage reads in flight per batch


class LandingZoneError(ValueError):
    """The landing zone cannot be used as asked (missing folder, no partitions, bad date)."""


@dataclass(frozen=True)
class Partition:
    """One ISO-date folder of the landing zone."""

    ingest_date: dt.date
    path: Location

    @property
    def key(self) -> str:
        return self.ingest_date.isoformat()


def parse_date(text: str) -> dt.date:
    """An ISO date (``YYYY-MM-DD``) or a :class:`LandingZoneError` that says what is wrong."""
    if not _DATE_DIR.match(text):
        raise LandingZoneError(f"'{text}' is not a date of the form YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as err:
        raise LandingZoneError(f"'{text}' is not a valid date: {err}") from None


def list_partitions(raw_dir: Location) -> list[Partition]:
    """The date folders directly under ``raw_dir``, oldest first; other entries are ignored."""
    if isinstance(raw_dir, Url):
        return _list_prefixes(raw_dir)
    if not raw_dir.exists():
        raise LandingZoneError(f"raw folder {raw_dir} does not exist")
    if not raw_dir.is_dir():
        raise LandingZoneError(f"raw folder {raw_dir} is not a directory")
    found = []
    for entry in os.scandir(raw_dir):
        if entry.is_dir() and _DATE_DIR.match(entry.name):
            try:
                found.append(Partition(dt.date.fromisoformat(entry.name), Path(entry.path)))
            except ValueError:
                continue  # e.g. 2025-13-01: not a date folder
    return sorted(found, key=lambda p: p.ingest_date)


def _list_prefixes(raw_dir: Url) -> list[Partition]:
    """``list_partitions`` on object storage: the date "folders" are the key prefixes under ``raw_dir``."""
    try:
        if not fs.is_dir(raw_dir):
            raise LandingZoneError(f"raw folder {raw_dir} does not exist (no objects under it)")
        names = fs.list_names(raw_dir, dirs_only=True)
    except OSError as err:  # no such bucket, no access, endpoint down
        raise LandingZoneError(f"raw folder {raw_dir} cannot be listed: {err}") from None
    found = []
    for name in names:
        if _DATE_DIR.match(name):
            try:
                found.append(Partition(dt.date.fromisoformat(name), raw_dir / name))
            except ValueError:
                continue
    return sorted(found, key=lambda p: p.ingest_date)


def select_partitions(
    raw_dir: Location, dates: list[dt.date] | None = None, start: dt.date | None = None, end: dt.date | None = None
) -> list[Partition]:
    """The partitions to process: all, the given dates (each must exist), or an inclusive range."""
    available = list_partitions(raw_dir)
    if dates:
        by_date = {p.ingest_date: p for p in available}
        missing = [d.isoformat() for d in dates if d not in by_date]
        if missing:
            raise LandingZoneError(f"no date folder for {', '.join(missing)} in {raw_dir}")
        return [by_date[d] for d in sorted(set(dates))]
    if start is not None and end is not None:
        if start > end:
            raise LandingZoneError(f"start {start} is after end {end}")
        return [p for p in available if start <= p.ingest_date <= end]
    if not available:
        raise LandingZoneError(f"no date folders (YYYY-MM-DD) in {raw_dir}: the landing zone is empty")
    return available


def _relative(path: str, root: str) -> str:
    """``path`` relative to ``root`` with ``/`` separators, undecodable name bytes shown as ``\\xNN``."""
    rel = os.path.relpath(path, root).replace(os.sep, "/")
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def list_files(raw_dir: Location, partition: Partition) -> pl.DataFrame:
    """Every entry under a date folder that must end as one row: files, and links that are not plain files.

    Columns (``schemas.FILE_LISTING``): ``source_path`` (relative to ``raw_dir``), ``abs_path`` (bytes, as the
    OS names it), ``size`` (bytes, null when it cannot be read) and ``mtime_ns``. Symbolic links to folders are
    listed, not followed, so a link loop cannot trap the walk; reading them later yields a quarantine reason. On
    object storage every object under the date prefix is a file, ``abs_path`` is its URL and ``mtime_ns`` its
    last-modified time.
    """
    if isinstance(raw_dir, Url):
        return _list_objects(raw_dir, partition)
    root = os.fspath(raw_dir)
    rows: dict[str, list] = {"source_path": [], "abs_path": [], "size": [], "mtime_ns": []}
    for dirpath, dirnames, filenames in os.walk(partition.path, followlinks=False):
        linked_dirs = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        for name in sorted(filenames) + sorted(linked_dirs):
            full = os.path.join(dirpath, name)
            try:
                st = os.stat(full)
                size, mtime = (st.st_size, st.st_mtime_ns) if os.path.isfile(full) else (None, None)
            except OSError:  # dangling link or link loop
                size, mtime = None, None
            rows["source_path"].append(_relative(full, root))
            rows["abs_path"].append(os.fsencode(full))
            rows["size"].append(size)
            rows["mtime_ns"].append(mtime)
        dirnames[:] = sorted(d for d in dirnames if d not in linked_dirs)
    return pl.DataFrame(
        rows, schema={"source_path": pl.String, "abs_path": pl.Binary, "size": pl.Int64, "mtime_ns": pl.Int64}
    ).sort("source_path")


def _list_objects(raw_dir: Url, partition: Partition) -> pl.DataFrame:
    """``list_files`` on object storage: a key relative to ``raw_dir`` is the ``source_path`` of a local copy."""
    assert isinstance(partition.path, Url)
    objects = fs.walk_objects(partition.path)
    prefix = partition.path.relative_to(raw_dir)
    rows = {
        "source_path": [f"{prefix}/{key}" for key, _, _ in objects],
        "abs_path": [str(partition.path / key).encode() for key, _, _ in objects],
        "size": [size for _, size, _ in objects],
        "mtime_ns": [mtime for _, _, mtime in objects],
    }
    return pl.DataFrame(
        rows, schema={"source_path": pl.String, "abs_path": pl.Binary, "size": pl.Int64, "mtime_ns": pl.Int64}
    ).sort("source_path")


class RawBytes(NamedTuple):
    """One raw file read: exactly one of ``data`` and ``error`` is set."""

    data: bytes | None
    error: str | None


def read_file(abs_path: bytes, max_bytes: int) -> RawBytes:
    """Read one raw file (a local path, or an ``s3://`` URL), or say in words why it cannot be."""
    if is_url(abs_path):
        return _read_object(abs_path, max_bytes)
    try:
        # O_NONBLOCK: opening a named pipe must not wait for a writer; the type check below rejects it.
        fd = os.open(abs_path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        return RawBytes(None, f"cannot be read ({err.strerror or err})")
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            return RawBytes(None, "is a link to a folder, not a file")
        if not stat.S_ISREG(st.st_mode):  # a pipe or device would block or never end
            return RawBytes(None, "is not a regular file (a named pipe, socket or device)")
        if st.st_size > max_bytes:
            return RawBytes(None, f"is {st.st_size:,} bytes, larger than the {max_bytes:,}-byte limit for one article")
        data = _read_bounded(fd, st.st_size, max_bytes + 1)  # bounded even if the file grows while it is read
    except OSError as err:
        return RawBytes(None, f"cannot be read ({err.strerror or err})")
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        return RawBytes(None, f"grew beyond the {max_bytes:,}-byte limit for one article while it was read")
    return RawBytes(data, None)


def _read_bounded(fd: int, size: int, limit: int) -> bytes:
    """Up to ``limit`` bytes of an open file, to its end; ``size`` (from ``fstat``) sizes the first read.

    Plain ``os.read`` calls: a buffered ``read(limit)`` sets aside the whole limit (megabytes) for
    every file, which doubled the cost of reading a small article.
    """
    data = os.read(fd, min(size + 1, limit))
    while len(data) < limit:  # the file grew since fstat, or a short read: go on to the end
        more = os.read(fd, min(max(len(data), 65536), limit - len(data)))
        if not more:
            break
        data += more
    return data


def _read_object(url: bytes, max_bytes: int) -> RawBytes:
    """``read_file`` for an object in object storage: the same limits and reasons as for a local file."""
    try:
        size, data = fs.read_object(Url.parse(url.decode()), max_bytes)
    except (OSError, ValueError) as err:  # gone since it was listed, no access, a key pyarrow cannot address
        return RawBytes(None, f"cannot be read ({err})")
    if data is None:
        return RawBytes(None, f"is {size:,} bytes, larger than the {max_bytes:,}-byte limit for one article")
    return RawBytes(data, None)


def _sha256(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data is not None else None


def file_sha256(abs_path: bytes, max_bytes: int) -> str | None:
    """SHA-256 (hex) of a raw file's bytes as :func:`read_batch` records it; None when it cannot be read."""
    return _sha256(read_file(abs_path, max_bytes).data)


def read_batch(abs_paths: list[bytes], source_paths: list[str], max_bytes: int) -> pl.DataFrame:
    """Read a batch of raw files: ``source_path``, ``raw_bytes``, ``read_error``, ``raw_sha256`` (of the bytes read)."""
    # One Python call per file is the floor here: each file is its own open() and read().
    if abs_paths and is_url(abs_paths[0]):
        # an object read is a network round trip: keep several in flight (Arrow releases the GIL)
        with ThreadPoolExecutor(max_workers=_OBJECT_READERS) as pool:
            files = list(pool.map(read_file, abs_paths, [max_bytes] * len(abs_paths)))
    else:
        files = [read_file(p, max_bytes) for p in abs_paths]
    data = [f.data for f in files]
    return pl.DataFrame(
        {
            "source_path": source_paths,
            "raw_bytes": data,
            "read_error": [f.error for f in files],
            "raw_sha256": [_sha256(d) for d in data],
        },
        schema={"source_path": pl.String, "raw_bytes": pl.Binary, "read_error": pl.String, "raw_sha256": pl.String},
    )
