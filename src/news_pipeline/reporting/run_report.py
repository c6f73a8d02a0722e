"""The run report: counts per partition and reason, rules that failed, duration; as JSON and Markdown."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

from news_pipeline.catalog import Catalog
from news_pipeline.config import Settings
from news_pipeline.io.publish import write_text
from news_pipeline.reporting import datadocs
from news_pipeline.results import PartitionResult


def summarize(results: list[PartitionResult]) -> dict:
    """Totals over partitions for the end-of-run summary."""
    reasons: Counter[str] = Counter()
    removed: dict[str, Counter[str]] = {}
    processed = [r for r in results if not r.skipped]
    for r in processed:
        reasons.update(r.reasons)
        for rule, counts in r.removed.items():
            removed.setdefault(rule, Counter()).update(counts)
    return {
        "partitions": len(processed),
        "skipped": sum(r.skipped for r in results),
        "files": sum(r.n_files for r in processed),
        "curated": sum(r.curated for r in processed),
        "quarantined": sum(r.quarantined for r in processed),
        "duplicates": sum(r.duplicates for r in processed),
        "near_duplicates": sum(r.near_duplicates for r in processed),
        "reasons": dict(reasons.most_common()),
        "removed": {rule: dict(counts) for rule, counts in sorted(removed.items())},
        "failed_partitions": [r.ingest_date.isoformat() for r in processed if not r.published],
        "blocked_files": {r.ingest_date.isoformat(): r.blocked_files for r in processed if r.blocked_files},
    }


def write_run_report(
    settings: Settings,
    run_id: str,
    started: dt.datetime,
    results: list[PartitionResult],
    logical_date: dt.date | None = None,
    logical_date_missing: bool = False,
) -> dict:
    """Write ``data/reports/<run_id>.json`` (and ``latest.json``) and return the report."""
    catalog, finished = Catalog.of(settings), dt.datetime.now(dt.UTC)
    report = {
        "run_id": run_id,
        "started": started.isoformat(),
        "finished": finished.isoformat(),
        "seconds": round((finished - started).total_seconds(), 3),
        "raw_dir": str(settings.raw_dir),
        "data_dir": str(settings.data_dir),
        "logical_date": logical_date.isoformat() if logical_date else None,
        # a scheduled run whose day has no landing folder (the flow ends in state MissingData)
        "logical_date_missing": logical_date_missing,
        **summarize(results),
        "partitions_detail": [r.to_dict() for r in sorted(results, key=lambda r: r.ingest_date)],
        # index.html path, None if not built; for a data_dir on object storage the site stays in the local work_dir
        "data_docs": datadocs.build_run_docs(catalog, run_id),
    }
    text = json.dumps(report, indent=2, ensure_ascii=False, default=str)
    for path in (catalog.report(run_id), catalog.latest_report):
        write_text(path, text)
    return report


#: The columns of the per-partition summary, as the CLI, the Prefect artifact and the README name them.
PARTITION_COLUMNS = (
    "ingest_date",
    "files",
    "curated",
    "quarantined",
    "exact duplicates",
    "near-duplicates",
    "published",
)


def partition_rows(report: dict) -> list[list[str]]:
    """One row per partition under ``PARTITION_COLUMNS``; an unchanged partition shows its last publish's counts."""
    rows = []
    for p in report["partitions_detail"]:
        if p["skipped"]:
            state = "unchanged"
        elif p["published"]:
            state = "yes"
        else:
            state = "NO: " + "; ".join(p["failures"])
        counts = [p["n_files"], p["curated"], p["quarantined"], p["duplicates"], p["near_duplicates"]]
        rows.append([p["ingest_date"], *(f"{n:,}" for n in counts), state])
    return rows


def summary_line(report: dict) -> str:
    """The run in one sentence: what was processed, with the same names as the tables."""
    return (
        f"{report['files']:,} files in {report['partitions']} partitions processed "
        f"({report['skipped']} unchanged): {report['curated']:,} curated, {report['quarantined']:,} quarantined, "
        f"{report['duplicates']:,} exact duplicates, {report['near_duplicates']:,} near-duplicates "
        f"in {report['seconds']:.1f} s."
    )


def removed_rows(report: dict) -> list[list[str]]:
    """What the boilerplate rules took out of the processed files: rule, blocks, characters."""
    return [
        [rule, f"{c.get('blocks', 0):,}", f"{c.get('chars', 0):,}"] for rule, c in report.get("removed", {}).items()
    ]


def to_markdown(report: dict) -> str:
    """The report as Markdown tables, for the Prefect artifact."""
    lines = [f"# news-pipeline run `{report['run_id']}`", "", summary_line(report), ""]
    lines += _markdown_table(PARTITION_COLUMNS, partition_rows(report))
    if report["reasons"]:
        lines += [
            "",
            *_markdown_table(("quarantine reason", "files"), [[r, f"{n:,}"] for r, n in report["reasons"].items()]),
        ]
    if report.get("removed"):
        lines += [
            "",
            *_markdown_table(("removed as boilerplate, by rule", "blocks", "characters"), removed_rows(report)),
        ]
    for day, path in report.get("blocked_files", {}).items():
        lines += ["", f"Partition {day} was not published; its failed files and their reasons: `{path}`"]
    return "\n".join(lines) + "\n"


def _markdown_table(header: tuple[str, ...], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|",
        *("| " + " | ".join(str(c) for c in row) + " |" for row in rows),
    ]
