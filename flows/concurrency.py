"""One writer per data folder across machines: a Prefect global concurrency limit, next to the local file lock.

The run lock (:func:`news_pipeline.io.publish.run_lock`) is a file on this machine; with a data
folder on object storage, runs on two machines would both get it. A flow run on such a folder
(or on any folder with ``NEWS_PIPELINE_GLOBAL_LOCK=on``) therefore also holds the one slot of a
global concurrency limit named after the data folder, on the Prefect server all machines share
(``PREFECT_API_URL``). The limit is created on first use (a limit of 1); an operator can inspect
it with ``prefect gcl ls``. A killed run's slot is free again after its lease (``_LEASE_S``).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

from prefect import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

from news_pipeline.config import Settings
from news_pipeline.io.publish import RunLockBusy

#: How long a run waits for the slot when it is not asked to wait (``--wait``): the acquire's own round trip.
_MIN_WAIT_S = 2.0
#: A live run renews its lease; a killed one holds the folder this long at most (the file lock is gone at once).
_LEASE_S = 60.0


def uses_global_lock(settings: Settings) -> bool:
    """Whether runs on this data folder hold its global limit: ``global_lock`` on, or auto and object storage."""
    if settings.global_lock == "auto":
        return "://" in str(settings.data_dir)
    return settings.global_lock == "on"


def limit_name(settings: Settings) -> str:
    """``news-pipeline-<data folder>-<hash>``: the same name on every machine for an object-storage prefix."""
    where = str(settings.data_dir) if "://" in str(settings.data_dir) else str(Path(settings.data_dir).resolve())
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", where).strip("-")[-60:]
    return f"news-pipeline-{slug}-{hashlib.sha256(where.encode()).hexdigest()[:8]}"


def ensure_limit(name: str) -> None:
    """Create the limit (one slot) unless it exists; two machines creating it at once is fine."""
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            with contextlib.suppress(ObjectAlreadyExists):
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))


@contextlib.contextmanager
def data_dir_slot(settings: Settings) -> Iterator[None]:
    """Hold the data folder's slot for the block; ``RunLockBusy`` when another run keeps it past ``lock_timeout``."""
    if not uses_global_lock(settings):
        yield
        return
    name = limit_name(settings)
    ensure_limit(name)
    wait = max(settings.lock_timeout, _MIN_WAIT_S)
    slot = contextlib.ExitStack()
    try:  # only the acquire: a TimeoutError of the run itself is not a busy data folder
        slot.enter_context(concurrency(name, occupy=1, timeout_seconds=wait, lease_duration=_LEASE_S, strict=True))
    except TimeoutError:
        raise RunLockBusy(
            f"another run is writing to {settings.data_dir} (Prefect concurrency limit {name}); gave up after "
            f"{wait:g} s (use --wait SECONDS to wait for it)"
        ) from None
    with slot:
        yield
