"""One typed settings object: defaults, ``NEWS_PIPELINE_*`` environment variables and CLI options meet here."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Thresholds(BaseSettings):
    """Data-quality limits used by the expectations; ``NEWS_PIPELINE_THRESHOLDS__*`` overrides them."""

    min_words: int = Field(30, description="fewer body words than this quarantines an article")
    max_words: int = Field(20_000, description="more body words than this quarantines an article")
    min_chars: int = Field(200, description="raw files shorter than this (decoded) are quarantined as too short")
    max_quarantine_share: float = Field(
        0.5, description="error: a partition where more files than this share fail is not published"
    )
    max_duplicate_share: float = Field(0.5, description="warn: share of exact duplicates in a partition")
    max_non_german_share: float = Field(0.2, description="warn: share of articles not detected as German")


class Settings(BaseSettings):
    """Where news-pipeline reads and writes, and how it batches its work."""

    model_config = SettingsConfigDict(env_prefix="NEWS_PIPELINE_", env_nested_delimiter="__", extra="ignore")

    raw_dir: Path = Field(Path("data/raw"), description="landing zone: one ISO-date folder per arrival day")
    data_dir: Path = Field(Path("data"), description="root of curated/, quarantine/ and state/")
    batch_size: int = Field(5_000, ge=1, description="raw files per batch task; bounds memory")
    max_file_bytes: int = Field(
        20_000_000, ge=1, description="raw files larger than this are quarantined unread (a news article is far smaller)"
    )
    workers: int = Field(2, ge=1, description="batch tasks that run at the same time (threads or Dask workers)")
    task_runner: Literal["threads", "dask"] = Field("threads", description="where batch tasks run")
    dask_address: str | None = Field(None, description="scheduler of an existing Dask cluster; none starts a local one")
    timezone: str = Field("Europe/Vienna", description="time zone of the daily schedule and its logical date")
    story_similarity: float = Field(
        0.5, gt=0, le=1, description="estimated Jaccard similarity of word 5-grams above which two articles are one story"
    )
    story_window_days: int = Field(30, ge=0, description="how many earlier days a story can reach back")
    lock_timeout: float = Field(0, ge=0, description="seconds to wait for another run on the same data folder")
    languages: tuple[str, ...] = Field(("de",), description="languages the product is for; others are flagged")
    thresholds: Thresholds = Field(default_factory=Thresholds)

    @property
    def curated_dir(self) -> Path:
        return self.data_dir / "curated" / "articles"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine" / "articles"

    @property
    def state_dir(self) -> Path:
        """Bookkeeping that is not a published dataset: staging, locks, fingerprints, reports."""
        return self.data_dir / "state"
