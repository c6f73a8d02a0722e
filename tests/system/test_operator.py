"""What an operator sees: help and version, commands that start nothing they don't need, logs and names in
the Prefect UI, a visible state for a missing day, one writer per data folder across machines.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from news_pipeline.catalog import Catalog
from news_pipeline.config import Settings
from news_pipeline.io.publish import run_lock
from tests.conftest import SAMPLE_RAW
from tests.system.reliability_support import CLI, harness_api_url, subprocess_env

pytestmark = pytest.mark.slow


def _cli(*args: str, env: dict, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=env, timeout=timeout)


@pytest.fixture()
def no_prefect(tmp_path: Path) -> Path:
    """A folder for PYTHONPATH whose ``prefect`` package fails to import: a command that needs it fails loudly."""
    fake = tmp_path / "no-prefect" / "prefect"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('this command must not import prefect')\n")
    return fake.parent


def test_help_shows_every_variable_and_default_and_version_prints_the_version(tmp_path: Path, no_prefect: Path):
    env = subprocess_env(tmp_path, None, PYTHONPATH=str(no_prefect), COLUMNS="200")
    top = _cli("--help", env=env)
    assert top.returncode == 0, top.stderr
    for variable in (
        "NEWS_PIPELINE_BATCH_SIZE",
        "NEWS_PIPELINE_WORKERS",
        "NEWS_PIPELINE_THRESHOLDS__MIN_WORDS",
        "NEWS_PIPELINE_S3_ENDPOINT_URL",
        "PREFECT_API_URL",
    ):
        assert variable in top.stdout, variable
    run = _cli("run", "--help", env=env)
    assert run.returncode == 0, run.stderr
    text = " ".join(run.stdout.split())
    assert "[env var: NEWS_PIPELINE_RAW_DIR; default: (data/raw)]" in text
    assert "[env var: NEWS_PIPELINE_DATA_DIR; default: (data)]" in text
    assert "<bool>" not in text and "<str>" not in text
    serve = " ".join(_cli("serve", "--help", env=env).stdout.split())
    assert "[env var: NEWS_PIPELINE_TIMEZONE; default: (Europe/Vienna)]" in serve
    assert "[env var: NEWS_PIPELINE_CRON; default: 15 0 * * *]" in serve
    version = _cli("--version", env=env)
    assert version.returncode == 0 and version.stdout.strip().startswith("news-pipeline 0.")


def test_cheap_commands_never_import_prefect(prefect_harness, landing_zone: Path, tmp_path: Path, no_prefect: Path):
    data = tmp_path / "data"
    env = subprocess_env(tmp_path, harness_api_url())
    first = _cli("run", "--raw-dir", str(landing_zone), "--data-dir", str(data), env=env)
    assert first.returncode == 0, first.stderr
    without = subprocess_env(tmp_path, None, PYTHONPATH=str(no_prefect))
    # an unchanged re-run: its report says what is unchanged, and no server is started
    again = _cli("run", "--raw-dir", str(landing_zone), "--data-dir", str(data), env=without)
    assert again.returncode == 0 and again.stderr == "", again.stderr
    assert "0 files in 0 partitions processed (3 unchanged)" in " ".join(again.stdout.split())
    report = json.loads((data / "reports" / "latest.json").read_text())
    assert report["skipped"] == 3 and [p["curated"] for p in report["partitions_detail"]] == [16, 15, 14]
    # bad arguments
    bad = _cli("run", "--raw-dir", str(landing_zone), "--date", "2025-13-01", env=without)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "not a valid date" in bad.stderr
    # a run refused by the lock, said at once on one line
    (landing_zone / "2025-06-04").mkdir()
    (landing_zone / "2025-06-04" / "a.txt").write_text(
        (SAMPLE_RAW / "2025-06-01" / "000_352be7b8b257a91d.txt").read_text()
    )
    settings = Settings(raw_dir=landing_zone, data_dir=data)
    with run_lock(Catalog.of(settings), "holder-of-this-test"):
        busy = _cli("run", "--raw-dir", str(landing_zone), "--data-dir", str(data), env=without)
    assert busy.returncode == 1, busy.stderr
    assert busy.stderr.count("\n") == 1 and "holder-of-this-test" in busy.stderr and busy.stderr[0] != "\n"


def _flow_run_of(client, run_id: str):
    """The flow run whose ``run_id`` parameter is ``run_id``."""
    runs = [r for r in client.read_flow_runs(limit=200) if r.parameters.get("run_id") == run_id]
    assert len(runs) == 1, [r.parameters for r in runs]
    return runs[0]


def test_logs_reach_the_ui_at_info_with_named_task_runs_while_the_terminal_stays_quiet(
    prefect_harness, landing_zone: Path, tmp_path: Path
):
    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId, TaskRunFilter, TaskRunFilterFlowRunId

    data = tmp_path / "data"
    done = _cli(
        "run", "--raw-dir", str(landing_zone), "--data-dir", str(data), env=subprocess_env(tmp_path, harness_api_url())
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    run_id = json.loads((data / "reports" / "latest.json").read_text())["run_id"]
    with get_client(sync_client=True) as client:
        flow_run = _flow_run_of(client, run_id)
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run.id])))
        tasks = client.read_task_runs(
            task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=[flow_run.id]))
        )
    messages = [log.message for log in logs if log.level == 20]  # INFO
    assert any(m.startswith(f"run {run_id}: 3 partitions to process") for m in messages), messages
    assert any("partition 2025-06-02 published: 15 curated, 2 quarantined" in m for m in messages), messages
    names = sorted(t.name for t in tasks)
    assert names == [
        "batch 2025-06-01 1/1",
        "batch 2025-06-02 1/1",
        "batch 2025-06-03 1/1",
        "publish 2025-06-01",
        "publish 2025-06-02",
        "publish 2025-06-03",
    ]


def test_a_scheduled_run_whose_day_is_missing_ends_in_a_visible_state(prefect_harness, landing_zone: Path, tmp_path):
    from flows.articles import process_articles

    state = process_articles(
        raw_dir=str(landing_zone), data_dir=str(tmp_path / "data"), scheduled=True, return_state=True
    )
    assert state.is_failed() and state.name == "MissingData"
    # a run started now is for yesterday in the schedule's time zone: no such folder in the sample data
    yesterday = dt.datetime.now(ZoneInfo("Europe/Vienna")).date() - dt.timedelta(days=1)
    assert state.message.startswith(f"no landing folder for {yesterday.isoformat()}")
    report = json.loads((tmp_path / "data" / "reports" / "latest.json").read_text())
    assert report["logical_date_missing"] and report["partitions"] == 3 and not report["failed_partitions"]


def test_a_second_writer_of_one_data_folder_is_refused_by_the_prefect_concurrency_limit(
    prefect_harness, landing_zone: Path, tmp_path: Path
):
    """Two writers of one data folder on different machines share no file lock: the global limit keeps one out."""
    from flows.concurrency import data_dir_slot, limit_name

    data = tmp_path / "data"
    settings = Settings(raw_dir=landing_zone, data_dir=data)
    env = subprocess_env(tmp_path, harness_api_url(), NEWS_PIPELINE_GLOBAL_LOCK="on")  # as for s3:// folders
    settings = settings.model_copy(update={"global_lock": "on"})
    with data_dir_slot(settings):  # the first writer: a flow on another machine holds the folder's slot
        refused = _cli("run", "--raw-dir", str(landing_zone), "--data-dir", str(data), env=env)
    assert refused.returncode == 1, refused.stderr
    assert refused.stderr.count("\n") == 1 and limit_name(settings) in refused.stderr
    assert not (data / "curated").exists(), "the refused run wrote data"
    # the first writer is done: the slot is free again and the second writer goes ahead
    again = _cli("run", "--raw-dir", str(landing_zone), "--data-dir", str(data), env=env)
    assert again.returncode == 0, again.stderr
