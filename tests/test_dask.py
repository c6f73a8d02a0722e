"""The flow on a temporary local Dask cluster writes exactly what it writes with threads."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]

BIN = Path(sys.executable).parent
SAMPLE_RAW = Path(__file__).resolve().parents[1] / "data" / "raw"
LINUX = Path("/proc/self/maps").exists()
BATCH_SIZE = "8"  # the sample in ~7 batches: both Dask workers get some, and partitions span batches


def _env(prefect_home: Path) -> dict[str, str]:
    """No Prefect API configured (the CLI starts its own loopback server), loopback only, no analytics."""
    own = ("PREFECT_API", "PREFECT_PROFILE", "NEWS_PIPELINE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(own)}
    return env | {
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "NEWS_PIPELINE_BATCH_SIZE": BATCH_SIZE,
    }


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid``, from /proc (Linux)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _loaded_polars(pid: int) -> bool:
    try:
        return "polars" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def _run_cli(args: list, env: dict, logs: Path, watch_workers: bool = False) -> tuple[subprocess.CompletedProcess, set]:
    """Run ``news-pipeline ARGS``; with ``watch_workers``, also the child processes that did pipeline work.

    A Dask worker process imports the project (and with it Polars) only when it deserialises a task,
    so a child process with Polars mapped is a worker that ran at least one batch.
    """
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / "stdout").open("w") as out, (logs / "stderr").open("w") as err:  # files: a full pipe would block it
        proc = subprocess.Popen([str(BIN / "news-pipeline"), *map(str, args)], env=env, stdout=out, stderr=err,
                                start_new_session=True)  # fmt: skip
        workers: set[int] = set()
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            if watch_workers and LINUX:
                workers |= {pid for pid in _descendants(proc.pid) - workers if _loaded_polars(pid)}
            time.sleep(0.2)
        if proc.poll() is None:  # stuck: end it and the cluster it started
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    out, err = (logs / "stdout").read_text(), (logs / "stderr").read_text()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), workers


def _read(data: Path, dataset: str) -> pl.DataFrame:
    frame = pl.read_parquet(f"{data}/{dataset}/articles/**/*.parquet", hive_partitioning=True)
    return frame.drop("run_id").sort("doc_id")


def _partition_counts(data: Path) -> list[dict]:
    report = json.loads((data / "reports" / "latest.json").read_text())
    return [{k: v for k, v in p.items() if k != "seconds"} for p in report["partitions_detail"]]


def test_dask_run_writes_the_same_rows_as_threads(tmp_path: Path):
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW, raw, symlinks=True)
    on_dask, on_threads = tmp_path / "dask", tmp_path / "threads"

    done, workers = _run_cli(["run", "--dask", "local", "--raw-dir", raw, "--data-dir", on_dask],
                             _env(tmp_path / "home-dask"), tmp_path / "logs-dask", watch_workers=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "curated" in done.stdout
    done, _ = _run_cli(["run", "--raw-dir", raw, "--data-dir", on_threads],
                       _env(tmp_path / "home-threads"), tmp_path / "logs-threads")  # fmt: skip
    assert done.returncode == 0, done.stderr

    for dataset in ("curated", "quarantine"):
        dask_rows, thread_rows = _read(on_dask, dataset), _read(on_threads, dataset)
        assert dask_rows.height > 0
        assert dask_rows.columns == thread_rows.columns and dask_rows.schema == thread_rows.schema
        assert dask_rows["doc_id"].to_list() == thread_rows["doc_id"].to_list(), f"{dataset}: other files"
        assert dask_rows.equals(thread_rows), f"{dataset}: the same files, other values"

    assert _partition_counts(on_dask) == _partition_counts(on_threads)
    if LINUX:  # the worker processes that ran batches
        assert len(workers) >= 2, f"batches ran in {len(workers)} Dask worker process(es), expected 2"
