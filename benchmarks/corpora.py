"""The benchmark's corpora: built once per (n, dates, seed) under ``ROOT/corpora/``, reused after, read warm.

``corpus.json`` in a corpus folder marks a finished build; it is written last, so an
interrupted build is rebuilt the next time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

from benchmarks.measure import REPO, log


def corpus_dir(root: Path, n: int, dates: int, seed: int) -> Path:
    """The folder of the corpus for (n, dates, seed) under ``root``."""
    return root / "corpora" / f"n{n}-d{dates}-s{seed}"


def raw_stats(raw_dir: Path) -> dict:
    """Files (as the pipeline counts them: every file and folder link), their bytes on disk, and date folders."""
    from news_pipeline.io.landing import list_files, list_partitions

    files = size = 0
    partitions = list_partitions(raw_dir)
    for part in partitions:
        listing = list_files(raw_dir, part)
        files += listing.height
        size += int(listing["size"].sum() or 0)
    return {"files": files, "bytes": size, "partitions": len(partitions)}


def ensure_corpus(root: Path, n: int, dates: int, seed: int, log_file: Path | None = None) -> dict:
    """The corpus for (n, dates, seed): its marker's record plus ``raw_dir`` and ``reused``; built if missing."""
    target = corpus_dir(root, n, dates, seed)
    marker = target / "corpus.json"
    try:
        info = json.loads(marker.read_text())
        if (info.get("n"), info.get("dates"), info.get("seed")) == (n, dates, seed) and (target / "raw").is_dir():
            return info | {"raw_dir": str(target / "raw"), "reused": True}
    except (OSError, ValueError):
        pass
    from dev.corpus.generate import build_corpus

    log(f"building a corpus of {n:,} files over {dates} dates (seed {seed}) in {target}", log_file)
    shutil.rmtree(target, ignore_errors=True)
    started = time.perf_counter()
    build_corpus(target / "raw", n_articles=n, n_dates=dates, seed=seed, truth_path=target / "truth.jsonl")
    return write_corpus_marker(target, n, dates, seed, time.perf_counter() - started) | {"reused": False}


def write_corpus_marker(target: Path, n: int, dates: int, seed: int, seconds: float | None) -> dict:
    """Record a finished build in ``corpus.json``; the record plus ``raw_dir``."""
    generator = (REPO / "dev" / "corpus" / "generate.py").read_bytes()
    info = {
        "n": n,
        "dates": dates,
        "seed": seed,
        **raw_stats(target / "raw"),
        "build_seconds": None if seconds is None else round(seconds, 1),
        "built": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "generator_sha256": hashlib.sha256(generator).hexdigest()[:16],
    }
    tmp = target / "corpus.json.tmp"
    tmp.write_text(json.dumps(info, indent=2))
    os.replace(tmp, target / "corpus.json")
    return info | {"raw_dir": str(target / "raw")}


def warm_cache(raw_dir: Path) -> float:
    """Read every raw file once so that every measurement starts from the same warm page cache; the seconds taken."""
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
