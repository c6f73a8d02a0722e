"""The benchmark machinery (``benchmarks/``) on a tiny corpus: it runs and writes its files.

No timing is asserted anywhere: only that each measurement ran, produced its numbers and files.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import corpora, report
from benchmarks.children import UNATTRIBUTED, profile_stages
from benchmarks.measure import machine_info, measure
from benchmarks.startup import TARGETS
from news_pipeline.timing import Timings

REPO = Path(__file__).resolve().parents[2]
#: the stages every batch and partition publish times (news_pipeline.batch, news_pipeline.partition)
RUNNER_STAGES = {
    "read + decode",
    "normalize",
    "parse + extract",
    "language",
    "entities",
    "hashes",
    "other",
    "staging I/O",
    "duplicates + stories",
    "validate",
    "publish",
}
MEASURED_KEYS = {"wall_s", "cpu_s", "cores_used", "peak_rss_mb", "peak_tree_rss_mb", "other_load_cores", "returncode"}


def run_bench(root: Path, *extra: str) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.run",
        "--n",
        "200",
        "--dates",
        "2",
        "--seed",
        "3",
        "--root",
        str(root),
        "--sizes",
        "200",
        "--floor-repeats",
        "1",
        *extra,
    ]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| measurement |" in done.stdout  # the table is printed
    return json.loads((root / "results.json").read_text())


def test_measure_reads_peak_memory_and_the_last_json_line(tmp_path: Path):
    code = "import json; block = bytearray(80_000_000); print('noise'); print(json.dumps({'seconds': 1.5}))"
    m = measure("alloc", [sys.executable, "-c", code], env=dict(os.environ), log_dir=tmp_path)
    assert set(m) >= MEASURED_KEYS and m["returncode"] == 0
    assert m["child"] == {"seconds": 1.5}
    assert m["peak_rss_mb"] >= 80  # the kernel's high-water mark saw the 80 MB block
    assert (tmp_path / "alloc.stdout").read_text().startswith("noise")


def test_measure_raises_with_the_childs_error(tmp_path: Path):
    code = "import sys; print('it broke', file=sys.stderr); sys.exit(3)"
    with pytest.raises(RuntimeError, match="(?s)exit status 3.*it broke"):
        measure("fail", [sys.executable, "-c", code], env=dict(os.environ), log_dir=tmp_path)


def test_quick_benchmark_writes_results_and_reuses_the_corpus(tmp_path: Path):
    results = run_bench(tmp_path, "--skip-pipeline")
    corpus = results["corpus"]
    assert (corpus["files"], corpus["partitions"], corpus["reused"]) == (200, 2, False)
    floor, base = results["measurements"]["floor"], results["measurements"]["baseline"]
    assert set(floor) >= MEASURED_KEYS and set(base) >= MEASURED_KEYS
    assert 0 < floor["child"]["files"] <= 200  # links to folders and dangling links are not files
    assert base["child"]["files"] == 200 and base["child"]["curated"] + base["child"]["quarantined"] == 200
    assert floor["docs_per_s_work"] > 0 and base["docs_per_s_work"] > 0
    assert "| I/O floor (PyArrow) |" in (tmp_path / "results.md").read_text()
    assert not (tmp_path / "runs" / "baseline").exists()  # outputs are removed unless --keep-outputs
    # the marker makes the next run reuse the corpus
    again = corpora.ensure_corpus(tmp_path, 200, 2, 3)
    assert again["reused"] and again["files"] == 200


def test_profile_rows_are_the_runners_stages_plus_the_rest_of_the_run():
    timings = Timings()
    timings.add("read + decode", 1.0, 0.5)
    timings.add("read + decode", 0.5, 0.5)
    timings.add("publish", 2.0, 2.5)
    rows = {r["stage"]: r for r in profile_stages(timings.totals, wall=4.0, cpu=3.75)}
    assert rows["read + decode"] == {"stage": "read + decode", "calls": 2, "wall_s": 1.5, "cpu_s": 1.0}
    assert rows[UNATTRIBUTED] == {"stage": UNATTRIBUTED, "calls": 1, "wall_s": 0.5, "cpu_s": 0.25}
    assert sum(r["wall_s"] for r in rows.values()) == 4.0  # the rows add up to the run


def _fake(**kw) -> dict:
    figures = {
        "wall_s": 10.0,
        "cpu_s": 15.0,
        "cores_used": 1.5,
        "peak_rss_mb": 500.0,
        "peak_tree_rss_mb": 700.0,
        "other_load_cores": 0.1,
        "work_s": 8.0,
        "docs_per_s_work": 1000.0,
        "docs_per_s_e2e": 800.0,
        "mb_per_s_work": 3.0,
    }
    return figures | kw


def _fake_profile(docs: int, f: float, stages: list[dict]) -> dict:
    """A profile whose stages' wall time grows ``f`` times while their CPU time stays."""
    rows = [s | {"wall_s": s["wall_s"] * f} for s in stages]
    return {"profile": {"docs": docs, "wall_s": 3.0 * f, "cpu_s": 2.0 * f, "setup_s": 5.0, "stages": rows}}


