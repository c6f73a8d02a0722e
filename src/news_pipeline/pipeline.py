"""The steps the flow wires together: plan partitions, process a batch of files, finalize a partition.

Plain functions over paths and Polars frames; they never import Prefect. Between steps only
paths and small result records travel; the article text stays in staged Parquet files.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, field

import polars as pl
import polars_hash  # noqa: F401  (registers the .chash namespace)

from news_pipeline.stages import dedup
from news_pipeline.io import fs, storage
from news_pipeline import schemas as schema
from news_pipeline.stages.ingest import read_batch, read_file
from news_pipeline.io.landing import list_files, select_partitions
from news_pipeline.stages.entities import extract_entities
from news_pipeline.stages.extract.articles import extract_articles
from news_pipeline.stages.language import detect_language
from news_pipeline.config import Settings

_STAGED_META = ["doc_id", "source_path", "reasons", "title", "body_chars", "word_count", "language", "encoding",
                "content_hash", "minhash", "cited_sources", "links", "size", "mtime_ns", "raw_sha256"]  # fmt: skip


@dataclass
class PartitionPlan:
    """One date folder to process, its files split into batches: frames of ``source_path``, ``abs_path``, ``size``, ``mtime_ns``.

    A batch travels to its task as one frame, not as a list of tuples: Prefect walks a task's
    parameters element by element (several times per task run), about 0.1 s per walk of 5,000 tuples.
    """

    ingest_date: dt.date
    n_files: int
    batches: list[pl.DataFrame]
    reason: str = ""  # why it is processed: new, changed, forced, ...


@dataclass
class BatchResult:
    """A processed batch: where its rows are staged and how many there were."""

    ingest_date: dt.date
    batch_no: int
    staged: str
    n_files: int
    seconds: float


@dataclass
class PartitionResult:
    """What happened to one partition; the flow's summary is a list of these."""

    ingest_date: dt.date
    n_files: int = 0
    curated: int = 0
    quarantined: int = 0
    duplicates: int = 0
    near_duplicates: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    published: bool = False
    skipped: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self) | {"ingest_date": self.ingest_date.isoformat()}


def new_run_id() -> str:
    """A sortable, readable run id: UTC time plus a random suffix."""
    import secrets

    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def _committed_run(settings: Settings, day: dt.date) -> str | None:
    """The run whose publish of ``day`` completed: the manifest and every partition file agree on it."""
    manifest = storage.read_manifest(settings, day)
    run_id = manifest.get("run_id") if manifest else None
    if not run_id:
        return None
    files = [storage.partition_file(root, day) for root in storage.partition_roots(settings)]
    return run_id if all(storage.file_run_id(f) == run_id for f in files) else None


def _change(settings: Settings, day: dt.date, files: pl.DataFrame) -> str | None:
    """Why a partition must be processed (``new``, ``changed: ...``, ``incomplete``), or None if unchanged.

    Paths, sizes and mtimes are compared with the ledger; files whose size or mtime moved are
    hashed, so a touched but identical file does not trigger reprocessing.
    """
    ledger_file = storage.partition_file(storage.ledger_root(settings), day)
    if not fs.exists(ledger_file) and storage.read_manifest(settings, day) is None:
        return "new"
    if _committed_run(settings, day) is None:
        return "incomplete: the last publish did not finish"
    ledger = fs.read_parquet(ledger_file, columns=["doc_id", "size", "mtime_ns", "raw_sha256"])
    # keyed by doc_id, not source_path: two names may render to the same source_path (see path_doc_ids)
    now = files.select("size", "mtime_ns", "abs_path").with_columns(
        path_doc_ids(settings, files["abs_path"].to_list()).alias("doc_id")
    )
    added = now.join(ledger, on="doc_id", how="anti").height
    removed = ledger.join(now, on="doc_id", how="anti").height
    if added or removed:
        return f"changed: {added} new, {removed} removed files"
    moved = now.join(ledger, on="doc_id", suffix="_ledger").filter(
        (pl.col("size") != pl.col("size_ledger")).fill_null(True)
        | (pl.col("mtime_ns") != pl.col("mtime_ns_ledger")).fill_null(True)
    )
    # only files whose size or mtime moved are read again, to compare their bytes
    edited = sum(
        read_file(abs_path, settings.max_file_bytes).sha256 != sha
        for abs_path, sha in moved.select("abs_path", "raw_sha256").iter_rows()
    )
    return f"changed: {edited} edited files" if edited else None


