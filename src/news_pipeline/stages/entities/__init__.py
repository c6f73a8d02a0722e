"""Named entities (persons, organisations, locations) in German news text, by rules and gazetteers.

``lexicon`` loads the word lists and gazetteers (package data under ``resources/entities``),
``features`` tokenises the text and computes per-token features, ``spans`` finds and resolves the
entity spans: :func:`extract_entities` is the stage.
"""

from news_pipeline.stages.entities.lexicon import (
    ENTITY_COLUMNS,
    RESOURCES,
    gazetteer,
    warm,
)
from news_pipeline.stages.entities.spans import extract_entities

__all__ = ["ENTITY_COLUMNS", "RESOURCES", "extract_entities", "gazetteer", "warm"]
