"""The Arrow schemas of the published datasets, written down once and used for every write."""

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
