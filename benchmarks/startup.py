"""Start-up: what a short run costs end to end, against ``python -c "import prefect"`` in the same environment.

Four commands as an operator runs them (wall time, median of ``repeats`` runs each; every run a child
process with the benchmark's Prefect home, no ``PREFECT_API_URL``, so a real run starts its temporary
server):

- ``import prefect``: the yardstick;
- an unchanged re-run of a one-file landing zone (plans, finds nothing to do, writes its report);
- a one-file run (``--force``): the whole flow for one article;
- a 10,000-file day (one date folder of the benchmark's generator, seed 7), against its I/O floor.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.children import child_floor
from benchmarks.corpora import ensure_corpus, warm_cache
from benchmarks.measure import REPO, log, news_pipeline_exe

DAY_FILES = 10_000
TARGETS = {"unchanged_rerun": 2.0, "one_file": 4.0, "day_vs_floor": 5.0}


def _wall(cmd: list[str], env: dict) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed with {done.returncode}:\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def _median(cmd: list[str], env: dict, repeats: int, before=None) -> dict:
    runs = []
    for _ in range(repeats):
        if before is not None:
            before()
        runs.append(round(_wall(cmd, env), 3))
    return {"median_s": statistics.median(runs), "runs_s": runs}


def measure_startup(root: Path, env: dict, log_file: Path, repeats: int = 3, day_files: int = DAY_FILES) -> dict:
    """The four figures (see the module docstring), their ratios and whether each meets its target.

    ``day_files``: the size of the day (the target is for 10,000 files; the tests use a small one).
    """
    exe, work = news_pipeline_exe(), root / "runs" / "startup"
    shutil.rmtree(work, ignore_errors=True)
    one = work / "one-raw" / "2025-06-01"
    one.mkdir(parents=True)
    shutil.copy(next((REPO / "data" / "raw" / "2025-06-01").glob("000_*.txt")), one)
    day = ensure_corpus(root, day_files, 1, 7, log_file)
    warm_cache(Path(day["raw_dir"]))
    out: dict = {
        "day_files": day_files,
        "import_prefect": _median([sys.executable, "-c", "import prefect"], env, repeats),
    }
    run_one = [exe, "run", "--raw-dir", str(one.parent), "--data-dir", str(work / "one-data")]
    _wall(run_one, env)  # the data the re-runs find unchanged (and a warm Prefect database)
    out["unchanged_rerun"] = _median(run_one, env, repeats)
    out["one_file"] = _median([*run_one, "--force"], env, repeats)
    day_data = work / "day-data"
    out["day"] = _median(
        [exe, "run", "--raw-dir", day["raw_dir"], "--data-dir", str(day_data)],
        env,
        repeats,
        before=lambda: shutil.rmtree(day_data, ignore_errors=True),
    )
    floors = []
    for _ in range(repeats):
        shutil.rmtree(work / "floor", ignore_errors=True)
        floors.append(child_floor(day["raw_dir"], str(work / "floor"))["seconds"])
    out["day_floor"] = {"median_s": statistics.median(floors), "runs_s": floors}
    base = out["import_prefect"]["median_s"]
    out["ratios"] = {
        "unchanged_rerun": round(out["unchanged_rerun"]["median_s"] / base, 2),
        "one_file": round(out["one_file"]["median_s"] / base, 2),
        "day_vs_floor": round(out["day"]["median_s"] / out["day_floor"]["median_s"], 2),
    }
    out["met"] = {k: out["ratios"][k] <= limit for k, limit in TARGETS.items()}
    log(f"start-up: {out['ratios']} (targets {TARGETS})", log_file)
    shutil.rmtree(work, ignore_errors=True)
    return out


def to_markdown(s: dict) -> list[str]:
    """The start-up figures as a Markdown table."""

    def row(label: str, key: str, ratio: str, target: str) -> str:
        runs = ", ".join(f"{x:.2f}" for x in s[key]["runs_s"])
        return f"| {label} | {s[key]['median_s']:.2f} s ({runs}) | {ratio} | {target} |"

    r, met = s["ratios"], s["met"]
    yes = {True: "met", False: "**not met**"}
    return [
        "",
        "### Start-up (one command, end to end, median wall time)",
        "",
        "| command | wall | ratio | target |",
        "|---|---|---|---|",
        row('`python -c "import prefect"`', "import_prefect", "1×", "the yardstick"),
        row(
            "unchanged re-run (one file)",
            "unchanged_rerun",
            f"{r['unchanged_rerun']}× import",
            f"≤ 2× ({yes[met['unchanged_rerun']]})",
        ),
        row("one-file run (`--force`)", "one_file", f"{r['one_file']}× import", f"≤ 4× ({yes[met['one_file']]})"),
        row(
            f"{s.get('day_files', DAY_FILES):,}-file day",
            "day",
            f"{r['day_vs_floor']}× floor",
            f"≤ 5× ({yes[met['day_vs_floor']]})",
        ),
        row("I/O floor of that day", "day_floor", "1×", ""),
    ]
