"""The benchmark machinery (``benchmarks/run.py``) on a tiny corpus: it runs and writes its files.

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

from benchmarks import run as bench

REPO = Path(__file__).resolve().parents[2]
MEASURED_KEYS = {"wall_s", "cpu_s", "cores_used", "peak_rss_mb", "peak_tree_rss_mb", "other_load_cores", "returncode"}


def run_bench(root: Path, *extra: str) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.run", "--n", "200", "--dates", "2", "--seed", "3", "--root", str(root),
           "--sizes", "200", "--floor-repeats", "1", *extra]  # fmt: skip
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| measurement |" in done.stdout  # the table is printed
    return json.loads((root / "results.json").read_text())


def test_measure_reads_peak_memory_and_the_last_json_line(tmp_path: Path):
    code = "import json; block = bytearray(80_000_000); print('noise'); print(json.dumps({'seconds': 1.5}))"
    m = bench.measure("alloc", [sys.executable, "-c", code], env=dict(os.environ), log_dir=tmp_path)
    assert MEASURED_KEYS <= set(m) and m["returncode"] == 0
    assert m["child"] == {"seconds": 1.5}
    assert m["peak_rss_mb"] >= 80  # the kernel's high-water mark saw the 80 MB block
    assert (tmp_path / "alloc.stdout").read_text().startswith("noise")


def test_measure_raises_with_the_childs_error(tmp_path: Path):
    code = "import sys; print('it broke', file=sys.stderr); sys.exit(3)"
    with pytest.raises(RuntimeError, match="(?s)exit status 3.*it broke"):
        bench.measure("fail", [sys.executable, "-c", code], env=dict(os.environ), log_dir=tmp_path)


def test_quick_benchmark_writes_results_and_reuses_the_corpus(tmp_path: Path):
    results = run_bench(tmp_path, "--skip-pipeline")
    corpus = results["corpus"]
    assert (corpus["files"], corpus["partitions"], corpus["reused"]) == (200, 2, False)
    floor, base = results["measurements"]["floor"], results["measurements"]["baseline"]
    assert MEASURED_KEYS <= set(floor) and MEASURED_KEYS <= set(base)
    assert 0 < floor["child"]["files"] <= 200  # links to folders and dangling links are not files
    assert base["child"]["files"] == 200 and base["child"]["curated"] + base["child"]["quarantined"] == 200
    assert floor["docs_per_s_work"] > 0 and base["docs_per_s_work"] > 0
    assert "| I/O floor (PyArrow) |" in (tmp_path / "results.md").read_text()
    assert not (tmp_path / "runs" / "baseline").exists()  # outputs are removed unless --keep-outputs
    # the marker makes the next run reuse the corpus
    again = bench.ensure_corpus(tmp_path, 200, 2, 3)
    assert again["reused"] and again["files"] == 200


def test_report_renders_every_section(tmp_path: Path):
    """derive() and to_markdown() over a full set of (made-up) measurements, two profile sizes included."""
    fake = lambda **kw: {"wall_s": 10.0, "cpu_s": 15.0, "cores_used": 1.5, "peak_rss_mb": 500.0,  # noqa: E731
                         "peak_tree_rss_mb": 700.0, "other_load_cores": 0.1, "work_s": 8.0,
                         "docs_per_s_work": 1000.0, "docs_per_s_e2e": 800.0, "mb_per_s_work": 3.0, **kw}  # fmt: skip
    counts = {"files": 200, "curated": 190, "quarantined": 10, "duplicates": 5, "near_duplicates": 4}
    stages = [{"stage": "read_batch", "group": "read + decode", "calls": 1, "wall_s": 1.0, "cpu_s": 1.0},
              {"stage": "validate._run", "group": "validate", "calls": 1, "wall_s": 2.0, "cpu_s": 1.0}]  # fmt: skip
    profile = lambda docs, f: {"profile": {"docs": docs, "wall_s": 3.0 * f, "cpu_s": 2.0 * f, "setup_s": 5.0,  # noqa: E731
                                           "stages": [s | {"wall_s": s["wall_s"] * f} for s in stages]}}  # fmt: skip
    results = {
        "args": {"n": 200, "dates": 2, "seed": 3},
        "machine": bench.machine_info(),
        "corpus": {"files": 200, "bytes": 600_000, "partitions": 2},
        "measurements": {
            "floor": fake(docs_per_s_work=4000.0, docs_per_s_e2e=2000.0),
            "baseline": fake(docs_per_s_work=100.0, docs_per_s_e2e=90.0),
            "pipeline": fake(report={"seconds": 8.0, **counts}),
            "direct": fake(child={"seconds": 7.5, "batch_seconds": [1.0, 1.0], "finalize_seconds": [0.5, 0.5], **counts}),
            "prefect_probe": {"child": {"flow_run_fixed_s": 0.2, "server_start_s": 6.0, "per_task_ms": 3.0}},
        },
        "pipeline_by_size": {"200": fake(), "600": fake(peak_tree_rss_mb=900.0)},
        "profiles": {"200": profile(200, 1.0), "600": profile(600, 3.3)},
    }
    results["derived"] = bench.derive(copy.deepcopy(results))
    d = results["derived"]
    assert d["pipeline_vs_floor_work"] == 0.25 and d["pipeline_vs_baseline_work"] == 10.0
    assert d["prefect"]["same_counts"] and d["prefect"]["tasks"] == 4
    assert len(d["targets"]) == 7
    assert [t["met"] for t in d["targets"][:2]] == [False, False]  # 0.25x the floor, 10x the per-document version
    growth = {s["group"]: s["growth"] for s in d["scaling"]}
    assert growth == {"read + decode": 1.1, "validate": 1.1, "total": 1.1}
    md = bench.to_markdown(results)
    for heading in ("| measurement |", "| target |", "Where the time goes", "`news-pipeline run` as the corpus grows"):
        assert heading in md
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{bench.README_START}\nOLD-FIGURES\n{bench.README_END}\noutro\n")
    assert bench.update_readme(md, readme)
    text = readme.read_text()
    assert "OLD-FIGURES" not in text and "| target |" in text and text.endswith(f"{bench.README_END}\noutro\n")


@pytest.mark.slow
def test_full_benchmark_on_a_tiny_corpus(tmp_path: Path):
    """Everything `make bench` does, with the product itself, on 200 files (about a minute: Prefect and GX start)."""
    results = run_bench(tmp_path, "--probe-tasks", "5")
    m = results["measurements"]
    assert {"floor", "baseline", "pipeline", "direct", "prefect_probe"} <= set(m)
    assert m["pipeline"]["report"]["files"] == 200 and m["pipeline"]["report"]["failed_partitions"] == []
    assert results["derived"]["prefect"]["same_counts"]  # the run without Prefect did the same work
    profile = results["profiles"]["200"]["profile"]
    assert profile["docs"] == 200 and profile["summary"]["files"] == 200
    public = [p for p in profile["missing_points"] if not p.rsplit(".", 1)[-1].startswith("_")]
    assert public == [], "the stage profile lost track of a pipeline function"
    assert {s["group"] for s in profile["stages"]} >= {"read + decode", "parse + extract", "language", "entities",
                                                       "hashes", "validate", "publish"}  # fmt: skip
    assert [t["target"] for t in results["derived"]["targets"]]
    assert "Where the time goes" in (tmp_path / "results.md").read_text()
