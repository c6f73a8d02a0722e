"""Data-quality gate for one partition of articles, run with Great Expectations 1.x.

Two steps, as the publish runs them: :func:`validate_rows` labels the rows that break a row rule
(they go to quarantine with its reason), then :func:`validate_partition` judges the rows that
passed, already linked to their duplicates, as a whole (an error-severity failure stops the
partition from being published).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

from news_pipeline.catalog import SUITE
from news_pipeline.config import Thresholds
from news_pipeline.gx_runtime import GX_LOCK, batch_definition, load_gx

#: The suite's ``$PARAMETER`` placeholders: thresholds applied by the rules (``min_chars`` is applied before).
SUITE_PARAMETERS = ("min_words", "max_words", "max_quarantine_share", "max_duplicate_share", "max_non_german_share")

# Bare lower-case domain (``n-tv.de``): no scheme, no path, no ``www.``; umlauts allowed for IDNs.
_DOMAIN = r"^(?:[a-z0-9äöüß](?:[a-z0-9äöüß-]*[a-z0-9äöüß])?\.)+[a-z][a-z0-9-]*[a-z0-9]$"
_URL = r"^https?://\S+$"
_OTHER_LISTS = ("subheadings", "related", "persons", "organizations", "locations")
_REQUIRED = (
    "doc_id",
    "source_path",
    "title",
    "word_count",
    "language",
    "encoding",
    "content_hash",
    "cited_sources",
    "links",
)
# The index is named row_nr, so GX lists failing positions without a pandas .at lookup per failing
# row (which it does for a plain column); doc_ids and values are read back from the Polars frame.
_ROW_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": ["row_nr"],
    "exclude_unexpected_values": True,
}
_SHOWN_VALUES = 20


@dataclass(frozen=True)
class RuleResult:
    """Outcome of one expectation of the suite."""

    name: str
    severity: str  # "error" | "warn" | "info" (reported, never a warning)
    level: str  # "row" | "partition"
    success: bool
    unexpected_count: int  # failing rows (row rules); 0 or 1 (partition rules)
    observed: Any  # partition: the summary value; row: up to 20 offending values
    message: str = ""  # the reason in words when the rule failed, else ""
    doc_ids: tuple[str | None, ...] = ()  # row rules: doc_ids of the failing rows

    def __str__(self) -> str:
        """``<rule name>: <words>``, like a row reason."""
        return f"{self.name}: {self.message or 'passed'}"


@dataclass(frozen=True)
class RowValidation:
    """What the row rules decided: the failing rows with their reasons, and the rows that passed."""

    row_reasons: pl.DataFrame  # doc_id, reasons: list[str], row_nr: position in the input frame
    passed: pl.DataFrame
    results: list[RuleResult]
    gx_result: Any = field(repr=False, compare=False)  # the GX ExpectationSuiteValidationResult
    seconds: float = 0.0


@dataclass(frozen=True)
class PartitionValidation:
    """What the partition rules decided about the rows that passed, linked to their duplicates."""

    results: list[RuleResult]
    summary: dict[str, Any]  # the one-row partition summary the partition rules saw
    gx_result: Any = field(repr=False, compare=False)
    seconds: float = 0.0


@dataclass(frozen=True)
class ArticleValidation:
    """What the gate decided for one partition: both steps together."""

    rows: RowValidation
    partition: PartitionValidation

    @property
    def row_reasons(self) -> pl.DataFrame:
        return self.rows.row_reasons

    @property
    def passed(self) -> pl.DataFrame:
        return self.rows.passed

    @property
    def summary(self) -> dict[str, Any]:
        return self.partition.summary

    @property
    def results(self) -> list[RuleResult]:
        return self.rows.results + self.partition.results

    @property
    def partition_failures(self) -> list[RuleResult]:
        """The error-severity partition rules that failed: the partition is not published."""
        return [r for r in self.partition.results if r.severity == "error" and not r.success]

    @property
    def warnings(self) -> list[RuleResult]:
        return [r for r in self.results if r.severity == "warn" and not r.success]

    @property
    def publishable(self) -> bool:
        """True when no error-severity partition rule failed."""
        return not self.partition_failures

    @property
    def gx_results(self) -> tuple[Any, Any]:
        """The GX results (row suite, partition suite), for Data Docs."""
        return (self.rows.gx_result, self.partition.gx_result)

    @property
    def seconds(self) -> float:
        return self.rows.seconds + self.partition.seconds

    def split(self, df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The rows of the validated ``df`` that passed, and those that failed with their ``reasons``."""
        # By position, not doc_id: a null or repeated doc_id is itself a failure to route.
        indexed, reasons = df.with_row_index("row_nr"), self.row_reasons.select("row_nr", "reasons")
        passed = indexed.join(reasons, on="row_nr", how="anti").drop("row_nr")
        return passed, indexed.join(reasons, on="row_nr").drop("row_nr")


