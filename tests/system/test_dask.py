"""The flow on worker processes or a temporary local Dask cluster writes exactly what it writes with threads."""

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
SAMPLE_RAW = Path(__file__).resolve().parents[2] / "data" / "raw"
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

    A worker process imports the project (and with it Polars) only when it deserialises a task (or,
    in a process pool, when its initializer loads the models), so a child process with Polars mapped
    is a worker.
    """
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / "stdout").open("w") as out, (logs / "stderr").open("w") as err:  # files: a full pipe would block it
        proc = subprocess.Popen(
            [str(BIN / "news-pipeline"), *map(str, args)], env=env, stdout=out, stderr=err, start_new_session=True
        )
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


@pytest.fixture(scope="module")
def on_threads(tmp_path_factory) -> tuple[Path, Path]:
    """The sample landing zone and its output from a run with threads (what ``auto`` picks for 50 files)."""
    tmp = tmp_path_factory.mktemp("threads")
    raw, data = tmp / "raw", tmp / "data"
    shutil.copytree(SAMPLE_RAW, raw, symlinks=True)
    done, _ = _run_cli(
        ["run", "--raw-dir", raw, "--data-dir", data],
        _env(tmp / "home") | {"NEWS_PIPELINE_TASK_RUNNER": "threads"},
        tmp / "logs",
    )
    assert done.returncode == 0, done.stderr
    return raw, data


@pytest.mark.parametrize("runner", ["dask", "processes"])
def test_run_on_worker_processes_writes_the_same_rows_as_threads(runner: str, on_threads, tmp_path: Path):
    raw, threads = on_threads
    data = tmp_path / runner
    args, env = ["run", "--raw-dir", raw, "--data-dir", data], _env(tmp_path / "home")
    if runner == "dask":
        args += ["--dask", "local"]
    else:
        env["NEWS_PIPELINE_TASK_RUNNER"] = runner
    done, workers = _run_cli(args, env, tmp_path / "logs", watch_workers=True)
    assert done.returncode == 0, done.stderr
    assert "curated" in done.stdout

    for dataset in ("curated", "quarantine"):
        rows, thread_rows = _read(data, dataset), _read(threads, dataset)
        assert rows.height > 0
        assert rows.columns == thread_rows.columns and rows.schema == thread_rows.schema
        assert rows["doc_id"].to_list() == thread_rows["doc_id"].to_list(), f"{dataset}: other files"
        assert rows.equals(thread_rows), f"{dataset}: the same files, other values"

    assert _partition_counts(data) == _partition_counts(threads)
    if LINUX:  # the worker processes that ran batches
        assert len(workers) >= 2, f"batches ran in {len(workers)} {runner} worker process(es), expected 2"
