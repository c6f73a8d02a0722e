"""``news-pipeline serve``: the daily deployment and the on-demand backfill deployment, served from this process."""

from __future__ import annotations

import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from news_pipeline.config import Settings


def serve(settings: Settings, cron: str, verbose: bool) -> None:
    """Register both deployments on the configured Prefect server and run their flow runs until interrupted.

    Raises ``ValueError`` (one readable line) for a bad cron or time zone, or when no server is configured.
    """
    from flows.runtime import configure_runtime

    configure_runtime(verbose)
    from prefect import serve as serve_deployments
    from prefect.schedules import Cron
    from prefect.settings import get_current_settings

    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {settings.timezone!r} (an IANA name such as Europe/Vienna)") from None
    schedule = Cron(cron, timezone=settings.timezone)
    if not get_current_settings().api.url:
        # Prefect would start a temporary server, and a temporary server runs no scheduler service:
        # the deployments would be registered but the cron would never create a run.
        raise ValueError(
            "serve needs a Prefect server: start one (prefect server start --host 127.0.0.1) and set "
            "PREFECT_API_URL (e.g. http://127.0.0.1:4200/api); a temporary server never runs the schedule"
        )
    # The runs served here build their own Settings from the environment they inherit: give them the
    # schedule's time zone, or their logical date would be taken in the default zone, not in --timezone's.
    os.environ["NEWS_PIPELINE_TIMEZONE"] = settings.timezone
    from flows.articles import process_articles

    params = {"raw_dir": str(settings.raw_dir), "data_dir": str(settings.data_dir)}
    daily = process_articles.to_deployment(name="daily", schedules=[schedule], parameters=params | {"scheduled": True})
    # no schedule: trigger it with start/end: `prefect deployment run news-pipeline/backfill -p start=... -p end=...`
    on_demand = process_articles.to_deployment(name="backfill", parameters=params | {"force": True})
    serve_deployments(daily, on_demand)