def _count_bad(column: str, ok: pl.Expr) -> pl.Expr:
    """Entries of a list column failing ``ok``; a null entry is bad, a null list is empty."""
    return pl.col(column).list.eval((~ok).fill_null(True)).list.sum().fill_null(0).cast(pl.Int64)


def _row_frame(df: pl.DataFrame) -> pl.DataFrame:
    """The scalar and helper columns the row rules read; bodies stay out so conversion is cheap."""
    # The pipeline validates a metadata frame that carries body_chars instead of the body.
    body = "body_chars" if "body_chars" in df.columns else "body"
    missing = sorted({*_REQUIRED, body} - set(df.columns))
    if missing:
        raise ValueError(f"cannot validate articles: columns {missing} are missing")
    blank = pl.element().str.strip_chars() != ""
    return df.select(
        "doc_id",
        "source_path",
        pl.col("title").str.strip_chars().str.len_chars().alias("title_length"),
        (pl.col(body) if body == "body_chars" else pl.col(body).str.len_bytes()).alias("body_length"),
        "word_count",
        "language",
        pl.col("encoding")
        .str.to_lowercase()
        .str.replace_all("_", "-", literal=True)
        .str.replace(r"^gzip\+", "")
        .str.extract(r"^([a-z0-9-]+)")  # drop a repair note such as "+mojibake-repaired"
        .alias("encoding_codec"),
        "content_hash",
        _count_bad("cited_sources", pl.element().str.contains(_DOMAIN) & ~pl.element().str.starts_with("www.")).alias(
            "cited_sources_bad"
        ),
        _count_bad("links", pl.element().str.contains(_URL)).alias("links_bad"),
        # Optional here: a warn rule, and the pipeline's metadata frame leaves these lists out.
        pl.sum_horizontal(0, *(_count_bad(c, blank) for c in _OTHER_LISTS if c in df.columns))
        .cast(pl.Int64)
        .alias("list_blank"),
    )


def _summary(ok: pl.DataFrame, n_files: int, rejected_early: Mapping[str, int]) -> dict[str, Any]:
    """Partition counts and shares over the rows that passed the row rules, and the files rejected before them."""
    if "duplicate_of" not in ok.columns:
        raise ValueError("cannot validate articles: column duplicate_of is missing (link the rows first)")
    n = ok.height
    early = dict(sorted(rejected_early.items(), key=lambda kv: (-kv[1], kv[0])))
    return {
        "n_files": n_files,
        "n_curated": n,
        "rejected_early": sum(early.values()),
        "rejected_early_text": ", ".join(f"{reason} {count}" for reason, count in early.items()) or "none",
        "rejected_early_reasons": early,  # for the Data Docs; not a column of the frame GX sees
        "quarantine_share": 1.0 - n / n_files if n_files else 0.0,
        "duplicate_share": ok["duplicate_of"].is_not_null().sum() / n if n else 0.0,
        "non_german_share": (ok["language"] != "de").fill_null(True).sum() / n if n else 0.0,
    }


