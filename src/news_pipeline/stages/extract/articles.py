"""Turn decoded raw text into article fields: one frame in, one frame out, whole columns at a time."""

from __future__ import annotations

import polars as pl

from news_pipeline.stages.clean.normalize import normalize_text
from news_pipeline.stages.extract import parse
from news_pipeline.stages.extract import patterns as P

# A word is a run of non-space characters with a letter or digit in it. Counted by where it starts:
# the space before it (or the start of the text), its leading punctuation and its first letter or
# digit. A match ends inside its word and can't reach past the word's end, so each word is found
# once; the same count as matching whole words (r"\S*[\p{L}\p{N}]\S*", checked in
# tests/unit/dedup/test_hash_shortcuts.py) at a tenth less work: the engine stops at the word's first letter.
_WORD_START = r"(?:^|\s)[^\s\p{L}\p{N}]*[\p{L}\p{N}]"


def _cited_sources() -> pl.Expr:
    """Sorted unique bare domains of the credits and the Quellen list, minus the publisher's own site."""
    domains = pl.col("credited").list.eval(P.domain_of(pl.element())).list.drop_nulls()
    return (
        domains.list.set_difference(pl.concat_list(pl.col("publisher").fill_null("")))
        .list.unique()
        .list.sort()
        .fill_null([])
    )


def extract_articles(docs: pl.DataFrame) -> pl.DataFrame:
    """Add title, teaser, dateline, body, subheadings, publisher, category, place, cited_sources, links, related.

    ``docs`` needs ``doc_id`` and ``raw_text``; rows whose text holds no article get null title/body.
    """
    return parse_articles(normalize_text(docs))


def parse_articles(docs: pl.DataFrame) -> pl.DataFrame:
    """:func:`extract_articles` on text that :func:`~news_pipeline.stages.clean.normalize.normalize_text` cleaned."""
    # the parser keys articles by their row number: integer keys compare and group far faster than ids
    docs = docs.with_row_index("_doc")
    lines = parse.label_lines(parse.explode_lines(docs.select(pl.col("_doc").alias("doc_id"), "text")))
    fields = parse.extract_line_fields(lines)
    articles = parse.collect_articles(parse.label_blocks(parse.join_broken_blocks(parse.assemble_blocks(lines))))
    empty_list = pl.lit([], dtype=pl.List(pl.String))
    return (
        docs.drop("text")
        .join(fields.rename({"doc_id": "_doc"}), on="_doc", how="left")
        .join(articles.rename({"doc_id": "_doc"}), on="_doc", how="left")
        .drop("_doc")
        .with_columns(
            _cited_sources().alias("cited_sources"),
            pl.col("related").fill_null(empty_list),
            pl.col("subheadings").fill_null(empty_list),
            pl.col("links").fill_null(empty_list),
            pl.col("body").replace("", None),
        )
        .drop("credited")
        .with_columns(pl.col("body").str.count_matches(_WORD_START).fill_null(0).cast(pl.Int64).alias("word_count"))
    )
