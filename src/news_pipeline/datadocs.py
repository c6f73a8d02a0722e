"""Great Expectations Data Docs of the runs' validation results: a static HTML site in ``reports/data_docs/``.

Plain functions, no Prefect. ``finalize_partition`` hands each partition's
:class:`~news_pipeline.validate.ArticleValidation` to :func:`save_validation`, which writes its two
GX results (row suite, partition suite) as JSON under ``<data_dir>/state/gx/validations/<run_id>/
<ingest_date>/``; at the end of the run :func:`build_data_docs` renders the site from those files
with an ephemeral GX context (in-memory stores, one local site builder): nothing is written to the
repository, GX makes no network calls, and tasks pass no GX objects.

Each result page is named by suite (``articles.row``, ``articles.partition``), run name (the run id),
run time and batch id ``ingest_date=YYYY-MM-DD``; its data asset reads ``articles ingest_date=...``.
The result tables get three extra columns, Rule, Severity and What failed (with sample doc_ids).

GX's index page draws its table with jQuery/bootstrap-table loaded from CDNs, so opened offline
(``file://``, no network) it lists nothing. The index view here also writes the rows as a plain
HTML table with links, and removes that copy again when the CDN scripts did load. Result pages
render their tables without scripts; offline they lack only the CDN stylesheets and icons.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import time
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from news_pipeline.validate import ArticleValidation

log = logging.getLogger(__name__)

SITE_NAME = "news_pipeline"
#: Runs whose results the site keeps; older result files (and so their pages) are removed.
KEEP_RUNS = 50
ASSET = "articles"
_RUN_TIME_FORMAT = "%Y%m%dT%H%M%SZ"  # the prefix of pipeline.new_run_id()
_SAMPLE_DOC_IDS = 10
# Dropped from stored row results: one entry per failing row (the pages show counts and shares).
_BULKY = ("unexpected_index_list", "unexpected_index_query", "unexpected_list")


def docs_dir(data_dir: Path) -> Path:
    """The Data Docs site: ``<data_dir>/reports/data_docs``."""
    return Path(data_dir) / "reports" / "data_docs"


def results_dir(data_dir: Path) -> Path:
    """Stored GX results, one folder per run: ``<data_dir>/state/gx/validations``."""
    return Path(data_dir) / "state" / "gx" / "validations"


def _run_time(run_id: str) -> dt.datetime:
    """The start of the run encoded in a default run id, else now (UTC)."""
    try:
        return dt.datetime.strptime(run_id[:16], _RUN_TIME_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        return dt.datetime.now(dt.UTC)


def _notes(meta: dict[str, Any], rule: Any, success: bool) -> dict[str, Any]:
    """GX expectation notes (shown under the expectation): rule, severity and what failed."""
    lines = [f"Rule {meta.get('rule', '?')} ({meta.get('severity', '?')}, {meta.get('level', '?')} level)"]
    if not success and rule is not None:
        shown = rule.doc_ids[:_SAMPLE_DOC_IDS]
        more = f" and {len(rule.doc_ids) - len(shown)} more" if len(rule.doc_ids) > len(shown) else ""
        lines.append(f"Failed: {rule.message or meta.get('reason', '')}")
        if shown:
            lines.append(f"doc_id: {', '.join(map(str, shown))}{more}")
    return {"format": "string", "content": lines}


def save_validation(data_dir: Path, run_id: str, ingest_date: dt.date, validation: ArticleValidation) -> list[Path]:
    """Write the partition's GX results as JSON files for the run's Data Docs; their paths.

    Needs no GX context (safe in any thread). Row results keep counts, shares and the first 20
    failing positions, not one entry per failing row; each expectation gets ``meta.attributes``
    (rule, severity, what failed with sample doc_ids) for the extra columns of the pages.
    """
    day = ingest_date.isoformat()
    by_rule = {r.name: r for r in validation.results}
    out = results_dir(data_dir) / run_id / day
    out.mkdir(parents=True, exist_ok=True)
    run = {"run_name": run_id, "run_time": _run_time(run_id).isoformat()}
    paths = []
    for gx_result in validation.gx_results:
        doc = gx_result.to_json_dict()
        doc["meta"]["run_id"] = run
        doc["meta"]["batch_spec"] = {
            **(doc["meta"].get("batch_spec") or {}),
            "data_asset_name": f"{ASSET} ingest_date={day}",
            "ingest_date": day,
            "run_id": run_id,
        }
        for r in doc["results"]:
            for key in _BULKY:
                (r.get("result") or {}).pop(key, None)
            meta = r["expectation_config"].setdefault("meta", {})
            meta["notes"] = _notes(meta, by_rule.get(meta.get("rule")), r["success"])
        path = out / f"{doc['suite_name']}.json"
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(doc, ensure_ascii=False, default=str), encoding="utf-8")
        os.replace(tmp, path)
        paths.append(path)
    return paths


def _prune(data_dir: Path, keep_runs: int) -> None:
    """Remove the stored results of all but the newest ``keep_runs`` runs."""
    runs = sorted((p for p in results_dir(data_dir).iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime_ns)
    for old in runs[: max(len(runs) - keep_runs, 0)]:
        shutil.rmtree(old, ignore_errors=True)


# The index's bootstrap_table.j2 with the rows also written out as plain HTML (see the module doc).
_STATIC_TABLE = """{% include 'gx/bootstrap_table.j2' %}
{%- set static_id = content_block_id ~ "-static" -%}
{%- set rows = content_block["table_data"] -%}
{%- if rows and "_run_time_sort" in rows[0] -%}
  {%- set rows = rows | sort(attribute="_batch_identifier_sort,_expectation_suite_name_sort")
                      | sort(attribute="_run_time_sort", reverse=true) -%}
{%- endif %}
<div id="{{ static_id }}" class="news-pipeline-static-table table-responsive">
<table class="table table-sm table-hover">
  <thead><tr>{% for column in content_block["table_columns"] %}<th>{{ column["title"] | e }}</th>{% endfor %}</tr></thead>
  <tbody>
  {%- for row in rows %}
    <tr>
    {%- for column in table_columns %}
      {%- set field = column["field"] -%}
      {%- if field == "validation_success" -%}{%- set text = row.get("_validation_success_text", "") -%}
      {%- elif field != "run_time" and ("_" ~ field ~ "_sort") in row -%}{%- set text = row["_" ~ field ~ "_sort"] -%}
      {%- else -%}{%- set text = row.get(field, "") -%}{%- endif %}
      <td>{% if row.get("_table_row_link_path") %}<a href="{{ row["_table_row_link_path"] | e }}">{{ text | e }}</a>{% else %}{{ text | e }}{% endif %}</td>
    {%- endfor %}
    </tr>
  {%- endfor %}
  </tbody>
