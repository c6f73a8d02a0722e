"""Decoding raw bytes: every encoding the landing zone sends, and a readable reason for broken files."""

from __future__ import annotations

import gzip
import hashlib

import polars as pl
import pytest

from news_pipeline.io.landing import read_batch
from news_pipeline.stages.ingest import decode_batch, decode_bytes


def read_file(path: bytes, max_bytes: int) -> tuple:
    """(text, encoding, error, sha256) of one file, read and decoded as a batch is."""
    out = decode_batch(read_batch([path], ["f"], max_bytes), max_bytes)
    return out.select("raw_text", "encoding", "read_error", "raw_sha256").row(0)


TEXT = "Größere Änderungen – „Zitat“ über Straßen in Österreich."


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("cp1252"), "cp1252"),
        (b"\xff\xfe" + TEXT.encode("utf-16-le"), "utf-16"),
        (b"\xfe\xff" + TEXT.encode("utf-16-be"), "utf-16"),
    ],
)
def test_decodes_each_encoding(data: bytes, encoding: str):
    assert decode_bytes(data) == (TEXT, encoding)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"abc\x00def " * 20, "contains 20 NUL bytes in 160 bytes: text with NUL bytes"),
        (bytes(range(256)) * 4, "NUL bytes"),
        (bytes([1, 2, 3, 4, 5, 6, 7, 8]) * 50, "binary data"),
        (b"\xef\xbb\xbfok \xff\xfe", "byte-order mark but is not valid UTF-8"),
        (b"Stra\x81e " * 10, "neither valid UTF-8 nor cp1252"),
    ],
)
def test_broken_bytes_get_a_reason(data: bytes, reason: str):
    with pytest.raises(ValueError, match=reason):
        decode_bytes(data)


def test_read_file_failures(tmp_path):
    cases = {
        "empty.txt": (b"", "is empty"),
        "blank.txt": (b"  \n\t\n ", "contains only whitespace"),
        "cut.txt.gz": (gzip.compress(TEXT.encode() * 50)[:40], "is a truncated or corrupt gzip file"),
        "huge.txt": (b"x" * 2000, "larger than the 1,000-byte limit"),
    }
    for name, (data, reason) in cases.items():
        (tmp_path / name).write_bytes(data)
        text, encoding, error, _ = read_file(bytes(tmp_path / name), max_bytes=1000)
        assert text is None and encoding is None
        assert reason in error, (name, error)
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    assert "cannot be read" in read_file(bytes(tmp_path / "loop"), 1000)[2]


def test_gzip_and_crlf(tmp_path):
    path = tmp_path / "a.txt.gz"
    path.write_bytes(gzip.compress(TEXT.replace(" ", "\r\n", 1).encode("cp1252")))
    text, encoding, error, sha = read_file(bytes(path), 10_000)
    assert sha == hashlib.sha256(path.read_bytes()).hexdigest()
    assert error is None and encoding == "gzip+cp1252" and text.startswith("Größere\r\nÄnderungen")


def test_mojibake_is_repaired_and_noted(tmp_path):
    mojibake = TEXT.encode("utf-8").decode("cp1252").encode("utf-8")  # UTF-8 read as cp1252, saved again
    (tmp_path / "m.txt").write_bytes(mojibake)
    (tmp_path / "ok.txt").write_bytes(TEXT.encode())
    raw = read_batch([bytes(tmp_path / "ok.txt"), bytes(tmp_path / "m.txt")], ["ok", "m"], 10_000)
    out = decode_batch(raw, 10_000)
    assert out.drop("raw_sha256").rows() == [("ok", TEXT, "utf-8", None), ("m", TEXT, "utf-8+mojibake-repaired", None)]
    assert out.schema["raw_text"] == pl.String


def test_fast_mojibake_repair_gives_what_ftfy_gives():
    import ftfy

    from news_pipeline.stages.ingest import _fix_mojibake

    clean = "Österreichs Außenminister – „Größe“ für 5 € … Straße, Ärzte, Übergrößen"
    whole = clean.encode("utf-8").decode("cp1252")  # a file decoded wrongly as a whole
    mixed = whole + " → " + clean  # not encodable in cp1252: ftfy fixes it piece by piece
    for text in (whole, mixed, clean.encode("utf-8").decode("latin-1")):
        assert _fix_mojibake(text) == ftfy.fix_encoding(text)
    assert _fix_mojibake(whole) == clean
