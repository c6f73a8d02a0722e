"""Property: for any mix of good and broken files, names and nesting, every raw entry ends as exactly one row.

The run loop is called directly (no Prefect), with batches run one at a time in this process,
so each example takes a fraction of a second.
"""

from __future__ import annotations

import codecs
import gzip
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from news_pipeline import runner
from news_pipeline.config import Settings
from tests.system.reliability_support import assert_accounting, raw_entries, read_dataset

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MAX_BYTES = 60_000
SEEDS = sorted((Path(__file__).resolve().parents[3] / "shared" / "seeds").glob("*.txt")) or sorted(
    (Path(__file__).resolve().parents[2] / "data" / "raw" / "2025-06-01").glob("00[01]_*.txt")
)
_TEXT = [p.read_text(encoding="utf-8") for p in SEEDS]

# kind -> bytes of the file (links, pipes and devices are made in _make)
GOOD = {
    "utf8-a": lambda: _TEXT[0].encode(),
    "utf8-b": lambda: _TEXT[1].encode(),
    "crlf": lambda: _TEXT[0].replace("\n", "\r\n").encode(),
    "utf16": lambda: codecs.BOM_UTF16_LE + _TEXT[1].encode("utf-16-le"),
    "bom": lambda: codecs.BOM_UTF8 + _TEXT[0].encode(),
    "cp1252": lambda: _TEXT[1].encode("cp1252"),
    "gzip": lambda: gzip.compress(_TEXT[0].encode()),
}
BAD = {
    "empty": lambda: b"",
    "blank": lambda: b" \n\t\r\n ",
    "binary": lambda: b"PK\x03\x04\x14\x00\x00\x00" + bytes(range(256)) * 4,
    "nul": lambda: _TEXT[0].encode()[:400] + b"\x00" + _TEXT[0].encode()[400:],
    "undecodable": lambda: _TEXT[1].encode()[:200] + b"\x81\x8d\x90" + _TEXT[1].encode()[200:],
    "truncated-gzip": lambda: gzip.compress(_TEXT[0].encode())[:300],
    "gzip-bomb": lambda: gzip.compress(b"a" * (MAX_BYTES * 20)),
    "too-large": lambda: (_TEXT[0] + "\n\n").encode() * (MAX_BYTES // 2000 + 5),
    "too-short": lambda: b"Nur ein Satz.",
    "link-loop": None,
    "dangling-link": None,
    "folder-link": None,
    "named-pipe": None,
    "device-link": None,
}
FRAGMENTS = [
    b"a",
    b"Z",
    b"7",
    b" ",
    b"-",
    b"_",
    b".",
    b"~",
    b"(",
    b"'",
    b"#",
    b"%",
    b"=",
    b"\t",
    b".txt",
    b".gz",
    "ä".encode(),
    "a\u0308".encode(),
    "ß".encode(),
    "名".encode(),
    "📰".encode(),
    "\u200b".encode(),
    b"\xff",
    b"\xe9",
    b"\xc3",
    b"x" * 100,
]
names = (
    st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=5)
    .map(b"".join)
    .filter(lambda n: n not in (b".", b"..") and len(n) <= 255)
)
entry = st.tuples(st.sampled_from(sorted(GOOD) + sorted(BAD)), st.lists(names, max_size=2), names)
partition = st.tuples(st.sampled_from(sorted(GOOD)), names, st.lists(entry, max_size=7))
landing_zones = st.dictionaries(
    st.sampled_from(["2025-06-01", "2025-06-02", "2025-06-03"]), partition, min_size=1, max_size=2
)


def _make(path: bytes, kind: str, outside: bytes) -> None:
    if kind == "link-loop":
        os.symlink(path, path)
    elif kind == "dangling-link":
        os.symlink(os.path.join(outside, b"missing"), path)
    elif kind == "folder-link":
        os.symlink(outside, path)
    elif kind == "named-pipe":
        os.mkfifo(path)
    elif kind == "device-link":
        os.symlink(b"/dev/zero", path)
    else:
        with open(path, "wb") as fh:
            fh.write((GOOD.get(kind) or BAD[kind])())


def _publish_all(cfg: Settings) -> list:
    """Plan and publish every new or changed partition, batches in this process; their results."""
    plans, _ = runner.plan_partitions(cfg)
    with runner.LocalExecutor("inline") as executor:
        return runner.run_partitions(cfg, plans, runner.new_run_id(), executor)