def plan_partitions(
    settings: Settings,
    dates: list[dt.date] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    force: bool = False,
) -> tuple[list[PartitionPlan], list[PartitionResult]]:
    """The partitions to process (new or changed, or all with ``force``) and those skipped as unchanged."""
    todo, skipped = [], []
    for part in select_partitions(settings.raw_dir, dates, start, end):
        files = list_files(settings.raw_dir, part)
        reason = "forced" if force else _change(settings, part.ingest_date, files)
        if reason is None:
            skipped.append(PartitionResult(part.ingest_date, n_files=files.height, skipped=True))
            continue
        rows = files.select("source_path", "abs_path", "size", "mtime_ns")
        batches = [rows.slice(i, settings.batch_size) for i in range(0, rows.height, settings.batch_size)] or [rows]
        todo.append(PartitionPlan(part.ingest_date, files.height, batches, reason))
    return todo, skipped


def _early_reasons(settings: Settings) -> pl.Expr:
    """Reasons known before validation: unreadable files, too little text, no headline or body."""
    t = settings.thresholds
    chars = pl.col("raw_text").str.strip_chars().str.len_chars()
    checks = [
        pl.when(pl.col("read_error").is_not_null()).then(pl.lit("unreadable_file: the file ") + pl.col("read_error")),
        pl.when(pl.col("read_error").is_null() & (chars < t.min_chars)).then(
            pl.format("too_short: the file has only {} characters of text, fewer than {}", chars, pl.lit(t.min_chars))
        ),
        pl.when(pl.col("read_error").is_null() & (chars >= t.min_chars) & pl.col("title").is_null()).then(
            pl.lit("no_headline: no headline found")
        ),
        pl.when(pl.col("read_error").is_null() & (chars >= t.min_chars) & pl.col("body").is_null()).then(
            pl.lit("no_body: no article text left after removing boilerplate, details block and trailers")
        ),
    ]
    return pl.concat_list(checks).list.drop_nulls().alias("reasons")


def doc_ids(source_path: pl.Expr) -> pl.Expr:
    """Stable id of a raw file: the first 20 hex digits of SHA-256 of its source path (String or Binary)."""
    return source_path.chash.sha2_256().str.slice(0, 20)


def path_doc_ids(settings: Settings, abs_paths: list[bytes]) -> pl.Expr:
    """``doc_ids`` of the files' paths relative to the landing zone, hashed as the bytes the OS names them.

    For a UTF-8 name that is exactly the hash of its ``source_path``. A name with undecodable bytes
    (shown as ``\\xNN`` in ``source_path``) hashes differently from a file literally named like that
    rendering, so two such files can never share a ``doc_id`` (which would merge their rows).
    Object keys are UTF-8: an object's ``doc_id`` is that of the same file in a local copy of the landing zone.
    """
    if isinstance(settings.raw_dir, fs.Url):
        root = str(settings.raw_dir).encode() + b"/"
        rel = [p.removeprefix(root) for p in abs_paths]
        return doc_ids(pl.lit(pl.Series(rel, dtype=pl.Binary)))
    root, sep = os.fsencode(settings.raw_dir), os.sep.encode()
    rel = [os.path.relpath(p, root).replace(sep, b"/") for p in abs_paths]
    return doc_ids(pl.lit(pl.Series(rel, dtype=pl.Binary)))


