"""Split articles into lines and blocks and label each: title, teaser, body, subheading, details, trailer.

Everything here works on exploded frames (one row per line, then per block) with Polars
expressions; no Python runs per article. The rows of one article are always contiguous and in
order, so "the next block of the same article" is a plain shift guarded by a doc_id comparison
(``_next``), which costs a fraction of a window expression (``.over("doc_id")``).
"""

from __future__ import annotations

import polars as pl

from news_pipeline import patterns as P
from news_pipeline.normalize import collapse_whitespace

_TAIL_CHARS = 100  # the end of a block: its last word and punctuation
_HEAD_CHARS = 400  # enough to count up to MAX_HEADING_WORDS words and judge a heading-sized block


def _same_doc(offset: int) -> pl.Expr:
    """Whether the row ``offset`` rows away (down if negative) belongs to the same article."""
    return (pl.col("doc_id").shift(offset) == pl.col("doc_id")).fill_null(False)


def _next(column: str, rows: int = 1) -> pl.Expr:
    """``column`` of the row ``rows`` below in the same article, else null."""
    return pl.when(_same_doc(-rows)).then(pl.col(column).shift(-rows))


def _rank_in_doc() -> pl.Expr:
    """0, 1, 2, ... within each article."""
    row = pl.int_range(pl.len(), dtype=pl.Int32)
    return row - pl.when(~_same_doc(1)).then(row).forward_fill()


def _cum_sum_in_doc(column: str) -> pl.Expr:
    """Running sum of an integer ``column`` that restarts with each article."""
    total = pl.col(column).cum_sum()
    return total - pl.when(~_same_doc(1)).then(total - pl.col(column)).forward_fill()


def explode_lines(df: pl.DataFrame) -> pl.DataFrame:
    """One row per line of ``text``: ``doc_id``, ``line_no``, ``line`` (whitespace-trimmed)."""
    return (
        df.select("doc_id", pl.col("text").str.split("\n").alias("line"))
        .with_columns(pl.int_ranges(0, pl.col("line").list.len(), dtype=pl.Int32).alias("line_no"))
        .explode("line", "line_no")
        # keep a trailing tab: it separates a details key from an empty value (`Quellen\t<ul>`)
        .with_columns(pl.col("line").str.strip_chars_start(" \t").str.strip_chars_end(" ").fill_null(""))
    )


def label_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """Label each line ``kind``: blank, details, publisher, related, boilerplate or content.

    Details lines count only from the first ``Details``/``Vorfall``/``Ort``/``Quellen`` line
    on, so a body sentence that happens to look like a domain stays in the body.
    """
    line = pl.col("line")
    detail_key = line.str.extract(P.DETAIL_KEY, 1)
    lines = lines.with_columns(
        detail_key.alias("detail_key"),
        (line.str.contains(P.DETAIL_HEAD) | detail_key.is_not_null()).cast(pl.Int32).alias("_starts_details"),
    )
    starts_details = pl.col("_starts_details") == 1
    in_details = _cum_sum_in_doc("_starts_details") > 0
    short = line.str.len_chars() <= P.MAX_BOILERPLATE_CHARS
    kind = (
        pl.when(line.str.strip_chars() == "")
        .then(pl.lit("blank"))
        .when(in_details & (starts_details | line.str.contains(P.SOURCE_LIST)))
        .then(pl.lit("details"))
        .when(line.str.contains(P.PUBLISHER) | line.str.contains(P.COPYRIGHT_PUBLISHER))
        .then(pl.lit("publisher"))
        .when(line.str.contains(P.RELATED))
        .then(pl.lit("related"))
        .when(short & line.str.contains(P.BOILERPLATE))
        .then(pl.lit("boilerplate"))
        .otherwise(pl.lit("content"))
    )
    return lines.with_columns(kind.alias("kind")).drop("_starts_details")


def extract_line_fields(lines: pl.DataFrame) -> pl.DataFrame:
    """Per article: ``publisher``, ``category``, ``place``, ``related`` and ``credited`` domains from labelled lines.

    ``credited`` holds the domains of inline credits in the text and of the ``Quellen`` list.
    """
    line, kind, key = pl.col("line"), pl.col("kind"), pl.col("detail_key")
    detail_value = line.str.extract(P.DETAIL_KEY, 2).str.strip_chars(" \t•·-")
    publisher = P.domain_of(pl.coalesce(line.str.extract(P.PUBLISHER, 1), line.str.extract(P.COPYRIGHT_PUBLISHER, 1)))
    is_listed = (kind == "details") & (key.is_null() | (key == "Quellen"))
    related = P.strip_markdown(line.str.extract(P.RELATED, 1)).str.strip_chars()
    return lines.group_by("doc_id", maintain_order=True).agg(
        publisher.filter(kind == "publisher").first().alias("publisher"),
        detail_value.filter((kind == "details") & (key == "Vorfall")).first().alias("category"),
        detail_value.filter((kind == "details") & (key == "Ort")).first().alias("place"),
        related.filter(kind == "related").alias("related"),
        line.filter(is_listed).str.extract_all(P.DOMAIN).explode().drop_nulls().alias("_listed"),
        line.filter(kind == "content").str.extract_all(P.CREDIT).explode().drop_nulls().alias("_inline"),
    ).select(pl.exclude("_listed", "_inline"), pl.col("_listed").list.concat("_inline").alias("credited"))


