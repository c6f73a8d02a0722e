"""Object storage: the same flow reads and writes ``s3://`` locations, against an S3-compatible server on loopback.

The server is moto's, started in this process on 127.0.0.1 (no network). A local run of the sample
landing zone is the reference: the runs on object storage must write the same rows.
"""

from __future__ import annotations

import datetime as dt
import gzip
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pytest

from news_pipeline.catalog import PART_FILE, Catalog
from news_pipeline.config import Settings
from news_pipeline.io.landing import LandingZoneError, list_files, read_batch, select_partitions
from news_pipeline.locations import Url, parse_location
from news_pipeline.stages.ingest import decode_batch
from news_pipeline.state import committed_run, path_doc_ids
from tests.conftest import SAMPLE_RAW
from tests.system.reliability_support import CLI, canonical, harness_api_url, subprocess_env

BUCKET = "news"
HIVE = ds.partitioning(pa.schema([("ingest_date", pa.date32())]), flavor="hive")


class S3:
    """The loopback server: its endpoint, the client environment, and a plain pyarrow client for the test's own I/O."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.env = {
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_EC2_METADATA_DISABLED": "true",
            "NEWS_PIPELINE_S3_ENDPOINT_URL": endpoint,
        }
        host = endpoint.removeprefix("http://")
        self.fs = pafs.S3FileSystem(
            access_key="test",
            secret_key="test",
            region="us-east-1",
            endpoint_override=host,
            scheme="http",
            allow_bucket_creation=True,
        )

    def upload_tree(self, local: Path, prefix: str) -> None:
        """A local landing zone as objects under ``bucket/prefix`` (keys = paths relative to ``local``)."""
        for path in sorted(local.rglob("*")):
            if path.is_file():
                self.put(f"{prefix}/{path.relative_to(local).as_posix()}", path.read_bytes())

    def put(self, key: str, data: bytes) -> None:
        with self.fs.open_output_stream(f"{BUCKET}/{key}", compression=None) as fh:
            fh.write(data)

    def get(self, key: str) -> bytes:
        with self.fs.open_input_stream(f"{BUCKET}/{key}", compression=None) as fh:
            return fh.read()

    def keys(self, prefix: str) -> list[str]:
        infos = self.fs.get_file_info(pafs.FileSelector(f"{BUCKET}/{prefix}", recursive=True, allow_not_found=True))
        return sorted(i.path.removeprefix(f"{BUCKET}/{prefix}/") for i in infos if i.type == pafs.FileType.File)

    def read_dataset(self, prefix: str, name: str) -> pl.DataFrame:
        """A dataset the way a notebook reads it from object storage: pyarrow, no project code."""
        table = ds.dataset(f"{BUCKET}/{prefix}/{name}/articles", filesystem=self.fs, partitioning=HIVE).to_table()
        return pl.from_arrow(table)

    def snapshot(self, prefix: str) -> dict[str, bytes]:
        """Every object under ``prefix`` except the run reports: published files, ledger, signatures, manifests."""
        return {k: self.get(f"{prefix}/{k}") for k in self.keys(prefix) if not k.startswith("reports/")}


@pytest.fixture(scope="module")
def s3():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        client = S3(f"http://{host}:{port}")
        client.fs.create_dir(BUCKET)
        with pytest.MonkeyPatch.context() as env:
            for key, value in client.env.items():
                env.setenv(key, value)
            env.delenv("AWS_ENDPOINT_URL", raising=False)
            env.delenv("AWS_ENDPOINT_URL_S3", raising=False)
            yield client
    finally:
        server.stop()


def run_flow(raw, data, **params) -> dict:
    from flows.articles import process_articles

    return process_articles(raw_dir=str(raw), data_dir=str(data), **params)


def read_local(data: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(f"{data}/{name}/articles/**/*.parquet", hive_partitioning=True)


def same_rows(a: pl.DataFrame, b: pl.DataFrame) -> bool:
    """Equal row for row, ignoring run_id and the order of rows and columns."""
    assert sorted(a.columns) == sorted(b.columns)
    return a.drop("run_id").sort("doc_id").equals(b.select(a.columns).drop("run_id").sort("doc_id"))


@pytest.fixture(scope="module")
def reference(prefect_harness, tmp_path_factory) -> Path:
    """The data dir of a local run of the sample landing zone."""
    data = tmp_path_factory.mktemp("reference") / "data"
    run_flow(SAMPLE_RAW, data)
    return data


# ---------------------------------------------------------------------------------------
# locations and raw objects
# ---------------------------------------------------------------------------------------


def test_locations_parse_join_and_reject():
    url = parse_location("s3://bucket/some/prefix/")
    assert url == Url("s3", "bucket/some/prefix") and str(url) == "s3://bucket/some/prefix"
    assert str(url / "curated" / "articles") == "s3://bucket/some/prefix/curated/articles"
    assert url.name == "prefix" and str(url.parent) == "s3://bucket/some" and url.bucket == "bucket"
    assert (url / "2025-06-01" / "a.txt").relative_to(url) == "2025-06-01/a.txt"
    assert parse_location("data/raw") == Path("data/raw")
    for bad in ("gs://bucket/x", "s3://", "s3://bucket//x", "s3://bucket/../x"):
        with pytest.raises(ValueError):
            Url.parse(bad)
    settings = Settings(raw_dir="s3://b/raw", data_dir="s3://b/data", work_dir="/tmp/w")
    remote = Catalog.of(settings)
    assert remote.state == Url("s3", "b/data/state") and remote.local_state == Path("/tmp/w/state")
    local = Settings(raw_dir="raw", data_dir="out", work_dir="/tmp/w")  # a local data_dir is its own work folder
    assert local.work_dir == Path("out") and Catalog.of(local).local_state == Catalog.of(local).state == Path(
        "out/state"
    )


def test_raw_objects_follow_the_local_rules(s3: S3, tmp_path: Path):
    """Same source_path, doc_id, text, encoding and quarantine reason for an object as for the same local file."""
    day = "2025-07-01"
    article = next((SAMPLE_RAW / "2025-06-01").glob("000_*.txt")).read_bytes()
    files = {
        "plain.txt": article,
        "feed/nested/zipped.txt.gz": gzip.compress(article),
        "truncated.txt.gz": gzip.compress(article)[:40],
        "empty.txt": b"",
        "blank.txt": b" \n\t\n",
        "cp1252.txt": "Grüße aus Köln – heute".encode("cp1252") * 20,
        "binary.bin": bytes(range(256)) * 4,
        "big.txt": b"x" * 70_000,
        "Umlaut-\u00e4.txt": article,
    }
    raw = tmp_path / "raw"
    for name, data in files.items():
        (raw / day / name).parent.mkdir(parents=True, exist_ok=True)
        (raw / day / name).write_bytes(data)
    s3.upload_tree(raw, "unit/raw")
    results = {}
    for where in (raw, f"s3://{BUCKET}/unit/raw"):
        settings = Settings(raw_dir=where, data_dir=tmp_path / "data", max_file_bytes=60_000)
        [part] = select_partitions(settings.raw_dir)
        listed = list_files(settings.raw_dir, part)
        paths = listed["abs_path"].to_list()
        frame = read_batch(paths, listed["source_path"].to_list(), settings.max_file_bytes)
        frame = decode_batch(frame, settings.max_file_bytes)
        results[where] = frame.with_columns(path_doc_ids(settings.raw_dir, paths).alias("doc_id"), listed["size"])
    local, remote = results.values()
    assert local.equals(remote), f"local:\n{local}\nobject storage:\n{remote}"
    errors = dict(zip(remote["source_path"], remote["read_error"], strict=False))
    assert errors[f"{day}/big.txt"] == "is 70,000 bytes, larger than the 60,000-byte limit for one article"
    assert errors[f"{day}/empty.txt"] == "is empty" and "truncated" in errors[f"{day}/truncated.txt.gz"]
    assert remote.filter(pl.col("source_path").str.ends_with("zipped.txt.gz"))["encoding"].to_list() == ["gzip+utf-8"]


def test_missing_prefix_is_a_landing_zone_error(s3: S3):
    with pytest.raises(LandingZoneError, match="does not exist"):
        select_partitions(Url.parse(f"s3://{BUCKET}/no/such/prefix"))
    with pytest.raises(LandingZoneError, match="does not exist"):
        select_partitions(Url.parse("s3://no-such-bucket-here/raw"))


# ---------------------------------------------------------------------------------------
# the CLI end to end
# ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_on_object_storage_equals_local_run_is_incremental_and_backfills_only_its_range(
    s3: S3, reference: Path, tmp_path: Path, monkeypatch
):
    s3.upload_tree(SAMPLE_RAW, "e2e/raw")
    raw, data = f"s3://{BUCKET}/e2e/raw", f"s3://{BUCKET}/e2e/data"
    env = subprocess_env(tmp_path, harness_api_url(), **s3.env, NEWS_PIPELINE_WORK_DIR=str(tmp_path / "work"))
    done = subprocess.run(
        [CLI, "run", "--raw-dir", raw, "--data-dir", data], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and f"Report: {data}/reports/" in " ".join(done.stdout.split())
    for name in ("curated", "quarantine"):
        assert same_rows(s3.read_dataset("e2e/data", name), read_local(reference, name)), (
            f"{name} differs from the local run"
        )
    # one object per partition and dataset under the dataset roots; staging and the lock stayed local
    days = sorted(p.name for p in SAMPLE_RAW.iterdir() if p.is_dir())
    for name in ("curated", "quarantine"):
        assert s3.keys(f"e2e/data/{name}/articles") == [f"ingest_date={d}/{PART_FILE}" for d in days]
    assert {k.split("/")[0] for k in s3.keys("e2e/data")} == {"curated", "quarantine", "state", "reports"}
    assert (tmp_path / "work" / "state" / "run.lock").exists()
    assert not list((tmp_path / "work" / "state" / "staging").rglob("*.parquet"))

    # the CLI's start-up (imports) costs seconds: the next runs call the flow in this process.
    # A second run finds nothing changed; re-uploading a file with the same bytes (a new
    # last-modified time) is no change either.
    monkeypatch.setenv("NEWS_PIPELINE_WORK_DIR", str(tmp_path / "work"))
    before = s3.snapshot("e2e/data")
    settings = Settings(raw_dir=raw, data_dir=data)
    assert all(committed_run(Catalog.of(settings), dt.date.fromisoformat(d)) for d in days)
    article = next(k for k in s3.keys("e2e/raw") if k.startswith(f"{days[0]}/000_"))
    s3.put(f"e2e/raw/{article}", s3.get(f"e2e/raw/{article}"))
    again = run_flow(raw, data)
    assert again["partitions"] == 0 and again["skipped"] == len(days)
    assert s3.snapshot("e2e/data") == before

    # a backfill of the middle day rewrites exactly that day (what `news-pipeline backfill` runs)
    middle = days[1]
    run_flow(raw, data, start=dt.date.fromisoformat(middle), end=dt.date.fromisoformat(middle), force=True)
    after = s3.snapshot("e2e/data")
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert changed and all(middle in k for k in changed), (
        f"outside {middle}: {sorted(k for k in changed if middle not in k)}"
    )
    assert {f"curated/articles/ingest_date={middle}/{PART_FILE}", f"state/partitions/{middle}.json"} <= changed
    for name in ("curated", "quarantine"):
        assert same_rows(s3.read_dataset("e2e/data", name), read_local(reference, name))


@pytest.mark.slow
def test_mixed_local_and_object_storage_runs_write_the_same_rows(s3: S3, reference: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("NEWS_PIPELINE_WORK_DIR", str(tmp_path / "work"))
    s3.upload_tree(SAMPLE_RAW, "mixed/raw")
    # local landing zone, data on object storage
    summary = run_flow(SAMPLE_RAW, f"s3://{BUCKET}/mixed/data")
    assert not summary["failed_partitions"]
    for name in ("curated", "quarantine"):
        assert same_rows(s3.read_dataset("mixed/data", name), read_local(reference, name))
    # landing zone on object storage, local data: doc_ids and every other column as from the local copy
    data = tmp_path / "data"
    run_flow(f"s3://{BUCKET}/mixed/raw", data)
    for name in ("curated", "quarantine"):
        assert canonical(read_local(data, name)).equals(canonical(read_local(reference, name)))
    # a new object in the last folder: only that partition is processed again
    last = max(p.name for p in SAMPLE_RAW.iterdir() if p.is_dir())
    original = read_local(reference, "curated").filter(pl.col("source_path").str.starts_with(last))["source_path"][0]
    s3.put(f"mixed/raw/{last}/late-arrival.txt", (SAMPLE_RAW / original).read_bytes())
    late = run_flow(f"s3://{BUCKET}/mixed/raw", data)
    assert [p["ingest_date"] for p in late["partitions_detail"] if not p["skipped"]] == [last]
    curated = read_local(data, "curated").filter(pl.col("source_path") == f"{last}/late-arrival.txt")
    assert curated.height == 1 and curated["duplicate_of"].is_not_null().all()
    shutil.rmtree(data)
