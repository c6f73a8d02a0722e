"""Markdown (and what is left of HTML) to plain text, a line at a time, over whole columns.

Scrapers hand over Markdown: trafilatura's and html2text's output, a CMS's own markup. The
article text keeps the words and loses the marks: links keep their text (a title in quotes
goes), images and image links go, reference links keep their text and their definitions go,
autolinks keep their address, backslash escapes keep the character, emphasis and code marks
go, heading, quote and list markers go (a list item stays a line of its own), table rows lose
their pipes (cells are joined by a space), rules and table separators go.

The work is done by regexes in Polars' Rust engine on the lines that hold a mark at all: most
lines of a news text hold none and cost one scan. Line structure (heading, list item, table
row) is read from the line's start, so this runs on lines, before they are joined into blocks.
"""

from __future__ import annotations

import polars as pl

# --- line types --------------------------------------------------------------------------
TEXT, HEADING, ITEM, ORDERED, TABLE, QUOTE, RULE, REFDEF = (
    "text",
    "heading",
    "item",
    "ordered",
    "table",
    "quote",
    "rule",
    "refdef",
)
#: Line types that carry no text of their own.
DROPPED = (RULE, REFDEF)

_HEADING = r"^#{1,6}(?:[ \t]|$)"
_ITEM = r"^[*+\-•][ \t]+\S"
# an ordered item starts a block of its own only after another item or as "1." (as in CommonMark):
# "28. November ..." at the start of a hard-wrapped line is a sentence going on
_ORDERED = r"^\d{1,3}[.)][ \t]+\S"
_QUOTE = r"^>"
_RULE = r"^(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$"
_REFDEF = r"^\[[^\[\]]+\]:[ \t]*\S+(?:[ \t]+(?:\"[^\"]*\"|'[^']*'|\([^()]*\)))?[ \t]*$"
# a GFM table row starts with a pipe; html2text writes rows without outer pipes, and a separator
# row (---|---) under the head says that the block is a table
_TABLE_ROW = r"^\|.*\|$"
TABLE_SEPARATOR = r"^\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)+\|?[ \t]*$"

#: A line with none of these is plain text already: the conversion skips it.
MARK = r"[\[\]*_`\\|<>~#]|^[+\-•][ \t]"
_ANY_MARK = rf"{MARK}|{_ORDERED}"

# --- inline marks --------------------------------------------------------------------------
# Backslash escapes (CommonMark: any ASCII punctuation; html2text escapes "6\. November", "\-", "\*")
# become private-use characters first, so an escaped mark is never read as markup, and the
# characters come back at the end.
_PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_PRIVATE = 0xE000
_ESCAPE = {f"\\{c}": chr(_PRIVATE + ord(c)) for c in _PUNCT}
_UNESCAPE = {chr(_PRIVATE + ord(c)): c for c in _PUNCT}
#: Put around a link's text while converting, so the caller can measure link density.
LINK_OPEN, LINK_CLOSE = "\ue100", "\ue101"

# a link destination: <...> or a URL with balanced parentheses one level deep, then an optional title
# (html2text leaves quotes inside a title unescaped: a title runs to the first quote before the closing parenthesis)
_DEST = r"\([ \t]*(?:<[^<>]*>|(?:[^()\s]|\([^()\s]*\))*)(?:[ \t]+(?:\"[^\n]*?\"|'[^'\n]*'|\([^()]*\)))?[ \t]*\)"
_IMAGE = rf"!\[[^\[\]]*\]{_DEST}"
_LINK = rf"\[([^\[\]]*)\]{_DEST}"
_REF_LINK = r"\[([^\[\]]+)\]\[[^\[\]]*\]"
_AUTOLINK = r"<((?:https?|ftp)://[^<>\s]*|[^<>\s@]+@[^<>\s@]+\.[A-Za-z]{2,})>"
_CODE = r"`+([^`]+?)`+"
# emphasis opens after a space or an opening mark and closes before a space, a punctuation mark or the end
_OPENS = r"(^|[\s(\[{„“\"'«»‚/–—-])"
_EM_STAR = _OPENS + r"\*([^\s*](?:[^*]*[^\s*])?)\*"
_EM_UNDERSCORE = _OPENS + r"_([^\s_](?:[^_]*[^\s_])?)_([^\p{L}\p{N}_]|$)"
# what a broken link or image leaves behind
_RESIDUE = rf"!\[|\]{_DEST}|\[[ \t]*\]"


