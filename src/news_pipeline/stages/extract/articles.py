"""Turn decoded raw text into article fields: one frame in, one frame out, whole columns at a time."""

from __future__ import annotations

import polars as pl

from news_pipeline.stages.clean import markdown as md
from news_pipeline.stages.clean.normalize import fix_rows, normalize_text
from news_pipeline.stages.extract import boilerplate, parse, recurring
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


#: A body shorter than this (or than the teaser) is no article after a standfirst: the teaser is its
#: first paragraph. (A short news item's length; a page of one paragraph has no teaser.)
MIN_BODY_WORDS = 30


def _word_count(column: str) -> pl.Expr:
    return pl.col(column).str.count_matches(_WORD_START).fill_null(0).cast(pl.Int64)


def _teaser_into_short_body(articles: pl.DataFrame) -> pl.DataFrame:
    """The teaser as the body's first paragraph where the body is too short to follow a standfirst; ``word_count``.

    The body's words are counted once: the fold needs them, and the folded body's count is the sum.
    """
    articles = articles.with_columns(_word_count("body").alias("word_count"), _word_count("teaser").alias("_teaser"))
    short = pl.col("word_count") < pl.max_horizontal(pl.lit(MIN_BODY_WORDS), "_teaser")
    fold = pl.col("teaser").is_not_null() & short
    folded = pl.concat_str("teaser", "body", separator="\n\n", ignore_nulls=True).str.strip_suffix("\n\n")
    return articles.with_columns(
        pl.when(fold).then(folded).otherwise(pl.col("body")).alias("body"),
        pl.when(fold).then(None).otherwise(pl.col("teaser")).alias("teaser"),
        (pl.col("word_count") + pl.when(fold).then("_teaser").otherwise(0)).alias("word_count"),
    ).drop("_teaser")


def extract_articles(docs: pl.DataFrame, line_history: pl.DataFrame | None = None) -> pl.DataFrame:
    """Add the article's fields (see :func:`parse_articles`) from ``raw_text``.

    ``docs`` needs ``doc_id`` and ``raw_text``; rows whose text holds no article get null title/body.
    """
    return parse_articles(normalize_text(docs), line_history)[0]


def parse_articles(docs: pl.DataFrame, line_history: pl.DataFrame | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Title, teaser, dateline, body, subheadings, publisher, category, place, cited_sources, links, related,
    ``removed`` (per rule the blocks and characters taken out as boilerplate) and ``no_article`` (why the page
    holds no article text, else null), from text that ``normalize_text`` cleaned.

    ``line_history``: line counts of earlier partitions (``recurring.line_counts``), added to the batch's own;
    the second frame returned is the batch's own line counts.
    """
    # the parser keys articles by their row number: integer keys compare and group far faster than ids
    docs = docs.with_row_index("_doc")
    # a link broken over lines is put back on one (only texts with a link or image have one)
    docs = fix_rows(docs, "text", pl.col("text").str.contains("](", literal=True), md.join_link_lines)
    lines = parse.label_lines(parse.explode_lines(docs.select(pl.col("_doc").alias("doc_id"), "text")))
    fields = parse.extract_line_fields(lines)
    # the article in the page: boilerplate units out, Markdown to plain text (boilerplate.py)
    sites = recurring.site_of(fields, docs.select(pl.col("_doc").alias("doc_id"), "links"))
    lines, removed, line_counts = boilerplate.remove_boilerplate(lines, sites, line_history)
    blocks = parse.label_blocks(parse.join_broken_blocks(parse.assemble_blocks(lines)))
    articles = parse.collect_articles(blocks).pipe(_teaser_into_short_body)
    empty_list = pl.lit([], dtype=pl.List(pl.String))
    found = (
        docs.drop("text")
        .join(fields.rename({"doc_id": "_doc"}), on="_doc", how="left")
        .join(articles.rename({"doc_id": "_doc"}), on="_doc", how="left")
        .join(removed.rename({"doc_id": "_doc"}), on="_doc", how="left")
        .drop("_doc")
        .with_columns(
            _cited_sources().alias("cited_sources"),
            pl.col("related").fill_null(empty_list),
            pl.col("subheadings").fill_null(empty_list),
            pl.col("links").fill_null(empty_list),
            pl.col("body").replace("", None),
            pl.col("removed").fill_null(pl.lit([], dtype=removed.schema["removed"])),
        )
        .drop("credited")
        .with_columns(pl.col("word_count").fill_null(0))
    )
    return found, line_counts
