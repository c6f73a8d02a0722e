"""The shortcuts in normalisation give exactly what the full Unicode normalisation gives."""

from __future__ import annotations

import re
import sys
import unicodedata

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from news_pipeline.stages.clean.normalize import STABLE_CHARS, unicode_normalize


@pytest.mark.parametrize("form", sorted(STABLE_CHARS))
def test_characters_assumed_stable_are_unchanged_by_the_normalisation(form: str):
    stable = re.compile(f"[{STABLE_CHARS[form]}]")
    changed = [
        f"U+{cp:04X}"
        for cp in range(sys.maxunicode + 1)
        if stable.fullmatch(chr(cp)) and unicodedata.normalize(form, chr(cp)) != chr(cp)
    ]
    assert not changed


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=40), min_size=1, max_size=20))
def test_gated_normalisation_equals_normalising_every_row(texts: list[str]):
    df = pl.DataFrame({"t": texts})
    for form in STABLE_CHARS:
        got = df.select(unicode_normalize(pl.col("t"), form)).to_series()
        assert got.to_list() == df.select(pl.col("t").str.normalize(form)).to_series().to_list()
