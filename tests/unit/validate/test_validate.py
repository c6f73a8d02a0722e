"""Tests of the Great Expectations gate on curated article partitions."""

from __future__ import annotations

import json
import subprocess
import sys

import polars as pl
import pytest

from news_pipeline.catalog import SUITE
from news_pipeline.config import Thresholds
from news_pipeline.schemas import CURATED, polars_schema
from news_pipeline.stages.validate import (
    SUITE_PARAMETERS,
    validate_articles,
    validate_partition,
    validate_rows,
)

HASH = "0123456789abcdef" * 4


def article(doc_id: str | None = "ok", **overrides) -> dict:
    """One valid curated row; keyword arguments break it."""
    row = {
        "doc_id": doc_id,
        "source_path": f"2025-06-01/{doc_id}.txt",
        "title": "Russland meldet Angriff",
        "teaser": None,
        "dateline": "Moskau",
        "body": "Wort " * 40,
        "subheadings": ["Reaktionen"],
        "publisher": "die-nachrichten.at",
        "category": None,
        "place": None,
        "cited_sources": ["berliner-zeitung.de", "n-tv.de"],
        "links": ["https://n-tv.de/a", "http://x.de"],
        "related": [],
        "persons": ["Elon Musk"],
        "organizations": ["TASS"],
        "locations": ["Moskau"],
        "language": "de",
        "encoding": "utf-8",
        "word_count": 40,
        "content_hash": HASH,
        "duplicate_of": None,
        "story_id": "s1",
        "run_id": "r1",
    }
    return row | overrides


def frame(*rows: dict) -> pl.DataFrame:
    """Curated rows with the dataset's exact dtypes."""
    return pl.DataFrame(list(rows), schema=polars_schema(CURATED))


def check(*rows: dict, n_files: int | None = None, **thresholds):
    """Validate rows with default thresholds, overridden by keyword."""
    n = len(rows) if n_files is None else n_files
    return validate_articles(frame(*rows), thresholds=thresholds, n_files=n)


def reasons_of(result) -> dict:
    """doc_id -> reasons of the rows the error rules rejected."""
    return dict(result.row_reasons.select("doc_id", "reasons").iter_rows())


def test_valid_rows_pass_every_rule():
    result = check(article("a"), article("b", encoding="gzip+cp1252+mojibake-repaired", cited_sources=[]))
    assert result.row_reasons.height == 0
    assert result.partition_failures == [] and result.warnings == []
    assert all(r.success for r in result.results)
    assert result.summary == {
        "n_files": 2,
        "n_curated": 2,
        "rejected_early": 0,
        "rejected_early_text": "none",
        "rejected_early_reasons": {},
        "quarantine_share": 0.0,
        "duplicate_share": 0.0,
        "non_german_share": 0.0,
    }


@pytest.mark.parametrize(
    ("overrides", "reasons"),
    [
        ({"source_path": None}, ["source_path_not_null: source_path is missing"]),
        (
            {"source_path": "feed/a.txt"},
            ["source_path_format: source_path 'feed/a.txt' does not start with a YYYY-MM-DD/ date folder"],
        ),
        (
            {"source_path": "2025-06-01/"},
            ["source_path_format: source_path '2025-06-01/' does not start with a YYYY-MM-DD/ date folder"],
        ),
        ({"title": None}, ["title_not_null: title is missing"]),
        ({"title": "  "}, ["title_not_empty: title is empty"]),
        ({"title": "x" * 301}, ["title_max_length: title has 301 characters, more than the maximum of 300"]),
        ({"body": None}, ["body_not_null: body is missing"]),
        ({"word_count": None}, ["word_count_not_null: word_count is missing"]),
        ({"word_count": 12}, ["word_count_min: body has 12 words, fewer than the minimum of 15"]),
        ({"word_count": 20_001}, ["word_count_max: body has 20001 words, more than the maximum of 20000"]),
        ({"language": None}, ["language_not_null: language is missing"]),
        ({"language": "deu"}, ["language_iso639_1: language 'deu' is not an ISO 639-1 code"]),
        ({"encoding": ""}, ["encoding_not_null: encoding is missing"]),
        ({"encoding": "koi8-r"}, ["encoding_known: encoding 'koi8-r' is not a known text encoding"]),
        ({"content_hash": None}, ["content_hash_not_null: content_hash is missing"]),
        (
            {"content_hash": HASH.upper()},
            [f"content_hash_format: content_hash '{HASH.upper()}' is not 64 lower-case hex digits"],
        ),
        (
            {"cited_sources": ["https://n-tv.de", "www.vienna.at", "N-TV.DE", None, "n-tv.de"]},
            ["cited_sources_format: cited_sources entries that are not bare lower-case domains like n-tv.de: 4"],
        ),
        (
            {"links": ["ftp://x.de", "/relativ", "https://ok.de/a"]},
            ["links_format: links entries that are not http:// or https:// URLs: 2"],
        ),
        (
            {"title": "", "word_count": 3, "language": "xx"},
            [
                "title_not_empty: title is empty",
                "word_count_min: body has 3 words, fewer than the minimum of 15",
                "language_iso639_1: language 'xx' is not an ISO 639-1 code",
            ],
        ),
    ],
)
def test_each_row_rule_names_the_broken_row(overrides, reasons):
    result = check(article("good"), article("bad", **overrides))
    assert reasons_of(result) == {"bad": reasons}
    assert result.row_reasons["row_nr"].to_list() == [1]
    failed = [r for r in result.results if not r.success and r.level == "row"]
    assert {r.name for r in failed} == {reason.split(":")[0] for reason in reasons}
    assert all(r.doc_ids == ("bad",) and r.unexpected_count == 1 for r in failed)
    assert result.summary["n_curated"] == 1 and result.partition_failures == []


