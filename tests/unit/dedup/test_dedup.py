"""Exact duplicates and near-duplicate stories, within a partition and against earlier ones."""

from __future__ import annotations

import datetime as dt

import polars as pl

from news_pipeline.stages.dedup import (
    add_content_hash,
    add_minhash,
    assign_duplicates,
    assign_stories,
    relevant_earlier,
)

STORY = " ".join(f"Satz {i} über die Gewerkschaft und die Verträge der Angestellten in Wien." for i in range(20))
EDITED = STORY.replace("Satz 3 über", "Satz drei über").replace("Satz 11 über", "Satz elf über")
OTHER = " ".join(f"Zeile {i}: Fußball am Wochenende, viele Tore und ein volles Stadion in Graz." for i in range(20))


def frame(day: dt.date, rows: dict[str, str]) -> pl.DataFrame:
    df = pl.DataFrame({"doc_id": list(rows), "body": list(rows.values())}).with_columns(
        pl.lit(day).alias("ingest_date"), (pl.lit(f"{day}/") + pl.col("doc_id")).alias("source_path")
    )
    return add_minhash(add_content_hash(df))


def test_exact_duplicates_point_at_first_seen_and_ignore_case_and_spacing():
    cur = frame(dt.date(2025, 6, 2), {"a": STORY, "b": OTHER, "c": "  " + STORY.upper().replace(" ", "  ")})
    assert dict(assign_duplicates(cur, cur.clear()).iter_rows()) == {"a": None, "b": None, "c": "a"}


def test_stories_link_small_edits_not_other_texts():
    cur = frame(dt.date(2025, 6, 2), {"a": STORY, "b": EDITED, "c": OTHER})
    stories = dict(
        assign_stories(cur, cur.clear().with_columns(pl.lit(None, dtype=pl.String).alias("story_id")), 0.5).iter_rows()
    )
    assert stories == {"a": "a", "b": "a", "c": "c"}


def test_earlier_partitions_win_and_keep_their_story_id():
    old = frame(dt.date(2025, 6, 1), {"z": EDITED}).with_columns(pl.lit("story-z").alias("story_id"))
    cur = frame(dt.date(2025, 6, 2), {"a": STORY, "b": OTHER, "c": EDITED})
    assert dict(assign_stories(cur, old, 0.5).iter_rows()) == {"a": "story-z", "b": "b", "c": "story-z"}
    assert dict(assign_duplicates(cur, old).iter_rows()) == {"a": None, "b": None, "c": "z"}


def test_reading_only_the_relevant_earlier_rows_changes_no_link():
    words = [f"Wort{i}" for i in range(400)]
    texts = {f"d{i}": " ".join(words[(i * 7) % 300 : (i * 7) % 300 + 60]) for i in range(40)}
    days = [dt.date(2025, 6, d) for d in (1, 2, 3)]
    earlier = [
        frame(day, {f"{day.day}{k}": v for k, v in list(texts.items())[i * 12 : i * 12 + 12]}).with_columns(
            pl.col("doc_id").alias("story_id")
        )
        for i, day in enumerate(days)
    ]
    cur = frame(
        dt.date(2025, 6, 4), {"x": texts["d3"], "y": texts["d30"] + " Nachtrag", "z": "ganz anderer Text " * 20}
    )
    window_start = dt.date(2025, 6, 2)
    everything = pl.concat(earlier)
    relevant = relevant_earlier(iter(earlier), cur, window_start)
    assert 0 < relevant.height < everything.height
    assert dict(assign_duplicates(cur, relevant).iter_rows())["x"] == "1d3"  # outside the window, same text
    assert assign_duplicates(cur, relevant).equals(assign_duplicates(cur, everything))
    recent = everything.filter(pl.col("ingest_date") >= window_start)
    kept_recent = relevant.filter(pl.col("ingest_date") >= window_start)
    assert dict(assign_stories(cur, kept_recent, 0.5).iter_rows())["y"].startswith("3d")  # a story of day 3
    assert assign_stories(cur, kept_recent, 0.5).equals(assign_stories(cur, recent, 0.5))


def test_history_keeps_one_row_per_hash_and_bucket_however_often_a_story_repeats():
    # the same story (and an edit of it) reprinted on five earlier days: only the first day's rows can decide a link
    days = [dt.date(2025, 6, d) for d in range(1, 6)]
    earlier = [
        frame(day, {f"{day.day}a": STORY, f"{day.day}b": EDITED}).with_columns(
            pl.lit(f"story-{day.day}").alias("story_id")
        )
        for day in days
    ]
    cur = frame(dt.date(2025, 6, 6), {"x": STORY, "y": EDITED + " Nachtrag"})
    relevant = relevant_earlier(iter(earlier), cur, dt.date(2025, 6, 1))
    assert sorted(relevant["doc_id"]) == ["1a", "1b"]
    everything = pl.concat(earlier)
    assert assign_duplicates(cur, relevant).equals(assign_duplicates(cur, everything))
    assert assign_stories(cur, relevant, 0.5).equals(assign_stories(cur, everything, 0.5))
