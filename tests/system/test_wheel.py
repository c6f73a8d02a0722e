"""The package as a user installs it: a wheel in a fresh virtual environment, run from another folder.

Catches what an editable install hides: files the package reads that are not in the wheel (the
expectation suite, the gazetteers), and paths computed relative to the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import REPO, SAMPLE_RAW
from tests.system.reliability_support import harness_api_url, subprocess_env

pytestmark = pytest.mark.slow


def _uv() -> str:
    """uv: the one running these tests (``uv run`` sets ``UV``), on PATH, or the one ``make`` installed."""
    found = os.environ.get("UV") or shutil.which("uv") or str(REPO / ".tools" / "bin" / "uv")
    if not Path(found).exists():
        pytest.fail(f"uv not found ({found}); run the tests with `make test`")
    return found


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kwargs)
    assert done.returncode == 0, f"{' '.join(cmd)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with the locked dependencies and the project's wheel (not editable); its bin folder."""
    uv, work = _uv(), tmp_path_factory.mktemp("wheel")
    _run([uv, "build", "--wheel", "--out-dir", str(work / "dist"), str(REPO)], cwd=work)
    (wheel,) = (work / "dist").glob("news_pipeline-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "news_pipeline/expectations/articles.json" in names
    assert "news_pipeline/resources/entities/persons.tsv" in names
    requirements = work / "requirements.txt"
    export = [uv, "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "--project", str(REPO)]
    requirements.write_text(_run(export).stdout)
    _run([uv, "venv", "--python", sys.executable, str(work / "venv")])
    python = work / "venv" / "bin" / "python"
    _run([uv, "pip", "install", "--python", str(python), "-r", str(requirements)])
    _run([uv, "pip", "install", "--python", str(python), "--no-deps", str(wheel)])
    return python.parent


def test_installed_wheel_runs_the_sample_data_from_another_folder(installed: Path, prefect_harness, tmp_path: Path):
    elsewhere, data = tmp_path / "elsewhere", tmp_path / "data"
    elsewhere.mkdir()
    env = subprocess_env(tmp_path, harness_api_url())
    env.pop("PYTHONPATH", None)
    where = _run([str(installed / "python"), "-c", "import news_pipeline, flows; print(news_pipeline.__file__)"],
                 cwd=elsewhere, env=env)  # fmt: skip
    assert "site-packages" in where.stdout and str(REPO) not in where.stdout
    cmd = [str(installed / "news-pipeline"), "run", "--raw-dir", str(SAMPLE_RAW), "--data-dir", str(data)]
    done = _run(cmd, cwd=elsewhere, env=env)
    assert "50 files in 3 partitions" in " ".join(done.stdout.split()), done.stdout
    curated = pl.read_parquet(data / "curated" / "articles" / "**" / "*.parquet", hive_partitioning=True)
    quarantine = pl.read_parquet(data / "quarantine" / "articles" / "**" / "*.parquet", hive_partitioning=True)
    assert curated.height + quarantine.height == 50 and curated.height > 40
    assert curated["persons"].list.len().sum() > 0  # the gazetteers were found in the installed package
    assert list(elsewhere.iterdir()) == []  # nothing written to the working folder
