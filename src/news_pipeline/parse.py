"""Split articles into lines and blocks and label each: title, teaser, body, subheading, details, trailer.

Everything here works on exploded frames (one row per line, then per block) with Polars
expressions; no Python runs per article.
"""

from __future__ import annotations

import polars as pl

from news_pipeline import patterns as P


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
    starts_details = line.str.contains(P.DETAIL_HEAD) | detail_key.is_not_null()
    in_details = starts_details.cast(pl.Int32).cum_max().over("doc_id").cast(pl.Boolean)
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
    return lines.with_columns(kind.alias("kind"), detail_key.alias("detail_key"))


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
    starts = content & ~content.shift(1, fill_value=False).over("doc_id")
    return (
        lines.with_columns(starts.cast(pl.Int32).cum_sum().over("doc_id").alias("block_no"))
        .filter(content)
        .group_by("doc_id", "block_no", maintain_order=True)
        .agg(
            pl.col("line").str.join(" ").alias("text"),
            pl.col("line").first().str.contains(P.MD_HEADING).alias("md_heading"),
        )
        .with_columns(
            P.strip_markdown(pl.col("text")).str.replace_all(r"\s+", " ").str.strip_chars().alias("text"),
        )
        .filter(pl.col("text") != "")
        .with_columns(pl.int_range(pl.len()).over("doc_id").alias("block_no"))
    )


def _block_features(blocks: pl.DataFrame) -> pl.DataFrame:
    text = pl.col("text")
    last = text.str.extract(P.LAST_WORD, 1)
    # A block ending on a lower-case word was cut mid-sentence, unless that word is a verb that
    # ends a clause (headings like "Wie es weitergeht"); German nouns are capitalised, so the
    # capital of the next block's first word says nothing.
    # … unless it is the verb closing a "Wie es weitergeht" / "Was über X bekannt ist" heading
    verb_like = (last.str.ends_with("t") | last.is_in(list(P.CLAUSE_FINAL_VERBS))) & text.str.contains(P.W_CLAUSE)
    function_word = last.str.to_lowercase().is_in(list(P.FUNCTION_WORDS))
    certain_cut = text.str.contains(P.OPEN_END) | function_word | last.str.contains(r"^\d")
    cut_on_word = certain_cut | (last.str.contains(r"^[a-zäöüß]") & ~verb_like)
    # a comma, or a finite verb before the last word, makes a block part of a sentence, not a heading
    before_last = text.str.replace(P.LAST_WORD, "")
    sentence_like = before_last.str.contains(",") | before_last.str.contains(rf"(?i)(?:^|\s)(?:{P.FINITE_VERBS})(?:\s|$)")
    return blocks.with_columns(
        text.str.contains(P.TERMINAL).alias("terminal"),
        cut_on_word.fill_null(False).alias("open_end"),
        certain_cut.fill_null(False).alias("certain_cut"),
        sentence_like.fill_null(False).alias("sentence_like"),
        text.str.contains(P.LOWER_START).alias("lower_start"),
        text.str.count_matches(r"\S+").alias("n_words"),
    )


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
    nxt = lambda c: pl.col(c).shift(-1).over("doc_id")  # noqa: E731
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
            & nxt("text").shift(-1).over("doc_id").is_not_null()
        )
    )
    joins_next = (
        (pl.col("block_no") > 0)
        & nxt("text").is_not_null()
        & ~pl.col("terminal")
        & ~pl.col("md_heading")
        & (certain if certain_only else certain | likely)
    ).fill_null(False)
    joined_prev = joins_next.shift(1).over("doc_id").fill_null(False)
    return (
        b.with_columns((~joined_prev).cast(pl.Int32).cum_sum().over("doc_id").alias("group"))
        .group_by("doc_id", "group", maintain_order=True)
        .agg(pl.col("text").str.join(" "), pl.col("md_heading").first())
        .with_columns((pl.col("group") - 1).alias("block_no"))
        .drop("group")
    )


def label_blocks(blocks: pl.DataFrame) -> pl.DataFrame:
    """Label joined blocks ``role``: title, teaser, body or subheading; cut the dateline off the first body block."""
    b = _block_features(blocks)
    n_blocks = pl.len().over("doc_id")
    dateline = pl.col("text").str.extract(P.DATELINE, 1)
    dateline_ok = dateline.is_not_null() & ~dateline.str.contains(P.DATELINE_STOP)
    is_teaser = (pl.col("block_no") == 1) & (n_blocks > 2) & ~dateline_ok & pl.col("terminal") & ~pl.col("md_heading")
    b = b.with_columns(is_teaser.any().over("doc_id").alias("_has_teaser"))
    first_body = pl.col("block_no") == pl.when(pl.col("_has_teaser")).then(2).otherwise(1)
    is_last = pl.col("block_no") == n_blocks - 1
    subheading = pl.col("md_heading") | (
        ~pl.col("terminal") & (pl.col("n_words") <= P.MAX_HEADING_WORDS) & ~is_last & ~pl.col("open_end")
    )
    role = (
        pl.when(pl.col("block_no") == 0)
        .then(pl.lit("title"))
        .when(is_teaser)
        .then(pl.lit("teaser"))
        .when(first_body & dateline_ok)
        .then(pl.lit("body"))
        .when(subheading)
        .then(pl.lit("subheading"))
        .otherwise(pl.lit("body"))
    )
    has_dateline = first_body & dateline_ok
    return b.with_columns(
        role.alias("role"),
        pl.when(has_dateline).then(dateline.str.strip_chars()).alias("dateline"),
        pl.when(has_dateline).then(pl.col("text").str.extract(P.DATELINE, 2)).otherwise(pl.col("text")).alias("text"),
    ).drop("_has_teaser")


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
