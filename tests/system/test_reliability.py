"""Reliability: kill -9 at many points of a run, readers during rewrites, the run lock, no network, no pickles.

The landing zone has two versions (A and B, see ``reliability_support.build_versions``) whose
reference outputs come from clean runs; every partition a reader sees must equal one of them.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from news_pipeline import runner
from news_pipeline.catalog import Catalog, partition_file
from news_pipeline.config import Settings
from news_pipeline.io.publish import run_lock
from news_pipeline.state import committed_run
from tests.system.reliability_support import (
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
    with pytest.MonkeyPatch.context() as env:
        env.setenv("NEWS_PIPELINE_BATCH_SIZE", BATCH_SIZE)  # as in the workers below
        for version in ("A", "B"):
            v.set(version)
            v.ref_data[version] = root / f"ref-{version}"
            run_flow(v.raw, v.ref_data[version])
            assert_accounting(v.raw, v.ref_data[version])
            v.refs[version] = snapshot(v.ref_data[version])
    v.set("A")
    for name in DATASETS:
        for day in v.dates:
            a, b = v.refs["A"][name][day], v.refs["B"][name][day]
            assert not a.equals(b), f"versions A and B must differ in {name} {day}"
    return v


# ---------------------------------------------------------------------------------------
# 1. kill -9 at many points
# ---------------------------------------------------------------------------------------

# Workers are forked from a "zygote" process that has imported Prefect, the flow, Great Expectations
# and the project once: each worker is a real process running the real flow against the session's
# Prefect server, killed with SIGKILL, but without paying ~10 s of imports per kill. A job with
# kill_after=n makes the worker send itself SIGKILL right after the n-th publish_file call of its run
# (4 data files and then the manifest per partition), i.e. exactly between the steps of a publish;
# kill_during=n sends it from a timer started as the n-th publish_file call begins (during it, if
# publishing a file takes any time at all).
ZYGOTE = textwrap.dedent(
    """
    import json, os, signal, sys, threading, traceback
    from news_pipeline import gx_runtime
    from news_pipeline.io import publish as storage
    import flows.articles
    gx_runtime.load_gx()
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
                after, during = job["kill_after"], job["kill_during"]
                if after or during:
                    publish, count = storage.publish_file, [0]
                    def publish_and_die(staged, final):
                        count[0] += 1
                        if count[0] == during:  # SIGKILL from a timer while this rename is under way
                            threading.Timer(job["delay"], os.kill, (os.getpid(), signal.SIGKILL)).start()
                        publish(staged, final)
                        if count[0] == after:
                            os.kill(os.getpid(), signal.SIGKILL)
                    storage.publish_file = publish_and_die
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
            [PYTHON, "-c", ZYGOTE],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(log, "ab"),  # noqa: SIM115 - the child process owns it
            text=True,
        )
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

    def start(self, raw: Path, data: Path, kill_after: int = 0, kill_during: int = 0, delay: float = 0.0) -> int:
        self._wait_ready()
        job = {
            "raw": str(raw),
            "data": str(data),
            "log": str(self.log),
            "kill_after": kill_after,
            "kill_during": kill_during,
            "delay": delay,
        }
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
    catalog = Catalog.of(settings)
    curated = [partition_file(catalog.curated, d) for d in v.dates]
    manifests = [catalog.manifest(d) for d in v.dates]
    inodes = [_inode(p) for p in curated]
    mtimes = [_mtime(p) for p in manifests]
    pid = zygote.start(
        v.raw,
        data,
        kill_after=trigger[1] if kind == "self" else 0,
        kill_during=trigger[1] if kind == "during" else 0,
        delay=rng.uniform(0, trigger[2]) if kind == "during" else 0.0,
    )

    def fire() -> bool:
        if kind == "staged":
            return _staged(data, "batch-*.parquet")
        if kind == "publishing":
            return _staged(data, "publish-*.parquet")
        if kind == "replaced":
            return _inode(curated[trigger[1]]) != inodes[trigger[1]]
        if kind == "manifest":
            return sum(_mtime(p) != m for p, m in zip(manifests, mtimes, strict=False)) >= trigger[1]
        return False

    started = time.monotonic()
    while _alive(pid):
        if fire():
            if len(trigger) > 2 and kind != "during":  # a random moment after the event
                time.sleep(rng.uniform(0, trigger[2]))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            break
        if time.monotonic() - started > 300:  # a guard against a hung worker, not a speed check
            os.killpg(pid, signal.SIGKILL)
            raise AssertionError(f"worker hung (trigger {trigger})")
        time.sleep(0.002)
    rc = zygote.exit_code(pid)
    if rc == -signal.SIGKILL:
        return "killed"
    assert rc == 0, (
        f"worker failed with {rc} (trigger {trigger}); log:\n{zygote.log.read_text(errors='replace')[-3000:]}"
    )
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
    # (switch the landing zone to its other version first?, when to kill); after a worker that was
    # not killed (nothing left to do) the version switches too, so every life has work to die in
    lives = [
        (True, ("staged", None, 0.3)),  # while the first batches are processed
        (False, ("self", 1)),  # after the quarantine file of the first partition is replaced
        (False, ("publishing", None, 0.0)),  # as soon as the first publish file is being written
        (False, ("during", 2, 0.01)),  # while the curated file of the first partition is being published
        (True, ("self", 4)),  # every data file replaced, manifest not yet written
        (False, ("replaced", 1)),  # right after the curated file of the second day is replaced
        (True, ("during", 6, 0.02)),  # while the second partition's quarantine file is being published
        (False, ("self", 7)),  # after the 7th rename: in the middle of a later partition's publish
        (False, ("manifest", 1, 0.5)),  # shortly after the first partition is committed
    ]
    # anywhere in the publish window (writes, fsyncs, renames); more of these while fewer than 8 were killed
    lives += [(False, ("publishing", None, 0.3))] * 8
    outcomes: list[str] = []
    for i, (switch, trigger) in enumerate(lives):
        if i >= 10 and outcomes.count("killed") >= 8:
            break
        if switch or (outcomes and outcomes[-1] == "finished"):
            v.toggle()
        outcomes.append(_life(v, data, zygote, trigger, rng))
        _assert_readers_see_complete_partitions(v, data, f"life {i} {trigger} ({outcomes[-1]}, seed {seed})")
    assert outcomes.count("killed") >= 8, f"too few workers were killed: {outcomes} (seed {seed})"

    # a normal run repairs everything: exactly the clean run's rows, once each
    assert _life(v, data, zygote, ("never",), rng) == "finished"
    _assert_readers_see_complete_partitions(v, data, "final run")
    view = snapshot(data)
    for name in DATASETS:
        for day in v.dates:
            assert view[name][day].equals(v.refs[v.state][name][day]), f"{name} {day} differs from the clean run"
    assert_accounting(v.raw, data)
    settings = Settings(raw_dir=v.raw, data_dir=data)
    assert all(committed_run(Catalog.of(settings), day) for day in v.dates), "a partition is left uncommitted"
    assert not any((data / "state" / "staging").rglob("*.parquet")), "staging was not cleaned up"
    todo, skipped = runner.plan_partitions(settings)
    assert not todo and len(skipped) == len(v.dates), "after the repair run nothing is left to do"