def test_report_renders_every_section(tmp_path: Path):
    """derive() and to_markdown() over a full set of (made-up) measurements, two profile sizes included."""
    counts = {"files": 200, "curated": 190, "quarantined": 10, "duplicates": 5, "near_duplicates": 4}
    stages = [
        {"stage": "read + decode", "calls": 1, "wall_s": 1.0, "cpu_s": 1.0},
        {"stage": "validate", "calls": 1, "wall_s": 1.5, "cpu_s": 1.0},
        {"stage": UNATTRIBUTED, "calls": 1, "wall_s": 0.5, "cpu_s": 0.0},
    ]
    new_stage = {"stage": "a stage the runner added", "calls": 1, "wall_s": 0.1, "cpu_s": 0.1}
    results = {
        "args": {"n": 200, "dates": 2, "seed": 3},
        "machine": machine_info(),
        "corpus": {"files": 200, "bytes": 600_000, "partitions": 2},
        "measurements": {
            "floor": _fake(docs_per_s_work=4000.0, docs_per_s_e2e=2000.0),
            "baseline": _fake(docs_per_s_work=100.0, docs_per_s_e2e=90.0),
            "pipeline": _fake(report={"seconds": 8.0, **counts}),
            "direct": _fake(
                child={"seconds": 7.5, "batches": 2, "partitions": 2, "finalize_seconds": [0.5, 0.5], **counts}
            ),
            "prefect_probe": {"child": {"flow_run_fixed_s": 0.2, "server_start_s": 6.0, "per_task_ms": 3.0}},
        },
        "pipeline_by_size": {"200": _fake(), "600": _fake(peak_tree_rss_mb=900.0)},
        "profiles": {"200": _fake_profile(200, 1.0, stages), "600": _fake_profile(600, 3.3, stages + [new_stage])},
    }
    results["derived"] = report.derive(copy.deepcopy(results))
    d = results["derived"]
    assert d["pipeline_vs_floor_work"] == 0.25 and d["pipeline_vs_baseline_work"] == 10.0
    assert d["prefect"]["same_counts"] and d["prefect"]["tasks"] == 4  # 2 batches + 2 publishes
    assert len(d["targets"]) == 7
    assert [t["met"] for t in d["targets"][:2]] == [False, False]  # 0.25x the floor, 10x the per-document version
    growth = {s["group"]: s["growth"] for s in d["scaling"]}
    # in pipeline order, the rest of the run last; a stage the benchmark does not know is shown, not dropped
    assert list(growth) == ["read + decode", "validate", UNATTRIBUTED, "a stage the runner added", "total"]
    assert growth == {
        "read + decode": 1.1,
        "validate": 1.1,
        UNATTRIBUTED: 1.1,
        "a stage the runner added": None,
        "total": 1.1,
    }
    md = report.to_markdown(results)
    for heading in (
        "| measurement |",
        "| target |",
        "Where the time goes",
        "`news-pipeline run` as the corpus grows",
        f"| {UNATTRIBUTED} |",
        "| *one-time setup* |",
    ):
        assert heading in md
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{report.README_START}\nOLD-FIGURES\n{report.README_END}\noutro\n")
    assert report.update_readme(md, readme)
    text = readme.read_text()
    assert "OLD-FIGURES" not in text and "| target |" in text and text.endswith(f"{report.README_END}\noutro\n")


