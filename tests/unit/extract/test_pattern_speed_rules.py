"""The cleaning's regular expressions keep to the form Polars' regex engine runs fast.

A ``\\b`` makes the engine leave its DFA on non-ASCII text; in a pattern that runs on every line
it cost two thirds of all the cleaning (measured with ``make bench``, issue 11's speed target).
Word ends are written out instead, as ``(?:[^\\p{L}\\p{N}]|$)``.
"""

from __future__ import annotations

import pytest

from news_pipeline.stages.clean import markdown, normalize
from news_pipeline.stages.extract import boilerplate, parse, patterns, recurring, units

MODULES = [markdown, normalize, boilerplate, parse, patterns, recurring, units]


def _patterns(module) -> dict[str, str]:
    return {
        f"{module.__name__}.{name}": value
        for name, value in vars(module).items()
        if name.isupper() or name.startswith("_") and name[1:].isupper()
        if isinstance(value, str)
    }


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_no_word_boundary_assertions(module):
    found = {name for name, pattern in _patterns(module).items() if r"\b" in pattern or r"\B" in pattern}
    assert found == set()


def test_the_scan_sees_the_patterns():
    assert "news_pipeline.stages.extract.patterns.WEB_BOILERPLATE_ANYWHERE" in _patterns(patterns)
    assert "news_pipeline.stages.extract.units._STOP" in _patterns(units)
