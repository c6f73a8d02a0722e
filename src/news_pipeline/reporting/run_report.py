"""The run report: counts per partition and reason, rules that failed, duration; as JSON and Markdown."""

from __future__ import annotations

import datetime as dt
import json

from news_pipeline.reporting import datadocs
from news_pipeline.io import storage
from news_pipeline.io.fs import Location
from news_pipeline.pipeline import PartitionResult, summarize
from news_pipeline.config import Settings


def reports_dir(settings: Settings) -> Location:
    return settings.data_dir / "reports"


def write_run_report(
    settings: Settings, run_id: str, started: dt.datetime, results: list[PartitionResult], logical_date: dt.date | None = None
) -> dict:
    """Write ``data/reports/<run_id>.json`` (and ``latest.json``) and return the report."""
    finished = dt.datetime.now(dt.UTC)
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
        "data_docs": datadocs.build_run_docs(settings.work_dir, run_id),
    }
    text = json.dumps(report, indent=2, ensure_ascii=False, default=str)
    for name in (f"{run_id}.json", "latest.json"):
        storage.write_text(reports_dir(settings) / name, text)
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
