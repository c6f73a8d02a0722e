"""A landing zone of broken files, links, odd names and good articles, run through the command line.

Every bad file must end in quarantine with a reason a person can read (or be decoded correctly),
the run must exit 0 and publish the good rest of the partition, and nothing may blow the memory
(a 200 MB one-line file, a gzip bomb, /dev/zero behind a link) or hang the run (a named pipe).
"""

from __future__ import annotations

import codecs
import gzip
import os
import random
import re
import subprocess
from pathlib import Path

import polars as pl
import pytest

from tests.system.reliability_support import CLI, assert_accounting, harness_api_url, read_dataset, subprocess_env

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

DAY = "2025-06-01"
SEED_TITLES = {
    "000": "Russland lockt Elon Musk mit Asyl nach Streitigkeiten mit Trump!",
    "001": "Fluchtplan für Elon Musk? Russland bietet ihm Asyl an!",
}
MAX_RSS_BYTES = 1_500_000_000  # a CLI run of this zone needs well under 1 GB; the bomb alone inflates to 1.5 GB


def _seed_texts(seed_paths: list[Path]) -> dict[str, str]:
    return {p.name[:3]: p.read_text(encoding="utf-8") for p in seed_paths}


def build_bad_zone(root: Path, seed_paths: list[Path]) -> tuple[Path, dict[str, str], dict[str, tuple[str, str]]]:
    """The landing zone: (raw dir, bad source_path -> expected reason, good source_path -> (title, encoding))."""
    from dev.corpus.generate import build_corpus

    raw = root / "raw"
    build_corpus(
        raw,
        n_articles=40,
        n_dates=1,
        seed=21,
        start_date=DAY,
        broken_share=0.0,
        exact_dup_share=0.0,
        near_dup_share=0.0,
        truth_path=root / "truth.jsonl",
    )
    day = raw / DAY
    outside = root / "outside"  # link targets outside the landing zone
    (outside / "folder").mkdir(parents=True)
    (outside / "folder" / "not-walked.txt").write_text("must not be listed")
    seeds = _seed_texts(seed_paths)
    s0, s1 = seeds["000"], seeds["001"]
    (outside / "good.txt").write_text(s0, encoding="utf-8")
    rng = random.Random(5)
    bad: dict[str, str] = {}
    good: dict[str, tuple[str, str]] = {}

    def put(name: str | bytes, data: bytes) -> str:
        path = os.path.join(os.fsencode(day), os.fsencode(name))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
        return os.path.relpath(path, os.fsencode(raw)).decode("utf-8", "backslashreplace")

    def link(name: str, target: str | Path) -> str:
        (day / name).symlink_to(target)
        return f"{DAY}/{name}"

    # broken files: expected words of the reason
    bad[put("empty.txt", b"")] = "unreadable_file: the file is empty"
    bad[put("blank.txt", b"  \r\n\t\n   \n")] = "unreadable_file: the file contains only whitespace"
    bad[put("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rng.randbytes(3000))] = "binary data, not an article"
    raw0 = s0.encode("utf-8")
    bad[put("nul.txt", raw0[:500] + b"\x00\x00" + raw0[500:900] + b"\x00" + raw0[900:])] = "text with NUL bytes"
    bad[put("undecodable.txt", raw0[:300] + b"\x81\x8d\x8f\x90\x9d" + raw0[300:])] = "neither valid UTF-8 nor cp1252"
    bad[put("bom-but-not-utf8.txt", codecs.BOM_UTF8 + b"Schlagzeile \xff\xfe kaputt\n" * 20)] = "not valid UTF-8"
    bad[put("bom-but-not-utf16.txt", codecs.BOM_UTF16_LE + b"\x00\xd8A\x00" * 100)] = "not valid UTF-16"
    bad[put("truncated.txt.gz", gzip.compress(raw0)[:700])] = "is a truncated or corrupt gzip file"
    member = gzip.compress(b"a" * 10_000_000, compresslevel=9)  # one line, 1.5 GB once inflated
    bad[put("bomb.txt.gz", member * 150)] = "decompresses to more than the 20,000,000-byte limit"
    huge = day / "huge-one-line.txt"  # 200 MB, mostly a hole: created in no time
    with open(huge, "wb") as fh:
        fh.write(b"Schlagzeile ohne Zeilenende " * 10)
        fh.truncate(200 * 1024 * 1024)
    bad[f"{DAY}/{huge.name}"] = "209,715,200 bytes, larger than the 20,000,000-byte limit"
    bad[put("short.txt", b"Kurz.")] = "too_short: the file has only 5 characters"
    bad[link("loop-a.txt", day / "loop-b.txt")] = "cannot be read (Too many levels of symbolic links)"
    bad[link("loop-b.txt", day / "loop-a.txt")] = "cannot be read (Too many levels of symbolic links)"
    bad[link("self-loop", "self-loop")] = "cannot be read (Too many levels of symbolic links)"
    bad[link("dangling.txt", root / "nowhere.txt")] = "cannot be read (No such file or directory)"
    bad[link("folder-outside", outside / "folder")] = "is a link to a folder, not a file"
    bad[link("folder-inside", day / "nested")] = "is a link to a folder, not a file"
    bad[link("zero.txt", "/dev/zero")] = "is not a regular file"
    os.mkfifo(day / "pipe.txt")
    bad[f"{DAY}/pipe.txt"] = "is not a regular file"

    # decoded correctly: encodings, gzip, odd names, a link to a good file
    t0, t1 = SEED_TITLES["000"], SEED_TITLES["001"]
    good[put("utf16-le.txt", codecs.BOM_UTF16_LE + s0.encode("utf-16-le"))] = (t0, "utf-16")
    good[put("utf16-be.txt", codecs.BOM_UTF16_BE + s1.encode("utf-16-be"))] = (t1, "utf-16")
    good[put("bom.txt", codecs.BOM_UTF8 + s1.encode("utf-8"))] = (t1, "utf-8-sig")
    good[put("cp1252.txt", s1.encode("cp1252"))] = (t1, "cp1252")
    good[put("gzipped.txt.gz", gzip.compress(s1.encode("utf-8")))] = (t1, "gzip+utf-8")
    good[put("with  spaces and (brackets) [1].txt", s0.encode())] = (t0, "utf-8")
    good[put("Ünïcödé – ß 名前 📰.txt", s1.encode())] = (t1, "utf-8")
    good[put("A\u0308-decomposed.txt", s0.encode())] = (t0, "utf-8")
    good[put(b"latin1-caf\xe9-\xff.txt", s1.encode())] = (t1, "utf-8")  # not UTF-8: shown as \xe9 \xff
    good[put("l" * 200 + "-" + "ä" * 20 + ".txt", s0.encode())] = (t0, "utf-8")  # 245 bytes
    good[put(".hidden.txt", s1.encode())] = (t1, "utf-8")
    good[put("-leading-dash.txt", s0.encode())] = (t0, "utf-8")
    good[put("tab\tand\nnewline.txt", s1.encode())] = (t1, "utf-8")
    good[put("quote'\"*?;$&.txt", s0.encode())] = (t0, "utf-8")
    good[put("nested/deeper/still/article.txt", s1.encode())] = (t1, "utf-8")
    good[link("link-to-good.txt", outside / "good.txt")] = (t0, "utf-8")
    return raw, bad, good


def _lstat_all(raw: Path) -> dict[bytes, tuple]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(os.fsencode(raw)):
        for name in dirnames + filenames:
            st = os.lstat(os.path.join(dirpath, name))
            out[os.path.join(dirpath, name)] = (st.st_mode, st.st_size, st.st_mtime_ns, st.st_ino)
    return out


def test_bad_inputs_are_quarantined_with_reasons_and_the_rest_is_published(seed_paths, tmp_path: Path):
    raw, bad, good = build_bad_zone(tmp_path, seed_paths)
    before = _lstat_all(raw)
    data = tmp_path / "data"
    env = subprocess_env(tmp_path, harness_api_url())
    with open(tmp_path / "out.txt", "wb") as out, open(tmp_path / "err.txt", "wb") as err:
        proc = subprocess.Popen(
            [CLI, "run", "--raw-dir", str(raw), "--data-dir", str(data)], env=env, stdout=out, stderr=err
        )
        _, status, usage = os.wait4(proc.pid, 0)  # the child's own peak memory
        proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = (tmp_path / "err.txt").read_text(errors="replace")
    assert proc.returncode == 0, stderr[-3000:]
    assert usage.ru_maxrss * 1024 < MAX_RSS_BYTES, f"peak memory {usage.ru_maxrss / 1024:.0f} MB"

    curated, quarantine = assert_accounting(raw, data)
    reasons = dict(zip(quarantine["source_path"], quarantine["reasons"].to_list(), strict=False))
    for path, expected in bad.items():
        assert path in reasons, f"{path!r} is not quarantined"
        assert any(expected in r for r in reasons[path]), f"{path!r}: {reasons[path]} lacks {expected!r}"
    for path, rs in reasons.items():  # every reason reads as words: rule, colon, a sentence
        assert rs and all(re.fullmatch(r"[a-z_0-9]+: \S.{8,}", r, flags=re.S) for r in rs), (path, rs)
        assert not any("Errno" in r or "Traceback" in r or "b'" in r for r in rs), (path, rs)

    got = {row["source_path"]: row for row in curated.iter_rows(named=True)}
    for path, (title, encoding) in good.items():
        assert path in got, f"{path!r} was not curated: {reasons.get(path)}"
        assert got[path]["title"] == title and got[path]["encoding"] == encoding, (path, got[path]["encoding"])
    # the decoded text is the same as the UTF-8 original, whatever the encoding
    bodies = curated.filter(pl.col("title") == SEED_TITLES["001"])["body"].unique()
    assert bodies.len() == 1, "UTF-16 / cp1252 / gzip variants decoded to different text"
    generated = set(got) - set(good)  # the 40 generated articles of the partition
    assert len(generated) >= 36, f"only {len(generated)} of the 40 generated articles were curated"

    assert _lstat_all(raw) == before, "the landing zone was modified"
    assert "not-walked.txt" not in " ".join(curated["source_path"]) + " ".join(quarantine["source_path"])
    assert read_dataset(data, "curated")["run_id"].n_unique() == 1
