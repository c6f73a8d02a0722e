"""The shortcuts in the hashes stage and the word count give exactly what the plain definitions give.

Content hashes and MinHash signatures are stored and compared with earlier partitions', so a
shortcut may change no bit. Each is checked against the straightforward formulation it replaced,
on awkward hand-picked texts and on random ones built from the characters that matter.
"""

from __future__ import annotations

import random

import numpy as np
import polars as pl
import polars_hash as plh
import rensa

from news_pipeline.stages import dedup
from news_pipeline.stages.clean.normalize import collapse_whitespace, unicode_normalize
from news_pipeline.stages.extract.articles import _WORD_START

AWKWARD = [
    "",
    " ",
    "\t",
    "\n\n",
    "\n\n\n",
    "a",
    "eins zwei",
    "eins zwei drei vier",
    "eins zwei drei vier fünf",
    "Eins  zwei\tdrei\n\nvier fünf sechs",
    "ﬁnanz ﬂug ﬀ ﬃ",
    "１２３ ＡＢＣ ｶﾀｶﾅ",
    "e\u0301cole Cafe\u0301",
    "İstanbul IŞIK ıi İİ",
    "Straße STRASSE ß ẞ",
    "Ǆ ǅ ǆ ΣΑΣ σας ς ΑΣ'Α",
    "½ ² µ ℃ ™ … ′″",
    "-- !!! ... 42",
    "   leading and trailing   ",
    "line\nbreak\r\nand\rcr\u00a0nbsp\u2009thin\u3000ideo",
    "\u200b zero\u200bwidth",
    "emoji 😀 🇩🇪 👍🏽 x y z",
    "日本語のテキスト 中文 한국어",
    "Ⅻ ⅻ ① ⑴ ㍻ Ⓐ",
    "a\u2028b\u2029c\u0085d \x1c\x1f",
    "word-with-hyphen e-mail O'Neil l'été",
    "A\n\nB\n\nC D E F G",
    "ＡＢＣ　ＤＥＦ",
    "\u0130\u0307 i\u0307 KELVIN \u212a",
    "x\u00ady",
    " \n\nx",
    "x\n\n ",
    "a\nb",
    "Ende.\n\nNeuer Absatz – mit Gedankenstrich, (Klammer) und „Zitat“.",
]
# the characters the shortcuts turn on: separators, punctuation, letters that change length or
# class when lower-cased or NFKC-normalised, combining marks
PIECES = [
    "wort",
    "Haus",
    "ÄÖÜ",
    "straße",
    "42",
    "x",
    " ",
    " ",
    " ",
    "\n",
    "\n\n",
    "\t",
    "\r",
    "\u00a0",
    "\u2009",
    "\u3000",
    ".",
    ",",
    "-",
    "–",
    "(",
    ")",
    "„",
    "“",
    "'",
    "İ",
    "ı",
    "Σ",
    "ﬁ",
    "１",
    "Ａ",
    "\u0301",
    "\u0307",
    "½",
    "K",
    "Ⅻ",
    "😀",
    "\u200b",
    "\u00ad",
    "\x1f",
]


def random_texts(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choices(PIECES, k=rng.randint(0, 40))) for _ in range(n)]


def frame(texts: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"body": texts}, schema={"body": pl.String})


def plain_normalized_body(df: pl.DataFrame) -> pl.Series:
    """NFKC, lower case, whitespace collapsed: the definition."""
    body = unicode_normalize(pl.col("body"), "NFKC").str.to_lowercase()
    return collapse_whitespace(df.select(body.alias("body")), "body").to_series()


def plain_minhash(df: pl.DataFrame) -> pl.Series:
    """The MinHash column as first written: regex words, padded shingles, rows via numpy."""
    tokens = df.select(pl.col("body").str.to_lowercase().str.extract_all(r"[\p{L}\p{N}]+").alias("t"))
    lens = tokens.select(pl.col("t").list.len()).to_series().to_numpy().astype(np.int64)
    flat = tokens.select(plh.col("t").explode().nchash.xxhash64()).to_series().drop_nulls().to_numpy()
    n = flat.size
    padded = np.concatenate([flat, np.zeros(dedup.SHINGLE, dtype=np.uint64)])
    with np.errstate(over="ignore"):
        shingles = sum(padded[j : j + n] * dedup._MIX[j] for j in range(dedup.SHINGLE))
    ends = np.cumsum(lens)
    starts = ends - lens
    for start, length in zip(starts, lens, strict=False):  # a doc shorter than a shingle: one shingle of its own words
        if 0 < length < dedup.SHINGLE:
            with np.errstate(over="ignore"):
                shingles[start] = sum(flat[start + j] * dedup._MIX[j] for j in range(length))
    pos = np.arange(n)
    valid = (pos + dedup.SHINGLE <= np.repeat(ends, lens)) | (
        np.repeat(lens < dedup.SHINGLE, lens) & (pos == np.repeat(starts, lens))
    )
    counts = np.where(lens >= dedup.SHINGLE, lens - dedup.SHINGLE + 1, np.minimum(lens, 1))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.uint64)
    matrix = rensa.RMinHash.digest_matrix_from_flat_token_hashes(
        np.ascontiguousarray(shingles[valid]), offsets, num_perm=dedup.NUM_PERM, seed=dedup.SEED
    )
    return pl.Series("minhash", np.asarray(matrix.to_rows(), dtype=np.uint32)).cast(pl.List(pl.UInt32))


def test_lower_casing_maps_no_character_to_or_from_whitespace():
    # normalized_body looks for untidy whitespace before lower-casing
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    df = frame(chars).with_columns(pl.col("body").str.to_lowercase().alias("lower"))
    space, lower_space = pl.col("body").str.contains(r"\s"), pl.col("lower").str.contains(r"\s")
    assert df.filter(space != lower_space).height == 0
    assert df.filter(space & (pl.col("body") != pl.col("lower"))).height == 0


def test_normalized_body_equals_the_definition():
    for texts in (AWKWARD, random_texts(3000)):
        df = frame(texts + [None])
        assert dedup.normalized_body(df).equals(plain_normalized_body(df))


def test_minhash_equals_the_plain_formulation():
    for texts in (AWKWARD, random_texts(3000, seed=11)):
        df = frame(texts)
        assert dedup.add_minhash(df)["minhash"].equals(plain_minhash(df))
    for text in AWKWARD:  # one row alone
        assert dedup.add_minhash(frame([text]))["minhash"].equals(plain_minhash(frame([text])))


def test_a_short_doc_has_the_same_minhash_whatever_follows_it():
    alone = dedup.add_minhash(frame(["Kurz und gut"]))["minhash"][0]
    followed = dedup.add_minhash(frame(["Kurz und gut", "ganz andere Wörter in diesem Text hier"]))["minhash"][0]
    assert alone.equals(followed)


def test_word_count_by_word_starts_equals_counting_whole_words():
    df = frame(AWKWARD + random_texts(3000, seed=13) + [None])
    body = pl.col("body")
    whole_words = body.str.count_matches(r"\S*[\p{L}\p{N}]\S*")
    assert df.select(body.str.count_matches(_WORD_START)).equals(df.select(whole_words))
