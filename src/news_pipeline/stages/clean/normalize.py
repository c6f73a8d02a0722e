"""Text normalisation over a whole column: line ends, invisible characters, HTML entities and tags."""

from __future__ import annotations

import html
from collections.abc import Callable

import polars as pl

_ENTITY = r"&(?:[A-Za-z][A-Za-z0-9]{1,9}|#[0-9]{2,7}|#[xX][0-9A-Fa-f]{2,6});"
# Tags that end a line or a paragraph in a browser become a line break; inline tags vanish.
# (The tag name ends where a non-word character follows, written out: a "\b" makes the regex engine
# leave its fast DFA on non-ASCII text.)
_BLOCK_TAG = (
    r"(?i)<\s*/?\s*(?:br|p|div|li|ul|ol|h[1-6]|tr|td|table|section|article|blockquote|header|footer)(?:[^\w<>][^<>]*)?>"
)
#: any HTML tag, opening or closing
ANY_TAG = r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>"
# a web server's error message printed into the page; a scraper can break it over lines
# ("**Deprecated**" / ": preg_replace() … in" / "**/www/x.php**" / "on line" / "**82**")
_PHP_ERROR = (
    r"(?im)^[*_ ]*(?:warning|notice|deprecated|strict standards|fatal error|parse error)[*_ ]*\s*:[\s\S]{0,400}?"
    r"\son line\s*[*_ ]*\d+[*_]*[ \t]*"
)
_COMMENT = r"(?s)<!--.*?-->"
# A link's text and target survive as Markdown, so credits like <a href="…">n-tv.de</a> are found later.
_ANCHOR = r"(?is)<a\s[^<>]*?href\s*=\s*[\"']([^\"'<>]*)[\"'][^<>]*>([^<]*)</a\s*>"
# Cleaning: CR LF and CR become LF, odd spaces (no-break, en/em, thin, ideographic, ...) a space;
# invisible characters (soft hyphen, zero-width, BOM, C0 controls but tab and LF) are removed.
_ODD_SPACES = "\u00a0" + "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u205f\u3000"
_INVISIBLES = "\u00ad\u2060\ufeff\x0b\x0c\x7f" + "".join(
    map(chr, [*range(0x200B, 0x2010), *range(0x00, 0x09), *range(0x0E, 0x20)])
)
# One Aho-Corasick pass does it all: CR LF comes before CR and leftmost-first matching takes it
# whole, so this equals the replacements one after another, at a third of the cost of regex passes.
_CLEANING = {"\r\n": "\n", "\r": "\n", **dict.fromkeys(_ODD_SPACES, " "), **dict.fromkeys(_INVISIBLES, "")}
_NEEDS_CLEANING = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in "\r" + _ODD_SPACES + _INVISIBLES) + "]"
# Text made only of these characters is unchanged by NFC (resp. NFKC), so the costly normalisation
# runs only on the rows with anything else. NFC: U+0000-02FF (Latin; the first characters NFC can
# change are the combining marks from U+0300), general punctuation except U+2000/2001, currency
# signs, the trade mark sign. NFKC also maps Latin-1's compatibility characters (NBSP, "²", "½",
# "µ", ...), the ellipsis and the primes, so its set is smaller. Both checked against every code
# point with unicodedata in tests/unit/clean/test_normalize.py.
STABLE_CHARS = {
    "NFC": "\x00-\u02ff\u2002-\u2027\u2030-\u205e\u20a0-\u20c0\u2122",
    "NFKC": "\x00-\x7f\u00a1-\u00a7\u00a9\u00ab-\u00ae\u00b0\u00b1\u00b6\u00b7\u00bb\u00bf-\u00ff"
    "\u2010\u2012-\u2015\u2018-\u2023\u2030\u2039\u203a\u20ac",
}