@lru_cache(maxsize=8)
def _suites(path: Path, mtime_ns: int) -> dict[str, Any]:
    """The suite split into a row suite and a partition suite, built once per file version."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {
        level: load_gx().ExpectationSuite(
            name=f"{raw['name']}.{level}",
            expectations=[e for e in raw["expectations"] if e["meta"]["level"] == level],
            meta=raw.get("meta") or {},
        )
        for level in ("row", "partition")
    }


def _to_pandas(frame: pl.DataFrame) -> Any:
    """Arrow-backed strings (no copies), numpy numbers, and an index named row_nr."""
    import pandas as pd

    pdf = frame.to_pandas(use_pyarrow_extension_array=True)
    # GX's between check is vectorised only for numpy int/float dtypes; on Arrow dtypes it makes a
    # Python call per value (0.5 s per 100k rows for 7 rules). Nullable ints become float64 + NaN.
    for name, dtype in frame.schema.items():
        if dtype.is_numeric():
            pdf[name] = frame[name].cast(pl.Int64 if dtype.is_integer() else pl.Float64).to_numpy()
    pdf.index = pd.RangeIndex(len(pdf), name="row_nr")  # positions in the validated frame
    return pdf


def _run(frame: pl.DataFrame, suite: Any, params: dict[str, Any], result_format: Any) -> Any:
    """Validate a Polars frame with GX; the ExpectationSuiteValidationResult (``.results``: one per expectation)."""
    pdf = _to_pandas(frame)
    with GX_LOCK:
        batch = batch_definition().get_batch(batch_parameters={"dataframe": pdf})
        results = batch.validate(suite, result_format=result_format, expectation_parameters=params)
    for r in results.results:
        info = r.exception_info or {}
        if info.get("raised_exception"):  # a broken rule must stop the run, not pass or fail rows
            rule = r.expectation_config.meta.get("rule")
            raise RuntimeError(f"rule {rule} could not run: {info.get('exception_message')}")
    return results


def _limits(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """min_value/max_value after substitution; GX turns int parameters into floats, undo that."""
    out = {}
    for key in ("min_value", "max_value"):
        v = kwargs.get(key)
        out[key] = int(v) if isinstance(v, float) and v.is_integer() else v
    return out


#: GX's severity of an expectation (its own ``severity`` field) as the pipeline names it.
SEVERITY = {"critical": "error", "warning": "warn", "info": "info"}


def _severity(config: Any) -> str:
    return SEVERITY[config.severity.value]


def _rule(r: Any, **fields_: Any) -> RuleResult:
    """A RuleResult from a GX result, the rule's severity and its meta."""
    meta = r.expectation_config.meta
    return RuleResult(meta["rule"], _severity(r.expectation_config), meta["level"], bool(r.success), **fields_)


def _in_suite_order(suite: Any, results: list) -> list:
    """GX regroups expectations by column; put its results back in the suite's order."""
    by_rule = {r.expectation_config.meta["rule"]: r for r in results}
    return [by_rule[e.meta["rule"]] for e in suite.expectations]


def _params(thresholds: Thresholds | Mapping[str, Any]) -> dict[str, Any]:
    """The suite's parameter values from the thresholds (a mapping may override some defaults)."""
    if isinstance(thresholds, Mapping):
        unknown = set(thresholds) - set(Thresholds.model_fields)
        if unknown:  # a typo must not silently fall back to a default
            raise ValueError(f"unknown threshold(s) {sorted(unknown)}; known: {sorted(Thresholds.model_fields)}")
        thresholds = Thresholds(**thresholds)
    return thresholds.model_dump(include=set(SUITE_PARAMETERS))


def _suite(level: str, suite_path: Path | None) -> Any:
    path = Path(suite_path or SUITE)  # type: ignore[arg-type]  # a package file on disk
    return _suites(path, path.stat().st_mtime_ns)[level]


