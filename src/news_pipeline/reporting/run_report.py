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
    for r in results:
        reasons.update(r.reasons)
    processed = [r for r in results if not r.skipped]
    return {
        "partitions": len(processed),
        "skipped": sum(r.skipped for r in results),
        "files": sum(r.n_files for r in processed),
        "curated": sum(r.curated for r in processed),
        "quarantined": sum(r.quarantined for r in processed),
        "duplicates": sum(r.duplicates for r in processed),
        "near_duplicates": sum(r.near_duplicates for r in processed),
        "reasons": dict(reasons.most_common()),
        "failed_partitions": [r.ingest_date.isoformat() for r in processed if not r.published],
    }


def write_run_report(
    settings: Settings,
    run_id: str,
    started: dt.datetime,
    results: list[PartitionResult],
    logical_date: dt.date | None = None,
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
        **summarize(results),
        "partitions_detail": [r.to_dict() for r in sorted(results, key=lambda r: r.ingest_date)],
        # index.html path, None if not built; for a data_dir on object storage the site stays in the local work_dir
        "data_docs": datadocs.build_run_docs(catalog, run_id),
    }
    text = json.dumps(report, indent=2, ensure_ascii=False, default=str)
    for path in (catalog.report(run_id), catalog.latest_report):
        write_text(path, text)
    return report


def to_markdown(report: dict) -> str:
    """The report as a Markdown table, for the Prefect artifact."""
    lines = [
        f"# news-pipeline run `{report['run_id']}`",
        "",
        f"{report['files']} files in {report['partitions']} partitions ({report['skipped']} unchanged, skipped): "
        f"**{report['curated']} curated**, **{report['quarantined']} quarantined**, "
        f"{report['duplicates']} exact duplicates, {report['near_duplicates']} near-duplicates; {report['seconds']} s.",
        "",
        "| ingest_date | files | curated | quarantined | duplicates | published | failed rules |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for p in report["partitions_detail"]:
        state = "skipped (unchanged)" if p["skipped"] else ("yes" if p["published"] else "**no**")
        lines.append(
            f"| {p['ingest_date']} | {p['n_files']} | {p['curated']} | {p['quarantined']} | {p['duplicates']} "
            f"| {state} | {'; '.join(p['failures'])} |"
        )
    if report["reasons"]:
        lines += ["", "| quarantine reason | files |", "|---|---:|"]
        lines += [f"| {reason} | {n} |" for reason, n in report["reasons"].items()]
    return "\n".join(lines) + "\n"