def _build(root: bytes, zone: dict) -> dict[str, str]:
    """Create the landing zone; return source_path -> kind of every entry actually created."""
    raw, outside = os.path.join(root, b"raw"), os.path.join(root, b"outside")
    os.makedirs(outside)
    made = {}
    for day, (first_kind, first_name, entries) in zone.items():
        for kind, dirs, name in [(first_kind, [], first_name), *entries]:
            folder = os.path.join(raw, day.encode(), *dirs)
            path = os.path.join(folder, name)
            prefixes = [os.path.join(raw, day.encode(), *dirs[: i + 1]) for i in range(len(dirs))]
            if any(os.path.lexists(p) and (os.path.islink(p) or not os.path.isdir(p)) for p in prefixes):
                continue  # the name clashes with an earlier file or link: that entry is left out
            os.makedirs(folder, exist_ok=True)
            if os.path.lexists(path):
                continue
            _make(path, kind, outside)
            made[os.path.relpath(path, raw).decode("utf-8", "backslashreplace")] = kind
    return made


@settings(
    max_examples=int(os.environ.get("NP_PROPERTY_EXAMPLES", "25")),  # more to hunt for bugs, e.g. 300
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(zone=landing_zones, batch_size=st.integers(1, 4))
def test_every_raw_entry_is_exactly_one_row(zone, batch_size):
    root = tempfile.mkdtemp(prefix="np-property-")
    try:
        made = _build(os.fsencode(root), zone)
        raw, data = Path(root) / "raw", Path(root) / "data"
        assert set(made) == raw_entries(raw)
        cfg = Settings(
            raw_dir=raw,
            data_dir=data,
            max_file_bytes=MAX_BYTES,
            batch_size=batch_size,
            thresholds={"max_quarantine_share": 1.0},
        )
        for result in _publish_all(cfg):
            assert result.published, result.failures
        curated, _ = assert_accounting(raw, data)
        cur = set(curated["source_path"])
        for path, kind in made.items():
            assert (path in cur) == (kind in GOOD), f"{kind} file {path!r} in the wrong dataset"
        # a second plan finds nothing new: odd names, links and pipes do not look "changed"
        todo, skipped = runner.plan_partitions(cfg)
        assert todo == [] and len(skipped) == len(zone)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_pool_kinds_behave_as_labelled(tmp_path: Path):
    """The pool itself: each good kind alone is curated, each bad kind alone is quarantined."""
    zone = {"2025-06-01": ("utf8-a", b"anchor.txt", [(k, [], k.encode()) for k in [*GOOD, *BAD]])}
    made = _build(os.fsencode(tmp_path), zone)
    cfg = Settings(
        raw_dir=tmp_path / "raw",
        data_dir=tmp_path / "data",
        max_file_bytes=MAX_BYTES,
        thresholds={"max_quarantine_share": 1.0},
    )
    [result] = _publish_all(cfg)
    assert result.published
    curated, quarantine = assert_accounting(tmp_path / "raw", tmp_path / "data")
    assert set(curated["source_path"]) == {p for p, k in made.items() if k in GOOD}
    assert set(quarantine["source_path"]) == {p for p, k in made.items() if k in BAD}


def test_undecodable_name_and_its_rendering_are_two_rows(tmp_path: Path):
    """``caf\\xe9.txt`` (bytes) renders like a file literally named ``caf\\\\xe9.txt``: still two rows, two doc_ids."""
    day = tmp_path / "raw" / "2025-06-01"
    day.mkdir(parents=True)
    (day / "caf\\xe9.txt").write_text(_TEXT[0], encoding="utf-8")
    with open(os.path.join(os.fsencode(day), b"caf\xe9.txt"), "wb") as fh:
        fh.write(_TEXT[1].encode())
    cfg = Settings(raw_dir=tmp_path / "raw", data_dir=tmp_path / "data")
    [result] = _publish_all(cfg)
    assert result.published
    curated = read_dataset(tmp_path / "data", "curated")
    assert curated["source_path"].to_list() == ["2025-06-01/caf\\xe9.txt"] * 2
    assert curated["doc_id"].n_unique() == 2 and curated["title"].n_unique() == 2
    assert runner.plan_partitions(cfg)[0] == [], "the partition must not look changed on the next run"