def process_batch(settings: Settings, ingest_date: dt.date, run_id: str, batch_no: int, files: pl.DataFrame) -> BatchResult:
    """Read, decode, clean and extract one batch of raw files (a frame of :class:`PartitionPlan`) into a staged Parquet file."""
    started = time.perf_counter()
    abs_paths = files["abs_path"].to_list()
    raw = read_batch(abs_paths, files["source_path"].to_list(), settings.max_file_bytes).with_columns(
        path_doc_ids(settings, abs_paths).alias("doc_id"),
        files["size"].cast(pl.Int64),
        files["mtime_ns"].cast(pl.Int64),
    )
    readable = raw.filter(pl.col("raw_text").is_not_null())
    articles = extract_articles(readable.select("doc_id", "raw_text"))
    articles = articles.filter(pl.col("body").is_not_null() & pl.col("title").is_not_null())
    articles = (
        articles.pipe(detect_language)
        .pipe(extract_entities)
        .pipe(dedup.add_content_hash)
        .pipe(dedup.add_minhash)
    )
    out = (
        raw.join(articles.drop("raw_text"), on="doc_id", how="left")
        .with_columns(_early_reasons(settings), pl.col("body").str.len_chars().fill_null(0).alias("body_chars"))
        .drop("read_error")
    )
    staged = storage.staging_dir(settings, run_id) / ingest_date.isoformat() / f"batch-{batch_no:05d}.parquet"
    staged.parent.mkdir(parents=True, exist_ok=True)
    out.write_parquet(staged, compression="lz4")
    return BatchResult(ingest_date, batch_no, str(staged), files.height, time.perf_counter() - started)


def _story_window_start(settings: Settings, ingest_date: dt.date) -> dt.date:
    """The first day whose articles can still be a story with ``ingest_date``'s."""
    return ingest_date - dt.timedelta(days=settings.story_window_days)


def _earlier_signatures(settings: Settings, ingest_date: dt.date, current: pl.DataFrame) -> pl.DataFrame:
    """The rows of earlier partitions that can be a duplicate or a story of ``current`` (read one partition at a time)."""
    cols = ["doc_id", "source_path", "content_hash", "story_id", "minhash"]
    window_start = _story_window_start(settings, ingest_date)
    parts = storage.iter_earlier(storage.signatures_root(settings), ingest_date, cols)
    earlier = dedup.relevant_earlier(parts, current, window_start)
    if earlier is None:
        empty = {"doc_id": pl.String, "source_path": pl.String, "content_hash": pl.String, "story_id": pl.String,
                 "minhash": pl.List(pl.UInt32), "ingest_date": pl.Date}  # fmt: skip
        return pl.DataFrame(schema=empty)
    return earlier


def _link_duplicates(settings: Settings, ok: pl.DataFrame, earlier: pl.DataFrame, ingest_date: dt.date) -> pl.DataFrame:
    """``ok`` with ``duplicate_of`` and ``story_id`` against itself and earlier partitions."""
    recent = earlier.filter(pl.col("ingest_date") >= _story_window_start(settings, ingest_date))
    return ok.join(dedup.assign_duplicates(ok, earlier), on="doc_id", how="left").join(
        dedup.assign_stories(ok, recent, settings.story_similarity), on="doc_id", how="left"
    )


