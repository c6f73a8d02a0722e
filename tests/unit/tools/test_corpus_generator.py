"""Fast checks of the benchmark corpus generator, its scorer and the committed sample."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import zlib
from pathlib import Path

import pytest

from dev.corpus import generate as gen
from dev.corpus.score import score

REPO = Path(__file__).resolve().parents[3]
SAMPLE_RAW = REPO / "data" / "raw"

try:
    CSV = gen.find_source_csv()
except FileNotFoundError:
    CSV = None
needs_corpus = pytest.mark.skipif(CSV is None, reason="10kGNAD test.csv not available")


def _files(raw: Path) -> dict[str, bytes]:
    """Every input file under the date folders, keyed by source_path."""
    return {
        p.relative_to(raw).as_posix(): p.read_bytes()
        for p in sorted(raw.rglob("*"))
        if p.is_file() and re.fullmatch(r"\d{4}-\d{2}-\d{2}", p.relative_to(raw).parts[0])
    }


def _truth(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, list[dict]]:
    """A small corpus with many broken files and duplicates, built once for the module."""
    root = tmp_path_factory.mktemp("bench")
    truth = gen.build_corpus(
        root / "raw", n_articles=400, n_dates=3, seed=11, broken_share=0.1, exact_dup_share=0.08, near_dup_share=0.08
    )
    return root / "raw", _truth(truth)


@needs_corpus
def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = gen.build_corpus(tmp_path / "a" / "raw", n_articles=150, n_dates=2, seed=5)
    b = gen.build_corpus(tmp_path / "b" / "raw", n_articles=150, n_dates=2, seed=5)
    gen.build_corpus(tmp_path / "c" / "raw", n_articles=150, n_dates=2, seed=6)
    assert a == tmp_path / "a" / "truth.jsonl"
    assert _files(tmp_path / "a" / "raw") == _files(tmp_path / "b" / "raw")
    assert a.read_bytes() == b.read_bytes()
    assert _files(tmp_path / "a" / "raw") != _files(tmp_path / "c" / "raw")


@needs_corpus
def test_truth_covers_every_file(corpus) -> None:
    raw, truth = corpus
    files = _files(raw)
    paths = [t["source_path"] for t in truth]
    assert len(paths) == len(set(paths)) == 400
    assert set(paths) == set(files)
    assert not any(p.name == "truth.jsonl" for p in raw.rglob("*"))
    assert {t["date"] for t in truth} == {"2025-06-01", "2025-06-02", "2025-06-03"}
    for t in truth:
        assert t["source_path"].startswith(t["date"] + "/")
        assert t["expect"] in ("curated", "quarantine")


@needs_corpus
def test_broken_files_are_expected_in_quarantine(corpus) -> None:
    raw, truth = corpus
    broken = [t for t in truth if t["kind"] == "broken"]
    assert len(broken) >= 20
    assert {t["expect"] for t in broken} == {"quarantine"}
    assert all(t["expect"] == "curated" for t in truth if t["kind"] != "broken")
    for t in broken:
        data = (raw / t["source_path"]).read_bytes()
        kind = t["broken_kind"]
        if kind == "empty":
            assert data == b""
        elif kind == "whitespace":
            assert not data.decode("utf-8").strip()
        elif kind == "nul":
            assert b"\x00" in data
        elif kind == "few_bytes":
            assert len(data) <= 4
        elif kind == "truncated_gzip":
            assert t["source_path"].endswith(".gz")
            with pytest.raises((EOFError, OSError, zlib.error)):
                gzip.decompress(data)
        elif kind in ("binary", "invalid_bytes"):
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")


@needs_corpus
def test_curated_truth_is_clean_and_consistent(corpus) -> None:
    raw, truth = corpus
    by_path = {t["source_path"]: t for t in truth}
    leak = re.compile(r"<[a-zA-Z/][^>]*>|\*\*|\]\(|&nbsp;|[\u00ad\u200b\u200c\u200d\ufeff\u00a0\r\x00]")
    for t in (t for t in truth if t["expect"] == "curated"):
        assert t["title"] and t["body"] and t["story"] and t["language"] == "de"
        assert t["title"] != t["teaser"]
        assert "\n\n\n" not in t["body"] and t["body"] == t["body"].strip()
        assert not leak.search(t["title"] + t["body"] + (t["teaser"] or ""))
        assert t["cited_sources"] == sorted(set(t["cited_sources"]))
        assert t["publisher"] not in t["cited_sources"]
        assert all(not d.startswith("www.") and d == d.lower() for d in t["cited_sources"])
        assert all(u.startswith(("http://", "https://")) for u in t["links"])
        assert len(t["links"]) == len(set(t["links"]))
        assert t["n_breaks"] == len(t["broken_paragraphs"])
        paras = t["body"].split("\n\n")
        assert all(p in paras for p in t["broken_paragraphs"])
        assert all(h in paras for h in t["subheadings"])
        if t["exact_dup_of"]:
            first = by_path[t["exact_dup_of"]]
            assert first["source_path"] < t["source_path"] and first["body"] == t["body"]
            assert first["exact_dup_of"] is None and first["story"] == t["story"]
    kinds = {t["kind"] for t in truth}
    assert {"original", "exact_dup", "near_dup", "broken"} <= kinds
    # equal bodies must be flagged as exact duplicates of the first one, across dates too
    firsts: dict[str, str] = {}
    for t in sorted((t for t in truth if t["expect"] == "curated"), key=lambda t: t["source_path"]):
        assert t["exact_dup_of"] == firsts.setdefault(t["body"], t["source_path"]) or (
            t["exact_dup_of"] is None and firsts[t["body"]] == t["source_path"]
        )
    assert any(t["exact_dup_of"] and t["exact_dup_of"][:10] != t["date"] for t in truth)


@needs_corpus
def test_plain_files_contain_their_truth(corpus) -> None:
    """For files without character-level noise, title and intact paragraphs are in the raw text."""
    raw, truth = corpus
    checked = 0
    simple = {
        "title_md_h1",
        "title_html_h1",
        "title_bold",
        "nbsp",
        "soft_hyphen",
        "zero_width",
        "html",
        "markdown",
        "credits",
        "hard_wrap",
        "mojibake",
        "enc_cp1252",
        "top_boilerplate",
    }
    for t in truth:
        if t["expect"] != "curated" or simple & set(t["noise"]) or t["gzip"]:
            continue
        text = (raw / t["source_path"]).read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
        assert text.lstrip("\n").startswith(t["title"] + "\n")
        for p in t["body"].split("\n\n"):
            assert p in text or p in t["broken_paragraphs"]
        checked += 1
    assert checked >= 20


@needs_corpus
def test_score_of_a_perfect_output_is_perfect(corpus, tmp_path: Path) -> None:
    import polars as pl

    raw, truth = corpus
    did = lambda p: hashlib.sha1(p.encode()).hexdigest()[:16]  # noqa: E731
    cols = [
        "source_path",
        "title",
        "teaser",
        "dateline",
        "body",
        "subheadings",
        "publisher",
        "category",
        "place",
        "cited_sources",
        "links",
        "related",
        "language",
    ]
    for expect, ds in (("curated", "curated"), ("quarantine", "quarantine")):
        rows = []
        for t in truth:
            if t["expect"] != expect:
                continue
            row = {"doc_id": did(t["source_path"]), "date": t["date"]}
            if expect == "curated":
                row |= {c: t[c] for c in cols}
                row |= {"duplicate_of": did(t["exact_dup_of"]) if t["exact_dup_of"] else None, "story_id": t["story"]}
            else:
                row |= {"source_path": t["source_path"], "reasons": ["broken"]}
            rows.append(row)
        df = pl.DataFrame(rows, infer_schema_length=None)
        for (day,), part in df.group_by("date"):
            out = tmp_path / ds / "articles" / f"ingest_date={day}"
            out.mkdir(parents=True)
            part.drop("date").write_parquet(out / "part-0.parquet")
    res = score(tmp_path, raw.parent / "truth.jsonl")
    assert res["accounting"]["ok"] and res["routing"]["accuracy"] == 1.0
    assert all(v["accuracy"] == 1.0 for v in res["fields"].values())
    assert res["cited_sources"]["f1"] == 1.0 and res["story_id"]["f1"] == 1.0
    assert res["duplicate_of"]["accuracy"] == 1.0 and res["breaks"]["share"] == 1.0
    assert res["dateline_false_positive_rate"] == 0.0
    assert sum(v for k, v in res["leaks"].items() if k != "rows_checked") == 0


@needs_corpus
def test_score_survives_an_empty_output(corpus, tmp_path: Path) -> None:
    raw, _ = corpus
    res = score(tmp_path / "nothing", raw.parent / "truth.jsonl")
    assert not res["accounting"]["ok"] and res["accounting"]["missing"] == 400
    assert res["fields"]["body"]["accuracy"] == 0.0 and res["story_id"]["f1"] == 0.0


def test_committed_sample_matches_its_truth() -> None:
    truth = _truth(gen.SAMPLE_TRUTH)
    files = _files(SAMPLE_RAW)
    assert set(files) == {t["source_path"] for t in truth}
    assert 40 <= len(files) <= 60
    assert (SAMPLE_RAW / "ATTRIBUTION.md").is_file()
    broken = {t["broken_kind"] for t in truth if t["expect"] == "quarantine"}
    assert broken == {"empty", "binary", "nul", "truncated_gzip", "few_bytes"}
    assert any(p.endswith(".txt.gz") for p, t in ((t["source_path"], t) for t in truth) if t["expect"] == "curated")
    assert any(p.count("/") > 1 for p in files), "a nested feed folder"
    dups = [t for t in truth if t["kind"] in ("exact_dup", "near_dup")]
    assert 2 <= len(dups) <= 3
    assert any(t["derived_from"][:10] != t["date"] for t in dups), "a duplicate across dates"
    for seed in ("000_352be7b8b257a91d.txt", "001_2fc00a534925f755.txt"):
        assert f"2025-06-01/{seed}" in files
        shared = gen.DEFAULT_SEEDS / seed
        if shared.is_file():
            assert files[f"2025-06-01/{seed}"] == shared.read_bytes()


@needs_corpus
def test_sample_is_reproducible(tmp_path: Path) -> None:
    if not gen.DEFAULT_SEEDS.is_dir():
        pytest.skip("seed documents not available")
    truth = gen.build_sample(tmp_path / "raw", tmp_path / "truth.jsonl")
    assert _files(tmp_path / "raw") == _files(SAMPLE_RAW)
    assert truth.read_bytes() == gen.SAMPLE_TRUTH.read_bytes()


def test_sentence_splitter_keeps_abbreviations() -> None:
    text = (
        "Das gilt z. B. für St. Pölten und Dr. Maier. Am 21. August kam es zu Protesten! "
        "Wer zahlt? „Niemand“, sagte er. Elisabeth S. hat geklagt."
    )
    assert gen.split_sentences(text) == [
        "Das gilt z. B. für St. Pölten und Dr. Maier.",
        "Am 21. August kam es zu Protesten!",
        "Wer zahlt?",
        "„Niemand“, sagte er.",
        "Elisabeth S. hat geklagt.",
    ]


def test_gnad_dateline_parsing() -> None:
    t, d, b = gen.parse_gnad_text("Neues Gesetz beschlossen. St. Pölten – Der Landtag hat am Montag entschieden.")
    assert (t, d, b) == ("Neues Gesetz beschlossen.", "St. Pölten", "Der Landtag hat am Montag entschieden.")
    assert gen.parse_gnad_text("Gipfel vertagt. Washington/Moskau – Die Gespräche ...")[1] == "Washington/Moskau"
    assert gen.parse_gnad_text("Treffen am 6. Oktober – Ergebnis offen. Linz - Der Text.")[1:] == ("Linz", "Der Text.")
    t, d, b = gen.parse_gnad_text("Kein Ort hier. Der Text beginnt sofort. Und geht weiter.")
    assert (t, d) == ("Kein Ort hier.", None) and b.startswith("Der Text")
