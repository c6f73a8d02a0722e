"""The densest run of article text in a page: the maximum subarray of its units' scores, per document.

``boilerplate`` scores each unit of a page (its text for the article, its links, web text and
section headings against it); the article is the stretch of units with the highest sum. Sums run
over the whole unit frame at once: running totals restart with each document, and a running
minimum is moved below each earlier document's values instead of a window per document.
"""

from __future__ import annotations

import polars as pl

from news_pipeline.stages.extract.units import cum_sum_in_doc, same_doc

MIN_CORE_SCORE = 60  # a unit of article text: the run begins and ends with one
COMMENTS_COST = 100_000  # a comment-section heading: the article's run never spans it
_DOC_SHIFT = 1 << 40  # larger than any running sum of one document's scores
MIN_LEAD_GAIN = 150  # article text before the run's start that the run reaches back to (a paragraph of prose)
LEAD_NEAR_TITLE = 3  # ... when it starts this close under the title (units after it): the article's standfirst


def cum_min_in_doc(value: pl.Expr) -> pl.Expr:
    """Running minimum of an integer ``value`` that restarts with each document: each document's values
    are moved below all earlier ones for one running minimum over the whole column (no window)."""
    shift = (~same_doc(1)).cast(pl.Int64).cum_sum() * _DOC_SHIFT
    return (value - shift).cum_min() + shift


def best_run(u: pl.DataFrame) -> pl.DataFrame:
    """``u`` with ``_start``, ``_end`` and ``_best``: per document, the run of units with the highest ``score`` sum."""
    score = pl.col("score")
    # the maximum subarray: the best run ending at each unit starts after the lowest running sum before it
    u = u.with_columns(cum_sum_in_doc(score).alias("_p")).with_columns((pl.col("_p") - score).alias("_q"))
    u = u.with_columns(cum_min_in_doc(pl.col("_q")).alias("_min"))
    u = u.with_columns(
        pl.when(pl.col("_q") == pl.col("_min")).then(pl.col("_i")).forward_fill().alias("_from"),
        (pl.col("_p") - pl.col("_min")).alias("_gain"),
    )
    best = pl.col("_gain").arg_max()
    runs = u.group_by("doc_id").agg(
        pl.col("_from").get(best).alias("_start"),
        pl.col("_i").get(best).alias("_end"),
        pl.col("_gain").max().alias("_best"),
    )
    u = u.join(runs, on="doc_id", how="left", maintain_order="left")
    return u


def reach_back(u: pl.DataFrame) -> pl.DataFrame:
    """``u`` with ``_start`` moved back to a run of article text before the best run, if there is one.

    An article's first paragraphs can stand before a stretch that weighs against it: a table of
    products with links, a list of linked sources, a box of links between intro and text. The run
    with the highest sum before the best one joins it when it is at least a paragraph of prose
    (``MIN_LEAD_GAIN``) and starts right under the title (``LEAD_NEAR_TITLE``), where an article's
    standfirst stands; text further down before the run is a page's other furniture (an archive's
    banner, a site's blurb above its menu). What lies between keeps only what is no clear
    boilerplate, as inside the run. After the run no such reach: comments are prose too.
    """
    before = pl.when(pl.col("_i") < pl.col("_start")).then(pl.col("score")).otherwise(-COMMENTS_COST)
    lead = best_run(u.select("doc_id", "_i", "title", before.alias("score")))
    i = pl.col("_i")
    # where the lead's text begins: its first unit of article text (short lines before it join any run)
    text_at = i.filter((i >= pl.col("_start")) & (pl.col("score") >= MIN_CORE_SCORE)).first()
    lead_start = (
        lead.group_by("doc_id")
        .agg(
            pl.col("_start").first().alias("_lead"),
            pl.col("_best").first(),
            i.filter(pl.col("title")).first().alias("_title_at"),
            text_at.alias("_text_at"),
        )
        .filter((pl.col("_best") >= MIN_LEAD_GAIN) & (pl.col("_text_at") <= pl.col("_title_at") + LEAD_NEAR_TITLE))
        .select("doc_id", "_lead")
    )
    return (
        u.join(lead_start, on="doc_id", how="left", maintain_order="left")
        .with_columns(pl.min_horizontal("_start", "_lead").alias("_start"))
        .drop("_lead")
    )
