"""Reading and writing a :data:`~news_pipeline.locations.Location`: a local folder or an object-storage prefix.

The few operations the pipeline needs on either kind are here: list, read bytes, write an object
in one request, check existence.
Local folders keep their own code path everywhere (``os``/``pathlib``: fsync, ``os.replace``);
only a ``Url`` goes through a ``pyarrow.fs.S3FileSystem``.

The S3 client is configured by :class:`~news_pipeline.config.ObjectStorage` (endpoint, region) and
the AWS SDK's usual credential sources (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/
``AWS_SESSION_TOKEN``, ``AWS_PROFILE`` and ``~/.aws``). The EC2 instance metadata service is off
unless ``AWS_EC2_METADATA_DISABLED`` says otherwise, so nothing but the endpoint is contacted.
"""

from __future__ import annotations

import functools
import io
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from news_pipeline.config import ObjectStorage
from news_pipeline.locations import Location, Url

if TYPE_CHECKING:
    import polars as pl

# Arrow uploads an object smaller than its part size (10 MB) with one PutObject (with
# allow_delayed_open); a larger one as a multipart upload, which readers see only once it completes.
_COPY_CHUNK = 8 << 20


@functools.lru_cache(maxsize=8)
def _s3(config: ObjectStorage) -> pafs.S3FileSystem:
    # The AWS SDK asks the EC2 metadata service for a region and credentials when it finds none:
    # a request to 169.254.169.254 that must not leave this machine unless the user allows it.
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    options: dict[str, Any] = {"region": config.region, "allow_delayed_open": True}
    if config.endpoint_url:
        scheme, sep, host = config.endpoint_url.partition("://")
        options |= {"endpoint_override": host.rstrip("/"), "scheme": scheme} if sep else {"endpoint_override": scheme}
    return pafs.S3FileSystem(**options)


def filesystem(location: Location) -> tuple[pafs.FileSystem, str]:
    """The pyarrow file system and path of a location."""
    if isinstance(location, Url):
        return _s3(ObjectStorage()), location.path
    return pafs.LocalFileSystem(), os.fspath(location)


def exists(location: Location) -> bool:
    """Whether a file (or, on object storage, any object under the prefix) is there."""
    if isinstance(location, Path):
        return location.exists()
    fs, path = filesystem(location)
    return fs.get_file_info(path).type != pafs.FileType.NotFound


def is_dir(location: Location) -> bool:
    """A folder, or an object-storage prefix with objects under it (or the bucket itself)."""
    if isinstance(location, Path):
        return location.is_dir()
    fs, path = filesystem(location)
    return fs.get_file_info(path).type == pafs.FileType.Directory


def list_names(location: Location, dirs_only: bool = False) -> list[str]:
    """Names of the entries directly under a folder or prefix, sorted; none when it does not exist."""
    if isinstance(location, Path):
        if not location.is_dir():
            return []
        return sorted(e.name for e in os.scandir(location) if not dirs_only or e.is_dir())
    fs, path = filesystem(location)
    infos = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True, recursive=False))
    return sorted(i.base_name for i in infos if not dirs_only or i.type == pafs.FileType.Directory)


def walk_objects(location: Url) -> list[tuple[str, int, int | None]]:
    """Every object under a prefix: (key relative to it, size, mtime in ns); folder markers are left out."""
    fs, path = filesystem(location)
    infos = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True, recursive=True))
    return [(i.path[len(path) + 1 :], i.size, i.mtime_ns) for i in infos if i.type == pafs.FileType.File]


def read_object(location: Url, max_bytes: int) -> tuple[int, bytes | None]:
    """An object's size and bytes, or its size and None when it is larger than ``max_bytes`` (then it is not read)."""
    fs, path = filesystem(location)
    with fs.open_input_file(path) as fh:  # one HEAD (size), then one GET
        size = fh.size()
        return size, (fh.read() if size <= max_bytes else None)


def read_bytes(location: Location) -> bytes:
    if isinstance(location, Path):
        return location.read_bytes()
    fs, path = filesystem(location)
    with fs.open_input_stream(path, compression=None) as fh:
        return fh.read()


def read_text(location: Location) -> str:
    return read_bytes(location).decode("utf-8")


def write_bytes(location: Url, data: bytes) -> None:
    """Create or replace one object with ``data`` in one request: readers see the old or the new object."""
    fs, path = filesystem(location)
    with fs.open_output_stream(path, compression=None) as fh:
        fh.write(data)


def upload(local: Path, location: Url) -> None:
    """Create or replace one object with a local file's bytes; it becomes visible whole when this returns."""
    fs, path = filesystem(location)
    with open(local, "rb") as src, fs.open_output_stream(path, compression=None) as dst:
        shutil.copyfileobj(src, dst, _COPY_CHUNK)


def read_parquet(location: Location, columns: list[str] | None = None) -> pl.DataFrame:
    """A Parquet file as a Polars frame; an object is fetched whole and read by the same Polars reader."""
    import polars as pl

    if isinstance(location, Path):
        return pl.read_parquet(location, columns=columns)
    return pl.read_parquet(io.BytesIO(read_bytes(location)), columns=columns)


def read_parquet_schema(location: Location) -> pa.Schema:
    """The schema (with key-value metadata) from a Parquet file's footer, without reading rows."""
    if isinstance(location, Path):
        return pq.read_schema(location)
    fs, path = filesystem(location)
    return pq.read_schema(path, filesystem=fs)
