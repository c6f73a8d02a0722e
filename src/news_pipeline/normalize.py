"""Text normalisation over a whole column: line ends, invisible characters, HTML entities and tags."""

from __future__ import annotations

import html

import polars as pl

_ENTITY = r"&(?:[A-Za-z][A-Za-z0-9]{1,9}|#[0-9]{2,7}|#[xX][0-9A-Fa-f]{2,6});"
# Tags that end a line or a paragraph in a browser become a line break; inline tags vanish.
_BLOCK_TAG = r"(?i)<\s*/?\s*(?:br|p|div|li|ul|ol|h[1-6]|tr|td|table|section|article|blockquote|header|footer)\b[^<>]*>"
_ANY_TAG = r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>"
_COMMENT = r"(?s)<!--.*?-->"
# A link's text and target survive as Markdown, so credits like <a href="…">n-tv.de</a> are found later.
_ANCHOR = r"(?is)<a\s[^<>]*?href\s*=\s*[\"']([^\"'<>]*)[\"'][^<>]*>([^<]*)</a\s*>"
_URL = r"https?://[^\s<>\"'()\[\]{}|\\^`]+"


def unescape_entities(df: pl.DataFrame, column: str) -> pl.DataFrame:
    """Replace HTML entities (``&amp;``, ``&nbsp;``, ``&#8211;``) in ``column`` by their characters."""
    flagged = pl.col(column).str.contains(_ENTITY).fill_null(False)
    if not df.select(flagged.any()).item():
        return df
    # html.unescape knows all 2,231 named entities; it runs only on the rows that contain one.
    return df.with_row_index("_row").pipe(
        lambda d: pl.concat(
            [
                d.filter(~flagged),
                d.filter(flagged).with_columns(pl.col(column).map_elements(html.unescape, return_dtype=pl.String)),
            ]
        )
        .sort("_row")
        .drop("_row")
    )


def normalize_text(df: pl.DataFrame) -> pl.DataFrame:
    """Add ``text`` (clean Unicode, LF line ends, no HTML tags) and ``links`` (absolute URLs) from ``raw_text``."""
    df = df.with_columns(pl.col("raw_text").alias("text")).pipe(unescape_entities, "text")
    text = (
        pl.col("text")
        .str.replace_all("\r\n", "\n", literal=True)
        .str.replace_all("\r", "\n", literal=True)
        .str.replace_all(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000]", " ")
        .str.replace_all(r"[\u00ad\u200b-\u200f\u2060\ufeff]", "")
        .str.replace_all(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "")
        .str.normalize("NFC")
    )
    links = (
        pl.col("text")
        .str.extract_all(_URL)
        .list.eval(pl.element().str.replace(r"[.,;:!?]+$", ""))
        .list.unique(maintain_order=True)
    )
    untagged = (
        pl.col("text")
        .str.replace_all(_COMMENT, "")
        .str.replace_all(_ANCHOR, "[$2]($1)")
        .str.replace_all(_BLOCK_TAG, "\n")
        .str.replace_all(_ANY_TAG, "")
    )
    return df.with_columns(text).with_columns(links.alias("links"), untagged)