def validate_rows(
    df: pl.DataFrame, *, thresholds: Thresholds | Mapping[str, Any], suite_path: Path | None = None
) -> RowValidation:
    """Run the row rules on ``df`` (curated columns, or the staged metadata with ``body_chars``)."""
    start = time.perf_counter()
    suite, params = _suite("row", suite_path), _params(thresholds)
    results: list[RuleResult] = []
    rows: list[int] = []
    texts: list[str] = []
    frame = _row_frame(df)
    run = _run(frame, suite, params, _ROW_FORMAT)
    for r in _in_suite_order(suite, run.results):
        cfg, meta = r.expectation_config, r.expectation_config.meta
        row_nrs = [i for hit in r.result.get("unexpected_index_list") or [] for i in hit["row_nr"]]
        values = frame[cfg.kwargs["column"]].gather(row_nrs).to_list()
        words = [meta["reason"].format(value=v, **_limits(cfg.kwargs)) for v in values]
        if _severity(cfg) == "error":
            rows += row_nrs
            texts += [f"{meta['rule']}: {w}" for w in words]
        results.append(
            _rule(
                r,
                unexpected_count=int(r.result.get("unexpected_count") or 0),
                observed=values[:_SHOWN_VALUES],
                message=f"{len(words)} row(s), e.g. {words[0]}" if words else "",
                doc_ids=tuple(df["doc_id"].gather(row_nrs).to_list()),
            )
        )
    # A stable sort keeps each row's reasons in the suite's order.
    failed = pl.DataFrame({"row_nr": rows, "reason": texts}, schema={"row_nr": pl.UInt32, "reason": pl.String})
    grouped = failed.sort("row_nr", maintain_order=True).group_by("row_nr", maintain_order=True).agg(reasons="reason")
    row_reasons = grouped.select(doc_id=df["doc_id"].gather(grouped["row_nr"]), reasons="reasons", row_nr="row_nr")
    passed = df.filter(pl.repeat(True, df.height, eager=True).scatter(row_reasons["row_nr"], False))
    return RowValidation(row_reasons, passed, results, run, time.perf_counter() - start)


def validate_partition(
    linked: pl.DataFrame,
    *,
    thresholds: Thresholds | Mapping[str, Any],
    n_files: int,
    rejected_early: Mapping[str, int] | None = None,
    suite_path: Path | None = None,
) -> PartitionValidation:
    """Run the partition rules on the rows that passed the row rules, linked (``duplicate_of`` set).

    ``rejected_early``: files quarantined before the row rules (unreadable, too short, ...) by reason code;
    they are part of ``n_files`` and show in the result of ``files_rejected_before_validation``.
    """
    start = time.perf_counter()
    if n_files < linked.height:
        raise ValueError(f"n_files={n_files} is smaller than the {linked.height} rows to validate")
    suite = _suite("partition", suite_path)
    summary = _summary(linked, n_files, rejected_early or {})
    frame = pl.DataFrame([{k: v for k, v in summary.items() if not isinstance(v, dict)}])
    run = _run(frame, suite, _params(thresholds), "SUMMARY")
    results = []
    for r in _in_suite_order(suite, run.results):
        observed = r.result.get("observed_value")
        observed = observed.item() if hasattr(observed, "item") else observed  # a numpy scalar
        words = {**summary, **_limits(r.expectation_config.kwargs), "value": observed}
        message = "" if r.success else r.expectation_config.meta["reason"].format(**words)
        results.append(_rule(r, unexpected_count=int(not r.success), observed=observed, message=message))
    return PartitionValidation(results, summary, run, time.perf_counter() - start)


def validate_articles(
    df: pl.DataFrame, *, thresholds: Thresholds | Mapping[str, Any], n_files: int, suite_path: Path | None = None
) -> ArticleValidation:
    """Both steps on a frame that is already linked: the row rules, then the partition rules on the rows that pass."""
    if n_files < df.height:
        raise ValueError(f"n_files={n_files} is smaller than the {df.height} rows to validate")
    rows = validate_rows(df, thresholds=thresholds, suite_path=suite_path)
    early = {"rejected before validation": n_files - df.height} if n_files > df.height else {}
    partition = validate_partition(
        rows.passed, thresholds=thresholds, n_files=n_files, rejected_early=early, suite_path=suite_path
    )
    return ArticleValidation(rows, partition)