# ---------------------------------------------------------------------------------------
# 2. readers during rewrites; the run lock
# ---------------------------------------------------------------------------------------

# Scans both datasets in a loop with Polars, DuckDB and PyArrow (no project code) until the stop
# file appears; one JSON line per scan: per-partition row and distinct doc_id counts, or the error.
READER = textwrap.dedent(
    """
    import json, sys, os
    import duckdb, polars as pl, pyarrow as pa, pyarrow.dataset as ds
    data, stop, out = sys.argv[1:4]
    hive = ds.partitioning(pa.schema([("ingest_date", pa.date32())]), flavor="hive")
    def polars_scan(name):
        df = (pl.scan_parquet(f"{data}/{name}/articles/**/*.parquet", hive_partitioning=True)
              .group_by("ingest_date").agg(pl.len().alias("n"), pl.col("doc_id").n_unique().alias("u")).collect())
        return df.rows()
    def duckdb_scan(name):
        return duckdb.sql(
            f"select ingest_date, count(*), count(distinct doc_id) from "
            f"read_parquet('{data}/{name}/articles/**/*.parquet', hive_partitioning=true) group by 1").fetchall()
    def pyarrow_scan(name):
        table = ds.dataset(f"{data}/{name}/articles", partitioning=hive).to_table(columns=["ingest_date", "doc_id"])
        df = pl.from_arrow(table)
        return df.group_by("ingest_date").agg(pl.len(), pl.col("doc_id").n_unique()).rows()
    engines = {"polars": polars_scan, "duckdb": duckdb_scan, "pyarrow": pyarrow_scan}
    with open(out, "a", buffering=1) as fh:
        while not os.path.exists(stop):
            for engine, scan in engines.items():
                for name in ("curated", "quarantine"):
                    try:
                        rows = {str(d): [n, u] for d, n, u in scan(name)}
                        fh.write(json.dumps({"engine": engine, "dataset": name, "counts": rows}) + "\\n")
                    except BaseException as err:  # Polars panics are BaseExceptions
                        if isinstance(err, (KeyboardInterrupt, SystemExit)):
                            raise
                        error = f"{type(err).__name__}: {err}"[:300]
                        fh.write(json.dumps({"engine": engine, "dataset": name, "error": error}) + "\\n")
    """
)


