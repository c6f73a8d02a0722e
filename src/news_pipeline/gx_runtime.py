"""Great Expectations, loaded once per process and kept quiet: the module, one lock, one ephemeral context.

GX's import takes seconds, so it happens on first use, never at the pipeline's import. Its
context and validators are not documented as thread-safe and Prefect runs tasks in threads:
every use holds :data:`GX_LOCK`.
"""

from __future__ import annotations

import logging
import os
import threading
from functools import lru_cache
from typing import Any

# GX reads this at import time; set before any import of great_expectations anywhere.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

GX_LOCK = threading.Lock()


def quiet_gx_logging() -> None:
    """Keep GX's DEBUG/INFO lines (import-time registry chatter) out of the pipeline's logs."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    # Some GX modules pin their own logger to INFO (data_context/types/base.py), so the parent's
    # level is not enough: a Prefect run printed their INFO lines.
    for name in [n for n in logging.root.manager.loggerDict if n.startswith("great_expectations.")]:
        logging.getLogger(name).setLevel(logging.WARNING)


@lru_cache(maxsize=1)
def load_gx() -> Any:
    """The great_expectations module, imported on first use (the import takes seconds)."""
    quiet_gx_logging()
    import great_expectations as gx

    quiet_gx_logging()
    return gx


@lru_cache(maxsize=1)
def batch_definition() -> Any:
    """One ephemeral GX context per process, with a pandas whole-frame batch definition."""
    gx = load_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")  # in memory: writes no uncommitted/ folder
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas("news_pipeline").add_dataframe_asset("articles")
    quiet_gx_logging()
    return asset.add_batch_definition_whole_dataframe("partition")
