"""The schema of every stored table, written down once and used for every write.

Published datasets (curated, quarantine) and the bookkeeping beside them (signatures, ledger)
are Arrow schemas; the scratch files of a run (staged batches) and the listing of a landing-zone
folder are read and written by Polars only, so theirs are Polars schemas.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

_STR_LIST = pa.list_(pa.string())

#: Columns stored inside the files of ``curated/articles``; ``ingest_date`` lives in the
#: Hive path (``ingest_date=YYYY-MM-DD``) and is added back by readers as a date.
CURATED = pa.schema(
    [
        ("doc_id", pa.string()),
        ("source_path", pa.string()),
        ("title", pa.string()),
        ("teaser", pa.string()),
        ("dateline", pa.string()),
        ("body", pa.string()),
        ("subheadings", _STR_LIST),
        ("publisher", pa.string()),
        ("category", pa.string()),
        ("place", pa.string()),
        ("cited_sources", _STR_LIST),
        ("links", _STR_LIST),
        ("related", _STR_LIST),
        ("persons", _STR_LIST),
        ("organizations", _STR_LIST),
        ("locations", _STR_LIST),
        ("language", pa.string()),
        ("encoding", pa.string()),
        ("word_count", pa.int64()),
        ("content_hash", pa.string()),
        ("duplicate_of", pa.string()),
        ("story_id", pa.string()),
        ("run_id", pa.string()),
    ]
)

#: Columns stored inside the files of ``quarantine/articles``.
QUARANTINE = pa.schema(
    [
        ("doc_id", pa.string()),
        ("source_path", pa.string()),
        ("reasons", _STR_LIST),
        ("raw_text", pa.string()),
        ("encoding", pa.string()),
        ("run_id", pa.string()),
    ]
)

#: ``state/signatures``: what later partitions need to link duplicates and stories to this one's rows.
SIGNATURES = pa.schema(
    [
        ("doc_id", pa.large_string()),
        ("source_path", pa.large_string()),
        ("content_hash", pa.large_string()),
        ("story_id", pa.large_string()),
        ("minhash", pa.large_list(pa.uint32())),
    ]
)

#: ``state/ledger``: every raw file of a partition as it was processed, to find changed files later.
LEDGER = pa.schema(
    [
        ("source_path", pa.large_string()),
        ("doc_id", pa.large_string()),
        ("size", pa.int64()),
        ("mtime_ns", pa.int64()),
        ("raw_sha256", pa.large_string()),
        ("outcome", pa.large_string()),  # "curated" or "quarantine"
        ("run_id", pa.large_string()),
        ("processed_at", pa.timestamp("us", tz="UTC")),
    ]
)

#: ``reports/blocked``: the files of a partition the quality gate stopped, and why each failed.
BLOCKED = pa.schema(
    [
        ("source_path", pa.string()),
        ("doc_id", pa.string()),
        ("reasons", _STR_LIST),
        ("run_id", pa.string()),
    ]
)

#: ``state/line_counts``: per site and normalised short line, with how many headlines of the partition it
#: occurs (``stages.extract.recurring``): what the cleaning learns of each site's furniture from the archive.
LINE_COUNTS = pa.schema([("site", pa.large_string()), ("line_hash", pa.uint64()), ("docs", pa.uint32())])

#: The files of one landing-zone date folder (:func:`news_pipeline.io.landing.list_files`).
FILE_LISTING: dict[str, pl.DataType] = {
    "source_path": pl.String(),
    "abs_path": pl.Binary(),  # as the OS names it (or the object URL)
    "size": pl.Int64(),  # null when it cannot be read
    "mtime_ns": pl.Int64(),
}

_TEXT_LIST = pl.List(pl.String())
#: A staged batch: every column a batch produces, before linking and validation (scratch, Polars only).
STAGED: dict[str, pl.DataType] = {
    "source_path": pl.String(),
    "raw_text": pl.String(),
    "encoding": pl.String(),
    "raw_sha256": pl.String(),
    "doc_id": pl.String(),
    "size": pl.Int64(),
    "mtime_ns": pl.Int64(),
    "links": _TEXT_LIST,
    "publisher": pl.String(),
    "category": pl.String(),
    "place": pl.String(),
    "related": _TEXT_LIST,
    "title": pl.String(),
    "teaser": pl.String(),
    "dateline": pl.String(),
    "body": pl.String(),
    "subheadings": _TEXT_LIST,
    "cited_sources": _TEXT_LIST,
    "word_count": pl.Int64(),
    "language": pl.String(),
    "persons": _TEXT_LIST,
    "organizations": _TEXT_LIST,
    "locations": _TEXT_LIST,
    "content_hash": pl.String(),
    "minhash": pl.List(pl.UInt32()),
    "reasons": _TEXT_LIST,  # quarantine reasons known before validation; empty when none
    "body_chars": pl.UInt32(),
    # what the boilerplate rules took out of the file: per rule, blocks and characters
    "removed": pl.List(pl.Struct({"rule": pl.String(), "blocks": pl.Int64(), "chars": pl.Int64()})),
}
#: The columns of the staged batches a partition's publish reads first: no text, so all of a partition fits.
STAGED_META = [
    "doc_id",
    "source_path",
    "reasons",
    "title",
    "body_chars",
    "word_count",
    "language",
    "encoding",
    "content_hash",
    "minhash",
    "cited_sources",
    "links",
    "size",
    "mtime_ns",
    "raw_sha256",
]

#: The partition column, as readers see it.
PARTITION_COLUMN = "ingest_date"
PARTITION_TYPE = pa.date32()


def polars_schema(schema: pa.Schema) -> dict[str, pl.DataType]:
    """The Polars dtypes matching an Arrow schema, for ``select``/``cast`` before a write."""
    empty = pl.from_arrow(schema.empty_table())
    assert isinstance(empty, pl.DataFrame)
    return dict(empty.schema)


def conform(df: pl.DataFrame, schema: pa.Schema) -> pa.Table:
    """Select, order and cast ``df``'s columns to exactly ``schema``; missing columns fail loudly."""
    missing = [name for name in schema.names if name not in df.columns]
    if missing:
        raise ValueError(f"frame lacks columns {missing} required by the dataset schema")
    dtypes = polars_schema(schema)
    out = df.select([pl.col(name).cast(dtypes[name]) for name in schema.names])
    return out.to_arrow().cast(schema)


def conform_staged(df: pl.DataFrame) -> pl.DataFrame:
    """A batch's frame as :data:`STAGED` has it: those columns, in that order and of those types."""
    missing = [name for name in STAGED if name not in df.columns]
    if missing:
        raise ValueError(f"batch lacks columns {missing} of the staged schema")
    return df.select([pl.col(name).cast(dtype) for name, dtype in STAGED.items()])