def test_null_and_repeated_doc_ids_are_rejected_by_position():
    rows = [article("a"), article(None), article("dup"), article("dup")]
    result = check(*rows)
    assert result.row_reasons.rows() == [
        (None, ["doc_id_not_null: doc_id is missing"], 1),
        ("dup", ["doc_id_unique: doc_id dup occurs more than once in the partition"], 2),
        ("dup", ["doc_id_unique: doc_id dup occurs more than once in the partition"], 3),
    ]
    passed, failed = result.split(frame(*rows))
    assert passed["doc_id"].to_list() == ["a"]
    assert failed["doc_id"].to_list() == [None, "dup", "dup"] and "reasons" in failed.columns


def test_thresholds_come_from_the_arguments():
    row = article("a", word_count=40)
    assert reasons_of(check(row, min_words=50)) == {
        "a": ["word_count_min: body has 40 words, fewer than the minimum of 50"]
    }
    result = validate_articles(frame(row), thresholds=Thresholds(min_words=10, max_words=39), n_files=1)
    assert reasons_of(result) == {"a": ["word_count_max: body has 40 words, more than the maximum of 39"]}
    assert reasons_of(check(row)) == {}  # the earlier substitutions did not stick to the cached suite
    with pytest.raises(ValueError, match="unknown threshold"):
        check(row, min_word=50)


def test_a_news_flash_of_a_sentence_or_two_passes():
    # an agency's "Eilmeldung" is one or two sentences; fewer than 15 words is a headline and a line
    assert reasons_of(check(article("flash", word_count=15))) == {}
    assert reasons_of(check(article("stub", word_count=14))) == {
        "stub": ["word_count_min: body has 14 words, fewer than the minimum of 15"]
    }


def test_empty_partition_fails():
    result = validate_articles(frame(), thresholds=Thresholds(), n_files=0)
    assert [r.name for r in result.partition_failures] == ["partition_not_empty"]
    assert result.partition_failures[0].message == "no article of the partition's 0 raw files passed the row checks"
    assert not result.publishable


def test_all_rows_rejected_fails_on_count_and_share():
    result = check(article("a", word_count=1), n_files=3)
    assert [r.name for r in result.partition_failures] == ["partition_not_empty", "quarantine_share_max"]
    assert result.summary["quarantine_share"] == 1.0


def test_quarantine_share_counts_upstream_and_row_rule_rejects():
    ok = [article(f"ok{i}") for i in range(2)]
    assert check(*ok, n_files=4).partition_failures == []  # 50% is at the limit, not above it
    result = check(*ok, article("bad", title=""), n_files=5)  # 2 upstream + 1 row-rule reject of 5
    (failure,) = result.partition_failures
    assert failure.name == "quarantine_share_max" and failure.observed == pytest.approx(0.6)
    assert check(*ok, article("bad", title=""), n_files=5, max_quarantine_share=0.6).partition_failures == []
    (failure,) = check(*ok, n_files=10).partition_failures
    assert failure.message == "80% of the partition's 10 raw files were quarantined, more than the limit of 50%"
    assert failure.observed == pytest.approx(0.8) and str(failure).startswith("quarantine_share_max: 80%")


def test_warn_rules_land_in_warnings_only():
    rows = [
        article("a"),
        article("b", duplicate_of="a", language="en"),
        article("c", duplicate_of="a", persons=["Elon Musk", " "], related=[None]),
    ]
    result = check(*rows, max_duplicate_share=0.5, max_non_german_share=0.2)
    assert result.row_reasons.height == 0 and result.partition_failures == [] and result.publishable
    assert [w.name for w in result.warnings] == ["list_entries_blank", "duplicate_share_max", "non_german_share_max"]
    blank, dup, non_german = result.warnings
    assert blank.level == "row" and blank.doc_ids == ("c",) and blank.observed == [2]
    assert dup.message == "67% of the 3 curated articles duplicate an earlier one, more than the limit of 50%"
    assert non_german.message == "33% of the 3 curated articles are not in German, more than the limit of 20%"


def test_partition_rules_see_only_rows_that_pass():
    # The two non-German rows fail a row rule, so they do not count towards the non-German share.
    rows = [article("a"), article("b", language="en", word_count=5), article("c", language="en", title="")]
    result = check(*rows)
    assert result.summary["non_german_share"] == 0.0 and result.warnings == []


