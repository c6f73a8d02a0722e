"""Regression tests: entity extraction gives the same lists for the same article, whatever else is in the batch."""

from __future__ import annotations

import polars as pl

from news_pipeline.stages.entities import extract_entities

# A bare surname after a title ("Trainer Müller") shared by two full names of the article maps to the one mentioned
# first.
HANS_FIRST = (
    "Trainer Müller sagte am Montag, er komme. Später traf Hans Müller die Ministerin. Auch Eva Müller war dabei."
)
EVA_FIRST = (
    "Trainer Müller sagte am Montag, er komme. Später traf Eva Müller die Ministerin. Auch Hans Müller war dabei."
)


def batch(bodies: list[str]) -> pl.DataFrame:
    """Articles with only a body."""
    n = len(bodies)
    return pl.DataFrame(
        {"title": [""] * n, "teaser": [None] * n, "body": bodies},
        schema={"title": pl.String, "teaser": pl.String, "body": pl.String},
    )


def test_shared_surname_maps_to_the_first_full_name() -> None:
    out = extract_entities(batch([HANS_FIRST, EVA_FIRST]))["persons"].to_list()
    assert out == [["Hans Müller", "Eva Müller"], ["Eva Müller", "Hans Müller"]]


def test_same_article_same_entities_in_a_large_batch() -> None:
    # The choice used to follow the arbitrary order of a hash-based unique(), so copies in one batch could differ.
    out = extract_entities(batch([HANS_FIRST, EVA_FIRST] * 1000))["persons"].to_list()
    assert {tuple(p) for p in out[0::2]} == {("Hans Müller", "Eva Müller")}
    assert {tuple(p) for p in out[1::2]} == {("Eva Müller", "Hans Müller")}
