"""The Prefect flow end to end on the sample landing zone: accounting, idempotence, backfill, readers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from news_pipeline import schemas
from news_pipeline.catalog import PART_FILE, partition_file

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]


def run_flow(raw: Path, data: Path, **params) -> dict:
    from flows.articles import process_articles

    return process_articles(raw_dir=str(raw), data_dir=str(data), **params)


def raw_files(raw: Path) -> set[str]:
    return {
        p.relative_to(raw).as_posix()
        for day in raw.iterdir()
        if day.is_dir()
        for p in day.rglob("*")
        if p.is_file() or p.is_symlink()
    }


def read(data: Path, dataset: str) -> pl.DataFrame:
    return pl.read_parquet(f"{data}/{dataset}/articles/**/*.parquet", hive_partitioning=True)


def assert_accounting(raw: Path, data: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    curated, quarantine = read(data, "curated"), read(data, "quarantine")
    cur, qua = set(curated["source_path"]), set(quarantine["source_path"])
    assert curated.height == len(cur) and quarantine.height == len(qua), "a file appears twice"
    assert not cur & qua, "a file is both curated and quarantined"
    assert cur | qua == raw_files(raw), "a file is missing or invented"
    assert quarantine["reasons"].list.len().min() >= 1
    return curated, quarantine


def test_sample_run_accounting_and_schema(landing_zone: Path, tmp_path: Path):
    data = tmp_path / "data"
    summary = run_flow(landing_zone, data)
    curated, quarantine = assert_accounting(landing_zone, data)
    assert summary["files"] == len(raw_files(landing_zone)) == curated.height + quarantine.height
    assert summary["curated"] == curated.height and summary["failed_partitions"] == []
    assert curated["doc_id"].is_unique().all()
    assert curated.schema["ingest_date"] == pl.Date
    assert set(schemas.CURATED.names) <= set(curated.columns)
    assert curated["title"].null_count() == 0 and curated["body"].null_count() == 0
    assert (curated["language"] == "de").all()
    # the seeds land in curated with their headlines
    seeds = curated.filter(pl.col("source_path").str.contains("000_352be7b8b257a91d|001_2fc00a534925f755"))
    assert sorted(seeds["title"]) == [
        "Fluchtplan für Elon Musk? Russland bietet ihm Asyl an!",
        "Russland lockt Elon Musk mit Asyl nach Streitigkeiten mit Trump!",
    ]
    # broken files are quarantined with a reason a person reads
    assert quarantine["reasons"].list.first().str.contains(": ").all()
    # one file per partition and dataset, nothing else visible under the dataset roots
    for root in (data / "curated" / "articles", data / "quarantine" / "articles"):
        assert sorted(p.name for p in root.rglob("*") if p.is_file()) == [PART_FILE] * len(list(root.iterdir()))


def test_readers_without_project_code(landing_zone: Path, tmp_path: Path):
    data = tmp_path / "data"
    run_flow(landing_zone, data)
    glob = f"{data}/curated/articles/**/*.parquet"
    lazy = pl.scan_parquet(glob, hive_partitioning=True).collect()
    duck = duckdb.sql(f"select * from read_parquet('{glob}', hive_partitioning=true)")
    assert dict(zip(duck.columns, duck.types, strict=False))["ingest_date"] == "DATE"
    assert duckdb.sql(f"select count(*) from read_parquet('{glob}', hive_partitioning=true)").fetchall() == [
        (lazy.height,)
    ]
    typed = ds.dataset(
        data / "curated" / "articles",
        partitioning=ds.partitioning(pa.schema([("ingest_date", pa.date32())]), flavor="hive"),
    ).to_table()
    assert typed.schema.field("ingest_date").type == pa.date32() and typed.num_rows == lazy.height
    plain = ds.dataset(data / "curated" / "articles", partitioning="hive").to_table()
    assert sorted(set(plain["ingest_date"].to_pylist())) == sorted({d.isoformat() for d in lazy["ingest_date"]})


def test_rerun_is_idempotent_and_skips_unchanged(landing_zone: Path, tmp_path: Path):
    data = tmp_path / "data"
    run_flow(landing_zone, data)
    before = read(data, "curated").sort("doc_id")
    mtimes = {p: p.stat().st_mtime_ns for p in data.rglob("part-0.parquet")}
    second = run_flow(landing_zone, data)
    n_days = len([d for d in landing_zone.iterdir() if d.is_dir()])
    assert second["partitions"] == 0 and second["skipped"] == n_days
    # touching a file without changing it is not a change; the ledger's content hash decides
    touched = next(landing_zone.glob("*/000_*.txt"))
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    assert run_flow(landing_zone, data)["partitions"] == 0
    assert {p: p.stat().st_mtime_ns for p in data.rglob("part-0.parquet")} == mtimes
    forced = run_flow(landing_zone, data, force=True)
    assert forced["partitions"] == n_days
    after = read(data, "curated").sort("doc_id")
    assert after.drop("run_id").equals(before.drop("run_id"))


def test_changed_folder_is_reprocessed_and_backfill_touches_only_its_range(landing_zone: Path, tmp_path: Path):
    import datetime as dt

    data = tmp_path / "data"
    run_flow(landing_zone, data)
    days = sorted(p.name for p in landing_zone.iterdir() if p.is_dir())
    first_file = partition_file(data / "curated" / "articles", dt.date.fromisoformat(days[0]))
    last_file = partition_file(data / "curated" / "articles", dt.date.fromisoformat(days[-1]))
    untouched = first_file.stat().st_mtime_ns
    # a new file lands in the last folder: only that folder is reprocessed
    shutil.copy(next((landing_zone / days[0]).glob("000_*.txt")), landing_zone / days[-1] / "late-arrival.txt")
    summary = run_flow(landing_zone, data)
    assert summary["partitions"] == 1 and summary["partitions_detail"][-1]["ingest_date"] == days[-1]
    curated, _ = assert_accounting(landing_zone, data)
    late = curated.filter(pl.col("source_path") == f"{days[-1]}/late-arrival.txt")
    original = curated.filter(pl.col("source_path").str.starts_with(f"{days[0]}/000_"))
    # the same text arriving later is an exact duplicate of the first-seen article
    assert late["duplicate_of"].to_list() == original["doc_id"].to_list()
    assert late["story_id"].to_list() == original["story_id"].to_list()
    assert first_file.stat().st_mtime_ns == untouched
    # backfill of the last day only rewrites that day
    backfilled = run_flow(
        landing_zone, data, start=dt.date.fromisoformat(days[-1]), end=dt.date.fromisoformat(days[-1]), force=True
    )
    assert [p["ingest_date"] for p in backfilled["partitions_detail"]] == [days[-1]]
    assert first_file.stat().st_mtime_ns == untouched and last_file.exists()
    assert_accounting(landing_zone, data)


def test_quality_gate_failure_keeps_published_data(landing_zone: Path, tmp_path: Path, monkeypatch):
    from flows.articles import DataQualityGateError

    data = tmp_path / "data"
    run_flow(landing_zone, data)
    before = {p: p.read_bytes() for p in data.rglob("part-0.parquet")}
    # every article now has too few words: the quarantine share breaks the error threshold
    monkeypatch.setenv("NEWS_PIPELINE_THRESHOLDS__MIN_WORDS", "100000")
    monkeypatch.setenv("NEWS_PIPELINE_THRESHOLDS__MAX_WORDS", "200000")
    with pytest.raises(DataQualityGateError, match="stopped 3 partition"):
        run_flow(landing_zone, data, force=True)
    assert {p: p.read_bytes() for p in data.rglob("part-0.parquet")} == before
    assert not list((data / "state" / "staging").glob("*/*/*.parquet"))


def test_cli_run_prints_summary_and_fails_cleanly(landing_zone: Path, tmp_path: Path):
    exe = Path(sys.executable).with_name("news-pipeline")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")} | {
        "NEWS_PIPELINE_RAW_DIR": str(landing_zone)
    }
    done = subprocess.run(
        [exe, "run", "--data-dir", tmp_path / "d"], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert "curated" in done.stdout and "quarantined" in done.stdout
    assert "Traceback" not in done.stderr and "Error" not in done.stderr
    curated, _ = assert_accounting(landing_zone, tmp_path / "d")
    assert curated.height > 0
    bad = subprocess.run([exe, "run", "--raw-dir", tmp_path / "missing"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "does not exist" in bad.stderr
