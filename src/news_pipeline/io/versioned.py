"""Rewrite one Parquet file so that readers still holding the previous footer read correct rows.

Polars and DuckDB read a file's footer through one ``open()`` and its column chunks through a
later ``open()`` of the same path. When the path is ``os.replace``-d in between, the old
footer's offsets are applied to the new file and the query fails (in a stress test that
rewrote partitions in a loop, 13% of Polars and 1.6% of DuckDB reads failed). So each new
version of a partition file is built to contain

* the column chunks of the current version (``keep_previous=1``), byte for byte at the same
  offsets, so a stale footer still points at valid pages;
* its own column chunks in a free gap: at offset 4, as in a plain file, when that is free,
  else at a 4 KiB aligned offset past ``(1 + _HEADROOM)`` times its own length, so successive
  versions take turns in two slots and the file stays about twice one version;
* its own footer at the end, with every absolute offset in it shifted to the new position.

Bytes nobody references are never written (the staged file is sparse), so the disk usage is
the live bytes of the kept versions plus the new one. Publishing stays one ``os.replace`` by
the caller: a reader opens the old or the new inode, never a mix.

Limits. With ``keep_previous=1`` a query that reads the footer before one rewrite and the
pages after the next one (a single query spanning two rewrites of the same partition) is not
protected: the second rewrite may reuse the first version's slot. One writer per file at a
time (the run lock). Page indexes are refused (an offset index holds absolute page offsets
outside the footer); bloom filters are moved and their offsets shifted. Encrypted footers are
not supported.

The footer is decoded and re-encoded with the Thrift compact protocol of the ``thrift``
package, walking the wire types generically (no IDL), so every field, known or not, is kept
and an unmodified footer re-encodes byte for byte. fastparquet's codec
(``cencoding.from_buffer(..., "FileMetaData").to_bytes()``) was tried and rejected: it
re-encodes only field ids 1-13 (dropping ``ColumnMetaData.size_statistics``, id 16, which
pyarrow writes by default), writes i8 fields such as ``IntType.bitWidth`` as i64 and lists
of i64 as i32, and round-tripped 16 of 428 footers on the development machine unchanged.
thriftpy2 needs the Parquet IDL; the one at hand (fastparquet's copy) ends ColumnMetaData at
id 14, so decoding drops ``bloom_filter_length`` and ``size_statistics`` (28 of 341 footers
re-encoded unchanged). Copying parquet-format's IDL into this repository is not wanted.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from thrift.protocol.TProtocol import TType
from thrift.Thrift import TException

from news_pipeline.io.thrift_footer import (
    Field,
    ThriftList,
    ThriftStruct,
    decode_footer,
    encode_footer,
    field_of,
    int_of,
    structs_of,
)

Range = tuple[int, int]

MAGIC = b"PAR1"
HISTORY_KEY = b"news_pipeline.versioned.older_ranges"
_ALIGN = 4096
_HEADROOM = 0.1
_COPY_STEP = 1 << 24
# what decoding a foreign or damaged footer may raise
_FOOTER_ERRORS = (TException, EOFError, ValueError, IndexError, TypeError, struct.error, RecursionError)

# Field ids of the Parquet footer (parquet-format's FileMetaData and the structs under it).
_FMD_ROW_GROUPS, _FMD_KV = 4, 5
_RG_COLUMNS, _RG_FILE_OFFSET = 1, 5
_CC_FILE_PATH, _CC_FILE_OFFSET, _CC_META = 1, 2, 3
_CC_OFFSET_INDEX, _CC_OFFSET_INDEX_LEN, _CC_COLUMN_INDEX, _CC_COLUMN_INDEX_LEN = 4, 5, 6, 7
_CM_TOTAL_COMPRESSED, _CM_DATA_PAGE, _CM_INDEX_PAGE, _CM_DICT_PAGE = 7, 9, 10, 11
_CM_BLOOM, _CM_BLOOM_LEN = 14, 15
_CM_OFFSETS = (_CM_DATA_PAGE, _CM_INDEX_PAGE, _CM_DICT_PAGE, _CM_BLOOM)
_KV_KEY, _KV_VALUE = 1, 2


# ---------------------------------------------------------------------------------------------
# Footers and the byte ranges they reference
# ---------------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Footer:
    meta: ThriftStruct
    start: int  # offset of the footer struct: the body is [4, start)


def _read_footer(fd: int) -> _Footer:
    """The decoded footer of the Parquet file open as ``fd`` (ValueError and friends if it is not one)."""
    size = os.fstat(fd).st_size
    if size < 12 or os.pread(fd, 4, 0) != MAGIC:
        raise ValueError("not a Parquet file")
    tail = os.pread(fd, 8, size - 8)
    if tail[4:] != MAGIC:
        raise ValueError("no trailing PAR1 (encrypted footers are not supported)")
    (length,) = struct.unpack("<I", tail[:4])
    start = size - 8 - length
    if start < 4:
        raise ValueError("footer length past the start of the file")
    return _Footer(decode_footer(os.pread(fd, length, start)), start)


def _merge(ranges: Iterable[Range]) -> list[Range]:
    merged: list[Range] = []
    for lo, hi in sorted(r for r in ranges if r[1] > r[0]):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _referenced_ranges(footer: _Footer) -> list[Range]:
    """Byte ranges the footer points at: column chunks, bloom filters and page indexes (merged)."""
    ranges = []
    for row_group in structs_of(footer.meta, _FMD_ROW_GROUPS):
        for chunk in structs_of(row_group, _RG_COLUMNS):
            meta_field = field_of(chunk, _CC_META, TType.STRUCT)
            if meta_field is None or field_of(chunk, _CC_FILE_PATH, TType.STRING) is not None:
                raise ValueError("column chunk stored elsewhere or without inline metadata")
            meta = meta_field.value
            starts = [int_of(meta, fid) for fid in (_CM_DATA_PAGE, _CM_INDEX_PAGE, _CM_DICT_PAGE)]
            lo = min(s for s in starts if s)  # 0 means absent for the dictionary page
            ranges.append((lo, lo + int_of(meta, _CM_TOTAL_COMPRESSED)))
            for holder, off_fid, len_fid in (
                (chunk, _CC_OFFSET_INDEX, _CC_OFFSET_INDEX_LEN),
                (chunk, _CC_COLUMN_INDEX, _CC_COLUMN_INDEX_LEN),
                (meta, _CM_BLOOM, _CM_BLOOM_LEN),
            ):
                offset = int_of(holder, off_fid)
                if offset is not None:
                    length = int_of(holder, len_fid, TType.I32)
                    if length is None:
                        raise ValueError("index or bloom filter without a length")
                    ranges.append((offset, offset + length))
    merged = _merge(ranges)
    if merged and (merged[0][0] < 4 or merged[-1][1] > footer.start):
        raise ValueError("footer points outside the file body")
    return merged


def _history(footer: _Footer) -> list[list[Range]]:
    """Ranges of older versions that the file keeps (only written when ``keep_previous > 1``)."""
    for kv in structs_of(footer.meta, _FMD_KV):
        key = field_of(kv, _KV_KEY, TType.STRING)
        if key is not None and key.value == HISTORY_KEY:
            value = field_of(kv, _KV_VALUE, TType.STRING)
            versions = json.loads(value.value) if value is not None else []
            history = [[(int(lo), int(hi)) for lo, hi in version] for version in versions]
            if any(lo < 4 or hi > footer.start for version in history for lo, hi in version):
                raise ValueError("kept ranges outside the file body")
            return history
    return []


def _set_history(meta: ThriftStruct, history: list[list[Range]]) -> None:
    kv_field = field_of(meta, _FMD_KV, TType.LIST)
    if kv_field is None:
        kv_field = Field(_FMD_KV, TType.LIST, ThriftList(TType.STRUCT, []))
        meta.append(kv_field)
        meta.sort(key=lambda f: f.fid)
    items = [
        kv for kv in kv_field.value.items if getattr(field_of(kv, _KV_KEY, TType.STRING), "value", None) != HISTORY_KEY
    ]
    value = json.dumps(history).encode()
    items.append([Field(_KV_KEY, TType.STRING, HISTORY_KEY), Field(_KV_VALUE, TType.STRING, value)])
    kv_field.value.items = items


def _shift_offsets(meta: ThriftStruct, delta: int) -> None:
    """Add ``delta`` to every absolute file offset in a footer; refuse page indexes."""
    for row_group in structs_of(meta, _FMD_ROW_GROUPS):
        for field in row_group:
            if field.fid == _RG_FILE_OFFSET and field.ttype == TType.I64:
                field.value += delta
        for chunk in structs_of(row_group, _RG_COLUMNS):
            if any(field_of(chunk, fid, TType.I64) is not None for fid in (_CC_OFFSET_INDEX, _CC_COLUMN_INDEX)):
                raise ValueError(
                    "page indexes hold absolute page offsets and cannot be moved; keep write_page_index off"
                )
            moved = [f for f in chunk if f.fid == _CC_FILE_OFFSET]  # deprecated; pyarrow writes 0
            moved += [f for f in field_of(chunk, _CC_META, TType.STRUCT).value if f.fid in _CM_OFFSETS]
            for field in moved:
                if field.ttype == TType.I64 and field.value > 0:  # 0 means absent
                    field.value += delta


def _place(protected: list[Range], length: int) -> int:
    """Where the new body goes: offset 4 if free, else the first aligned gap past ``length * (1 + headroom)``.

    The floor keeps room in front for the next version (if it is at most ``_HEADROOM`` larger),
    so versions alternate between two slots instead of walking towards the end of the file.
    """
    floor = -(-int(4 + length * (1 + _HEADROOM)) // _ALIGN) * _ALIGN
    start = 4
    for lo, hi in [*protected, (1 << 62, 1 << 62)]:
        candidate = 4 if start == 4 else max(-(-start // _ALIGN) * _ALIGN, floor)
        if candidate + length <= lo:
            return candidate
        start = max(start, hi)
    raise AssertionError("unreachable: the last gap is unbounded")


# ---------------------------------------------------------------------------------------------
# Copying
# ---------------------------------------------------------------------------------------------
def _copy(src: int, dst: int, src_offset: int, dst_offset: int, length: int) -> None:
    """Copy ``length`` bytes between descriptors at the given offsets, in the kernel when it can."""
    use_kernel = hasattr(os, "copy_file_range")
    while length > 0:
        step = min(length, _COPY_STEP)
        done = 0
        if use_kernel:
            try:
                done = os.copy_file_range(src, dst, step, src_offset, dst_offset)
            except OSError:  # e.g. EXDEV on old kernels, or a file system without support
                use_kernel = False
        if done <= 0:
            data = os.pread(src, step, src_offset)
            if not data:
                raise OSError(f"unexpected end of file at {src_offset}")
            done = os.pwrite(dst, data, dst_offset)
        src_offset, dst_offset, length = src_offset + done, dst_offset + done, length - done


def fsync(path: Path) -> None:
    """Flush a file or a directory (its entries) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_plain(tables: Iterable[pa.Table], schema: pa.Schema, path: Path, row_group_size: int, options: dict) -> int:
    """Write ``tables`` as a plain Parquet file (cast to ``schema``); the row count. No fsync."""
    rows = 0
    with pq.ParquetWriter(path, schema, **options) as writer:
        for table in tables:
            writer.write_table(table.cast(schema), row_group_size=row_group_size)
            rows += table.num_rows
    return rows


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------
def live_ranges(path: Path) -> list[Range]:
    """Byte ranges that the footer of the Parquet file ``path`` references (merged, sorted)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return _referenced_ranges(_read_footer(fd))
    finally:
        os.close(fd)


def protected_ranges(path: Path, keep_previous: int = 1) -> list[Range]:
    """Byte ranges the next version of ``path`` must keep in place; empty if it is missing or not Parquet."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return []
    try:
        return _merge(r for version in _versions_to_keep(fd, keep_previous) for r in version)
    finally:
        os.close(fd)