def test_results_written_before_the_runner_still_render():
    """--from-results on an older results.json: per-task seconds instead of counts, finer stages with a group."""
    assert report.task_runs({"batch_seconds": [1.0, 1.0, 1.0], "finalize_seconds": [0.5]}) == 4
    old = {
        "docs": 1000,
        "wall_s": 2.0,
        "cpu_s": 2.0,
        "stages": [
            {"stage": "plan_partitions: list files", "group": "plan", "calls": 1, "wall_s": 0.5, "cpu_s": 0.5},
            {"stage": "entities._tokens", "group": "entities", "calls": 1, "wall_s": 1.0, "cpu_s": 1.0},
            {"stage": "entities._flags", "group": "entities", "calls": 1, "wall_s": 0.5, "cpu_s": 0.5},
        ],
    }
    assert [(r["group"], r["wall_s"]) for r in report.stage_table(old)] == [("plan", 0.5), ("entities", 1.5)]


@pytest.mark.slow
def test_full_benchmark_on_a_tiny_corpus(tmp_path: Path):
    """Everything `make bench` does, with the product itself, on 200 files (about two minutes: four Prefect runs)."""
    # the start-up section on a day of 200 files, each command once (the figures come from `make bench`)
    results = run_bench(tmp_path, "--probe-tasks", "5", "--startup-day-files", "200", "--startup-repeats", "1")
    m = results["measurements"]
    assert {"floor", "baseline", "pipeline", "direct", "prefect_probe"} <= set(m)
    assert m["pipeline"]["report"]["files"] == 200 and m["pipeline"]["report"]["failed_partitions"] == []
    assert results["derived"]["prefect"]["same_counts"]  # the run without Prefect did the same work
    direct = m["direct"]["child"]
    # 200 files in 2 date folders: one batch per folder, on threads as the flow picks them below 2,000 files
    assert (direct["batches"], direct["partitions"], direct["runner"]) == (2, 2, "threads")
    assert direct["failed_partitions"] == [] and len(direct["finalize_seconds"]) == 2
    profile = results["profiles"]["200"]["profile"]
    assert profile["docs"] == 200 and profile["summary"]["files"] == 200
    stages = {s["stage"]: s for s in profile["stages"]}
    assert set(stages) == RUNNER_STAGES | {UNATTRIBUTED}, "the profile lost or gained a stage of the runner"
    assert set(stages) <= set(report.GROUP_ORDER)  # every stage has its place in the table
    assert stages["read + decode"]["calls"] == 2 and stages["publish"]["calls"] == 2  # per batch, per partition
    assert stages[UNATTRIBUTED]["wall_s"] >= 0
    assert sum(s["wall_s"] for s in stages.values()) == pytest.approx(profile["wall_s"], abs=0.01)
    assert [t["target"] for t in results["derived"]["targets"]]
    assert "Where the time goes" in (tmp_path / "results.md").read_text()
    startup = results["startup"]
    assert startup["day_files"] == 200 and set(startup["ratios"]) == set(startup["met"]) == set(TARGETS)
    assert all(len(startup[k]["runs_s"]) == 1 for k in ("import_prefect", "unchanged_rerun", "one_file", "day"))
    assert "200-file day" in (tmp_path / "results.md").read_text()