def test_readers_see_whole_partitions_while_backfills_rewrite_them(versions, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("NEWS_PIPELINE_BATCH_SIZE", BATCH_SIZE)
    v = versions.copy(tmp_path)
    data = tmp_path / "data"
    shutil.copytree(versions.ref_data["A"], data)
    expected = {(name, str(day)): {ref.height for ref in v.allowed(name, day)} for name in DATASETS for day in v.dates}
    stop, out = tmp_path / "stop", tmp_path / "reads.jsonl"
    env = subprocess_env(tmp_path, None)
    readers = [
        subprocess.Popen(
            [PYTHON, "-c", READER, str(data), str(stop), str(out) + str(i)],
            env=env,
            cwd=tmp_path,
            stderr=open(tmp_path / f"reader{i}.log", "wb"),  # noqa: SIM115 - the child process owns it
        )
        for i in range(2)
    ]
    try:
        while not all(Path(str(out) + str(i)).exists() and Path(str(out) + str(i)).stat().st_size for i in range(2)):
            assert all(r.poll() is None for r in readers), "a reader died before the backfills started"
            time.sleep(0.05)
        backfills = 0
        for version in ("B", "A", "B"):
            v.set(version)
            summary = run_flow(v.raw, data, start=v.dates[0], end=v.dates[-1], force=True)
            assert summary["partitions"] == len(v.dates) and not summary["failed_partitions"]
            backfills += 1
    finally:
        stop.touch()
        for r in readers:
            r.wait(timeout=120)
    assert all(r.returncode == 0 for r in readers), "a reader process crashed"
    reads = [json.loads(line) for i in range(2) for line in Path(str(out) + str(i)).read_text().splitlines()]
    failed = [r for r in reads if "error" in r]
    wrong = []
    for r in reads:
        if "error" in r:
            continue
        seen = r["counts"]
        if sorted(seen) != sorted(str(d) for d in v.dates):
            wrong.append((r["engine"], r["dataset"], "partitions", sorted(seen)))
        for day, (n, unique) in seen.items():
            if n not in expected.get((r["dataset"], day), set()) or unique != n:
                wrong.append((r["engine"], r["dataset"], day, n, unique))
    by_engine = {e: sum(r["engine"] == e for r in reads) for e in ("polars", "duckdb", "pyarrow")}
    assert min(by_engine.values()) >= 10, f"too few reads during the {backfills} backfills: {by_engine}"
    # the data promise: no reader, whatever engine, ever sees a partial or mixed partition
    assert not wrong, f"readers saw incomplete partitions: {wrong[:10]}"
    # and no read fails: Polars and DuckDB read a footer, then reopen the path for the pages; a
    # publish in between leaves the old pages where they were (news_pipeline.io.versioned)
    assert not failed, f"{len(failed)} of {len(reads)} reads failed during publishes, e.g. {failed[:3]}"


def _flow_running_for(data: Path) -> bool:
    """Whether the session's Prefect server has a RUNNING flow run writing to ``data``."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType

    running = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING])))
    with get_client(sync_client=True) as client:
        return any(r.parameters.get("data_dir") == str(data) for r in client.read_flow_runs(flow_run_filter=running))


def test_second_run_is_refused_naming_the_lock_holder_and_waits_with_wait(landing_zone: Path, tmp_path: Path):
    data = tmp_path / "data"
    settings = Settings(raw_dir=landing_zone, data_dir=data)
    env = subprocess_env(tmp_path, harness_api_url())
    cmd = [CLI, "run", "--raw-dir", str(landing_zone), "--data-dir", str(data)]
    holder = "holder-run-of-this-test"
    with run_lock(Catalog.of(settings), holder):
        busy = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        waiting = subprocess.Popen(
            cmd + ["--wait", "600"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        out, err_busy = busy.communicate(timeout=600)
        assert busy.returncode != 0, out + err_busy
        message = err_busy.strip().splitlines()[-1]
        assert message.startswith("news-pipeline: error:"), err_busy
        assert holder in message and f"pid {os.getpid()}" in message, message
        # the waiting run must be inside the flow (so at the lock) before the lock is released
        while not _flow_running_for(data):
            assert waiting.poll() is None, f"--wait gave up while the lock was held: {waiting.communicate()}"
            time.sleep(0.2)
        assert not (data / "curated").exists(), "a run wrote data while another held the lock"
    out, err = waiting.communicate(timeout=600)
    assert waiting.returncode == 0, err
    assert_accounting(landing_zone, data)
    assert not (data / "state" / "run.lock.json").exists(), "the lock holder record was left behind"
    # checked last so the lock behaviour above is proven either way: the refusal is ONE line
    assert len(err_busy.strip().splitlines()) == 1, f"expected one line on stderr, got:\n{err_busy}"


# ---------------------------------------------------------------------------------------
# 5. no network, loopback only, no pickles
# ---------------------------------------------------------------------------------------

# Loaded into every Python process of the run (the CLI and the Prefect server it starts) through
# PYTHONPATH: records each socket bind/connect and name lookup from Python's audit hooks.
SOCKET_AUDIT = textwrap.dedent(
    """
    import os, sys
    _log = os.environ.get("NP_SOCKET_AUDIT_LOG")
    def _audit(event, args):
        if _log and event in ("socket.bind", "socket.connect", "socket.getaddrinfo"):
            if event == "socket.getaddrinfo":
                family, address = "-", (args[0], args[1])
            else:
                family, address = getattr(args[0], "family", "?"), args[1]
            with open(_log, "a") as fh:
                family = int(family) if family not in ("-", "?") else family
                fh.write(f"{os.getpid()}\\t{event}\\t{family}\\t{address!r}\\n")
    sys.addaudithook(_audit)
    """
)
PICKLE_PROTOCOLS = {bytes([0x80, p]) for p in range(2, 6)}


def _pickles(root: Path, since_ns: int) -> list[str]:
    """Files under ``root`` changed since ``since_ns`` that are pickles or Prefect results with a pickle serializer."""
    found = []
    if not root.exists():
        return found
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (".git", ".hypothesis")]  # hypothesis: random bytes
        for name in filenames:
            path = Path(dirpath) / name
            try:
                if path.is_symlink() or path.stat().st_mtime_ns < since_ns or not path.is_file():
                    continue
                with open(path, "rb") as fh:
                    head = fh.read(65536)
            except OSError:
                continue
            if head[:2] in PICKLE_PROTOCOLS:
                found.append(f"{path}: pickle data")
            elif b'"serializer"' in head and b"pickle" in head:
                found.append(f"{path}: Prefect result with a pickle serializer")
    return found


def _is_loopback(host) -> bool:
    """127.0.0.0/8, ::1 or localhost; "" (and 0.0.0.0, ::) would mean every interface."""
    return host in ("127.0.0.1", "::1", "localhost") or str(host).startswith("127.")


def _inet(events: list[list[str]], event: str) -> list[tuple]:
    """(host, port) of the AF_INET/AF_INET6 sockets of one audit event kind (AF_UNIX and others are local)."""
    return [ast.literal_eval(addr)[:2] for _, kind, family, addr in events if kind == event and family in ("2", "10")]


def test_cli_runs_without_network_on_loopback_and_writes_no_pickles(landing_zone: Path, tmp_path: Path):
    unshare = shutil.which("unshare")
    if not unshare:
        pytest.skip("unshare (util-linux) is not installed: cannot block the network for one process")
    probe = subprocess.run([unshare, "-n", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"unshare -n is not permitted here (needs CAP_SYS_ADMIN): {probe.stderr.strip()}")
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SOCKET_AUDIT)
    audit = tmp_path / "sockets.tsv"
    data = tmp_path / "data"
    # no PREFECT_API_URL: the CLI starts its own temporary server, as it does for a user
    env = subprocess_env(tmp_path, None, PYTHONPATH=str(hooks), NP_SOCKET_AUDIT_LOG=str(audit))
    env.pop("PREFECT_SERVER_API_HOST")  # the CLI must choose loopback by itself
    home = Path(env["PREFECT_HOME"])
    started = time.time_ns() - 2 * 10**9  # margin for file system timestamp granularity
    script = 'ip link set lo up 2>/dev/null || true; exec "$@"'
    done = subprocess.run(
        [unshare, "-n", "sh", "-c", script, "sh", CLI, "run", "--raw-dir", str(landing_zone), "--data-dir", str(data)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, f"the run failed without network:\n{done.stderr[-3000:]}"
    assert_accounting(landing_zone, data)

    events = [line.split("\t") for line in audit.read_text().splitlines()]
    binds = _inet(events, "socket.bind")
    # the CLI probes a free port (port 0), then the server process it starts binds that port: the hook saw it
    cli_pids = {pid for pid, kind, _, addr in events if kind == "socket.bind" and ast.literal_eval(addr)[1] == 0}
    bound = {
        pid
        for pid, kind, family, addr in events
        if kind == "socket.bind" and family in ("2", "10") and ast.literal_eval(addr)[1] != 0
    }
    assert bound - cli_pids, f"the temporary Prefect server's listening socket was not seen: {events[:20]}"
    assert [a for a in binds if not _is_loopback(a[0])] == [], f"something bound beyond loopback: {binds}"
    outbound = [a for a in _inet(events, "socket.connect") if not _is_loopback(a[0])]
    assert outbound == [], f"something tried to reach beyond loopback: {outbound}"
    lookups = {ast.literal_eval(addr)[0] for _, kind, _, addr in events if kind == "socket.getaddrinfo"}
    assert {h for h in lookups if h is not None and not _is_loopback(h)} == set(), f"name lookups: {lookups}"

    pickles = []
    for root in (data, home, REPO, Path.home() / ".prefect" / "storage"):
        pickles += _pickles(root, started)
    assert pickles == [], f"pickled results were written: {pickles}"
