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
_LOADING = threading.Lock()  # one thread imports GX and builds the context; others wait for it


def quiet_gx_logging() -> None:
    """Keep GX's DEBUG/INFO lines (import-time registry chatter) out of the pipeline's logs."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    # Some GX modules pin their own logger to INFO (data_context/types/base.py), so the parent's
    # level is not enough: a Prefect run printed their INFO lines.
    for name in [n for n in logging.root.manager.loggerDict if n.startswith("great_expectations.")]:
        logging.getLogger(name).setLevel(logging.WARNING)


def load_gx() -> Any:
    """The great_expectations module, imported on first use (the import takes seconds)."""
    with _LOADING:
        return _load_gx()


@lru_cache(maxsize=1)
def _load_gx() -> Any:
    quiet_gx_logging()
    import great_expectations as gx

    quiet_gx_logging()
    return gx


def batch_definition() -> Any:
    """One ephemeral GX context per process, with a pandas whole-frame batch definition."""
    with _LOADING:
        return _batch_definition()


def warm_in_background() -> threading.Thread:
    """Import GX and build its context in a thread (seconds), while this process does other work."""
    thread = threading.Thread(target=batch_definition, name="warm-great-expectations", daemon=True)
    thread.start()
    return thread


@lru_cache(maxsize=1)
def _batch_definition() -> Any:
    gx = _load_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")  # in memory: writes no uncommitted/ folder
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas("news_pipeline").add_dataframe_asset("articles")
    quiet_gx_logging()
    return asset.add_batch_definition_whole_dataframe("partition")