def fix_rows(df: pl.DataFrame, column: str, needs: pl.Expr, *fixes: Callable[[pl.Expr], pl.Expr]) -> pl.DataFrame:
    """``df`` with ``fixes`` applied in turn to ``column`` on the rows where ``needs`` holds, and only on them.

    For the costly passes that few rows need: Polars' ``replace_all`` works through every value of
    a column, even the ones a ``when``/``then`` has nulled, so the rows are gathered, fixed and put
    back instead.
    """
    rows = df.select(pl.arg_where(needs.fill_null(False))).to_series()
    if rows.len() == 0:
        return df
    part = df.select(pl.col(column).gather(rows))
    for fix in fixes:
        part = part.select(fix(pl.col(column)).alias(column))
    return df.with_columns(df.get_column(column).scatter(rows, part.to_series()))


def collapse_whitespace(df: pl.DataFrame, column: str) -> pl.DataFrame:
    """``column`` with runs of whitespace as one space and none at the ends; the regex runs only where needed."""
    untidy = pl.col(column).str.contains(r"[^\S ]|  |^ | $")
    return fix_rows(df, column, untidy, lambda text: text.str.replace_all(r"\s+", " ").str.strip_chars())


def unicode_normalize(expr: pl.Expr, form: str) -> pl.Expr:
    """``expr.str.normalize(form)``, computed only for the rows that hold a character it may change.

    (``str.normalize`` skips null rows, so a ``when``/``then`` is enough here.)
    """
    return pl.coalesce(pl.when(expr.str.contains(f"[^{STABLE_CHARS[form]}]")).then(expr).str.normalize(form), expr)


_URL = r"https?://[^\s<>\"'()\[\]{}|\\^`]+"


def unescape_entities(df: pl.DataFrame, column: str) -> pl.DataFrame:
    """Replace HTML entities (``&amp;``, ``&nbsp;``, ``&#8211;``) in ``column`` by their characters."""
    # html.unescape knows all 2,231 named entities; it runs only on the rows that contain one.
    return fix_rows(
        df,
        column,
        pl.col(column).str.contains(_ENTITY),
        lambda text: text.map_elements(html.unescape, return_dtype=pl.String),
    )


def normalize_text(df: pl.DataFrame) -> pl.DataFrame:
    """Add ``text`` (clean Unicode, LF line ends, no HTML tags) and ``links`` (absolute URLs) from ``raw_text``."""
    df = df.with_columns(pl.col("raw_text").alias("text")).pipe(unescape_entities, "text")
    # The cleaning and NFC run only on the rows that need them: most files have no CR, odd spaces or
    # control characters, and few have text that NFC can change; one scan finds both kinds of row.
    text = pl.col("text")
    df = fix_rows(
        df,
        "text",
        text.str.contains(f"{_NEEDS_CLEANING}|[^{STABLE_CHARS['NFC']}]"),
        lambda dirty: dirty.str.replace_many(_CLEANING, leftmost=True),
        lambda clean: unicode_normalize(clean, "NFC"),
    )
    links = (
        text.str.extract_all(_URL)
        .list.eval(pl.element().str.replace(r"[.,;:!?]+$", ""))
        .list.unique(maintain_order=True)
    )
    # every tag and comment starts with "<": the rows without one (over half) skip the four passes
    df = df.with_columns(links.alias("links")).pipe(
        fix_rows,
        "text",
        text.str.contains("<", literal=True),
        lambda tagged: (
            tagged.str.replace_all(_COMMENT, "")
            .str.replace_all(_ANCHOR, "[$2]($1)")
            .str.replace_all(_BLOCK_TAG, "\n")
            .str.replace_all(ANY_TAG, "")
        ),
    )
    # a date glued to the next element's first word ("27.01.2022Neue Zahlen"): where a scraper joined two
    # elements of the page without a space; the date goes on a line of its own, as the page showed it
    glued = r"(\d{1,2}\.\d{1,2}\.\d{4})([A-ZÄÖÜ])"
    df = fix_rows(df, "text", text.str.contains(glued), lambda page: page.str.replace_all(glued, "$1\n$2"))
    # a web server's error message printed into the page ("Deprecated: … in /var/www/x.php on line 82"),
    # also on the line of the article's first sentence: never text (2 of the 466 real-world pages hold one)
    return fix_rows(
        df, "text", text.str.contains("on line", literal=True), lambda page: page.str.replace_all(_PHP_ERROR, "")
    )