</table>
</div>
<script>
  if (window.jQuery && jQuery.fn && jQuery.fn.bootstrapTable) { document.getElementById("{{ static_id }}").remove(); }
</script>
"""


@lru_cache(maxsize=1)
def _static_index_view() -> type:
    """GX's index page view whose tables also come as plain HTML rows."""
    from jinja2 import ChoiceLoader, DictLoader, PackageLoader, PrefixLoader

    from news_pipeline.validate import _gx

    _gx()
    from great_expectations.render.view import DefaultJinjaIndexPageView

    class StaticIndexPageView(DefaultJinjaIndexPageView):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            original = PackageLoader("great_expectations", "render/view/templates")
            self.env.loader = ChoiceLoader(
                [DictLoader({"bootstrap_table.j2": _STATIC_TABLE}), PrefixLoader({"gx": original}), self.env.loader]
            )

    return StaticIndexPageView


def __getattr__(name: str) -> Any:
    # GX loads the site's view class by module and class name; GX is imported only then.
    if name == "StaticIndexPageView":
        return _static_index_view()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _site_config(site: Path) -> dict[str, Any]:
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site.resolve())},
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "view": {"module_name": __name__, "class_name": "StaticIndexPageView"},
        },
    }


def _docs_suites(gx: Any, names: set[str], results: list[Any]) -> list[Any]:
    """Suites for the suite pages and the extra columns: the shipped suite, else the results' rules."""
    from news_pipeline.validate import SUITE_PATH, _suites

    shipped = {s.name: s for s in _suites(SUITE_PATH, SUITE_PATH.stat().st_mtime_ns).values()}
    suites = []
    for name in sorted(names):
        if name in shipped:
            doc = shipped[name].to_json_dict()
            expectations, meta = doc["expectations"], doc.get("meta") or {}
        else:
            latest = next(r for r in reversed(results) if r.suite_name == name)
            expectations = [r.expectation_config.to_json_dict() for r in latest.results]
            meta = {}
        for e in expectations:
            e.pop("id", None)
            e.get("kwargs", {}).pop("batch_id", None)
        suites.append(gx.ExpectationSuite(name=name, expectations=expectations, meta=meta))
    return suites


