"""``news-pipeline``: the command line.

Arguments are checked and the run is planned before anything expensive starts: bad arguments,
``--help``, ``--version``, a run refused by the lock and a run with nothing to do never import
Prefect or start a server. Only a run with partitions to process goes through the Prefect flow
(:mod:`flows.runtime`). Every failure ends as one line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from news_pipeline.catalog import Catalog
from news_pipeline.config import Settings, Thresholds
from news_pipeline.io import fs, publish
from news_pipeline.io.landing import LandingZoneError, parse_date, select_partitions
from news_pipeline.locations import Location
from news_pipeline.reporting import run_report

out = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 1000)

#: Settings without an option of their own: set them in the environment (listed in ``--help``).
_OPTIONS = {"raw_dir", "data_dir", "timezone", "lock_timeout", "task_runner", "dask_address"}


def _environment_help() -> str:
    """The epilog of ``--help``: every ``NEWS_PIPELINE_*`` setting without an option, with its default."""
    lines = ["Settings from the environment (defaults in brackets):", ""]
    for name, field in Settings.model_fields.items():
        if name in _OPTIONS or name == "thresholds":
            continue
        default = "none" if field.default is None else field.default
        lines.append(f"  NEWS_PIPELINE_{name.upper()} [{default}]: {field.description}")
    for name, field in Thresholds.model_fields.items():
        lines.append(f"  NEWS_PIPELINE_THRESHOLDS__{name.upper()} [{field.default}]: {field.description}")
    lines += [
        "  NEWS_PIPELINE_S3_ENDPOINT_URL, NEWS_PIPELINE_S3_REGION [us-east-1]: an S3-compatible endpoint and region",
        "  for s3:// folders (credentials: the usual AWS_* variables or ~/.aws)",
        "  PREFECT_API_URL: a running Prefect server to record runs on (else a temporary one is started)",
    ]
    return "\b\n" + "\n".join(lines)  # "\b": click keeps the lines as they are


def _show_version(value: bool) -> None:
    if value:
        print(f"news-pipeline {version('news-pipeline')}")
        raise typer.Exit()


app = typer.Typer(
    name="news-pipeline",
    help="Turn raw German news articles from a landing zone (one folder per arrival day) into validated, "
    "Hive-partitioned Parquet: <data-dir>/curated/articles and <data-dir>/quarantine/articles.",
    epilog=_environment_help(),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: "[env var: ...]" and defaults are shown as written
)


@app.callback()
def _main(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Turn raw German news articles into validated, Hive-partitioned Parquet."""


def _default(name: str) -> str:
    return str(Settings.model_fields[name].default)


# str, not Path: a Path would turn s3://bucket/prefix into s3:/bucket/prefix
RawDir = Annotated[
    str | None,
    typer.Option(
        "--raw-dir",
        metavar="DIR",
        envvar="NEWS_PIPELINE_RAW_DIR",
        show_envvar=True,
        show_default=_default("raw_dir"),
        help="Landing zone with YYYY-MM-DD folders: a folder or s3://bucket/prefix.",
    ),
]
DataDir = Annotated[
    str | None,
    typer.Option(
        "--data-dir",
        metavar="DIR",
        envvar="NEWS_PIPELINE_DATA_DIR",
        show_envvar=True,
        show_default=_default("data_dir"),
        help="Where curated/, quarantine/, reports/ and state/ go: a folder or s3://bucket/prefix.",
    ),
]
Verbose = Annotated[
    bool, typer.Option("--verbose", "-v", help="Show Prefect's logs on the terminal and full tracebacks.")
]
Dask = Annotated[
    str | None,
    typer.Option(
        "--dask",
        metavar="ADDRESS",
        envvar="NEWS_PIPELINE_DASK_ADDRESS",
        show_envvar=True,
        help="Run batch tasks on Dask: a scheduler address (tcp://host:8786) or 'local' for a temporary local "
        "cluster. NEWS_PIPELINE_TASK_RUNNER=processes|threads|dask picks the runner without this option.",
    ),
]
Wait = Annotated[
    float,
    typer.Option(
        "--wait",
        metavar="SECONDS",
        envvar="NEWS_PIPELINE_LOCK_TIMEOUT",
        show_envvar=True,
        min=0,
        help="Seconds to wait when another run is writing to the same data folder.",
    ),
]


def _settings(raw_dir: str | None, data_dir: str | None, dask: str | None = None, **more) -> Settings:
    overrides: dict = {k: v for k, v in {"raw_dir": raw_dir, "data_dir": data_dir, **more}.items() if v is not None}
    if dask:
        overrides |= {"task_runner": "dask", "dask_address": None if dask == "local" else dask}
    try:
        return Settings(**overrides)
    except ValidationError as exc:  # e.g. an unsupported URL scheme: one line, not pydantic's report
        _fail("; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()))


def _fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"news-pipeline: error: {' '.join(message.split())}", highlight=False, soft_wrap=True, markup=False)
    raise typer.Exit(code)


def _table(title: str, header: tuple[str, ...], rows: list[list[str]]) -> Table:
    table = Table(title=title, title_justify="left")
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i == 0 or i == len(header) - 1 else "right")
    for row in rows:
        table.add_row(*row)
    return table


