"""The shortcuts in parsing, cleaning, reading and language detection give exactly what the plain passes give."""

from __future__ import annotations

import os
import sys

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from news_pipeline.io import landing
from news_pipeline.stages import language
from news_pipeline.stages.clean import normalize
from news_pipeline.stages.clean.normalize import collapse_whitespace
from news_pipeline.stages.extract import patterns as P

_ALL_CHARS = pl.Series([chr(cp) for cp in range(sys.maxunicode + 1) if not 0xD800 <= cp < 0xE000])


def _same(df: pl.DataFrame, a: pl.Expr, b: pl.Expr) -> bool:
    return df.select(a.alias("a"), b.alias("b")).select((pl.col("a").eq_missing(pl.col("b"))).all()).item()


def test_word_boundaries_written_out_match_what_backslash_b_matches():
    # "\b" after a word character is "a non-word character or the end"; checked against every code point
    df = pl.DataFrame({"s": _ALL_CHARS}).with_columns(
        ("copyright" + pl.col("s")).alias("c"),
        ("<p" + pl.col("s") + "x>").alias("t"),
        ("<br" + pl.col("s") + ">").alias("u"),
    )
    assert _same(
        df, pl.col("c").str.contains(r"(?i)^copyright\b"), pl.col("c").str.contains(r"(?i)^copyright(?:[^\w]|$)")
    )
    old_tag = normalize._BLOCK_TAG.replace(r"(?:[^\w<>][^<>]*)?>", r"\b[^<>]*>")
    assert old_tag != normalize._BLOCK_TAG
    for col in ("t", "u"):
        text = pl.col(col)
        assert _same(df, text.str.replace_all(old_tag, "\n"), text.str.replace_all(normalize._BLOCK_TAG, "\n"))


# the cleaning as it was first written: regex passes over these classes
_ODD_SPACE = r"[\u00a0\u2000-\u200a\u202f\u205f\u3000]"
_INVISIBLE = r"[\u00ad\u200b-\u200f\u2060\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


def test_one_pass_cleaning_replaces_the_same_characters_as_the_regexes():
    df = pl.DataFrame({"s": _ALL_CHARS})
    odd = set(df.filter(pl.col("s").str.contains(_ODD_SPACE))["s"])
    invisible = set(df.filter(pl.col("s").str.contains(_INVISIBLE))["s"])
    dirty = set(df.filter(pl.col("s").str.contains(normalize._NEEDS_CLEANING))["s"])
    mapping = normalize._CLEANING
    assert {c for c, r in mapping.items() if r == " "} == odd
    assert {c for c, r in mapping.items() if r == ""} == invisible
    assert set(mapping) == odd | invisible | {"\r", "\r\n"} and dirty == odd | invisible | {"\r"}


_DIRTY = st.lists(
    st.sampled_from(
        ["\r", "\n", "\r\n", "a", " ", "ä", "\u00a0", "\u2000", "\u200b", "\u00ad", "\x00", "\x0c", "\ufeff", "\u3000"]
    ),
    max_size=30,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(_DIRTY, min_size=1, max_size=20))
def test_one_pass_cleaning_equals_the_passes_one_after_another(texts: list[str]):
    df = pl.DataFrame({"t": texts})
    passes = (
        pl.col("t")
        .str.replace_all("\r\n", "\n", literal=True)
        .str.replace_all("\r", "\n", literal=True)
        .str.replace_all(_ODD_SPACE, " ")
        .str.replace_all(_INVISIBLE, "")
    )
    assert _same(df, passes, pl.col("t").str.replace_many(normalize._CLEANING, leftmost=True))


_WORDS = [
    "Wien",
    "Sankt",
    "Pölten",
    "am",
    "an der",
    "bei",
    "de",
    "Die",
    "Polizei",
    "(APA)",
    "(dpa/AFP)",
    "–",
    "—",
    "-",
    "/",
    ",",
    "sagte",
    "New",
    "York",
    "",
    "x",
]
_LINE = st.lists(st.sampled_from(_WORDS), max_size=12).map(lambda ws: " ".join(ws))
_GLUED = st.lists(st.sampled_from(_WORDS + [" ", "  "]), max_size=12).map("".join)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(_LINE, _GLUED), min_size=1, max_size=20))
def test_dateline_start_finds_what_the_full_dateline_pattern_finds(texts: list[str]):
    df = pl.DataFrame({"t": texts})
    full, start = pl.col("t").str.extract_groups(P.DATELINE), pl.col("t").str.extract_groups(P.DATELINE_START)
    assert _same(df, full.struct.field("1"), start.struct.field("2"))
    assert _same(df, full.struct.field("2"), pl.col("t").str.strip_prefix(start.struct.field("1")))


