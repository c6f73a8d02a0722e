"""Decode raw files' bytes to text, recording how; files that are not text get a reason instead.

The bytes come from :func:`news_pipeline.io.landing.read_batch`; nothing here reads a file."""

from __future__ import annotations

import codecs
import gzip
import io
import re
import zlib
from typing import NamedTuple

import ftfy
import polars as pl

# C0 controls other than tab, newline, form feed and carriage return: real text has none.
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13))
_MAX_CONTROL_SHARE = 0.01
# The second byte of a UTF-8 sequence for a Latin-1 letter shows up as these after a wrong decode.
_MOJIBAKE = (
    r"Ã[\x80-\xbf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]|â€|Â[\xa0-\xbf]"
)
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
        raise ValueError(f"is a truncated or corrupt gzip file ({err})") from None
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
            raise ValueError(
                f"starts with a UTF-8 byte-order mark but is not valid UTF-8 ({err.reason} at byte {err.start})"
            ) from None
    for bom, name in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[2:].decode(name), "utf-16"
            except UnicodeDecodeError:
                raise ValueError("starts with a UTF-16 byte-order mark but is not valid UTF-16") from None
    if b"\x00" in data:
        nul = data.count(b"\x00")
        kind = "binary data" if _looks_binary(data.replace(b"\x00", b"")) else "text with NUL bytes"
        counted = f"{nul:,} NUL byte{'s' if nul != 1 else ''} in {len(data):,} bytes"
        raise ValueError(f"contains {counted}: {kind}, not an article")
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


class Decoded(NamedTuple):
    """One raw file decoded: either ``text`` and ``encoding``, or ``error``."""

    text: str | None
    encoding: str | None
    error: str | None


def decode_file(data: bytes, max_bytes: int) -> Decoded:
    """The text of a raw file's bytes (gunzipped if they are gzip), or why there is none."""
    compressed = data[:2] == b"\x1f\x8b"
    try:
        if compressed:
            data = _gunzip(data, max_bytes)
        if not data or data.isspace():  # as ``not data.strip()``, without copying the file
            return Decoded(None, None, "is empty" if not data else "contains only whitespace")
        text, encoding = decode_bytes(data)
    except ValueError as err:
        return Decoded(None, None, str(err))
    return Decoded(text, f"gzip+{encoding}" if compressed else encoding, None)


def decode_batch(raw: pl.DataFrame, max_bytes: int) -> pl.DataFrame:
    """``source_path``, ``raw_text``, ``encoding``, ``read_error``, ``raw_sha256`` from a batch of ``raw_bytes``.

    ``read_error`` keeps the reading's reason, or gets the decoding's; mojibake is repaired.
    """
    # One Python call per file: decoding is a bytes method, and gzip and the fallbacks differ per file.
    decoded = [
        decode_file(data, max_bytes) if data is not None else Decoded(None, None, None)
        for data in raw["raw_bytes"].to_list()
    ]
    columns = list(zip(*decoded, strict=False)) if decoded else [(), (), ()]
    strings = {"raw_text": pl.String, "encoding": pl.String, "read_error": pl.String}
    frame = pl.DataFrame(dict(zip(strings, map(list, columns), strict=True)), schema=strings)
    return pl.DataFrame(
        [
            raw["source_path"],
            frame["raw_text"],
            frame["encoding"],
            raw["read_error"].fill_null(frame["read_error"]),
            raw["raw_sha256"],
        ]
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
