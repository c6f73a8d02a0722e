"""What the pipeline remembers between runs: doc ids, the ledger of raw files, and which partitions changed.

A partition counts as published when its manifest and every one of its files name the same run
(:func:`committed_run`). It must be processed again when it is new, when its last publish did not
finish, or when files were added, removed or edited since (:func:`change_reason`, from the ledger).
"""

from __future__ import annotations

import datetime as dt
import os

import polars as pl
import polars_hash  # noqa: F401  (registers the .chash namespace)

from news_pipeline import schemas
from news_pipeline.catalog import Catalog, partition_file
from news_pipeline.io import fs
from news_pipeline.io.landing import file_sha256
from news_pipeline.io.parquet import file_run_id
from news_pipeline.io.publish import read_manifest
from news_pipeline.locations import Location, Url


def doc_ids(source_path: pl.Expr) -> pl.Expr:
    """Stable id of a raw file: the first 20 hex digits of SHA-256 of its source path (String or Binary)."""
    return source_path.chash.sha2_256().str.slice(0, 20)


def path_doc_ids(raw_dir: Location, abs_paths: list[bytes]) -> pl.Expr:
    """``doc_ids`` of the files' paths relative to the landing zone, hashed as the bytes the OS names them.

    For a UTF-8 name that is exactly the hash of its ``source_path``. A name with undecodable bytes
    (shown as ``\\xNN`` in ``source_path``) hashes differently from a file literally named like that
    rendering, so two such files can never share a ``doc_id`` (which would merge their rows).
    Object keys are UTF-8: an object's ``doc_id`` is that of the same file in a local copy of the landing zone.
    """
    if isinstance(raw_dir, Url):
        root = str(raw_dir).encode() + b"/"
        rel = [p.removeprefix(root) for p in abs_paths]
        return doc_ids(pl.lit(pl.Series(rel, dtype=pl.Binary)))
    root, sep = os.fsencode(raw_dir), os.sep.encode()
    rel = [os.path.relpath(p, root).replace(sep, b"/") for p in abs_paths]
    return doc_ids(pl.lit(pl.Series(rel, dtype=pl.Binary)))


def committed_run(catalog: Catalog, day: dt.date) -> str | None:
    """The run whose publish of ``day`` completed: the manifest and every partition file agree on it."""
    manifest = read_manifest(catalog, day)
    run_id = manifest.get("run_id") if manifest else None
    if not run_id:
        return None
    files = [partition_file(root, day) for root in catalog.committed_roots]
    return run_id if all(file_run_id(f) == run_id for f in files) else None


def change_reason(catalog: Catalog, raw_dir: Location, day: dt.date, files: pl.DataFrame, max_bytes: int) -> str | None:
    """Why a partition must be processed (``new``, ``changed: ...``, ``incomplete``), or None if unchanged.

    Paths, sizes and mtimes are compared with the ledger; files whose size or mtime moved are
    hashed, so a touched but identical file does not trigger reprocessing.
    """
    ledger_file = partition_file(catalog.ledger, day)
    if not fs.exists(ledger_file) and read_manifest(catalog, day) is None:
        return "new"
    if committed_run(catalog, day) is None:
        return "incomplete: the last publish did not finish"
    ledger = fs.read_parquet(ledger_file, columns=["doc_id", "size", "mtime_ns", "raw_sha256"])
    # keyed by doc_id, not source_path: two names may render to the same source_path (see path_doc_ids)
    now = files.select("size", "mtime_ns", "abs_path").with_columns(
        path_doc_ids(raw_dir, files["abs_path"].to_list()).alias("doc_id")
    )
    added = now.join(ledger, on="doc_id", how="anti").height
    removed = ledger.join(now, on="doc_id", how="anti").height
    if added or removed:
        return f"changed: {added} new, {removed} removed files"
    moved = now.join(ledger, on="doc_id", suffix="_ledger").filter(
        (pl.col("size") != pl.col("size_ledger")).fill_null(True)
        | (pl.col("mtime_ns") != pl.col("mtime_ns_ledger")).fill_null(True)
    )
    # only files whose size or mtime moved are read again, to compare their bytes
    edited = sum(
        file_sha256(abs_path, max_bytes) != sha for abs_path, sha in moved.select("abs_path", "raw_sha256").iter_rows()
    )
    return f"changed: {edited} edited files" if edited else None


def ledger_table(meta: pl.DataFrame, quarantined: pl.DataFrame, run_id: str) -> pl.DataFrame:
    """The ledger rows of a partition: every raw file with its size, mtime, SHA-256 and where it went."""
    return (
        meta.select("source_path", "doc_id", "size", "mtime_ns", "raw_sha256")
        .join(quarantined.select("doc_id", pl.lit("quarantine").alias("outcome")), on="doc_id", how="left")
        .with_columns(
            pl.col("outcome").fill_null("curated"),
            pl.lit(run_id).alias("run_id"),
            pl.lit(dt.datetime.now(dt.UTC)).alias("processed_at"),
        )
        .select(schemas.LEDGER.names)
    )
