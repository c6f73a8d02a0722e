"""Boilerplate learnt from the archive itself: a short line that recurs on many pages of one site.

A site repeats its menu, footer, share bar and byline on every page; an article's sentences occur
on one page (and on its duplicates). So a normalised line that recurs in the pages of one site
(by publisher, else by the host most of a page's links point to) with ``min_docs`` different
headlines or more is site furniture. Counting distinct headlines, not files, keeps a story that
was published twice, or edited and republished, from counting as its own boilerplate.

The counts are a small frame: (``site``, ``line_hash``, ``docs``) for short lines only, built with
``line_counts``, summed over batches, partitions and history with ``merge_counts`` (a key seen in a
single document can be dropped when the history grows: ``prune_counts``), and used by
``flag_recurring``. What to persist per partition, next to its other bookkeeping: the frame of
``line_counts`` of its curated and quarantined files, as ``state/line_counts/ingest_date=.../*.parquet``
(columns ``site`` String, ``line_hash`` UInt64, ``docs`` UInt32); a run merges the recent
partitions' frames (a window of days, like the story window) with its own batch's counts.
Everything is plain Polars: no Python runs per line or per document.
"""

from __future__ import annotations

import polars as pl
import polars_hash as plh

from news_pipeline.stages.extract import patterns as P

#: A line recurring with this many different headlines of one site is that site's boilerplate.
MIN_DOCS = 5
#: Only lines up to this long are counted: menus, footers and bylines are short, paragraphs long.
MAX_LINE_CHARS = 200
COUNTS_SCHEMA = {"site": pl.String, "line_hash": pl.UInt64, "docs": pl.UInt32}


def normalized_line(line: pl.Expr) -> pl.Expr:
    """A line as it recurs: lower case, digits as 0 ("© 2023", "Seite 3 von 12"), runs of spaces as one."""
    return line.str.to_lowercase().str.replace_all(r"\d+", "0").str.replace_all(r"\s+", " ").str.strip_chars()


def hash_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """``lines`` (``doc_id``, ``site``, ``title_hash``, ``text``) up to ``MAX_LINE_CHARS`` long, with ``line_hash``."""
    short = lines.filter(pl.col("site").is_not_null() & (pl.col("text").str.len_chars() <= MAX_LINE_CHARS))
    return (
        short.with_columns(normalized_line(pl.col("text")).alias("_norm"))
        .with_columns(plh.col("_norm").nchash.xxhash64().alias("line_hash"))
        .drop("_norm")
    )


def line_counts(hashed: pl.DataFrame) -> pl.DataFrame:
    """Per (``site``, ``line_hash``): ``docs``, the number of different headlines the line occurs with."""
    return (
        hashed.group_by("site", "line_hash")
        .agg(pl.col("title_hash").n_unique().cast(pl.UInt32).alias("docs"))
        .select(COUNTS_SCHEMA.keys())
        .cast(COUNTS_SCHEMA)
    )


def merge_counts(old: pl.DataFrame | None, new: pl.DataFrame) -> pl.DataFrame:
    """Two count frames as one: ``docs`` summed per key (the headlines of two partitions rarely overlap)."""
    if old is None or old.height == 0:
        return new.cast(COUNTS_SCHEMA)
    return (
        pl.concat([old.cast(COUNTS_SCHEMA), new.cast(COUNTS_SCHEMA)])
        .group_by("site", "line_hash")
        .agg(pl.col("docs").sum().cast(pl.UInt32))
        .select(COUNTS_SCHEMA.keys())
    )


def prune_counts(counts: pl.DataFrame, min_docs: int = 2) -> pl.DataFrame:
    """``counts`` without the keys seen with fewer than ``min_docs`` headlines: most lines are an article's own,
    and dropping them keeps the history's counts bounded by the sites' furniture, not by the archive."""
    return counts.filter(pl.col("docs") >= min_docs)


def flag_recurring(hashed: pl.DataFrame, counts: pl.DataFrame, min_docs: int = MIN_DOCS) -> pl.DataFrame:
    """``hashed`` lines with ``recurring``: the line occurs with ``min_docs`` or more headlines of its site."""
    frequent = counts.filter(pl.col("docs") >= min_docs).select("site", "line_hash", pl.lit(True).alias("recurring"))
    return hashed.join(frequent, on=["site", "line_hash"], how="left").with_columns(
        pl.col("recurring").fill_null(False)
    )


def site_of(fields: pl.DataFrame, links: pl.DataFrame) -> pl.DataFrame:
    """``doc_id`` and ``site``: the publisher, else the host that most of the page's absolute links point to.

    ``fields`` has ``doc_id`` and ``publisher``; ``links`` has ``doc_id`` and ``links`` (a list of URLs).
    """
    hosts = (
        links.select("doc_id", pl.col("links").alias("url"))
        .explode("url")
        .drop_nulls("url")
        .with_columns(P.domain_of(pl.col("url").str.extract(r"^[a-zA-Z]+://([^/?#]+)", 1)).alias("host"))
        .drop_nulls("host")
        .group_by("doc_id", "host")
        .len()
        .sort("doc_id", "len", "host", descending=[False, True, False])
        .group_by("doc_id", maintain_order=True)
        .agg(pl.col("host").first())
    )
    return (
        links.select("doc_id")
        .join(fields.select("doc_id", "publisher"), on="doc_id", how="left")
        .join(hosts, on="doc_id", how="left")
        .select("doc_id", pl.coalesce("publisher", "host").alias("site"))
    )
