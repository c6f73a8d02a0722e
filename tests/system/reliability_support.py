"""Helpers shared by the reliability, bad-input and property tests (not a test module itself).

- two versions (A and B) of a generated landing zone that can be swapped in place, so every
  partition has a known "old" and "new" content to compare a reader's view against;
- plain readers (Polars, no project code) and canonical per-partition frames;
- the environment for subprocesses that talk to the session's Prefect test server.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
CLI = str(Path(sys.executable).with_name("news-pipeline"))
DATASETS = ("curated", "quarantine")


def raw_entries(raw: Path) -> set[str]:
    """Every entry of every date folder that must become exactly one row, as ``source_path`` renders it.

    Files, and links that are not plain files (to folders, dangling, loops); link targets are not walked.
    Undecodable name bytes appear as ``\\xNN`` (the documented rendering).
    """
    out = set()
    root = os.fsencode(raw)
    for day in os.listdir(root):
        if not os.path.isdir(os.path.join(root, day)) or len(day) != 10:
            continue
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, day)):
            links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
            dirnames[:] = [d for d in dirnames if d not in links]
            for name in filenames + links:
                rel = os.path.relpath(os.path.join(dirpath, name), root)
                out.add(rel.decode("utf-8", "backslashreplace"))
    return out


def read_dataset(data: Path, dataset: str) -> pl.DataFrame:
    """A whole dataset the way a notebook reads it: a plain glob, no project code."""
    return pl.read_parquet(f"{data}/{dataset}/articles/**/*.parquet", hive_partitioning=True)


def canonical(df: pl.DataFrame) -> pl.DataFrame:
    """Rows of a partition in a fixed order, without the columns that differ between runs of the same input."""
    return df.drop("run_id", "ingest_date", strict=False).sort("doc_id")


def by_partition(df: pl.DataFrame) -> dict[dt.date, pl.DataFrame]:
    return {key[0]: canonical(part) for key, part in df.partition_by("ingest_date", as_dict=True).items()}


def snapshot(data: Path) -> dict[str, dict[dt.date, pl.DataFrame]]:
    """What a reader sees now, per dataset and partition."""
    return {name: by_partition(read_dataset(data, name)) for name in DATASETS}


def stray_files(data: Path) -> list[str]:
    """Files under the dataset roots but ``ingest_date=YYYY-MM-DD/part-0.parquet`` (readers' globs see them all)."""
    bad = []
    for name in DATASETS:
        root = data / name / "articles"
        for path in root.rglob("*"):
            rel = path.relative_to(root)
            if path.is_dir() and len(rel.parts) == 1 and rel.name.startswith("ingest_date="):
                continue
            ok = (
                len(rel.parts) == 2
                and rel.parts[0].startswith("ingest_date=")
                and rel.name == "part-0.parquet"
                and path.is_file()
            )
            if not ok:
                bad.append(f"{name}/{rel}")
    return bad


def assert_accounting(raw: Path, data: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every raw entry of every date folder is exactly one row, in curated or in quarantine."""
    curated, quarantine = read_dataset(data, "curated"), read_dataset(data, "quarantine")
    cur, qua = curated["source_path"].to_list(), quarantine["source_path"].to_list()
    assert len(cur) == len(set(cur)), "a file is curated twice"
    assert len(qua) == len(set(qua)), "a file is quarantined twice"
    assert not set(cur) & set(qua), f"files both curated and quarantined: {sorted(set(cur) & set(qua))[:5]}"
    expected = raw_entries(raw)
    missing, invented = expected - set(cur) - set(qua), (set(cur) | set(qua)) - expected
    assert not missing and not invented, f"missing {sorted(missing)[:5]}, invented {sorted(invented)[:5]}"
    all_ids = curated["doc_id"].to_list() + quarantine["doc_id"].to_list()
    assert len(all_ids) == len(set(all_ids)), "a doc_id appears twice"
    assert quarantine["reasons"].list.len().min() >= 1 if quarantine.height else True
    return curated, quarantine


def subprocess_env(tmp: Path, api_url: str | None, **extra: str) -> dict[str, str]:
    """Environment for a CLI or worker subprocess: no inherited Prefect API or profile, a private PREFECT_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NEWS_PIPELINE_"))}
    home = tmp / "prefect-home"
    home.mkdir(parents=True, exist_ok=True)
    env |= {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "False",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "RUST_BACKTRACE": "0",
    }
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env | extra


def harness_api_url() -> str:
    """The API URL of the session's Prefect test server (only inside a test that uses ``prefect_harness``)."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    assert url and "127.0.0.1" in url, url
    return url


# ---------------------------------------------------------------------------------------
# Two versions of one landing zone
# ---------------------------------------------------------------------------------------


@dataclass
class Versions:
    """A landing zone ``raw`` that holds version A or B; ``alt`` keeps the other version of each changed path."""

    raw: Path
    alt: Path
    changed: list[str]
    dates: list[dt.date]
    state: str = "A"
    refs: dict[str, dict[str, dict[dt.date, pl.DataFrame]]] = field(default_factory=dict)  # version -> snapshot
    ref_data: dict[str, Path] = field(default_factory=dict)  # version -> data dir of its clean run

    def toggle(self) -> str:
        """Swap every changed path between ``raw`` and ``alt`` (renames keep mtimes), return the new version."""
        for rel in self.changed:
            here, there = self.raw / rel, self.alt / rel
            tmp = self.alt / (rel + ".swap")
            here_exists, there_exists = here.exists(), there.exists()
            if here_exists:
                tmp.parent.mkdir(parents=True, exist_ok=True)
                os.replace(here, tmp)
            if there_exists:
                here.parent.mkdir(parents=True, exist_ok=True)
                os.replace(there, here)
            if here_exists:
                os.replace(tmp, there)
        self.state = "B" if self.state == "A" else "A"
        return self.state

    def set(self, version: str) -> None:
        if self.state != version:
            self.toggle()

    def copy(self, dest: Path) -> Versions:
        """An independent copy (same mtimes, same version state) under ``dest``."""
        shutil.copytree(self.raw, dest / "raw", symlinks=True)
        shutil.copytree(self.alt, dest / "alt", symlinks=True)
        return Versions(
            dest / "raw", dest / "alt", list(self.changed), list(self.dates), self.state, self.refs, self.ref_data
        )

    def allowed(self, dataset: str, day: dt.date) -> list[pl.DataFrame]:
        return [self.refs[v][dataset][day] for v in ("A", "B") if day in self.refs[v][dataset]]


def build_versions(root: Path, n_articles: int = 300, n_dates: int = 3, seed: int = 11) -> Versions:
    """Landing zone version A (a generated corpus) and B (per date: files removed, added, edited, one empty).

    Every partition differs between A and B in both datasets, so "exactly the old or exactly the
    new content" is a real check.
    """
    from dev.corpus.generate import build_corpus

    raw, alt, pool = root / "raw", root / "alt", root / "pool"
    build_corpus(raw, n_articles=n_articles, n_dates=n_dates, seed=seed, truth_path=root / "truth.jsonl")
    build_corpus(
        pool,
        n_articles=12 * n_dates,
        n_dates=n_dates,
        seed=seed + 1,
        broken_share=0.0,
        exact_dup_share=0.0,
        near_dup_share=0.0,
        truth_path=root / "pool-truth.jsonl",
    )
    changed: list[str] = []
    days = sorted(p.name for p in raw.iterdir() if p.is_dir())
    for day in days:
        files = sorted(p for p in (raw / day).rglob("*") if p.is_file())
        extra = sorted(p for p in (pool / day).rglob("*") if p.is_file())
        removed, edited = files[:4], files[4:8]
        for path in removed:  # in A only
            changed.append(path.relative_to(raw).as_posix())
        for path, new in zip(edited, extra[:4], strict=False):  # other bytes in B
            rel = path.relative_to(raw).as_posix()
            (alt / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(new, alt / rel)
            changed.append(rel)
        for i, new in enumerate(extra[4:10]):  # in B only
            rel = f"{day}/late/added-{i:02d}{''.join(new.suffixes)}"
            (alt / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(new, alt / rel)
            changed.append(rel)
        empty = f"{day}/late/empty-in-b.txt"  # one more quarantined file in B
        (alt / empty).parent.mkdir(parents=True, exist_ok=True)
        (alt / empty).write_bytes(b"")
        changed.append(empty)
    return Versions(raw, alt, changed, [dt.date.fromisoformat(d) for d in days])