def build_data_docs(
    data_dir: Path, results: Iterable[Path] | None = None, *, keep_runs: int = KEEP_RUNS
) -> Path:
    """Render the Data Docs site ``<data_dir>/reports/data_docs/`` and return its ``index.html``.

    ``results`` are files from :func:`save_validation` whose pages to (re)render (default: every
    stored result); pages of other stored results are rendered only when missing. The index lists
    every stored result, newest run first; results of all but the newest ``keep_runs`` runs are
    removed first, and GX removes their pages.
    """
    from news_pipeline.validate import _GX_LOCK, _gx, _quiet_gx_logging

    gx = _gx()
    from great_expectations.core.expectation_validation_result import expectationSuiteValidationResultSchema
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    started = time.perf_counter()
    data_dir, site = Path(data_dir), docs_dir(data_dir)
    stored = results_dir(data_dir)
    if stored.is_dir():
        _prune(data_dir, keep_runs)
    files = sorted(stored.glob("*/*/*.json"))  # <run_id>/<ingest_date>/<suite>.json
    wanted = None if results is None else {Path(p).resolve() for p in results}

    loaded = []
    for path in files:
        doc = json.loads(path.read_text(encoding="utf-8"))
        result = expectationSuiteValidationResultSchema.load(doc)
        run = doc["meta"]["run_id"]
        key = ValidationResultIdentifier(
            ExpectationSuiteIdentifier(result.suite_name),
            RunIdentifier(run["run_name"], run["run_time"]),
            f"ingest_date={doc['meta']['batch_spec']['ingest_date']}",
        )
        loaded.append((path, key, result))

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites={SITE_NAME: _site_config(site)},
        analytics_enabled=False,
    )
    with _GX_LOCK:
        context = gx.get_context(project_config=config, mode="ephemeral")
        _quiet_gx_logging()
        for suite in _docs_suites(gx, {r.suite_name for _, _, r in loaded}, [r for _, _, r in loaded]):
            context.suites.add(suite)
        render = []
        for path, key, result in loaded:
            context.validation_results_store.set(key, result)
            page = site.joinpath("validations", *key.to_tuple()[:-1], f"{key.batch_identifier}.html")
            if wanted is None or path.resolve() in wanted or not page.exists():
                render.append(key)
        # The suite pages are always rendered, so the list is never empty (empty means "render all").
        suite_keys = [ExpectationSuiteIdentifier(s.name) for s in context.suites.all()]
        context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=[*suite_keys, *render])
    index = site / "index.html"
    log.info("Data Docs: %d of %d results rendered in %.2f s: %s", len(render), len(loaded),
             time.perf_counter() - started, index)  # fmt: skip
    return index


def build_run_docs(data_dir: Path, run_id: str) -> str | None:
    """For the run report: build the site with the run's results; the index path, None on failure.

    A run that validated nothing does not import GX: it returns the existing index, if any.
    Never raises; Data Docs must not fail a run whose data is already published.
    """
    try:
        run = results_dir(data_dir) / run_id
        fresh = sorted(run.glob("*/*.json")) if run.is_dir() else []
        if not fresh:
            index = docs_dir(data_dir) / "index.html"
            return str(index) if index.exists() else None
        return str(build_data_docs(data_dir, fresh))
    except Exception:  # noqa: BLE001
        log.warning("could not build the Data Docs of run %s", run_id, exc_info=True)
        return None
