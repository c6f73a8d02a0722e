"""notebooks/explore.ipynb runs top to bottom on a fresh sample run and on edge cases.

The notebook is executed with nbclient in an ipykernel started from this interpreter (the
project venv), through a kernel spec written for the test, so a `python3` kernel spec
elsewhere on the machine cannot take its place. No network is needed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import polars as pl
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "explore.ipynb"
SAMPLE_RAW = REPO / "data" / "raw"
CELL_TIMEOUT = 120  # seconds per cell; a cell takes well under one on the sample
FIGURES = 6  # publisher per day, cited sources, entities, language, quarantine, word counts


def parameters_cell(nb: nbformat.NotebookNode) -> int:
    tagged = [i for i, cell in enumerate(nb.cells) if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell is tagged `parameters`"
    return tagged[0]


def execute(data_dir: Path | None = None, **parameters) -> nbformat.NotebookNode:
    """Executes the notebook as saved, with `parameters` injected after the parameters cell
    (as papermill does), and returns it with its outputs."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    if parameters:
        injected = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
        nb.cells.insert(parameters_cell(nb) + 1, new_code_cell(injected))
    nb.cells.append(new_code_cell("import sys\nprint('kernel python:', sys.executable)"))
    env = {k: v for k, v in os.environ.items() if k != "NEWS_PIPELINE_DATA_DIR"}
    if data_dir is not None:
        env["NEWS_PIPELINE_DATA_DIR"] = str(data_dir)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        startup_timeout=120,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute(env=env)  # the kernel's environment; raises CellExecutionError, with the traceback, if a cell fails
    assert not [o for cell in nb.cells for o in cell.get("outputs", []) if o.output_type == "error"]
    assert printed(nb).strip().endswith(f"kernel python: {sys.executable}"), "the kernel is not the venv's python"
    return nb


def printed(nb: nbformat.NotebookNode) -> str:
    return "".join(
        o.text for cell in nb.cells for o in cell.get("outputs", []) if o.output_type == "stream" and o.name == "stdout"
    )


def figures(nb: nbformat.NotebookNode) -> int:
    return sum("image/png" in o.get("data", {}) for cell in nb.cells for o in cell.get("outputs", []))


def shown(nb: nbformat.NotebookNode, label: str) -> str:
    """The value printed after `label:` (the overview and the section summaries)."""
    match = re.search(rf"^{re.escape(label)}:\s*(.*)$", printed(nb), flags=re.MULTILINE)
    assert match, f"the notebook printed no `{label}:` line"
    return match.group(1).strip()


def most_cited(curated: pl.DataFrame, n: int = 3) -> str:
    top = (
        curated.select(pl.col("cited_sources").list.unique().explode())
        .drop_nulls()
        .group_by("cited_sources")
        .agg(pl.len().alias("n"))
        .sort(["n", "cited_sources"], descending=[True, False])
        .head(n)
    )
    return ", ".join(f"{source} ({count})" for source, count in top.iter_rows()) or "none"


def read(data: Path, dataset: str) -> pl.DataFrame:
    return pl.read_parquet(f"{data}/{dataset}/articles/**/*.parquet", hive_partitioning=True)


@pytest.fixture(autouse=True)
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A `python3` kernel spec that starts ipykernel with this interpreter, found first
    (JUPYTER_PATH precedes the user's and the system's kernel folders); a fresh IPython
    profile; matplotlib's inline backend as ipykernel sets it."""
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "news-pipeline", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.delenv("MPLBACKEND", raising=False)


