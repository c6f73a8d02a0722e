"""Reliability: kill -9 at many points of a run, readers during rewrites, the run lock, no network, no pickles.

The landing zone has two versions (A and B, see ``reliability_support.build_versions``) whose
reference outputs come from clean runs; every partition a reader sees must equal one of them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import polars as pl
import pytest

from news_pipeline import pipeline, storage
from news_pipeline.settings import Settings
from tests.reliability_support import (
    CLI,
    DATASETS,
    PYTHON,
    REPO,
    assert_accounting,
    build_versions,
    harness_api_url,
    snapshot,
    stray_files,
    subprocess_env,
)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

BATCH_SIZE = "40"  # several batches per partition: more moments to be killed in


def run_flow(raw: Path, data: Path, **params) -> dict:
    from flows.articles import process_articles

    return process_articles(raw_dir=str(raw), data_dir=str(data), **params)


@pytest.fixture(scope="module")
def versions(tmp_path_factory, prefect_harness):
    """Landing-zone versions A and B with the reference output of a clean run of each."""
    root = tmp_path_factory.mktemp("versions")
    v = build_versions(root)
    old = os.environ.get("NEWS_PIPELINE_BATCH_SIZE")
    os.environ["NEWS_PIPELINE_BATCH_SIZE"] = BATCH_SIZE
    try:
        for version in ("A", "B"):
            v.set(version)
            data = root / f"ref-{version}"
            run_flow(v.raw, data)
            assert_accounting(v.raw, data)
            v.refs[version] = snapshot(data)
    finally:
        if old is None:
            os.environ.pop("NEWS_PIPELINE_BATCH_SIZE")
        else:
            os.environ["NEWS_PIPELINE_BATCH_SIZE"] = old
    v.set("A")
    for name in DATASETS:
        for day in v.dates:
            a, b = v.refs["A"][name][day], v.refs["B"][name][day]
            assert not a.equals(b), f"versions A and B must differ in {name} {day}"
    v.ref_data = {version: root / f"ref-{version}" for version in ("A", "B")}
    return v


# ---------------------------------------------------------------------------------------
# 1. kill -9 at many points
# ---------------------------------------------------------------------------------------

# Workers are forked from a "zygote" process that has imported Prefect, the flow, Great Expectations
# and the project once: each worker is a real process running the real flow against the session's
# Prefect server, killed with SIGKILL, but without paying ~10 s of imports per kill. A job with
# kill_after=n makes the worker send itself SIGKILL right after the n-th atomic rename of its run
# (4 data files and then the manifest per partition), i.e. exactly between the steps of a publish.
ZYGOTE = textwrap.dedent(
    """
    import json, os, signal, sys, traceback
    from news_pipeline import language, storage, validate
    import flows.articles
    validate._gx()
    print("ready", flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.setsid()
                fd = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
                os.dup2(fd, 1)
                os.dup2(fd, 2)
                after = job.get("kill_after", 0)
                if after:
                    publish, count = storage.publish_file, [0]
                    def publish_then_die(staged, final):
                        publish(staged, final)
                        count[0] += 1
                        if count[0] >= after:
                            os.kill(os.getpid(), signal.SIGKILL)
                    storage.publish_file = publish_then_die
                flows.articles.process_articles(raw_dir=job["raw"], data_dir=job["data"])
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        print("started", pid, flush=True)
        _, status = os.waitpid(pid, 0)
        print("exit", pid, os.waitstatus_to_exitcode(status), flush=True)
    """
)


class Zygote:
    """The forking worker factory (see ZYGOTE)."""

    def __init__(self, env: dict, log: Path):
        self.log = log
        self.proc = subprocess.Popen(
            [PYTHON, "-c", ZYGOTE], cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=open(log, "ab"), text=True,
        )  # fmt: skip
        self.ready = False

    def _wait_ready(self) -> None:
        if not self.ready:
            assert self._line() == ["ready"], "the worker zygote did not start"
            self.ready = True

    def _line(self) -> list[str]:
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"worker zygote died; log:\n{self.log.read_text(errors='replace')[-3000:]}")
        return line.split()

    def start(self, raw: Path, data: Path, kill_after: int = 0) -> int:
        self._wait_ready()
        job = {"raw": str(raw), "data": str(data), "log": str(self.log), "kill_after": kill_after}
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        word, pid = self._line()
        assert word == "started"
        return int(pid)

    def exit_code(self, pid: int) -> int:
        word, got, code = self._line()
        assert word == "exit" and int(got) == pid
        return int(code)

    def close(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def zygote(prefect_harness, tmp_path_factory):
    """Started before the reference runs so its imports overlap them."""
    tmp = tmp_path_factory.mktemp("zygote")
    z = Zygote(subprocess_env(tmp, harness_api_url(), NEWS_PIPELINE_BATCH_SIZE=BATCH_SIZE), tmp / "workers.log")
    yield z
    z.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _staged(data: Path, pattern: str) -> bool:
    return any((data / "state" / "staging").glob(f"*/*/{pattern}"))


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:
        return None


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _life(v, data: Path, zygote: Zygote, trigger: tuple, rng: random.Random) -> str:
    """Start a worker, kill -9 it when ``trigger`` fires; return how it ended ('killed' or 'finished')."""
    settings = Settings(raw_dir=v.raw, data_dir=data)
    kind = trigger[0]
    curated = [storage.partition_file(settings.curated_dir, d) for d in v.dates]
    manifests = [storage.manifest_path(settings, d) for d in v.dates]
    inodes = [_inode(p) for p in curated]
    mtimes = [_mtime(p) for p in manifests]
    pid = zygote.start(v.raw, data, kill_after=trigger[1] if kind == "self" else 0)

    def fire() -> bool:
        if kind == "staged":
            return _staged(data, "batch-*.parquet")
        if kind == "publishing":
            return _staged(data, "publish-*.parquet")
        if kind == "replaced":
            return _inode(curated[trigger[1]]) != inodes[trigger[1]]
        if kind == "manifest":
            return sum(_mtime(p) != m for p, m in zip(manifests, mtimes)) >= trigger[1]
        return False

    started = time.monotonic()
    while _alive(pid):
        if fire():
            if kind in ("staged", "manifest"):
                time.sleep(rng.uniform(0, trigger[2]))
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            break
        if time.monotonic() - started > 300:  # a guard against a hung worker, not a speed check
            os.killpg(pid, signal.SIGKILL)
            raise AssertionError(f"worker hung (trigger {trigger})")
        time.sleep(0.002)
    rc = zygote.exit_code(pid)
    if rc == -signal.SIGKILL:
        return "killed"
    assert rc == 0, f"worker failed with {rc} (trigger {trigger}); log:\n{zygote.log.read_text(errors='replace')[-3000:]}"
    return "finished"


def _assert_readers_see_complete_partitions(v, data: Path, label: str) -> None:
    strays = stray_files(data)
    assert not strays, f"{label}: files visible to readers' globs besides part-0.parquet: {strays}"
    view = snapshot(data)  # a plain Polars reader of both datasets must succeed
    for name in DATASETS:
        assert sorted(view[name]) == v.dates, f"{label}: {name} partitions visible: {sorted(view[name])}"
        for day, frame in view[name].items():
            allowed = v.allowed(name, day)
            assert any(frame.equals(ref) for ref in allowed), (
                f"{label}: {name} {day} is neither the complete old nor the complete new partition "
                f"({frame.height} rows; the versions have {[ref.height for ref in allowed]})"
            )


def test_kill_9_at_many_points_never_exposes_a_partial_partition(zygote, versions, tmp_path: Path):
    seed = int(os.environ.get("NP_RELIABILITY_SEED", time.time_ns() % 10**6))
    rng = random.Random(seed)
    v = versions.copy(tmp_path)
    data = tmp_path / "data"
    shutil.copytree(versions.ref_data["A"], data)  # start from a complete publish of version A
    # (version of the landing zone, when to kill); the version switches make every partition change again
    lives = [
        ("B", ("staged", None, 0.3)),  # while the first batches are processed
        ("B", ("self", 1)),  # after the quarantine file of the first partition is replaced
        ("B", ("publishing",)),  # while the publish files are written and renamed
        ("B", ("self", 2)),  # quarantine and curated replaced, signatures and ledger not
        ("A", ("self", 4)),  # every data file replaced, manifest not yet written
        ("A", ("replaced", 1)),  # right after the curated file of the second day is replaced
        ("A", ("staged", None, 3.0)),  # anywhere in the run
        ("B", ("self", 7)),  # in the middle of the second partition's publish
        ("B", ("manifest", 1, 0.5)),  # shortly after the first partition is committed
        ("B", ("publishing",)),
    ]
    killed = 0
    for i, (version, trigger) in enumerate(lives):
        v.set(version)
        outcome = _life(v, data, zygote, trigger, rng)
        killed += outcome == "killed"
        _assert_readers_see_complete_partitions(v, data, f"life {i} {trigger} ({outcome}, seed {seed})")
    assert killed >= 8, f"only {killed} of {len(lives)} workers were killed (seed {seed})"

    # a normal run repairs everything: exactly the clean run's rows, once each
    assert _life(v, data, zygote, ("never",), rng) == "finished"
    _assert_readers_see_complete_partitions(v, data, "final run")
    view = snapshot(data)
    for name in DATASETS:
        for day in v.dates:
            assert view[name][day].equals(v.refs["B"][name][day]), f"{name} {day} differs from the clean run"
    assert_accounting(v.raw, data)
    settings = Settings(raw_dir=v.raw, data_dir=data)
    assert all(pipeline._committed_run(settings, day) for day in v.dates), "a partition is left uncommitted"
    assert not any((data / "state" / "staging").rglob("*.parquet")), "staging was not cleaned up"
    todo, skipped = pipeline.plan_partitions(settings)
    assert not todo and len(skipped) == len(v.dates), "after the repair run nothing is left to do"