# A link whose text or title goes on over a line break (html2text writes a <br> inside a link as a
# line break and keeps a title's line breaks): each pass joins the first break of each such link,
# within a paragraph.
_LINK_BROKEN_BY_LINE = r"(\[[^\[\]\n]*?)[ \t]*\n[ \t]*((?:[^\[\]\n]|\n[^\[\]\n])*\]\()"
_TITLE_BROKEN_BY_LINE = r"(\]\([^()\s]*[ \t]+\"[^\"\n]*?)[ \t]*\n[ \t]*((?:[^\"\n]|\n[^\"\n])*\"\))"


def join_link_lines(text: pl.Expr) -> pl.Expr:
    """Whole texts without images, and links whose text was broken over lines put back on one line.

    Line structure is read line by line later, so a link must not span lines; an image carries no
    article text, and inside a link's text it would hide the link's brackets from the join.
    """
    text = text.str.replace_all(_IMAGE, "")
    for _ in range(3):
        text = text.str.replace_all(_LINK_BROKEN_BY_LINE, "$1 $2").str.replace_all(_TITLE_BROKEN_BY_LINE, "$1 $2")
    return text


def line_types(line: pl.Expr) -> pl.Expr:
    """The Markdown type of a (left-trimmed) line, by its start.

    Heading, item, ordered, table, quote, rule, refdef or text.
    """
    return (
        pl.when(line.str.contains(_RULE))
        .then(pl.lit(RULE))
        .when(line.str.contains(_HEADING))
        .then(pl.lit(HEADING))
        .when(line.str.contains(_ITEM))
        .then(pl.lit(ITEM))
        .when(line.str.contains(_TABLE_ROW) | line.str.contains(TABLE_SEPARATOR))
        .then(pl.lit(TABLE))
        .when(line.str.contains(_QUOTE))
        .then(pl.lit(QUOTE))
        .when(line.str.contains(_REFDEF))
        .then(pl.lit(REFDEF))
        .when(line.str.contains(_ORDERED))
        .then(pl.lit(ORDERED))
        .otherwise(pl.lit(TEXT))
    )


def strip_line_marks(line: pl.Expr) -> pl.Expr:
    """``line`` without its table, quote, list and heading marks (its inline marks stay); twice, for nested
    marks such as a heading in a list item ("- #### Name") or in a table cell."""
    for _ in range(2):
        line = (
            line.str.replace(r"^\|[ \t]*", "")
            .str.replace(r"[ \t]*\|[ \t]*$", "")
            .str.replace(r"^(?:>[ \t]?)+", "")
            .str.replace(r"^[*+\-•][ \t]+", "")
            .str.replace(r"^#{1,6}(?:[ \t]+|$)", "")
            .str.replace(r"[ \t]+#+[ \t]*$", "")
        )
    return line


def inline_to_plain(text: pl.Expr, mark_links: bool = False) -> pl.Expr:
    """``text`` without inline Markdown: images, links, reference links, autolinks, code, emphasis, escapes.

    With ``mark_links`` a link's text stays between ``LINK_OPEN`` and ``LINK_CLOSE``.
    """
    link_text = f"{LINK_OPEN}$1{LINK_CLOSE}" if mark_links else "$1"
    return (
        text.str.replace_many(_ESCAPE, leftmost=True)
        .str.replace_all(_IMAGE, "")
        # twice: a link inside a link's text ("[ ![x](i) [y](u) ](v)") is freed by the first pass
        .str.replace_all(_LINK, link_text)
        .str.replace_all(_LINK, link_text)
        .str.replace_all(_REF_LINK, link_text)
        .str.replace_all(_AUTOLINK, link_text)
        .str.replace_all(_RESIDUE, "")
        .str.replace_all(_CODE, "$1")
        .str.replace_all(r"\*\*+|__+|~~", "")
        .str.replace_all(_EM_STAR, "$1$2")
        .str.replace_all(_EM_UNDERSCORE, "$1$2$3")
        .str.replace_many(_UNESCAPE)
        # escaped marks come back as characters, but a plain text has no "**" and no line opening
        # with "# " (html2text escapes "#", "*" and "-" that would read as marks)
        .str.replace_all(r"\*{2,}", "*")
        .str.replace(r"^#{1,6}[ \t]+", "")
    )


