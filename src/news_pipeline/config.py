"""One typed settings object: defaults, ``NEWS_PIPELINE_*`` environment variables and CLI options meet here."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from news_pipeline.locations import Location, Url, parse_location

#: A local folder (``Path``) or an object-storage prefix (``Url``, ``s3://bucket/prefix``).
LocationField = Annotated[Location, BeforeValidator(parse_location)]


class Thresholds(BaseModel):
    """Data-quality limits: ``min_chars`` before validation, the rest as the expectation suite's parameters.

    ``NEWS_PIPELINE_THRESHOLDS__*`` environment variables override them (e.g. ``..._MIN_WORDS``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    # (a news agency's flash, an "Eilmeldung", is one or two sentences: 15 to 30 words; a short blog post is
    # no longer. Fewer than 15 words is a headline and a line, no article.)
    min_words: int = Field(15, description="fewer body words than this quarantines an article")
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

    raw_dir: LocationField = Field(
        Path("data/raw"),
        description="landing zone: one ISO-date folder per arrival day (a folder or s3://bucket/prefix)",
    )
    data_dir: LocationField = Field(
        Path("data"), description="root of curated/, quarantine/, reports/ and state/ (a folder or s3://bucket/prefix)"
    )
    work_dir: Path | None = Field(
        None,
        description="for a data_dir on object storage: the local folder for staging, the run lock and Data Docs "
        "(default <user cache>/news-pipeline/s3/<bucket>/<prefix>); a local data_dir is its own work folder "
        "(staged files are renamed into it, so they must be on its file system) and ignores this",
    )
    batch_size: int = Field(
        5_000, ge=1, description="raw files per batch task; bounds a worker's memory (about 0.6 GB at 5,000)"
    )
    max_file_bytes: int = Field(
        20_000_000,
        ge=1,
        description="raw files larger than this are quarantined unread (a news article is far smaller)",
    )
    workers: int = Field(2, ge=1, description="batch tasks that run at the same time (threads or Dask workers)")
    task_runner: Literal["auto", "processes", "threads", "dask"] = Field(
        "auto", description="where batch tasks run: worker processes, threads, Dask; auto = processes for large runs"
    )
    dask_address: str | None = Field(None, description="scheduler of an existing Dask cluster; none starts a local one")
    timezone: str = Field("Europe/Vienna", description="time zone of the daily schedule and its logical date")
    story_similarity: float = Field(
        0.5,
        gt=0,
        le=1,
        description="estimated Jaccard similarity of word 5-grams above which two articles are one story",
    )
    story_window_days: int = Field(30, ge=0, description="how many earlier days a story can reach back")
    boilerplate_window_days: int = Field(
        7, ge=0, description="how many earlier days' line counts tell which lines are a site's recurring furniture"
    )
    lock_timeout: float = Field(0, ge=0, description="seconds to wait for another run on the same data folder")
    global_lock: Literal["auto", "on", "off"] = Field(
        "auto",
        description="also hold a Prefect global concurrency limit per data folder, for writers on several machines: "
        "auto = for a data folder on object storage (a local folder's file lock is enough)",
    )
    languages: tuple[str, ...] = Field(("de",), description="languages the product is for; others are flagged")
    thresholds: Thresholds = Field(default_factory=Thresholds)

    @model_validator(mode="after")
    def _default_work_dir(self) -> Settings:
        if isinstance(self.data_dir, Path):
            self.work_dir = self.data_dir
        elif self.work_dir is None:
            self.work_dir = _cache_dir(self.data_dir)
        return self


class ObjectStorage(BaseSettings):
    """How to reach object storage for ``s3://`` locations; credentials come from the AWS SDK's usual sources."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    endpoint_url: str | None = Field(
        None,
        validation_alias=AliasChoices("NEWS_PIPELINE_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
        description="S3-compatible endpoint, e.g. http://127.0.0.1:9000 (MinIO); none means AWS S3 of the region",
    )
    region: str = Field(
        "us-east-1",
        validation_alias=AliasChoices("NEWS_PIPELINE_S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
        description="bucket region; always set, so the SDK never looks it up",
    )


def _cache_dir(url: Url) -> Path:
    """The default local work folder of a data_dir on object storage: one per bucket and prefix."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "news-pipeline" / url.scheme / url.path
