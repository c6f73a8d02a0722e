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
   ``direct``   the flow's run loop without Prefect: ``runner.run`` on ``runner.local_executor``
                (the same worker processes or threads the flow picks)
   ``prefect``  a probe: temporary server start, fixed cost of a flow run, cost per task run
   ``startup``  ``import prefect``, an unchanged re-run, a one-file run, a 10,000-file day against its floor
   ``profile``  ``runner.run`` one batch at a time with the runner's stage timings, per size in --sizes
   and ``pipeline`` again at every other size in --sizes (run time and memory as it grows).
3. Prints a table and writes ``ROOT/results.json`` and ``ROOT/results.md`` (and, with
   --update-readme, the figures block of ``benchmarks/README.md``).

How a child is measured (wall, CPU, peak memory): ``benchmarks/measure.py``; the children:
``benchmarks/children.py``; the figures and tables: ``benchmarks/report.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks.children import CHILDREN
from benchmarks.corpora import ensure_corpus, warm_cache
from benchmarks.measure import (
    MB,
    REPO,
    child_cmd,
    child_env,
    fresh,
    log,
    machine_info,
    measure,
    news_pipeline_exe,
    prepare_prefect_home,
)
from benchmarks.report import derive, rates, to_markdown, update_readme
from benchmarks.startup import measure_startup

DEFAULT_ROOT = REPO / "benchmarks" / "out"


@dataclass
class Bench:
    """One benchmark run: where its files go, its children's environment, whether outputs are kept."""

    root: Path
    env: dict
    log_file: Path
    keep_outputs: bool

    def measure(self, name: str, cmd: list[str]) -> dict:
        """The figures of ``cmd`` run as a child (see :func:`benchmarks.measure.measure`)."""
        return measure(name, cmd, env=self.env, log_dir=self.root / "logs", log_file=self.log_file)

    def discard(self, path: Path) -> None:
        """Remove a run's output, unless --keep-outputs."""
        if not self.keep_outputs:
            shutil.rmtree(path, ignore_errors=True)