@pytest.fixture(scope="module")
def sample_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample landing zone processed by the command line into a fresh data folder."""
    root = tmp_path_factory.mktemp("notebook-sample")
    raw, data = root / "raw", root / "data"
    shutil.copytree(SAMPLE_RAW, raw, symlinks=True)
    exe = Path(sys.executable).with_name("news-pipeline")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    done = subprocess.run(
        [exe, "run", "--raw-dir", raw, "--data-dir", data],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return data


def test_notebook_is_saved_clean_and_standalone():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code), "save the notebook without outputs"
    assert nb.metadata.kernelspec.name == "python3"
    assert nb.cells[0].cell_type == "markdown", "the notebook opens with an introduction"
    params = nb.cells[parameters_cell(nb)].source
    for name in ("DATA_DIR", "START", "END"):
        assert re.search(rf"^{name} = ", params, flags=re.MULTILINE), f"the parameters cell sets {name}"
    assert "NEWS_PIPELINE_DATA_DIR" in params and "../data" in params
    source = "\n".join(cell.source for cell in code)
    assert not re.search(r"^\s*(from|import)\s+(news_pipeline|flows)\b", source, flags=re.MULTILINE)


@pytest.mark.slow
def test_notebook_on_a_sample_run(sample_data: Path):
    nb = execute(sample_data)
    curated, quarantine = read(sample_data, "curated"), read(sample_data, "quarantine")
    assert figures(nb) == FIGURES
    assert int(shown(nb, "Curated articles")) == curated.height > 0
    assert int(shown(nb, "Quarantined files")) == quarantine.height
    first, last = curated["ingest_date"].min(), curated["ingest_date"].max()
    assert shown(nb, "Ingest dates").startswith(f"{first} … {last}")
    assert shown(nb, "Most cited") == most_cited(curated) != "none"
    assert shown(nb, "Exact duplicates") == str(curated["duplicate_of"].is_not_null().sum())
    # the same numbers under the same names as the CLI summary and the run report
    report = json.loads((sample_data / "reports" / "latest.json").read_text())
    assert shown(nb, "Exact duplicates") == str(report["duplicates"])
    assert shown(nb, "Near-duplicates") == str(report["near_duplicates"])


@pytest.mark.slow
def test_notebook_on_a_single_day(sample_data: Path):
    curated = read(sample_data, "curated")
    day = sorted(curated["ingest_date"].unique())[1]
    nb = execute(sample_data, START=day.isoformat(), END=day.isoformat())
    one_day = curated.filter(pl.col("ingest_date") == day)
    assert figures(nb) == FIGURES
    assert shown(nb, "Ingest dates") == f"{day} … {day} (1 day with data)"
    assert int(shown(nb, "Curated articles")) == one_day.height > 0
    assert (
        int(shown(nb, "Quarantined files"))
        == read(sample_data, "quarantine").filter(pl.col("ingest_date") == day).height
    )
    assert shown(nb, "Most cited") == most_cited(one_day)


def edge_case_data(root: Path) -> Path:
    """One day of three curated articles whose lists are all empty, no publisher, an English
    one among them, and no quarantine dataset at all."""
    data = root / "data"
    part = data / "curated" / "articles" / "ingest_date=2025-07-01"
    part.mkdir(parents=True)
    empty = pl.Series([[], [], []], dtype=pl.List(pl.String))
    pl.DataFrame(
        {
            "doc_id": ["a", "b", "c"],
            "source_path": ["2025-07-01/a.txt", "2025-07-01/b.txt", "2025-07-01/c.txt"],
            "title": ["Eins", "Zwei", "Three"],
            "publisher": pl.Series([None, None, None], dtype=pl.String),
            "cited_sources": empty,
            "persons": empty,
            "organizations": empty,
            "locations": empty,
            "language": ["de", "de", "en"],
            "word_count": [120, 80, 95],
            "duplicate_of": pl.Series([None, None, None], dtype=pl.String),
            "story_id": ["a", "b", "c"],
        }
    ).write_parquet(part / "part-0.parquet")
    return data


def test_notebook_on_edge_cases(tmp_path: Path):
    data = edge_case_data(tmp_path)
    nb = execute(data)  # no parameters: the full range is the single day
    assert figures(nb) == FIGURES
    assert shown(nb, "Ingest dates") == "2025-07-01 … 2025-07-01 (1 day with data)"
    assert shown(nb, "Curated articles") == "3"
    assert shown(nb, "Quarantined files") == "0"
    assert shown(nb, "Most cited") == "none"
    assert shown(nb, "Articles not detected as German") == "1"
    assert "No file was quarantined in this range." in printed(nb)

    nb = execute(data, START="2030-01-01", END="2030-12-31")  # a range without any data
    assert figures(nb) == FIGURES
    assert shown(nb, "Curated articles") == "0"
    assert shown(nb, "Quarantine share") == "n/a"