def test_pipeline_metadata_frame_with_body_chars():
    meta = frame(article("a"), article("b", word_count=7)).select(
        "doc_id",
        "source_path",
        "title",
        pl.col("body").str.len_chars().alias("body_chars"),
        "word_count",
        "language",
        "encoding",
        "content_hash",
        "cited_sources",
        "links",
        "duplicate_of",
    )
    result = validate_articles(meta, thresholds=Thresholds(), n_files=2)
    assert reasons_of(result) == {"b": ["word_count_min: body has 7 words, fewer than the minimum of 15"]}
    with pytest.raises(ValueError, match=r"columns \['body', 'links'\] are missing"):
        validate_articles(meta.drop("links", "body_chars"), thresholds=Thresholds(), n_files=2)


def test_n_files_below_row_count_is_an_error():
    with pytest.raises(ValueError, match="n_files=1"):
        check(article("a"), article("b"), n_files=1)


def test_files_rejected_before_validation_show_in_the_partition_results():
    rows = frame(article("a"), article("b"))
    linked = rows.with_columns(pl.lit(None, dtype=pl.String).alias("duplicate_of"))
    early = {"unreadable_file": 1, "too_short": 2}
    result = validate_partition(linked, thresholds={}, n_files=5, rejected_early=early)
    (rule,) = [r for r in result.results if r.name == "files_rejected_before_validation"]
    assert (rule.success, rule.severity, rule.observed) == (False, "info", 3)
    assert rule.message.startswith("3 of the partition's 5 raw files were quarantined before the row rules")
    assert "(too_short 2, unreadable_file 1)" in rule.message
    # reported, neither a warning nor a reason to stop the partition (they count in the quarantined share)
    (share,) = [r for r in result.results if r.name == "quarantine_share_max"]
    assert share.observed == 0.6 and share.success is False and share.severity == "error"
    clean = validate_partition(linked, thresholds={}, n_files=2)
    assert all(r.success for r in clean.results) and clean.summary["rejected_early_text"] == "none"


def test_suite_json_round_trips_and_every_rule_explains_itself():
    import great_expectations as gx

    raw = json.loads(SUITE.read_text(encoding="utf-8"))
    suite = gx.ExpectationSuite(**raw)
    assert len(suite.expectations) == len(raw["expectations"]) == 25
    assert suite.to_json_dict()["expectations"] == raw["expectations"]
    names = [e.meta["rule"] for e in suite.expectations]
    assert len(set(names)) == len(names)
    for e in suite.expectations:
        assert "severity" not in e.meta and e.meta["level"] in {"row", "partition"}  # one severity field: GX's
        assert e.meta["reason"].strip() and e.severity.value in {"critical", "warning", "info"}
    params = {v["$PARAMETER"] for e in raw["expectations"] for v in e["kwargs"].values() if isinstance(v, dict)}
    assert (
        params == set(SUITE_PARAMETERS) == set(Thresholds.model_fields) - {"min_chars"}
    )  # min_chars: before validation
    (language,) = [e for e in suite.expectations if e.meta["rule"] == "language_iso639_1"]
    codes = set(language.value_set)
    assert {"de", "en", "fr", "ru", "uk", "tr"} <= codes and not {"deu", "xx", ""} & codes and len(codes) > 180


def test_nothing_is_written_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    check(article("a"))
    assert list(tmp_path.iterdir()) == []


def test_import_is_lazy_and_validation_prints_nothing():
    code = (
        "import logging, sys; logging.basicConfig(level=logging.DEBUG)\n"
        "from tests.unit.validate.test_validate import article, check\n"
        "print('great_expectations' in sys.modules)\n"
        "check(article('a'), article('b', title=''))\n"
        "print('great_expectations' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
    assert "great_expectations" not in out.stderr and "Calculating Metrics" not in out.stderr


@pytest.mark.slow
def test_100k_rows_validate_in_seconds():
    rows = frame(article("x")).sample(100_000, with_replacement=True)
    rows = rows.with_columns(doc_id=pl.format("d{}", pl.int_range(pl.len())))
    result = validate_articles(rows, thresholds=Thresholds(), n_files=100_000)
    assert result.row_reasons.height == 0 and result.passed.height == 100_000


def test_partition_rules_judge_the_linked_rows_that_passed_the_row_rules():
    rows = frame(article("a"), article("short", word_count=3), article("b")).drop("duplicate_of")
    checked = validate_rows(rows, thresholds=Thresholds())
    assert checked.passed["doc_id"].to_list() == ["a", "b"]
    assert checked.row_reasons["doc_id"].to_list() == ["short"]
    linked = checked.passed.with_columns(pl.lit("a").alias("duplicate_of"))  # every row a duplicate of "a"
    result = validate_partition(linked, thresholds=Thresholds(), n_files=3)
    assert result.summary["duplicate_share"] == 1.0 and result.summary["n_curated"] == 2
    assert [r.name for r in result.results if not r.success] == ["duplicate_share_max"]
    with pytest.raises(ValueError, match="duplicate_of"):
        validate_partition(checked.passed, thresholds=Thresholds(), n_files=3)