def measure_floor(bench: Bench, corpus: dict, repeats: int) -> dict:
    """The floor, ``repeats`` times; the run with the median work time, and every run's work time."""
    floors = []
    for i in range(max(1, repeats)):
        out = fresh(bench.root / "runs" / "floor" / "data")
        floors.append(bench.measure(f"floor-{i + 1}", child_cmd("_floor", corpus["raw_dir"], out)))
    floor = sorted(floors, key=lambda f: f["child"]["seconds"])[len(floors) // 2]
    bench.discard(bench.root / "runs" / "floor")
    return (
        floor
        | rates(floor, corpus["files"], corpus["bytes"], floor["child"]["seconds"])
        | {"runs_work_s": [f["child"]["seconds"] for f in floors]}
    )


def measure_baseline(bench: Bench, corpus: dict) -> dict:
    """The per-document version (``benchmarks/baseline.py``)."""
    out = fresh(bench.root / "runs" / "baseline" / "data")
    b = bench.measure("baseline", [sys.executable, "-m", "benchmarks.baseline", corpus["raw_dir"], str(out)])
    bench.discard(out.parent)
    return b | rates(b, corpus["files"], corpus["bytes"], b["child"]["seconds"])


def run_pipeline_cli(bench: Bench, corpus: dict, label: str) -> dict:
    """``news-pipeline run`` on the corpus into a fresh data folder; its figures, run report and data folder."""
    data = fresh(bench.root / "runs" / label / "data")
    m = bench.measure(label, [news_pipeline_exe(), "run", "--raw-dir", corpus["raw_dir"], "--data-dir", str(data)])
    report = json.loads((data / "reports" / "latest.json").read_text())
    keys = (
        "run_id",
        "seconds",
        "files",
        "curated",
        "quarantined",
        "duplicates",
        "near_duplicates",
        "failed_partitions",
    )
    m["report"] = {k: report[k] for k in keys}
    m["report"]["partition_seconds"] = [p["seconds"] for p in report["partitions_detail"]]
    m["data_dir"] = str(data)
    return m | rates(m, corpus["files"], corpus["bytes"], report["seconds"])


def measure_direct(bench: Bench, corpus: dict) -> dict:
    """The flow's run loop without Prefect (``children.child_direct``)."""
    out = fresh(bench.root / "runs" / "direct" / "data")
    dr = bench.measure("direct", child_cmd("_direct", corpus["raw_dir"], out))
    bench.discard(out.parent)
    return dr | rates(dr, corpus["files"], corpus["bytes"], dr["child"]["seconds"])


def run_profile(bench: Bench, corpus: dict) -> dict:
    """The stage profile of the corpus (``children.child_profile``); its figures and, as ``profile``, the profile."""
    n = corpus["files"]
    data = fresh(bench.root / "runs" / f"profile-{n}" / "data")
    out_json = bench.root / "logs" / f"profile-{n}.json"
    m = bench.measure(f"profile-{n}", child_cmd("_profile", corpus["raw_dir"], data, out_json))
    m["profile"] = json.loads(out_json.read_text())
    bench.discard(data.parent)
    return m


def measure_product(bench: Bench, corpus: dict, probe_tasks: int, results: dict) -> None:
    """The CLI, the run without Prefect and the Prefect probe on the main corpus, into ``results``."""
    m = results["measurements"]
    results["prefect_db_upgrade_s"] = round(prepare_prefect_home(bench.env, bench.log_file), 1)
    m["pipeline"] = run_pipeline_cli(bench, corpus, f"pipeline-{corpus['files']}")
    results["pipeline_by_size"] = {str(corpus["files"]): m["pipeline"]}
    m["direct"] = measure_direct(bench, corpus)
    m["prefect_probe"] = bench.measure("prefect-probe", child_cmd("_prefect_probe", probe_tasks))


def measure_sizes(bench: Bench, args: argparse.Namespace, corpus: dict, results: dict) -> None:
    """The stage profile at every size of --sizes, and the CLI at every size but the main one, into ``results``."""
    results["profiles"], results["errors"] = {}, []
    for n in args.sizes:
        try:
            sized = corpus if n == args.n else ensure_corpus(bench.root, n, args.dates, args.seed, bench.log_file)
            if n != args.n:
                warm_cache(Path(sized["raw_dir"]))
                run = run_pipeline_cli(bench, sized, f"pipeline-{sized['files']}")
                results["pipeline_by_size"][str(sized["files"])] = run
                bench.discard(Path(run["data_dir"]).parent)
            results["profiles"][str(sized["files"])] = run_profile(bench, sized)
        except RuntimeError as err:  # one failed size must not lose the figures already measured
            log(f"size {n:,} failed: {err}", bench.log_file)
            results["errors"].append(f"size {n}: {err}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line; ``sizes`` as a sorted list of distinct integers."""
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=100_000, help="raw files in the main corpus (default 100000)")
    ap.add_argument("--dates", type=int, default=10, help="date folders of every corpus (default 10)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--root", type=Path, default=DEFAULT_ROOT, help="corpora, runs, logs and results (default benchmarks/out)"
    )
    ap.add_argument(
        "--sizes",
        default="10000,100000",
        help="corpus sizes for the stage profile and the scaling runs, comma-separated "
        "(default 10000,100000; add 300000 for the full scaling check)",
    )
    ap.add_argument("--floor-repeats", type=int, default=3, help="floor runs; the median counts (default 3)")
    ap.add_argument("--probe-tasks", type=int, default=50, help="task runs in the Prefect probe (default 50)")
    ap.add_argument("--skip-baseline", action="store_true", help="skip the per-document version (slow)")
    ap.add_argument(
        "--skip-pipeline",
        action="store_true",
        help="skip everything that runs the product (CLI, direct, probe, profiles): for quick checks",
    )
    ap.add_argument(
        "--skip-startup", action="store_true", help="skip the start-up figures (import, re-run, one file, one day)"
    )
    ap.add_argument(
        "--startup-day-files", type=int, default=10_000, help="files in the start-up section's day (default 10000)"
    )
    ap.add_argument("--startup-repeats", type=int, default=3, help="runs of each start-up command (default 3)")
    ap.add_argument("--keep-outputs", action="store_true", help="keep every run's output (default: only the CLI's)")
    ap.add_argument("--update-readme", action="store_true", help="write the figures into benchmarks/README.md")
    ap.add_argument(
        "--from-results",
        type=Path,
        metavar="RESULTS_JSON",
        help="measure nothing: recompute the ratios and tables of an earlier results.json and write them again",
    )
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
        done = update_readme(markdown)
        log("updated benchmarks/README.md" if done else "benchmarks/README.md has no figures block", log_file)
    log(f"wrote {root / 'results.json'} and {root / 'results.md'}", log_file)


def rerender(path: Path, update: bool) -> int:
    """--from-results: the figures of an earlier results.json, derived and written again next to it."""
    results = json.loads(path.read_text())
    finish(results, path.resolve().parent, update)
    return 0


def prepare(args: argparse.Namespace) -> tuple[Bench, dict, dict]:
    """The run's folders and log, its results record (arguments, machine, corpus) and the main corpus, warm."""
    root = args.root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    bench = Bench(root, child_env(root), root / "bench.log", args.keep_outputs)
    bench.log_file.write_text("")
    shutil.rmtree(root / "logs", ignore_errors=True)
    results: dict = {
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "machine": machine_info(),
        "measurements": {},
    }
    corpus = ensure_corpus(root, args.n, args.dates, args.seed, bench.log_file)
    log(
        f"corpus: {corpus['files']:,} files, {corpus['bytes'] / MB:,.0f} MB in {corpus['raw_dir']} "
        f"({'reused' if corpus['reused'] else 'built'})",
        bench.log_file,
    )
    corpus["warm_read_s"] = round(warm_cache(Path(corpus["raw_dir"])), 2)
    results["corpus"] = corpus
    return bench, results, corpus


def main(argv: list[str] | None = None) -> int:
    """The benchmark (or, with a child's name first, one measured child); the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in CHILDREN:  # a measured child: print its result as the last line
        print(json.dumps(CHILDREN[argv[0]](*argv[1:])))
        return 0
    args = parse_args(argv)
    if args.from_results:
        return rerender(args.from_results, args.update_readme)
    bench, results, corpus = prepare(args)
    m = results["measurements"]
    m["floor"] = measure_floor(bench, corpus, args.floor_repeats)
    if not args.skip_baseline:
        m["baseline"] = measure_baseline(bench, corpus)
    if not args.skip_pipeline:
        if not args.skip_startup:
            results["startup"] = measure_startup(
                bench.root, bench.env, bench.log_file, args.startup_repeats, args.startup_day_files
            )
        measure_product(bench, corpus, args.probe_tasks, results)
        measure_sizes(bench, args, corpus, results)
    results["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    finish(results, bench.root, args.update_readme, bench.log_file)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