def assemble_blocks(lines: pl.DataFrame) -> pl.DataFrame:
    """Consecutive content lines become one block: ``doc_id``, ``block_no``, ``text``, ``md_heading``."""
    content = pl.col("kind") == "content"
    starts = content & ~(_same_doc(1) & content.shift(1)).fill_null(False)
    return (
        # a block's number counts block starts over the whole frame: unique, so one integer key suffices
        lines.with_columns(starts.cum_sum().alias("_block"))
        .filter(content)
        .group_by("_block", maintain_order=True)
        .agg(
            pl.col("doc_id").first(),
            pl.col("line").str.join(" ").alias("text"),
            pl.col("line").first().str.contains(P.MD_HEADING).alias("md_heading"),
        )
        .drop("_block")
        .with_columns(P.strip_markdown(pl.col("text")))
        .pipe(collapse_whitespace, "text")
        .filter(pl.col("text") != "")
        .with_columns(_rank_in_doc().alias("block_no"))
        .select("doc_id", "block_no", "text", "md_heading")
    )


def _block_features(blocks: pl.DataFrame) -> pl.DataFrame:
    # end-anchored patterns look at the block's tail, counts at its head: a paragraph's middle
    # never decides whether it is cut or a heading, and long paragraphs cost no more than short ones
    text, tail, last = pl.col("text"), pl.col("_tail"), pl.col("_last")
    ending = pl.col("_tail").str.extract_groups(rf"({P.LAST_WORD})")  # 1: last word and what follows, 2: the word
    blocks = (
        blocks.with_columns(text.str.slice(-_TAIL_CHARS).alias("_tail"))
        .with_columns(ending.struct.field("1").str.len_chars().fill_null(0).alias("_ending"))
        .with_columns(ending.struct.field("2").alias("_last"))
    )
    # A block ending on a lower-case word was cut mid-sentence, unless that word is a verb that
    # ends a clause (headings like "Wie es weitergeht", "Was über X bekannt ist"); German nouns
    # are capitalised, so the capital of the next block's first word says nothing.
    verb_like = (last.str.ends_with("t") | last.is_in(list(P.CLAUSE_FINAL_VERBS))) & text.str.contains(P.W_CLAUSE)
    function_word = last.str.to_lowercase().is_in(list(P.FUNCTION_WORDS))
    certain_cut = tail.str.contains(P.OPEN_END) | function_word | last.str.contains(r"^\d")
    cut_on_word = certain_cut | (last.str.contains(r"^[a-zäöüß]") & ~verb_like)
    # a comma, or a finite verb before the last word, makes a block part of a sentence, not a
    # heading; only judged for heading-sized blocks (longer ones have far more than MAX_HEADING_WORDS)
    length = text.str.len_chars()
    before_last = pl.when(length <= _HEAD_CHARS).then(text.str.slice(0, length - pl.col("_ending")))
    sentence_like = before_last.str.contains(",") | before_last.str.contains(rf"(?i)(?:^|\s)(?:{P.FINITE_VERBS})(?:\s|$)")
    return blocks.with_columns(
        tail.str.contains(P.TERMINAL).alias("terminal"),
        cut_on_word.fill_null(False).alias("open_end"),
        certain_cut.fill_null(False).alias("certain_cut"),
        sentence_like.fill_null(False).alias("sentence_like"),
        text.str.contains(P.LOWER_START).alias("lower_start"),
        # blocks hold single-space-separated words (assemble_blocks collapses whitespace): count the gaps
        (text.str.slice(0, _HEAD_CHARS).str.count_matches(" ", literal=True) + 1).alias("n_words"),
    ).drop("_tail", "_ending", "_last")


def join_broken_blocks(blocks: pl.DataFrame) -> pl.DataFrame:
    """Re-join paragraphs and subheadings that page layout broke mid-sentence.

    A block continues into the next when it lacks end punctuation and either ends on a
    lower-case word, a function word or a comma (German nouns are capitalised, so the *end*
    of the first part is the signal, not the start of the second), or the next starts in lower
    case, or it reads like part of a sentence (too long for a subheading, a comma, a finite
    verb), or both are short unfinished parts of one heading. Certain cuts are joined first and
    the rest judged on the re-joined text, so "Was über X" + "bekannt ist" is one heading again
    before its end is judged. The title (block 0) and Markdown headings never join.
    """
    return _join_pass(_join_pass(blocks, certain_only=True), certain_only=False)