def print_summary(report: dict, path: Location) -> None:
    """The run report on the terminal: the same tables and names as the report's Markdown (the Prefect artifact)."""
    partitions = run_report.partition_rows(report)
    out.print(_table(f"run {report['run_id']}", run_report.PARTITION_COLUMNS, partitions), markup=False)
    if report["reasons"]:
        rows = [[reason, f"{n:,}"] for reason, n in report["reasons"].items()]
        out.print(_table("quarantined by reason", ("reason", "files"), rows), markup=False)
    if report.get("removed"):
        header = ("removed as boilerplate, by rule", "blocks", "characters")
        out.print(_table("removed", header, run_report.removed_rows(report)), markup=False)
    out.print(f"{run_report.summary_line(report)} Report: {path}", highlight=False, markup=False, soft_wrap=True)


def _print_report_if_any(path: Location) -> None:
    try:
        text = fs.read_text(path)
    except OSError:  # no report: the run failed before writing one
        return
    print_summary(json.loads(text), path)


def _start(settings: Settings, verbose: bool, wait: float, **plan) -> None:
    """Plan, then run: locally when there is nothing to process, else through the Prefect flow."""
    from news_pipeline import runner

    catalog = Catalog.of(settings)
    try:
        todo, _ = runner.plan_partitions(settings, plan.get("dates"), plan.get("start"), plan.get("end"), plan["force"])
        if not wait:  # refused at once, before anything starts (the flow takes the lock again)
            with publish.run_lock(catalog, "(a lock check)"):
                pass
    except LandingZoneError as exc:
        _fail(str(exc))
    except publish.RunLockBusy as exc:
        _fail(str(exc), code=1)
    run_id = runner.new_run_id()
    if not todo:  # nothing to process: no Prefect flow, no server; the run report says what is unchanged
        try:
            runner.run(settings, runner.local_executor(settings), run_id=run_id, **plan)
        except publish.RunLockBusy as exc:
            _fail(str(exc), code=1)
        _print_report_if_any(catalog.report(run_id))
        return
    from flows import runtime

    failure = runtime.run_flow(settings, verbose, run_id=run_id, **plan)
    _print_report_if_any(catalog.report(run_id))
    if failure:
        _fail(failure.message, code=failure.code)


@app.command()
def run(
    raw_dir: RawDir = None,
    data_dir: DataDir = None,
    date: Annotated[
        list[str] | None,
        typer.Option("--date", metavar="YYYY-MM-DD", help="Only this date folder; repeatable. [default: all]"),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Reprocess the chosen folders even if unchanged.")] = False,
    wait: Wait = 0,
    dask: Dask = None,
    verbose: Verbose = False,
) -> None:
    """Process the date folders with new or changed files (all, or those given with --date)."""
    settings = _settings(raw_dir, data_dir, dask, lock_timeout=wait)
    try:
        dates = [parse_date(d) for d in date] if date else None
        select_partitions(settings.raw_dir, dates)
    except LandingZoneError as exc:
        _fail(str(exc))
    _start(settings, verbose, wait, dates=dates, force=force)


@app.command()
def backfill(
    start: Annotated[str, typer.Option("--start", metavar="YYYY-MM-DD", help="First date of the range.")],
    end: Annotated[str, typer.Option("--end", metavar="YYYY-MM-DD", help="Last date of the range, inclusive.")],
    raw_dir: RawDir = None,
    data_dir: DataDir = None,
    wait: Wait = 0,
    dask: Dask = None,
    verbose: Verbose = False,
) -> None:
    """Reprocess every date folder of an inclusive range from scratch; other partitions stay untouched."""
    settings = _settings(raw_dir, data_dir, dask, lock_timeout=wait)
    try:
        first, last = parse_date(start), parse_date(end)
        if not select_partitions(settings.raw_dir, start=first, end=last):
            raise LandingZoneError(f"no date folders between {first} and {last} in {settings.raw_dir}")
    except LandingZoneError as exc:
        _fail(str(exc))
    _start(settings, verbose, wait, start=first, end=last, force=True)


@app.command()
def serve(
    cron: Annotated[
        str,
        typer.Option(
            "--cron",
            metavar="CRON",
            envvar="NEWS_PIPELINE_CRON",
            show_envvar=True,
            help="When the daily run starts (in --timezone).",
        ),
    ] = "15 0 * * *",
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone",
            metavar="ZONE",
            envvar="NEWS_PIPELINE_TIMEZONE",
            show_envvar=True,
            show_default=_default("timezone"),
            help="IANA time zone of the schedule and of its logical date.",
        ),
    ] = None,
    raw_dir: RawDir = None,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> None:
    """Serve the daily schedule (and an on-demand backfill deployment) until interrupted. Needs a Prefect server
    (PREFECT_API_URL)."""
    from flows import deployments

    settings = _settings(raw_dir, data_dir, timezone=timezone)
    try:
        deployments.serve(settings, cron, verbose)
    except ValueError as exc:  # a bad --cron or --timezone, no server: one line, not a traceback
        _fail(str(exc))


def main() -> None:
    """Console-script entry point: usage errors become one line on stderr."""
    from typer import Abort, Exit
    from typer._click.exceptions import UsageError  # typer >= 0.29 vendors click

    try:
        code = app(standalone_mode=False)
    except Exit as exc:
        code = exc.exit_code
    except UsageError as exc:
        command = f" {exc.ctx.info_name}" if exc.ctx and exc.ctx.parent else ""
        message = " ".join(exc.format_message().split())
        err.print(f"news-pipeline: error: {message} (see news-pipeline{command} --help)", highlight=False, markup=False)
        code = 2
    except (KeyboardInterrupt, Abort):
        err.print("news-pipeline: interrupted", markup=False)
        code = 130
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
