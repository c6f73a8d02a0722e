"""Tests of reader-safe partition rewrites: exact read-back, stale footers, size, odd inputs, a live race."""

from __future__ import annotations

import json
import os
import random
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from news_pipeline.io.thrift_footer import decode_footer, encode_footer
from news_pipeline.io.versioned import live_ranges, protected_ranges, write_versioned

SCHEMA = pa.schema([("doc_id", pa.string()), ("version", pa.string()), ("seq", pa.int64()), ("body", pa.string())])
FILE_SCHEMA = SCHEMA.with_metadata({b"news_pipeline.run_id": b"run-1"})
OPTIONS = {"compression": "zstd", "compression_level": 3, "write_statistics": True}
COLUMNS = SCHEMA.names


def make_table(tag: str, rows: int, body_bytes: int = 256) -> pa.Table:
    """``rows`` rows with incompressible bodies of ``2 * body_bytes`` characters."""
    rnd = random.Random(f"{tag}-{rows}")
    return pa.table(
        {
            "doc_id": [f"{tag}-{i}" for i in range(rows)],
            "version": [tag] * rows,
            "seq": list(range(rows)),
            "body": [rnd.randbytes(body_bytes).hex() for _ in range(rows)],
        },
        schema=SCHEMA,
    )


def layout(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(dataset root, final partition file, staged file): staging outside the dataset, same file system."""
    root = tmp_path / "curated" / "articles"
    final = root / "ingest_date=2024-01-01" / "part-0.parquet"
    final.parent.mkdir(parents=True)
    return root, final, tmp_path / "state" / "staging" / "publish-articles.parquet"


def publish(tables: list[pa.Table], final: Path, staged: Path, **kwargs) -> int:
    """What storage does: stage a versioned file, then one os.replace."""
    rows = write_versioned(tables, FILE_SCHEMA, final, staged, row_group_size=500, **(OPTIONS | kwargs))
    os.replace(staged, final)
    return rows


def ordered(table: pa.Table) -> pa.Table:
    return table.select(COLUMNS).cast(SCHEMA).sort_by("seq").replace_schema_metadata(None)


def read_all_engines(root: Path, final: Path) -> dict[str, pa.Table]:
    """The partition's rows as every engine the project uses reads them."""
    glob = f"{root}/**/*.parquet"
    return {
        "pq.read_table": pq.read_table(final),
        "pyarrow.dataset": pads.dataset(root, partitioning="hive").to_table(columns=COLUMNS),
        "pl.read_parquet": pl.read_parquet(final).to_arrow(),
        "pl.scan_parquet": pl.scan_parquet(glob, hive_partitioning=True).collect().to_arrow(),
        "duckdb": duckdb.sql(f"select * from read_parquet('{glob}', hive_partitioning=true)").to_arrow_table(),
    }


def plain_size(table: pa.Table, path: Path) -> int:
    """Size of the same table written as a plain file."""
    pq.write_table(table, path, row_group_size=500, **OPTIONS)
    return path.stat().st_size


def test_twenty_rewrites_read_back_exactly_and_stale_footers_still_read_old_rows(tmp_path):
    root, final, staged = layout(tmp_path)
    first = make_table("v0", 1500)
    pq.write_table(first, final, row_group_size=500, **OPTIONS)  # a plain file, as before this module
    previous, previous_meta = first, pq.read_metadata(final)
    largest, ratios = plain_size(first, tmp_path / "plain.parquet"), []
    for i, rows in enumerate(
        [
            1600,
            400,
            2400,
            2300,
            100,
            2500,
            2500,
            900,
            1800,
            3000,
            2900,
            10,
            1200,
            2700,
            600,
            2000,
            2100,
            300,
            2600,
            1500,
        ],
        start=1,
    ):
        table = make_table(f"v{i}", rows)
        assert publish([table], final, staged) == rows
        assert not list(staged.parent.iterdir())  # neither the staged file nor its scratch body is left
        for engine, got in read_all_engines(root, final).items():
            assert ordered(got).equals(ordered(table)), f"rewrite {i}: {engine}"
        # a reader that read the old footer before the replace and the pages after it
        stale = pq.ParquetFile(final, metadata=previous_meta).read()
        assert ordered(stale).equals(ordered(previous)), f"rewrite {i}: stale footer"
        assert pq.read_schema(final).metadata[b"news_pipeline.run_id"] == b"run-1"
        largest = max(largest, plain_size(table, tmp_path / "plain.parquet"))
        st = final.stat()
        ratios.append((st.st_size / largest, st.st_blocks * 512 / largest))
        previous, previous_meta = table, pq.read_metadata(final)
    assert max(r for r, _ in ratios) <= 3.0, ratios
    assert max(d for _, d in ratios) <= 2.5, ratios


def test_new_chunks_avoid_the_previous_version(tmp_path):
    _, final, staged = layout(tmp_path)
    publish([make_table("a", 1000)], final, staged)
    old = live_ranges(final)
    assert old[0][0] == 4  # the first version is laid out like a plain file
    assert protected_ranges(final) == old
    publish([make_table("b", 1000)], final, staged)
    new = live_ranges(final)
    assert all(n_hi <= o_lo or n_lo >= o_hi for n_lo, n_hi in new for o_lo, o_hi in old)
    assert new[0][0] % 4096 == 0


def test_keep_previous_two_protects_two_older_versions(tmp_path):
    _, final, staged = layout(tmp_path)
    versions = []
    for i, rows in enumerate([800, 900, 700, 1000, 600]):
        table = make_table(f"k{i}", rows)
        publish([table], final, staged, keep_previous=2)
        versions.append((table, pq.read_metadata(final)))
        for back in (1, 2)[: len(versions) - 1]:
            old_table, old_meta = versions[-1 - back]
            assert ordered(pq.ParquetFile(final, metadata=old_meta).read()).equals(ordered(old_table))
    assert b"news_pipeline.versioned.older_ranges" in pq.read_metadata(final).metadata


@pytest.mark.parametrize(
    "content",
    [b"", b"not parquet at all", b"PAR1" + b"\0" * 100 + b"PAR1", b"PAR1garbage" + struct.pack("<I", 7) + b"PAR1"],
    ids=["empty", "text", "zero-footer", "garbage-footer"],
)
def test_final_that_is_not_parquet_is_replaced_by_a_plain_file(tmp_path, content):
    root, final, staged = layout(tmp_path)
    final.write_bytes(content)
    table = make_table("x", 700)
    assert publish([table], final, staged) == 700
    assert live_ranges(final)[0][0] == 4
    assert all(ordered(got).equals(ordered(table)) for got in read_all_engines(root, final).values())


def test_truncated_parquet_final_is_replaced_by_a_plain_file(tmp_path):
    root, final, staged = layout(tmp_path)
    publish([make_table("x", 700)], final, staged)
    final.write_bytes(final.read_bytes()[:-100])
    table = make_table("y", 500)
    publish([table], final, staged)
    assert all(ordered(got).equals(ordered(table)) for got in read_all_engines(root, final).values())


@pytest.mark.parametrize("tables", [[], [make_table("e", 0)]], ids=["no-batches", "empty-batch"])
def test_empty_versions(tmp_path, tables):
    root, final, staged = layout(tmp_path)
    publish([make_table("a", 600)], final, staged)
    before = pq.read_metadata(final)
    assert publish(tables, final, staged) == 0
    assert all(got.num_rows == 0 for got in read_all_engines(root, final).values())
    assert pq.ParquetFile(final, metadata=before).read().num_rows == 600
    table = make_table("b", 900)
    publish([table], final, staged)
    assert all(ordered(got).equals(ordered(table)) for got in read_all_engines(root, final).values())


def test_several_batches_and_bloom_filters_are_moved(tmp_path):
    root, final, staged = layout(tmp_path)
    blooms = {"bloom_filter_options": {"doc_id": {"ndv": 5000, "fpp": 0.01}}}
    publish([make_table("a", 1200)], final, staged, **blooms)
    parts = [make_table("b", 700), make_table("c", 500)]
    assert publish(parts, final, staged, **blooms) == 1200
    assert live_ranges(final)[0][0] > 4  # moved to the second slot, bloom filter offsets shifted
    got = read_all_engines(root, final)
    assert all(ordered(t).num_rows == 1200 for t in got.values())
    glob = f"{root}/**/*.parquet"  # duckdb prunes row groups with bloom filters on equality
    for doc_id, expected in [("b-3", 1), ("c-499", 1), ("a-3", 0)]:
        sql = f"select count(*) from read_parquet('{glob}') where doc_id = '{doc_id}'"
        assert duckdb.sql(sql).fetchall() == [(expected,)]


def test_page_index_is_refused(tmp_path):
    _, final, staged = layout(tmp_path)
    with pytest.raises(ValueError, match="page index"):
        publish([make_table("a", 10)], final, staged, write_page_index=True)


@pytest.mark.parametrize("writer", ["pyarrow", "polars", "duckdb"])
def test_first_versioned_write_over_a_file_of_another_writer(tmp_path, writer):
    root, final, staged = layout(tmp_path)
    old = make_table("old", 1000)
    if writer == "pyarrow":
        pq.write_table(old, final, row_group_size=300, compression="snappy", write_page_index=True)
    elif writer == "polars":
        pl.from_arrow(old).write_parquet(final, row_group_size=300)
    else:
        duckdb.from_arrow(old).write_parquet(str(final))
    old_meta = pq.read_metadata(final)
    table = make_table("new", 800)
    publish([table], final, staged)
    assert ordered(pq.ParquetFile(final, metadata=old_meta).read()).equals(ordered(old))
    assert all(ordered(got).equals(ordered(table)) for got in read_all_engines(root, final).values())


def footer_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    (length,) = struct.unpack("<I", data[-8:-4])
    return data[-8 - length : -8]


def test_unmodified_footers_re_encode_byte_for_byte(tmp_path):
    rich = pa.table(
        {
            "i8": pa.array([1, -2, None], pa.int8()),
            "u64": pa.array([0, 2**64 - 1, 7], pa.uint64()),
            "f": [1.5, float("nan"), None],
            "ts": pa.array([0, 1, None], pa.timestamp("us", tz="UTC")),
            "d": pa.array([1, 2, 3], pa.decimal128(12, 3)),
            "tags": [["a", "b"], [], None],
            "nested": [{"x": 1, "y": "q"}, None, {"x": None, "y": "ü"}],
            "m": pa.array([[("k", 1)], None, []], pa.map_(pa.string(), pa.int32())),
            "bin": [b"\x00\xff", b"", None],
        }
    ).replace_schema_metadata({"k": "v"})
    paths = []
    for i, kwargs in enumerate(
        [
            {},
            {"compression": "zstd", "write_statistics": False},
            {"use_dictionary": False, "write_page_index": True, "data_page_version": "2.0"},
            {"bloom_filter_options": {"i8": {"ndv": 10}}, "store_schema": False},
        ]
    ):
        paths.append(tmp_path / f"pa{i}.parquet")
        pq.write_table(rich, paths[-1], row_group_size=2, **kwargs)
    paths.append(tmp_path / "pl.parquet")
    pl.from_arrow(make_table("p", 50)).write_parquet(paths[-1], statistics=True)
    paths.append(tmp_path / "duck.parquet")
    duckdb.sql("select range as id, range::varchar as s from range(100)").write_parquet(str(paths[-1]))
    _, final, staged = layout(tmp_path)
    for i in range(3):
        publish([make_table(f"v{i}", 300 + i)], final, staged, keep_previous=2)
        paths.append(tmp_path / f"versioned{i}.parquet")
        paths[-1].write_bytes(final.read_bytes())
    for path in paths:
        raw = footer_bytes(path)
        assert encode_footer(decode_footer(raw)) == raw, path.name


READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    import duckdb, polars as pl
    root, engine, out = sys.argv[1:4]
    stop = Path(out + ".stop")
    glob = f"{root}/**/*.parquet"
    counts, failures = [], []
    Path(out + ".ready").touch()
    while not stop.exists():
        try:
            # distinct ids, not count(*): a bare count is answered from the footer without reading pages
            if engine == "polars":
                frame = pl.scan_parquet(glob, hive_partitioning=True).select(pl.col("doc_id").n_unique()).collect()
                counts.append(frame.item())
            else:
                sql = f"select count(distinct doc_id) from read_parquet('{glob}', hive_partitioning=true)"
                counts.append(duckdb.sql(sql).fetchall()[0][0])
        except Exception as exc:  # every failure is what the test counts
            failures.append(f"{type(exc).__name__}: {exc}"[:300])
    Path(out).write_text(json.dumps({"counts": counts, "failures": failures}))
    """
)


def test_concurrent_readers_never_fail_while_a_partition_is_rewritten(tmp_path):
    root, final, staged = layout(tmp_path)
    versions = {row_count: make_table(f"r{row_count}", row_count, body_bytes=512) for row_count in (3000, 2600)}
    publish([versions[3000]], final, staged)
    outs = {engine: tmp_path / f"reader-{engine}.json" for engine in ("polars", "duckdb")}
    readers = [
        subprocess.Popen([sys.executable, "-c", READER, str(root), engine, str(out)]) for engine, out in outs.items()
    ]
    try:
        deadline = time.monotonic() + 60
        while not all(Path(f"{out}.ready").exists() for out in outs.values()):
            assert time.monotonic() < deadline and all(r.poll() is None for r in readers), "readers did not start"
            time.sleep(0.05)
        rewrites, started = 0, time.monotonic()
        while rewrites < 60 or time.monotonic() - started < 4:
            publish([versions[2600 if rewrites % 2 == 0 else 3000]], final, staged)
            rewrites += 1
    finally:
        for out in outs.values():
            Path(f"{out}.stop").touch()
        for reader in readers:
            reader.wait(timeout=60)
    for engine, out in outs.items():
        result = json.loads(out.read_text())
        assert result["failures"] == [], engine
        assert len(result["counts"]) >= 10, engine
        assert set(result["counts"]) <= {3000, 2600}, engine