def _join_pass(blocks: pl.DataFrame, certain_only: bool) -> pl.DataFrame:
    b = _block_features(blocks)
    nxt = _next
    certain = pl.col("certain_cut") | nxt("lower_start")
    likely = (
        pl.col("open_end")
        | (~nxt("md_heading") & ((pl.col("n_words") > P.MAX_HEADING_WORDS) | pl.col("sentence_like")))
        | (  # "Offene" + "Fragen": two unfinished parts of one short heading
            ~nxt("md_heading")
            & ~nxt("terminal")
            & ~nxt("open_end")
            & ~nxt("text").str.contains(",")
            & (pl.col("n_words") + nxt("n_words") <= P.MAX_SPLIT_HEADING_WORDS)
            & nxt("text", 2).is_not_null()
        )
    )
    joins_next = (
        (pl.col("block_no") > 0)
        & nxt("text").is_not_null()
        & ~pl.col("terminal")
        & ~pl.col("md_heading")
        & (certain if certain_only else certain | likely)
    ).fill_null(False)
    # the last block of an article never joins its next row, so the plain shift stays in the article
    joined_prev = pl.col("_joins_next").shift(1).fill_null(False)
    return (
        b.with_columns(joins_next.alias("_joins_next"))
        .with_columns((~joined_prev).cum_sum().alias("_group"))
        .group_by("_group", maintain_order=True)
        .agg(pl.col("doc_id").first(), pl.col("text").str.join(" "), pl.col("md_heading").first())
        .select("doc_id", _rank_in_doc().alias("block_no"), "text", "md_heading")
    )


def label_blocks(blocks: pl.DataFrame) -> pl.DataFrame:
    """Label joined blocks ``role``: title, teaser, body or subheading; cut the dateline off the first body block."""
    b = _block_features(blocks)
    block_no = pl.col("block_no")
    # a dateline can only open block 1 or 2 (after a teaser): the regex runs on those alone
    parts = pl.when(block_no.is_between(1, 2)).then(pl.col("text")).str.extract_groups(P.DATELINE)
    b = b.with_columns(parts.struct.field("1").alias("_dateline"), parts.struct.field("2").alias("_rest"))
    dateline_ok = pl.col("_dateline").is_not_null() & ~pl.col("_dateline").str.contains(P.DATELINE_STOP).fill_null(False)
    is_teaser = (block_no == 1) & _same_doc(-1) & ~dateline_ok & pl.col("terminal") & ~pl.col("md_heading")
    b = b.with_columns(is_teaser.alias("_teaser"), dateline_ok.alias("_dateline_ok"))
    first_body = ((block_no == 1) & ~pl.col("_teaser")) | ((block_no == 2) & pl.col("_teaser").shift(1).fill_null(False))
    is_last = ~_same_doc(-1)
    subheading = pl.col("md_heading") | (
        ~pl.col("terminal") & (pl.col("n_words") <= P.MAX_HEADING_WORDS) & ~is_last & ~pl.col("open_end")
    )
    has_dateline = first_body & pl.col("_dateline_ok")
    role = (
        pl.when(block_no == 0)
        .then(pl.lit("title"))
        .when(pl.col("_teaser"))
        .then(pl.lit("teaser"))
        .when(has_dateline)
        .then(pl.lit("body"))
        .when(subheading)
        .then(pl.lit("subheading"))
        .otherwise(pl.lit("body"))
    )
    return b.with_columns(
        role.alias("role"),
        pl.when(has_dateline).then(pl.col("_dateline").str.strip_chars()).alias("dateline"),
        pl.when(has_dateline).then(pl.col("_rest")).otherwise(pl.col("text")).alias("text"),
    ).drop("_teaser", "_dateline", "_rest", "_dateline_ok")


def collect_articles(blocks: pl.DataFrame) -> pl.DataFrame:
    """Per article: ``title``, ``teaser``, ``dateline``, ``body`` and ``subheadings`` from labelled blocks."""
    role = pl.col("role")
    return blocks.group_by("doc_id", maintain_order=True).agg(
        pl.col("text").filter(role == "title").first().alias("title"),
        pl.col("text").filter(role == "teaser").first().alias("teaser"),
        pl.col("dateline").drop_nulls().first().alias("dateline"),
        pl.col("text").filter(role.is_in(["body", "subheading"])).str.join("\n\n").alias("body"),
        pl.col("text").filter(role == "subheading").alias("subheadings"),
    )
