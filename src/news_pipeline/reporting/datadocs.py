"""Great Expectations Data Docs of the runs' validation results: a static HTML site in ``reports/data_docs/``.

Plain functions, no Prefect. A partition's publish hands its
:class:`~news_pipeline.stages.validate.ArticleValidation` to :func:`save_validation`, which writes its
two GX results (row suite, partition suite) as JSON under ``Catalog.gx_results/<run_id>/
<ingest_date>/``; at the end of the run :func:`build_data_docs` renders the site
(``Catalog.data_docs``) from those files with an ephemeral GX context (in-memory stores, one
local site builder): nothing is written to the repository, GX makes no network calls, and tasks
pass no GX objects. Both live in the work folder: the data folder itself, or a local folder when
the data folder is on object storage (the site stays on this machine then).

Each result is keyed and titled by suite (``articles.row``, ``articles.partition``), run name (the
run id), run time (from the run id) and batch id ``ingest_date=YYYY-MM-DD``; its data asset reads
``articles ingest_date=YYYY-MM-DD``. A failed row rule lists up to 20 failing rows: value, count
and doc_id. The site keeps the results of the last ``KEEP_RUNS`` runs, newest first on the index.

The site opens offline and contacts no other host: :mod:`news_pipeline.reporting.offline_site`
replaces the GX templates that load CDN styles, scripts and icons with our own and writes one
stylesheet of our own next to the pages.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from news_pipeline.catalog import Catalog
from news_pipeline.gx_runtime import GX_LOCK, load_gx, quiet_gx_logging

if TYPE_CHECKING:
    from news_pipeline.stages.validate import ArticleValidation

log = logging.getLogger(__name__)

SITE_NAME = "news_pipeline"
#: Runs whose results the site keeps; older result files (and so their pages) are removed.
KEEP_RUNS = 50
ASSET = "articles"
_RUN_TIME_FORMAT = "%Y%m%dT%H%M%SZ"  # the prefix of pipeline.new_run_id()
_SAMPLE_ROWS = 20  # failing rows shown per rule (validate keeps the values of the first 20)
# GX's positions of the failing rows in the validated frame: one entry per row, meaningless later.
_BULKY = ("unexpected_index_list", "partial_unexpected_index_list", "unexpected_index_query", "unexpected_list")


def _run_time(run_id: str) -> dt.datetime:
    """The start of the run encoded in a default run id, else now (UTC)."""
    try:
        return dt.datetime.strptime(run_id[:16], _RUN_TIME_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        return dt.datetime.now(dt.UTC)


def _gx_run_name(run_id: str) -> str:
    """The run's name in its GX results and Data Docs: the run id behind a word.

    GX titles a result's page by reading the run name as a date (dateutil). Some random suffixes make
    that a time with an impossible zone offset ("20251121T140512Z-2609ad" reads as -26:09, about one run
    id in 2,000): comparing it raises, and GX drops the run's pages. A word in front reads as no date.
    """
    return f"run-{run_id}"


def _failing_rows(result: dict[str, Any], column: str | None, rule: Any) -> None:
    """Replace GX's positions of failing rows by a sample of their values and doc_ids.

    GX then renders its "Unexpected Value | Count | doc_id" table (values with counts only for a
    rule on doc_id itself); ``unexpected_count`` and the shares stay GX's own.
    """
    for key in _BULKY:
        result.pop(key, None)
    if rule is None or rule.success or rule.level != "row" or not rule.doc_ids:
        return
    values = list(rule.observed[:_SAMPLE_ROWS])
    result["partial_unexpected_counts"] = [{"value": v, "count": n} for v, n in Counter(values).most_common()]
    if column != "doc_id":
        result["unexpected_index_column_names"] = ["doc_id"]
        result["unexpected_index_list"] = [{column: v, "doc_id": d} for v, d in zip(values, rule.doc_ids, strict=False)]


def _rejected_early(result: dict[str, Any], summary: dict[str, Any]) -> None:
    """The result of ``files_rejected_before_validation`` with the rejected files by reason, as GX's table of
    unexpected values with counts (the partition rules see one summary row, so GX has no rows to count)."""
    early = summary.get("rejected_early_reasons") or {}
    n, files = sum(early.values()), summary["n_files"]
    result["partial_unexpected_counts"] = [{"value": k, "count": c} for k, c in early.items()]
    result |= {"unexpected_count": n, "element_count": files, "unexpected_percent": 100 * n / files if files else 0}


def save_validation(
    catalog: Catalog,
    run_id: str,
    ingest_date: dt.date,
    validation: ArticleValidation,
    notes: dict[str, str] | None = None,
) -> list[Path]:
    """Write the partition's GX results as JSON files for the run's Data Docs; their paths.

    Needs no GX context (safe in any thread); the run id and ``ingest_date`` go into the results'
    meta (run, data asset, batch spec). Failed row rules keep GX's counts and shares plus the
    values and doc_ids of up to 20 failing rows, not GX's one entry per failing row. ``notes``
    (what cleaning removed, where a stopped partition's files are listed) go into the partition
    result's batch spec, which its page shows under "Show more info".
    """
    day = ingest_date.isoformat()
    by_rule = {r.name: r for r in validation.results}
    out = catalog.gx_results / run_id / day
    run = {"run_name": _gx_run_name(run_id), "run_time": _run_time(run_id).isoformat()}
    paths = []
    for gx_result in validation.gx_results:
        doc = gx_result.to_json_dict()
        doc["meta"]["run_id"] = run
        doc["meta"]["batch_spec"] = {
            **(doc["meta"].get("batch_spec") or {}),
            "data_asset_name": f"{ASSET} ingest_date={day}",
            "ingest_date": day,
            "run_id": run_id,
            **(notes or {} if doc["suite_name"].endswith(".partition") else {}),
        }
        for r in doc["results"]:
            config = r["expectation_config"]
            rule = by_rule.get((config.get("meta") or {}).get("rule"))
            _failing_rows(r.setdefault("result", {}), config["kwargs"].get("column"), rule)
            if config["kwargs"].get("column") == "rejected_early":
                _rejected_early(r["result"], validation.summary)
        path = out / f"{doc['suite_name']}.json"
        out.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(doc, ensure_ascii=False, default=str), encoding="utf-8")
        os.replace(tmp, path)
        paths.append(path)
    return paths


def _prune(stored: Path, keep_runs: int) -> None:
    """Remove the stored results of all but the newest ``keep_runs`` runs."""
    runs = sorted((p for p in stored.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime_ns)
    for old in runs[: max(len(runs) - keep_runs, 0)]:
        shutil.rmtree(old, ignore_errors=True)


def _page(site: Path, key: Any) -> Path:
    """Where GX's site store puts the page of a validation result key."""
    return site.joinpath("validations", *key.to_tuple()[:-1], f"{key.batch_identifier}.html")


def _docs_suite(gx: Any, result: Any) -> Any:
    """The suite as a result ran it (thresholds filled in), for the suite page the result links to."""
    expectations = []
    for r in result.results:
        config = r.expectation_config.to_json_dict()
        config.pop("id", None)
        config["kwargs"].pop("batch_id", None)
        expectations.append(config)
    return gx.ExpectationSuite(name=result.suite_name, expectations=expectations)


def _stored_results(stored: Path) -> list[tuple[Path, Any, dict]]:
    """(path, GX result key, JSON) of every stored result: ``<run_id>/<ingest_date>/<suite>.json``."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    out = []
    for path in sorted(stored.glob("*/*/*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        run = doc["meta"]["run_id"]
        key = ValidationResultIdentifier(
            ExpectationSuiteIdentifier(doc["suite_name"]),
            RunIdentifier(run["run_name"], run["run_time"]),
            f"ingest_date={doc['meta']['batch_spec']['ingest_date']}",
        )
        out.append((path, key, doc))
    return out


def build_data_docs(catalog: Catalog, results: Iterable[Path] | None = None, *, keep_runs: int = KEEP_RUNS) -> Path:
    """Render the Data Docs site ``Catalog.data_docs`` and return its ``index.html``.

    ``results`` are files from :func:`save_validation` whose pages to (re)render (default: every
    stored result); pages of other stored results are rendered only when missing. The index lists
    every stored result, newest run first; results of all but the newest ``keep_runs`` runs are
    removed first, and GX removes their pages.
    """
    gx = load_gx()
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
        expectationSuiteValidationResultSchema,
    )
    from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    from news_pipeline.reporting import offline_site

    started = time.perf_counter()
    site, stored = catalog.data_docs, catalog.gx_results
    if stored.is_dir():
        _prune(stored, keep_runs)
    wanted = None if results is None else {Path(p).resolve() for p in results}
    stored_docs = _stored_results(stored)
    render = [k for p, k, _ in stored_docs if wanted is None or p.resolve() in wanted or not _page(site, k).exists()]
    # The newest result of each suite gives the suite page (the thresholds the last run used).
    latest = {d["suite_name"]: k for _, k, d in sorted(stored_docs, key=lambda x: x[1].run_id.run_time)}
    full = {*render, *latest.values()}

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites={SITE_NAME: offline_site.site_config(site)},
        analytics_enabled=False,
    )
    with GX_LOCK:
        context = gx.get_context(project_config=config, mode="ephemeral")
        quiet_gx_logging()
        for _, key, doc in stored_docs:
            if key in full:
                result = expectationSuiteValidationResultSchema.load(doc)
            else:  # the index reads only success and meta; (de)serializing every result costs seconds
                short = {k: doc[k] for k in ("success", "suite_name", "meta", "statistics")}
                result = ExpectationSuiteValidationResult(results=[], **short)
            context.validation_results_store.set(key, result)
            if key in latest.values():
                context.suites.add(_docs_suite(gx, result))
        # The suite pages are always rendered, so the list is never empty (empty means "render all").
        suite_keys = [ExpectationSuiteIdentifier(name) for name in latest]
        context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=[*suite_keys, *render])
    # GX logs a page it failed to render and carries on; a missing page is an error here.
    missing = [str(key.to_tuple()) for key in render if not _page(site, key).exists()]
    index = site / "index.html"
    if missing or not index.exists():
        raise RuntimeError(f"Great Expectations did not render {missing or [str(index)]}; see its log above")
    seconds = time.perf_counter() - started
    log.info("Data Docs: %d of %d results rendered in %.2f s: %s", len(render), len(stored_docs), seconds, index)
    return index


def build_run_docs(catalog: Catalog, run_id: str) -> str | None:
    """For the run report: build the site with the run's results; the index path, None on failure.

    A run that validated nothing does not import GX: it returns the existing index, if any.
    Never raises; Data Docs must not fail a run whose data is already published.
    """
    try:
        run = catalog.gx_results / run_id
        fresh = sorted(run.glob("*/*.json")) if run.is_dir() else []
        if not fresh:
            index = catalog.data_docs / "index.html"
            return str(index) if index.exists() else None
        return str(build_data_docs(catalog, fresh))
    except Exception:
        log.warning("could not build the Data Docs of run %s", run_id, exc_info=True)
        return None