def _versions_to_keep(fd: int, keep_previous: int) -> list[list[Range]]:
    """Ranges of the current and up to ``keep_previous - 1`` older versions in the file open as ``fd``."""
    try:
        footer = _read_footer(fd)
    except _FOOTER_ERRORS:
        return []  # not Parquet (or damaged): no reader can hold a footer of it
    try:
        current = _referenced_ranges(footer)
        older = _history(footer)
    except _FOOTER_ERRORS:
        current, older = [(4, footer.start)], []  # an unusual footer: keep its whole body
    return [current, *older][:keep_previous]


def write_versioned(
    tables: Iterable[pa.Table],
    schema: pa.Schema,
    final: Path,
    staged: Path,
    *,
    row_group_size: int,
    keep_previous: int = 1,
    **parquet_writer_options: Any,
) -> int:
    """Write ``tables`` as the next version of ``final`` to ``staged``, fsync it and return the row count.

    ``staged`` keeps the column chunks of the current ``final`` (and of ``keep_previous - 1``
    older versions) at their offsets, so the caller's ``os.replace(staged, final)`` does not
    break readers that already read the old footer. If ``final`` is missing or not a Parquet
    file, ``staged`` is a plain Parquet file. ``staged`` must be on the file system of
    ``final`` and outside the readers' globs; a ``<staged>.body`` scratch file is used next to
    it. ``parquet_writer_options`` go to ``pq.ParquetWriter`` (``write_page_index`` must stay off).
    """
    if keep_previous < 1:
        raise ValueError("keep_previous must be at least 1")
    if Path(staged).resolve() == Path(final).resolve():
        raise ValueError("staged must not be the final path")
    if parquet_writer_options.get("write_page_index") or parquet_writer_options.get("encryption_properties"):
        raise ValueError("page indexes and encryption are not supported by versioned writes")
    staged.parent.mkdir(parents=True, exist_ok=True)
    try:
        old_fd = os.open(final, os.O_RDONLY)
    except FileNotFoundError:
        old_fd = None
    try:
        # everything about the old version comes through this one descriptor: a consistent view
        kept = _versions_to_keep(old_fd, keep_previous) if old_fd is not None else []
        if not kept:
            rows = write_plain(tables, schema, staged, row_group_size, parquet_writer_options)
            fsync(staged)
            return rows
        scratch = staged.with_name(staged.name + ".body")
        try:
            rows = write_plain(tables, schema, scratch, row_group_size, parquet_writer_options)
            _assemble(scratch, old_fd, kept, staged, keep_previous)
        finally:
            scratch.unlink(missing_ok=True)
    finally:
        if old_fd is not None:
            os.close(old_fd)
    if pq.read_metadata(staged).num_rows != rows:
        raise RuntimeError(f"{staged}: the assembled file does not read back as {rows} rows")
    return rows


def _assemble(scratch: Path, old_fd: int, kept: list[list[Range]], staged: Path, keep_previous: int) -> None:
    """Build ``staged`` sparsely: magic, the kept ranges copied from the old file, the new body, the footer."""
    protected = _merge(r for version in kept for r in version)
    new_fd = os.open(scratch, os.O_RDONLY)
    try:
        footer = _read_footer(new_fd)
        length = footer.start - 4  # row groups, then bloom filters: no page index
        position = _place(protected, length)
        _shift_offsets(footer.meta, position - 4)
        if keep_previous > 1:
            _set_history(footer.meta, kept[: keep_previous - 1])
        raw = encode_footer(footer.meta)
        footer_at = max([position + length, *(hi for _, hi in protected)])
        out = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.ftruncate(out, footer_at + len(raw) + 8)  # holes wherever nothing is written
            os.pwrite(out, MAGIC, 0)
            for lo, hi in protected:
                _copy(old_fd, out, lo, lo, hi - lo)
            _copy(new_fd, out, 4, position, length)
            os.pwrite(out, raw + struct.pack("<I", len(raw)) + MAGIC, footer_at)
            os.fsync(out)
        finally:
            os.close(out)
    finally:
        os.close(new_fd)
