"""Read raw files and decode their bytes to text, recording how; broken files get a reason instead."""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import os
import re
import stat
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import ftfy
import polars as pl

from news_pipeline.io import fs

# C0 controls other than tab, newline, form feed and carriage return: real text has none.
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13))
_MAX_CONTROL_SHARE = 0.01
_OBJECT_READERS = 16  # object-storage reads in flight per batch
# The second byte of a UTF-8 sequence for a Latin-1 letter shows up as these after a wrong decode.
_MOJIBAKE = r"Ã[\x80-\xbf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]|â€|Â[\xa0-\xbf]"
_MOJIBAKE_RE = re.compile(_MOJIBAKE)


def _gunzip(data: bytes, max_bytes: int) -> bytes:
    """The decompressed bytes of the gzip members; raises ``ValueError`` with a readable reason.

    Decompresses as a stream and stops after ``max_bytes``, so a small file that inflates to
    gigabytes (a "gzip bomb") is rejected without ever being held in memory.
    """
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
            out = fh.read(max_bytes + 1)
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as err:
        raise ValueError(f"gzip file is truncated or corrupt ({err})") from None
    if len(out) > max_bytes:
        raise ValueError(f"decompresses to more than the {max_bytes:,}-byte limit")
    return out


def _looks_binary(data: bytes) -> bool:
    """True when too many control bytes for text (images, archives, executables)."""
    sample = data[:65536]
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    return controls > max(1, _MAX_CONTROL_SHARE * len(sample))


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode raw article bytes: BOMs first, then strict UTF-8, then cp1252; never silently replaces bytes.

    Returns ``(text, encoding)``; raises ``ValueError`` with a reason a person understands.
    """
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as err:
            raise ValueError(f"starts with a UTF-8 byte-order mark but is not valid UTF-8 ({err.reason} at byte {err.start})") from None
    for bom, name in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[2:].decode(name), "utf-16"
            except UnicodeDecodeError:
                raise ValueError("starts with a UTF-16 byte-order mark but is not valid UTF-16") from None
    if b"\x00" in data:
        share = data.count(b"\x00") / len(data)
        kind = "binary data" if _looks_binary(data.replace(b"\x00", b"")) else "text with NUL bytes"
        raise ValueError(f"contains NUL bytes ({share:.0%} of the file): {kind}, not an article")
    if _looks_binary(data):
        raise ValueError("contains binary data (control bytes), not text")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as err:
        raise ValueError(
            f"is neither valid UTF-8 nor cp1252 (byte 0x{data[err.start]:02x} at position {err.start})"
        ) from None


class RawFile(NamedTuple):
    """One raw file read: exactly one of ``text`` and ``error`` is set; ``sha256`` is of the bytes on disk."""

    text: str | None
    encoding: str | None
    error: str | None
    sha256: str | None = None


def read_file(abs_path: bytes, max_bytes: int) -> RawFile:
    """Read and decode one raw file (a local path, or an ``s3://`` URL), or say in words why it cannot be."""
    if fs.is_url(abs_path):
        return _read_object(abs_path, max_bytes)
    try:
        # O_NONBLOCK: opening a named pipe must not wait for a writer; the type check below rejects it.
        fd = os.open(abs_path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        return RawFile(None, None, f"cannot be read ({err.strerror or err})")
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            return RawFile(None, None, "is a link to a folder, not a file")
        if not stat.S_ISREG(st.st_mode):  # a pipe or device would block or never end
            return RawFile(None, None, "is not a regular file (a named pipe, socket or device)")
        if st.st_size > max_bytes:
            return RawFile(None, None, f"is {st.st_size:,} bytes, larger than the {max_bytes:,}-byte limit for one article")
        data = _read_bounded(fd, st.st_size, max_bytes + 1)  # bounded even if the file grows while it is read
    except OSError as err:
        return RawFile(None, None, f"cannot be read ({err.strerror or err})")
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        return RawFile(None, None, f"grew beyond the {max_bytes:,}-byte limit for one article while it was read")
    return _decode_file(data, max_bytes)


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


def _read_object(url: bytes, max_bytes: int) -> RawFile:
    """``read_file`` for an object in object storage: the same limits and reasons as for a local file."""
    try:
        size, data = fs.read_object(fs.Url.parse(url.decode()), max_bytes)
    except (OSError, ValueError) as err:  # gone since it was listed, no access, a key pyarrow cannot address
        return RawFile(None, None, f"cannot be read ({err})")
    if data is None:
        return RawFile(None, None, f"is {size:,} bytes, larger than the {max_bytes:,}-byte limit for one article")
    return _decode_file(data, max_bytes)


def _decode_file(data: bytes, max_bytes: int) -> RawFile:
    """The text of a raw file's bytes (gunzipped if they are gzip), or why there is none."""
    digest = hashlib.sha256(data).hexdigest()
    compressed = data[:2] == b"\x1f\x8b"
    try:
        if compressed:
            data = _gunzip(data, max_bytes)
        if not data or data.isspace():  # as ``not data.strip()``, without copying the file
            return RawFile(None, None, "is empty" if not data else "contains only whitespace", digest)
        text, encoding = decode_bytes(data)
    except ValueError as err:
        return RawFile(None, None, str(err), digest)
    return RawFile(text, f"gzip+{encoding}" if compressed else encoding, None, digest)


def read_batch(abs_paths: list[bytes], source_paths: list[str], max_bytes: int) -> pl.DataFrame:
    """Read and decode a batch of raw files: ``source_path``, ``raw_text``, ``encoding``, ``read_error``, ``raw_sha256``."""
    # One Python call per file is the floor here: each file is its own read() and decode().
    if abs_paths and fs.is_url(abs_paths[0]):
        # an object read is a network round trip: keep several in flight (Arrow releases the GIL)
        with ThreadPoolExecutor(max_workers=_OBJECT_READERS) as pool:
            files = list(pool.map(read_file, abs_paths, [max_bytes] * len(abs_paths)))
    else:
        files = [read_file(p, max_bytes) for p in abs_paths]
    columns = list(zip(*files)) if files else [(), (), (), ()]
    return pl.DataFrame(
        {"source_path": source_paths, "raw_text": list(columns[0]), "encoding": list(columns[1]),
         "read_error": list(columns[2]), "raw_sha256": list(columns[3])},  # fmt: skip
        schema={"source_path": pl.String, "raw_text": pl.String, "encoding": pl.String, "read_error": pl.String,
                "raw_sha256": pl.String},  # fmt: skip
    ).pipe(repair_mojibake)


def _fix_mojibake(text: str) -> str:
    """The text with UTF-8-read-as-Latin-1 undone.

    A file decoded wrongly as a whole (the usual case) is fixed by encoding it back and decoding
    it as UTF-8, ~10x faster than ftfy and the same result; text that does not round-trip
    cleanly (mixed or partly broken) goes to ftfy, which fixes it piece by piece.
    """
    for encoding in ("cp1252", "latin-1"):
        try:
            fixed = text.encode(encoding).decode("utf-8")
        except UnicodeError:
            continue
        if not _MOJIBAKE_RE.search(fixed):
            return fixed
    return ftfy.fix_encoding(text)


def repair_mojibake(df: pl.DataFrame) -> pl.DataFrame:
    """Undo UTF-8-read-as-Latin-1 mojibake with ftfy, only on the rows that show it."""
    flagged = pl.col("raw_text").str.contains(_MOJIBAKE).fill_null(False)
    if not df.select(flagged.any()).item():
        return df
    df = df.with_row_index("_row")
    # ftfy is a black box over one string; it runs only on the few rows the regex flagged.
    fixed = df.filter(flagged).with_columns(
        pl.col("raw_text").map_elements(_fix_mojibake, return_dtype=pl.String),
        pl.concat_str(pl.col("encoding"), pl.lit("+mojibake-repaired")).alias("encoding"),
    )
    return pl.concat([df.filter(~flagged), fixed]).sort("_row").drop("_row")
