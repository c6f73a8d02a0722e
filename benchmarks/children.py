"""The measured children, each run as ``python -m benchmarks.run _<name> <args…>`` in a process of its own.

Each returns a JSON-able dict, which ``benchmarks.run`` prints as the child's last line. The
floor is the fastest any pipeline could be; ``_direct`` and ``_profile`` are harnesses over
:func:`news_pipeline.runner.run` (the run loop the flow runs), nothing here repeats that loop.
Imports of the product happen inside the children, so that each one pays for its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import statistics
import time
from pathlib import Path

#: the counts of a run report that the runs with and without Prefect must agree on
COUNTS = ("files", "curated", "quarantined", "duplicates", "near_duplicates")

#: the profile row of the run's time outside every stage the runner times
UNATTRIBUTED = "unattributed (plan, run report, Data Docs)"


def _read_day(raw: Path, day: str) -> tuple[list[str], list[bytes], int]:
    """One date folder's files: their paths relative to ``raw``, their text (gzip decompressed), bytes on disk."""
    import gzip

    paths, texts, bytes_in = [], [], 0
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
                with contextlib.suppress(EOFError, OSError):  # a truncated gzip stays as it is
                    data = gzip.decompress(data)
            paths.append(os.path.relpath(full, raw))
            texts.append(data)
    return paths, texts, bytes_in


def child_floor(raw_dir: str, out_dir: str) -> dict:
    """The I/O floor: every raw file's bytes (gzip decompressed), unchanged, to zstd Parquet per date folder.

    Returns its seconds (first read to last write), files, bytes read and bytes of text written.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    started = time.perf_counter()
    raw, out = Path(raw_dir), Path(out_dir)
    files = bytes_in = bytes_text = 0
    for day in sorted(d for d in os.listdir(raw) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", d)):
        paths, texts, day_bytes = _read_day(raw, day)
        files, bytes_in, bytes_text = files + len(paths), bytes_in + day_bytes, bytes_text + sum(map(len, texts))
        table = pa.table({"source_path": pa.array(paths, pa.string()), "text": pa.array(texts, pa.binary())})
        target = out / f"ingest_date={day}"
        target.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, target / "part-0.parquet", compression="zstd")
    seconds = round(time.perf_counter() - started, 3)
    return {"seconds": seconds, "files": files, "bytes_read": bytes_in, "bytes_text": bytes_text}


def child_direct(raw_dir: str, data_dir: str) -> dict:
    """The flow's run without Prefect: ``runner.run`` on ``runner.local_executor`` (the flow's worker choice).

    ``runner.local_executor`` picks worker processes or threads, ``settings.workers`` of them, as
    the flow's ``task_runner_for`` does; what differs from the flow's time is what Prefect itself
    costs (``same_counts`` in the results checks that both did the same work). Returns the run
    report's ``seconds`` (the same span as the flow body's) and counts, the batches (one
    "read + decode" stage each) and partitions run, each partition's publish seconds, the runner.
    """
    from flows.runtime import configure_runtime

    configure_runtime(verbose=False)
    # The CLI has imported Prefect and the flow module before the flow body starts; import them here
    # too, so that both spans start from the same loaded modules: Great Expectations, imported
    # inside the first publish, shares many dependencies with Prefect.
    import flows.articles  # noqa: F401
    from news_pipeline import runner
    from news_pipeline.config import Settings
    from news_pipeline.timing import Timings

    settings = Settings(raw_dir=raw_dir, data_dir=data_dir)
    timings = Timings()
    summary = runner.run(settings, runner.local_executor(settings), run_id=runner.new_run_id(), timings=timings)
    processed = [p for p in summary["partitions_detail"] if not p["skipped"]]
    return {
        "seconds": summary["seconds"],
        **{k: summary[k] for k in COUNTS},
        "batches": int(timings.totals.get("read + decode", [0])[0]),
        "partitions": len(processed),
        "finalize_seconds": [round(p["seconds"], 3) for p in processed],
        "failed_partitions": summary["failed_partitions"],
        "workers": settings.workers,
        "runner": runner.batch_runner_kind(settings, summary["files"]),
        "batch_size": settings.batch_size,
    }


def child_prefect_probe(n_tasks: str) -> dict:
    """What Prefect costs by itself: server start, a flow run's fixed cost, and the cost per task run."""
    from flows.runtime import configure_runtime

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


def profile_stages(totals: dict[str, list[float]], wall: float, cpu: float) -> list[dict]:
    """The profile's rows: one per stage the runner timed (calls, wall s, CPU s), then the run's unattributed rest.

    ``totals`` is :attr:`news_pipeline.timing.Timings.totals`; ``wall`` and ``cpu`` are the whole
    run's seconds, so the rows add up to them.
    """
    stages = [
        {"stage": name, "calls": int(calls), "wall_s": round(w, 4), "cpu_s": round(c, 4)}
        for name, (calls, w, c) in totals.items()
    ]
    rest_wall = wall - sum(w for _, w, _ in totals.values())
    rest_cpu = cpu - sum(c for _, _, c in totals.values())
    stages.append({"stage": UNATTRIBUTED, "calls": 1, "wall_s": round(rest_wall, 4), "cpu_s": round(rest_cpu, 4)})
    return stages


def _inline_executor(n_files: int):
    """The profile's executor factory: every batch in this process, one at a time, whatever the run's size."""
    from news_pipeline.runner import LocalExecutor

    return LocalExecutor("inline")


def child_profile(raw_dir: str, data_dir: str, out_json: str) -> dict:
    """Where the time goes: ``runner.run`` one batch at a time with the runner's stage timings; writes ``out_json``.

    Batches run inline (no pool), so each stage's wall and CPU time is its own and the stages add
    up. One-time setup (imports, gazetteer, fastText model, GX context) happens first and is
    measured apart. Returns the run's seconds, documents and the profile's path.
    """
    from flows.runtime import configure_runtime

    configure_runtime(verbose=False)
    setup_started = time.perf_counter()
    from news_pipeline import batch, gx_runtime, runner
    from news_pipeline.config import Settings
    from news_pipeline.stages import validate  # noqa: F401 - else imported (seconds) inside the first publish
    from news_pipeline.timing import Timings

    batch.warm_up()
    gx_runtime.batch_definition()
    setup_s = time.perf_counter() - setup_started

    settings, timings = Settings(raw_dir=raw_dir, data_dir=data_dir), Timings()
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    summary = runner.run(settings, _inline_executor, run_id=runner.new_run_id(), timings=timings)
    wall, cpu = time.perf_counter() - started_wall, time.process_time() - started_cpu
    profile = {
        "docs": summary["files"],
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "setup_s": round(setup_s, 3),
        "stages": profile_stages(timings.totals, wall, cpu),
        "summary": {k: summary[k] for k in COUNTS},
    }
    Path(out_json).write_text(json.dumps(profile, indent=2))
    return {"seconds": profile["wall_s"], "docs": profile["docs"], "profile": out_json}


#: name on the command line -> child
CHILDREN = {
    "_floor": child_floor,
    "_direct": child_direct,
    "_prefect_probe": child_prefect_probe,
    "_profile": child_profile,
}