_MARKED = st.text(alphabet=st.sampled_from(list('ab #*_[]()!„"')), max_size=30)


@settings(max_examples=500, deadline=None)
@given(st.lists(_MARKED, min_size=1, max_size=20))
def test_text_without_a_mark_is_left_alone_by_strip_markdown_and_has_no_credit(texts: list[str]):
    df = pl.DataFrame({"t": texts}).filter(~pl.col("t").str.contains(P.MARKDOWN_MARK))
    assert _same(df, P.strip_markdown(pl.col("t")), pl.col("t"))
    df = pl.DataFrame({"t": [f"{t} **n-tv.de** [orf.at]" for t in texts] + texts})
    has_credit = pl.col("t").str.extract_all(P.CREDIT).list.len() > 0
    assert df.filter(has_credit & ~pl.col("t").str.contains(P.CREDIT_MARK)).height == 0


_LINE_PARTS = [
    "Details",
    "Details:",
    "Vorfall",
    "Ort",
    "Quellen",
    "\t",
    ":",
    " ",
    "•",
    "- ",
    "n-tv.de",
    "www.orf.at",
    ",",
    "Besuchen Sie uns auf",
    "©",
    "(c) ",
    "Copyright",
    "2024",
    "Mehr zum Thema",
    "Lesen Sie auch",
    "Foto:",
    "APA/dpa",
    "Newsletter",
    "teilen",
    "Facebook",
    "|",
    "Kommentar",
    "Die",
    "Polizei",
    "sagte",
    "ä",
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_LINE_PARTS), max_size=8).map("".join), min_size=1, max_size=20))
def test_a_line_matching_no_special_pattern_is_what_the_union_skips(lines: list[str]):
    df = pl.DataFrame({"t": lines})
    each = pl.any_horizontal(
        pl.col("t").str.contains(p)
        for p in (
            P.DETAIL_HEAD,
            P.DETAIL_KEY,
            P.SOURCE_LIST,
            P.PUBLISHER,
            P.COPYRIGHT_PUBLISHER,
            P.RELATED,
            P.BOILERPLATE,
        )
    )
    assert _same(df, each, pl.col("t").str.contains(P.ANY_SPECIAL_LINE))


_BODY = st.lists(st.sampled_from(["a", "é", " ", "  ", "\n", "\n\n", "\t", "\u2028", "\u00a0", "x"]), max_size=400).map(
    "".join
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), _BODY), min_size=1, max_size=20))
def test_language_sample_is_the_collapsed_start_of_the_text(bodies: list[str | None]):
    df = pl.DataFrame({"body": bodies}, schema={"body": pl.String})
    plain = pl.col("body").str.slice(0, language._SAMPLE_CHARS).str.replace_all(r"\s+", " ").str.strip_chars()
    short = (
        df.select(pl.col("body").str.slice(0, language._SAMPLE_CHARS).str.replace_all("\n\n", " ", literal=True))
        .pipe(collapse_whitespace, "body")
        .get_column("body")
    )
    assert df.select(plain).get_column("body").equals(short)


def test_language_predicts_each_distinct_sample_once_with_the_same_result():
    texts = [
        "Die Polizei ermittelt in Wien.",
        "The police are investigating.",
        "Die Polizei ermittelt in Wien.",
        "",
        None,
        "  \n\n ",
        "La police enquête à Paris.",
        "The police are investigating.",
    ]
    df = pl.DataFrame({"body": texts}, schema={"body": pl.String})
    got = language.detect_language(df)["language"].to_list()
    model = language.load_model()
    expected = [
        None
        if not (t or "").split()
        else model.f.multilinePredict([" ".join(t.split()) + "\n"], 1, 0.0, "strict")[0][0][9:]
        for t in texts
    ]
    assert got == expected
    assert language.detect_language(df.head(0)).schema == {"body": pl.String, "language": pl.String}


def test_bounded_read_reads_to_the_end_or_the_limit(tmp_path):
    path = tmp_path / "a.txt"
    for size in (0, 1, 100, 70_000, 200_000):
        data = os.urandom(size)
        path.write_bytes(data)
        for limit in (1, 50, 65_537, 150_001, 10**6):
            for hint in (0, size // 3, size):  # a stale, smaller size: the file grew after fstat
                fd = os.open(path, os.O_RDONLY)
                try:
                    assert landing._read_bounded(fd, hint, limit) == data[:limit]
                finally:
                    os.close(fd)


def test_whitespace_only_check_matches_strip():
    for data in (b"", b" ", b" \t\r\n\x0b\x0c", b" a ", b"\x1c", b"\xa0", b"\x85"):
        assert (not data or data.isspace()) == (not data.strip())
    assert all((bytes([b]).isspace()) == (not bytes([b]).strip()) for b in range(256))
