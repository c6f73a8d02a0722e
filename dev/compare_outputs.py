"""Compare the curated and quarantine datasets of two data folders row for row.

    python -m dev.compare_outputs BEFORE_DATA_DIR AFTER_DATA_DIR [--ignore run_id]

Rows are matched by ``doc_id`` within each ``ingest_date`` partition; every column but the
ignored ones (by default ``run_id``, which differs between any two runs) must be equal.
Prints one line per dataset and exits 1 on the first difference, with a sample of it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

DATASETS = ("curated/articles", "quarantine/articles")


def read_dataset(data_dir: Path, dataset: str) -> pl.DataFrame:
    """Every row of a dataset (with ``ingest_date`` from the Hive path), sorted by date and doc_id."""
    files = sorted((data_dir / dataset).glob("ingest_date=*/*.parquet"))
    if not files:
        return pl.DataFrame()
    frame = pl.scan_parquet(data_dir / dataset / "**" / "*.parquet", hive_partitioning=True).collect()
    return frame.sort("ingest_date", "doc_id")


def differences(before: pl.DataFrame, after: pl.DataFrame, ignore: set[str]) -> list[str]:
    """Readable differences between two frames of one dataset; empty when they are equal."""
    if before.columns != after.columns:
        return [f"columns differ: {before.columns} vs {after.columns}"]
    if before.height != after.height:
        return [f"row counts differ: {before.height} vs {after.height}"]
    cols = [c for c in before.columns if c not in ignore]
    out = []
    for col in cols:
        unequal = (
            before.select(col)
            .with_row_index()
            .join(after.select(col).with_row_index(), on="index", suffix="_after")
            .filter(pl.col(col).ne_missing(pl.col(f"{col}_after")))
        )
        if unequal.height:
            ids = before["doc_id"].gather(unequal["index"]).head(3).to_list()
            out.append(f"{col}: {unequal.height} rows differ, e.g. doc_id {ids}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--ignore", action="append", default=None, help="a column not compared (default: run_id)")
    args = ap.parse_args(argv)
    ignore = set(args.ignore or ["run_id"])
    failed = False
    for dataset in DATASETS:
        before, after = read_dataset(args.before, dataset), read_dataset(args.after, dataset)
        found = differences(before, after, ignore)
        status = "identical" if not found else "DIFFERENT"
        print(f"{dataset}: {before.height} vs {after.height} rows, {status}")
        for line in found:
            print(f"  {line}")
        failed |= bool(found)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
