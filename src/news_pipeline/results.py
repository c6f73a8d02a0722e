"""The records the run loop passes around: a partition's plan, a batch's result, a partition's result.

Plain data, small enough to travel between processes and through Prefect task results.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

import polars as pl

from news_pipeline.timing import Totals


@dataclass
class BatchResult:
    """A processed batch: where its rows are staged, how many there were, and what each stage took."""

    ingest_date: dt.date
    batch_no: int
    staged: str
    n_files: int
    seconds: float
    timings: Totals = field(default_factory=dict)


@dataclass
class PartitionPlan:
    """One date folder to process, its files split into batches (frames of ``schemas.FILE_LISTING`` rows).

    A batch travels to its task as one frame, not as a list of tuples: Prefect walks a task's
    parameters element by element (several times per task run), about 0.1 s per walk of 5,000 tuples.
    """

    ingest_date: dt.date
    n_files: int
    batches: list[pl.DataFrame]
    reason: str = ""  # why it is processed: new, changed, forced, ...
    # earlier days whose recurring-line counts the cleaning reads: the window's days this run leaves as they are
    history_days: list[dt.date] = field(default_factory=list)


@dataclass
class PartitionResult:
    """What happened to one partition; the run's summary is a list of these, the manifest holds one."""

    ingest_date: dt.date
    n_files: int = 0
    curated: int = 0
    quarantined: int = 0
    duplicates: int = 0
    near_duplicates: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # boilerplate removed, per rule: {"blocks": ..., "chars": ...} summed over the partition's files
    removed: dict[str, dict[str, int]] = field(default_factory=dict)
    # for a partition the gate stopped: where its failed files and their reasons are listed
    blocked_files: str | None = None
    published: bool = False
    skipped: bool = False
    seconds: float = 0.0
    timings: Totals = field(default_factory=dict, repr=False)  # not in to_dict: the manifest stays as it was

    def to_dict(self) -> dict:
        record = {k: v for k, v in asdict(self).items() if k != "timings"}
        return record | {"ingest_date": self.ingest_date.isoformat()}
