"""``news-pipeline``: the command line. Checks arguments first, then runs the Prefect flow and prints a summary."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from news_pipeline.catalog import Catalog
from news_pipeline.config import Settings
from news_pipeline.io import fs
from news_pipeline.io.landing import LandingZoneError, parse_date, select_partitions
from news_pipeline.locations import Location

app = typer.Typer(
    name="news-pipeline",
    help="Turn raw German news articles from a landing zone (one folder per arrival day) into validated, "
    "Hive-partitioned Parquet: data/curated/articles and data/quarantine/articles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 200)

# str, not Path: a Path would turn s3://bucket/prefix into s3:/bucket/prefix
RawDir = Annotated[
    str | None,
    typer.Option(
        "--raw-dir",
        help="Landing zone with YYYY-MM-DD folders: a folder or s3://bucket/prefix."
        " [env: NEWS_PIPELINE_RAW_DIR; default: data/raw]",
        show_default=False,
    ),
]
DataDir = Annotated[
    str | None,
    typer.Option(
        "--data-dir",
        help="Where curated/, quarantine/, reports/ and state/ go: a folder or s3://bucket/prefix."
        " [env: NEWS_PIPELINE_DATA_DIR; default: data]",
        show_default=False,
    ),
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's logs and full tracebacks.")]
Runner = Annotated[
    str | None,
    typer.Option(
        "--dask",
        help="Run batch tasks on Dask: a scheduler address (tcp://host:8786) or 'local' for a temporary local cluster."
        " [env: NEWS_PIPELINE_TASK_RUNNER=dask, NEWS_PIPELINE_DASK_ADDRESS]",
        show_default=False,
    ),
]
Wait = Annotated[
    float, typer.Option("--wait", help="Seconds to wait when another run is writing to the same data folder.", min=0)
]


def configure_runtime(verbose: bool) -> None:
    """Environment for Prefect and Great Expectations: no analytics, loopback only, quiet unless asked."""
    defaults = {
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "False",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
        "PREFECT_LOGGING_LEVEL": "INFO" if verbose else "WARNING",
        "PREFECT_SERVER_LOGGING_LEVEL": "INFO" if verbose else "ERROR",
        "PREFECT_LOGGING_LOG_PRINTS": "false",
        # a failed flow or task logs its traceback; the CLI prints the one-line reason instead
        "PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL": "INFO" if verbose else "CRITICAL",
        "PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL": "INFO" if verbose else "CRITICAL",
        # a first start migrates a fresh database; on a busy 2-core machine that can pass Prefect's 20 s
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "DASK_DISTRIBUTED__LOGGING__DISTRIBUTED": "info" if verbose else "error",
        "DASK_DISTRIBUTED__DIAGNOSTICS__NVML": "false",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    if not verbose:  # GX and Dask log routine start-up at INFO through the root logger
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        # Prefect's background services warn while draining their queues at exit
        for name in ("EventsWorker", "APILogWorker"):
            logging.getLogger(name).setLevel(logging.ERROR)
        # a local cluster's nanny warns when it has to kill an idle worker at shutdown
        logging.getLogger("distributed").setLevel(logging.ERROR)


def _settings(raw_dir: str | None, data_dir: str | None, dask: str | None = None) -> Settings:
    overrides: dict = {k: v for k, v in {"raw_dir": raw_dir, "data_dir": data_dir}.items() if v is not None}
    if dask:
        overrides |= {"task_runner": "dask", "dask_address": None if dask == "local" else dask}
    try:
        return Settings(**overrides)
    except ValidationError as exc:  # e.g. an unsupported URL scheme: one line, not pydantic's report
        _fail("; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()))


def _fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"news-pipeline: error: {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _print_summary(report: dict, path: Location) -> None:
    table = Table(title=f"run {report['run_id']}", title_justify="left")
    for col in ("ingest_date", "files", "curated", "quarantined", "duplicates", "near-dup", "published"):
        table.add_column(col, justify="right" if col not in ("ingest_date", "published") else "left")
    for p in report["partitions_detail"]:
        state = "unchanged" if p["skipped"] else ("yes" if p["published"] else "NO: " + "; ".join(p["failures"]))
        table.add_row(
            p["ingest_date"],
            str(p["n_files"]),
            str(p["curated"]),
            str(p["quarantined"]),
            str(p["duplicates"]),
            str(p["near_duplicates"]),
            state,
        )
    out.print(table)
    if report["reasons"]:
        reasons = Table(title="quarantined by reason", title_justify="left")
        reasons.add_column("reason")
        reasons.add_column("files", justify="right")
        for reason, n in report["reasons"].items():
            reasons.add_row(reason, str(n))
        out.print(reasons)
    out.print(
        f"{report['files']} files in {report['partitions']} partitions ({report['skipped']} unchanged): "
        f"{report['curated']} curated, {report['quarantined']} quarantined, {report['duplicates']} exact duplicates, "
        f"{report['near_duplicates']} near-duplicates in {report['seconds']:.1f} s. "
        f"Report: {path}",
        highlight=False,
    )


def _run_flow(settings: Settings, verbose: bool, **params) -> None:
    configure_runtime(verbose)
    from flows.articles import DataQualityGateError, process_articles
    from news_pipeline import progress
    from news_pipeline.io.publish import RunLockBusy
    from news_pipeline.runner import new_run_id

    run_id = new_run_id()
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task("starting Prefect (a few seconds)…", total=None)

    def on_progress(done: int, total: int, label: str) -> None:
        bar.update(task, completed=done, total=total, description=f"processing {label}")

    progress.subscribe(on_progress)
    try:
        with bar, _shared_api_server(settings):
            process_articles(
                raw_dir=str(settings.raw_dir),
                data_dir=str(settings.data_dir),
                run_id=run_id,
                task_runner=settings.task_runner,
                dask_address=settings.dask_address,
                **params,
            )
    except DataQualityGateError as exc:
        _print_report_if_any(Catalog.of(settings).report(run_id))
        _fail(str(exc), code=1)
    except (LandingZoneError, RunLockBusy) as exc:
        _fail(str(exc), code=2 if isinstance(exc, LandingZoneError) else 1)
    except Exception as exc:
        if verbose:
            raise
        _fail(f"run failed: {type(exc).__name__}: {exc} (rerun with --verbose for details)", code=1)
    finally:
        progress.unsubscribe(on_progress)
    _print_report_if_any(Catalog.of(settings).report(run_id))


@contextlib.contextmanager
def _shared_api_server(settings: Settings):
    """Worker processes (and Dask workers) without a Prefect server configured would each start their
    own temporary one. Start one here, on loopback, and point this process and the workers at it."""
    if settings.task_runner == "threads" or os.environ.get("PREFECT_API_URL"):
        yield
        return
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, temporary_settings

    server = SubprocessASGIServer()
    server.start()
    os.environ["PREFECT_API_URL"] = server.api_url  # inherited by the workers the cluster spawns
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        server.stop()


def _print_report_if_any(path: Location) -> None:
    import json

    try:
        text = fs.read_text(path)
    except OSError:  # no report: the run failed before writing one
        return
    _print_summary(json.loads(text), path)


@app.command()
def run(
    raw_dir: RawDir = None,
    data_dir: DataDir = None,
    date: Annotated[
        list[str] | None, typer.Option("--date", help="Only this date folder (YYYY-MM-DD); repeatable.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Reprocess the chosen folders even if unchanged.")] = False,
    wait: Wait = 0,
    dask: Runner = None,
    verbose: Verbose = False,
) -> None:
    """Process the date folders with new or changed files (all, or those given with --date)."""
    settings = _settings(raw_dir, data_dir, dask)
    try:
        dates = [parse_date(d) for d in date] if date else None
        select_partitions(settings.raw_dir, dates)
    except LandingZoneError as exc:
        _fail(str(exc))
    _run_flow(settings, verbose, dates=dates, force=force, lock_timeout=wait)


@app.command()
def backfill(
    start: Annotated[str, typer.Option("--start", help="First date of the range (YYYY-MM-DD).", show_default=False)],
    end: Annotated[
        str, typer.Option("--end", help="Last date of the range, inclusive (YYYY-MM-DD).", show_default=False)
    ],
    raw_dir: RawDir = None,
    data_dir: DataDir = None,
    wait: Wait = 0,
    dask: Runner = None,
    verbose: Verbose = False,
) -> None:
    """Reprocess every date folder of an inclusive range from scratch; other partitions stay untouched."""
    settings = _settings(raw_dir, data_dir, dask)
    try:
        first, last = parse_date(start), parse_date(end)
        if not select_partitions(settings.raw_dir, start=first, end=last):
            raise LandingZoneError(f"no date folders between {first} and {last} in {settings.raw_dir}")
    except LandingZoneError as exc:
        _fail(str(exc))
    _run_flow(settings, verbose, start=first, end=last, force=True, lock_timeout=wait)


@app.command()
def serve(
    cron: Annotated[
        str,
        typer.Option(
            "--cron",
            envvar="NEWS_PIPELINE_CRON",
            show_envvar=False,
            help="When the daily run starts. [env: NEWS_PIPELINE_CRON]",
        ),
    ] = "15 0 * * *",
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone",
            help="Time zone of the schedule and of its logical date."
            " [env: NEWS_PIPELINE_TIMEZONE; default: Europe/Vienna]",
            show_default=False,
        ),
    ] = None,
    raw_dir: RawDir = None,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> None:
    """Serve the daily schedule (and an on-demand backfill deployment) until interrupted. Needs a Prefect server."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    settings = _settings(raw_dir, data_dir)
    if timezone:
        settings = settings.model_copy(update={"timezone": timezone})
    configure_runtime(verbose)
    from prefect import serve as serve_deployments
    from prefect.schedules import Cron
    from prefect.settings import get_current_settings

    try:  # a bad --cron or --timezone: one line, not a traceback
        ZoneInfo(settings.timezone)
        schedule = Cron(cron, timezone=settings.timezone)
    except ZoneInfoNotFoundError:
        _fail(f"unknown time zone {settings.timezone!r} (an IANA name such as Europe/Vienna)")
    except ValueError as exc:
        _fail(str(exc))
    if not get_current_settings().api.url:
        # Prefect would start a temporary server, and a temporary server runs no scheduler service:
        # the deployments would be registered but the cron would never create a run.
        _fail(
            "serve needs a Prefect server: start one (prefect server start --host 127.0.0.1) and set "
            "PREFECT_API_URL (e.g. http://127.0.0.1:4200/api); a temporary server never runs the schedule"
        )
    # The runs served here build their own Settings from the environment they inherit: give them the
    # schedule's time zone, or their logical date would be taken in the default zone, not in --timezone's.
    os.environ["NEWS_PIPELINE_TIMEZONE"] = settings.timezone
    from flows.articles import process_articles

    params = {"raw_dir": str(settings.raw_dir), "data_dir": str(settings.data_dir)}
    daily = process_articles.to_deployment(name="daily", schedules=[schedule], parameters=params | {"scheduled": True})
    # no schedule: trigger it with start/end, e.g. `prefect deployment run news-pipeline/backfill -p start=... -p
    # end=...`
    on_demand = process_articles.to_deployment(name="backfill", parameters=params | {"force": True})
    serve_deployments(daily, on_demand)


def main() -> None:
    """Console-script entry point: usage errors become one line on stderr."""
    try:  # typer >= 0.29 vendors click
        from typer._click.exceptions import UsageError
    except ImportError:  # pragma: no cover - older typer on plain click
        from click.exceptions import UsageError
    from typer import Abort, Exit

    try:
        code = app(standalone_mode=False)
    except Exit as exc:
        code = exc.exit_code
    except UsageError as exc:
        command = f" {exc.ctx.info_name}" if exc.ctx and exc.ctx.parent else ""
        err.print(f"news-pipeline: error: {exc.format_message()} (see news-pipeline{command} --help)", highlight=False)
        code = 2
    except (KeyboardInterrupt, Abort):
        err.print("news-pipeline: interrupted")
        code = 130
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
