"""Every path news-pipeline reads or writes, in one place.

``<data_dir>`` (a folder or ``s3://bucket/prefix``) holds what every machine must see::

    curated/articles/ingest_date=YYYY-MM-DD/part-0.parquet      accepted articles (the contract)
    quarantine/articles/ingest_date=YYYY-MM-DD/part-0.parquet   rejected files, with reasons
    state/ledger/ingest_date=.../part-0.parquet                 every raw file processed
    state/signatures/ingest_date=.../part-0.parquet             duplicate and story signatures
    state/partitions/YYYY-MM-DD.json                            the manifest: a partition's commit point
    reports/<run_id>.json, reports/latest.json                  run reports

``<work_dir>`` (the data folder itself when it is local, else a folder on this machine) holds
what stays on this machine::

    state/staging/<run_id>/...     a run's scratch files, outside every dataset root
    state/run.lock(.json)          the run lock and who holds it
    state/gx/validations/...       Great Expectations results, input of the Data Docs
    reports/data_docs/index.html   the Data Docs site

The expectation suite and the entity gazetteers ship inside the package (:data:`SUITE`,
:data:`ENTITY_RESOURCES`), found with ``importlib.resources``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from news_pipeline.locations import Location

if TYPE_CHECKING:
    from news_pipeline.config import Settings

#: The one data file of each partition.
PART_FILE = "part-0.parquet"
#: The expectation suite, as package data.
SUITE = resources.files("news_pipeline") / "expectations" / "articles.json"
#: Word lists and gazetteers of the entity rules, as package data (``resources/entities/README.md``).
ENTITY_RESOURCES = resources.files("news_pipeline") / "resources" / "entities"


def partition_dir(root: Location, ingest_date: dt.date) -> Location:
    """``root/ingest_date=YYYY-MM-DD``."""
    return root / f"ingest_date={ingest_date.isoformat()}"


def partition_file(root: Location, ingest_date: dt.date) -> Location:
    """The single data file of a partition."""
    return partition_dir(root, ingest_date) / PART_FILE


@dataclass(frozen=True)
class Catalog:
    """The locations of one data folder (and its local work folder)."""

    data_dir: Location
    work_dir: Path

    @classmethod
    def of(cls, settings: Settings) -> Catalog:
        assert settings.work_dir is not None  # set by the settings' validator
        return cls(settings.data_dir, settings.work_dir)

    # --- datasets readers see ---
    @property
    def curated(self) -> Location:
        return self.data_dir / "curated" / "articles"

    @property
    def quarantine(self) -> Location:
        return self.data_dir / "quarantine" / "articles"

    # --- bookkeeping kept with the data ---
    @property
    def state(self) -> Location:
        """Ledger, signatures and manifests (under ``data_dir``)."""
        return self.data_dir / "state"

    @property
    def ledger(self) -> Location:
        """Per-partition record of every raw file processed: path, size, mtime, SHA-256, outcome, run."""
        return self.state / "ledger"

    @property
    def signatures(self) -> Location:
        """Per-partition near-duplicate signatures and story ids, read by later partitions."""
        return self.state / "signatures"

    @property
    def line_counts(self) -> Location:
        """Per-partition counts of each site's recurring lines, read by later partitions' cleaning."""
        return self.state / "line_counts"

    def manifest(self, ingest_date: dt.date) -> Location:
        """The record of the last successful publish of a partition."""
        return self.state / "partitions" / f"{ingest_date.isoformat()}.json"

    @property
    def partition_roots(self) -> list[Location]:
        """Every root that holds one file per partition, all replaced together when a partition is published."""
        return [*self.committed_roots, self.line_counts]

    @property
    def committed_roots(self) -> list[Location]:
        """The roots whose files must name the manifest's run for a partition to count as published.

        (``line_counts`` came later: a partition published before it existed is still complete.)
        """
        return [self.quarantine, self.curated, self.signatures, self.ledger]

    @property
    def read_by_users(self) -> tuple[Location, Location]:
        """The roots that readers open while a backfill publishes (written as versioned files)."""
        return (self.curated, self.quarantine)

    # --- reports ---
    @property
    def reports(self) -> Location:
        return self.data_dir / "reports"

    def report(self, run_id: str) -> Location:
        return self.reports / f"{run_id}.json"

    def blocked_files(self, run_id: str, ingest_date: dt.date) -> Location:
        """The files of a partition the quality gate stopped, with their reasons (Parquet, one per run)."""
        return self.reports / "blocked" / f"ingest_date={ingest_date.isoformat()}" / f"{run_id}.parquet"

    @property
    def latest_report(self) -> Location:
        return self.reports / "latest.json"

    # --- on this machine only ---
    @property
    def local_state(self) -> Path:
        """Staging, the run lock, GX results (``state`` itself for a local data folder)."""
        return self.work_dir / "state"

    @property
    def staging_root(self) -> Path:
        return self.local_state / "staging"

    def staging(self, run_id: str) -> Path:
        """Scratch space of one run, outside every dataset root (always local)."""
        return self.staging_root / run_id

    def staged_batch(self, run_id: str, ingest_date: dt.date, batch_no: int) -> Path:
        """Where a batch's rows wait for their partition's publish."""
        return self.staging(run_id) / ingest_date.isoformat() / f"batch-{batch_no:05d}.parquet"

    def staged_line_counts(self, run_id: str, ingest_date: dt.date, batch_no: int) -> Path:
        """A batch's own recurring-line counts, merged into the partition's when it is published."""
        return self.staging(run_id) / ingest_date.isoformat() / f"lines-{batch_no:05d}.parquet"

    def staged_partition_file(self, run_id: str, ingest_date: dt.date, root: Location) -> Path:
        """Where a partition file of ``root`` is written before it is published (``root``: a Path or a Url)."""
        return self.staging(run_id) / ingest_date.isoformat() / f"publish-{root.parent.name}-{root.name}.parquet"

    @property
    def lock(self) -> Path:
        return self.local_state / "run.lock"

    @property
    def lock_holder(self) -> Path:
        return self.local_state / "run.lock.json"

    @property
    def gx_results(self) -> Path:
        """Stored GX results, one folder per run."""
        return self.local_state / "gx" / "validations"

    @property
    def data_docs(self) -> Path:
        """The Data Docs site."""
        return self.work_dir / "reports" / "data_docs"
