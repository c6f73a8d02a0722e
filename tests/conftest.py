"""Shared fixtures: the seeds, a tiny landing zone, and one Prefect test harness per session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEEDS = sorted((SHARED / "seeds").glob("*.txt")) or sorted((REPO / "data" / "raw" / "2025-06-01").glob("00[01]_*.txt"))
SAMPLE_RAW = REPO / "data" / "raw"

# Nothing the tests start may phone home or listen beyond loopback.
for key, value in {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "False",
    "PREFECT_SERVER_API_HOST": "127.0.0.1",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}.items():
    os.environ.setdefault(key, value)


@pytest.fixture(scope="session")
def seed_paths() -> list[Path]:
    assert len(SEEDS) == 2, "the two seed documents are needed"
    return SEEDS


@pytest.fixture()
def landing_zone(tmp_path: Path) -> Path:
    """A copy of the committed sample landing zone, safe to modify."""
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW, raw, symlinks=True)
    return raw


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect server for every test that runs the flow."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