def title_to_plain(line: pl.Expr) -> pl.Expr:
    """A headline as plain text: without heading marks, emphasis that wraps it whole, links, images, escapes.

    A headline is metadata copied as it is, so a "*" or "_" inside it is a character of the
    headline ("*Ab Montag*: ...", "Lehrer*innen"), not emphasis.
    """
    return (
        line.str.replace_many(_ESCAPE, leftmost=True)
        .str.replace(r"^#{1,6}(?:[ \t]+|$)", "")
        .str.replace(r"[ \t]+#+[ \t]*$", "")
        .str.replace(r"^(\*\*|__)(.+)(\*\*|__)$", "$2")
        .str.replace_all(_IMAGE, "")
        .str.replace_all(_LINK, "$1")
        .str.replace_many(_UNESCAPE)
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def table_cells(text: pl.Expr) -> pl.Expr:
    """A table row's cells joined by a space: no pipes."""
    return text.str.replace_all(r"[ \t]*\|[ \t]*", " ")


def _html2text_tables(lines: pl.DataFrame) -> pl.DataFrame:
    """``md_type`` TABLE also for the piped lines of a paragraph that holds a separator row (html2text's tables)."""
    line, line_no = pl.col("line"), pl.col("line_no")
    same_para = (pl.col("doc_id").shift(1) == pl.col("doc_id")) & (line_no.shift(1) == line_no - 1)
    lines = lines.with_columns((~same_para.fill_null(False)).cum_sum().alias("_para"))
    with_separator = (
        lines.filter(pl.col("md_type") == TABLE).filter(line.str.contains(TABLE_SEPARATOR))["_para"].unique()
    )
    if with_separator.len() == 0:
        return lines.drop("_para")
    in_table = pl.col("_para").is_in(with_separator.implode()) & line.str.contains("|", literal=True)
    return lines.with_columns(pl.when(in_table).then(pl.lit(TABLE)).otherwise("md_type").alias("md_type")).drop("_para")


def add_plain(lines: pl.DataFrame, mark_links: bool = False) -> pl.DataFrame:
    """``lines`` (``doc_id``, ``line_no``, ``line``) with ``md_type`` (see ``line_types``) and ``plain``.

    ``plain`` is the line as plain text; it is empty for a table separator, a rule or a reference
    definition. One scan finds the lines with a mark; only they are read and converted further
    (a fifth of a news text's lines), the others are their own plain text.
    """
    line = pl.col("line")
    rows = lines.select(pl.arg_where(line.str.contains(_ANY_MARK))).to_series()
    lines = lines.with_columns(pl.lit(TEXT).alias("md_type"), line.alias("plain"))
    if rows.len() == 0:
        return lines
    # the rows of a table all hold a pipe: among the marked lines they stay next to each other
    marked = lines.select("doc_id", "line_no", "line").gather(rows).with_columns(line_types(line).alias("md_type"))
    marked = _html2text_tables(marked)
    md_type, plain = pl.col("md_type"), pl.col("plain")
    marked = marked.with_columns(inline_to_plain(strip_line_marks(line), mark_links).alias("plain"))
    dropped = md_type.is_in(DROPPED) | ((md_type == TABLE) & line.str.contains(TABLE_SEPARATOR))
    marked = marked.with_columns(
        pl.when(dropped)
        .then(pl.lit(""))
        .when(md_type == TABLE)
        .then(table_cells(plain))
        .otherwise(plain)
        .alias("plain")
        # (lines hold no line breaks, and normalize_text made odd spaces plain ones: an ASCII pattern, which
        # the engine runs several times faster than a Unicode "\s")
    ).with_columns(plain.str.replace_all(r"[ \t][ \t]+|\t", " ").str.strip_chars())
    return lines.with_columns(
        lines.get_column("md_type").scatter(rows, marked.get_column("md_type")),
        lines.get_column("plain").scatter(rows, marked.get_column("plain")),
    )