def finalize_partition(settings: Settings, plan: PartitionPlan, run_id: str, batches: list[BatchResult]) -> PartitionResult:
    """Link duplicates, validate, and atomically publish one partition's curated and quarantine files.

    A partition that fails an error-severity partition rule is not published; the old files stay.
    """
    from news_pipeline.reporting import datadocs
    from news_pipeline.stages.validate import validate_articles  # imports Great Expectations: seconds

    started = time.perf_counter()
    day = plan.ingest_date
    result = PartitionResult(day, n_files=plan.n_files)
    staged = [b.staged for b in sorted(batches, key=lambda b: b.batch_no)]
    meta = pl.concat([pl.read_parquet(p, columns=_STAGED_META) for p in staged]).with_columns(
        pl.lit(day).alias("ingest_date")
    )
    ok = meta.filter(pl.col("reasons").list.len() == 0)
    earlier = _earlier_signatures(settings, day, ok)
    # linked after the row rules: the rows they reject do not count as first-seen documents
    validation = validate_articles(ok, thresholds=settings.thresholds, n_files=plan.n_files,
                                   link=lambda passed: _link_duplicates(settings, passed, earlier, day))  # fmt: skip
    ok = validation.passed
    datadocs.save_validation(settings.work_dir, run_id, day, validation)  # input of the run's Data Docs
    result.warnings = [str(w) for w in validation.warnings]
    result.failures = [str(f) for f in validation.partition_failures]
    reasons = pl.concat(
        [
            meta.filter(pl.col("reasons").list.len() > 0).select("doc_id", "reasons"),
            validation.row_reasons.select("doc_id", pl.col("reasons").cast(pl.List(pl.String))),
        ]
    )
    result.curated, result.quarantined = ok.height, reasons.height
    result.duplicates = ok["duplicate_of"].is_not_null().sum()
    result.near_duplicates = ok.filter(pl.col("duplicate_of").is_null() & (pl.col("story_id") != pl.col("doc_id"))).height
    result.reasons = dict(Counter(r.split(":", 1)[0] for rs in reasons["reasons"].to_list() for r in rs))
    if result.failures:
        result.seconds = time.perf_counter() - started
        return result

    links = ok.select("doc_id", "duplicate_of", "story_id")
    run = pl.lit(run_id).alias("run_id")

    def curated_tables():
        for path in staged:
            batch = pl.read_parquet(path).join(links, on="doc_id", how="inner").with_columns(run)
            yield schema.conform(batch, schema.CURATED)

    def quarantine_tables():
        for path in staged:
            batch = pl.read_parquet(path, columns=["doc_id", "source_path", "raw_text", "encoding"])
            batch = batch.join(reasons, on="doc_id", how="inner").with_columns(run)
            yield schema.conform(batch, schema.QUARANTINE)

    scratch = storage.staging_dir(settings, run_id) / day.isoformat()
    signatures = ok.select("doc_id", "source_path", "content_hash", "story_id", "minhash").to_arrow()
    ledger = (
        meta.select("source_path", "doc_id", "size", "mtime_ns", "raw_sha256")
        .join(reasons.select("doc_id", pl.lit("quarantine").alias("outcome")), on="doc_id", how="left")
        .with_columns(pl.col("outcome").fill_null("curated"), run, pl.lit(dt.datetime.now(dt.UTC)).alias("processed_at"))
        .to_arrow()
    )
    outputs = {
        settings.quarantine_dir: (quarantine_tables(), schema.QUARANTINE),
        settings.curated_dir: (curated_tables(), schema.CURATED),
        storage.signatures_root(settings): ([signatures], signatures.schema),
        storage.ledger_root(settings): ([ledger], ledger.schema),
    }
    written = []
    read_by_users = (settings.curated_dir, settings.quarantine_dir)
    for root in storage.partition_roots(settings):
        tables, table_schema = outputs[root]
        tmp = scratch / f"publish-{root.parent.name}-{root.name}.parquet"  # root: a Path or an fs.Url
        final = storage.partition_file(root, day)
        storage.write_parquet(tables, table_schema, tmp, run_id=run_id, replaces=final if root in read_by_users else None)
        written.append((tmp, final))
    for tmp, final in written:  # all are complete on disk before any becomes visible
        storage.publish_file(tmp, final)
    result.published = True
    result.seconds = time.perf_counter() - started
    # the commit point: a partition counts as published only when the manifest names this run
    storage.write_manifest(settings, day, {"run_id": run_id, "published": dt.datetime.now(dt.UTC)} | result.to_dict())
    return result


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
