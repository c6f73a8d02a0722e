"""Running the Prefect flow from the command line: the environment, a temporary API server, a clean exit.

Start-up is what a short run pays most for, so the slow parts overlap: without ``PREFECT_API_URL``
the temporary API server is started as a subprocess *before* Prefect is imported here (the
server's imports and database set-up run on the second core while this process imports Prefect,
the flow and Great Expectations). With ``PREFECT_API_URL`` pointing at a running server nothing
is started: the way to run many small jobs. Before the server stops, Prefect's log and event
workers are drained, so every log line reaches the API and the process exits at once (left to
exit time they retried a refused connection for about a minute).

Logs: flow and task run logs go to the API at INFO (the Prefect UI shows them); the terminal
shows Prefect's own output only with ``--verbose``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

from news_pipeline.config import Settings


def configure_runtime(verbose: bool) -> None:
    """Environment for Prefect and GX: no analytics, loopback only, logs to the API, a quiet terminal."""
    console = "INFO" if verbose else "CRITICAL"  # without --verbose the CLI prints its own one-line reason
    defaults = {
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "False",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
        # flow and task run loggers send INFO to the API handler; the console handler filters
        "PREFECT_LOGGING_LEVEL": "INFO",
        "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": console,
        # Prefect's internal services (e.g. a concurrency slot it could not get) write to stderr directly
        "PREFECT_LOGGING_HANDLERS_DEBUG_LEVEL": console,
        "PREFECT_SERVER_LOGGING_LEVEL": "INFO" if verbose else "ERROR",
        "PREFECT_LOGGING_LOG_PRINTS": "false",
        # a first start migrates a fresh database; on a busy 2-core machine that can pass Prefect's 20 s
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "DASK_DISTRIBUTED__LOGGING__DISTRIBUTED": "info" if verbose else "error",
        "DASK_DISTRIBUTED__DIAGNOSTICS__NVML": "false",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    if not verbose:  # GX and Dask log routine start-up at INFO through the root logger
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        logging.getLogger("distributed").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Failure:
    """Why a run failed, in one line, and the exit status it gives."""

    message: str
    code: int


class TemporaryServer:
    """Prefect's API server on loopback for the length of one run, as Prefect's own temporary server runs it.

    Started with ``subprocess`` and polled with ``urllib``, so this process imports neither Prefect's
    server package nor anything else while the server boots.
    """

    def __init__(self) -> None:
        with socket.socket() as probe:  # a free loopback port
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
        command = [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "error", "--lifespan", "on"]
        self.process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL)

    def wait_until_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the temporary Prefect server exited with status {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"the temporary Prefect server did not answer within {timeout:g} s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextlib.contextmanager
def api_server() -> Iterator[None]:
    """A Prefect API for this process and the workers it spawns: ``PREFECT_API_URL`` if set, else a temporary server."""
    if os.environ.get("PREFECT_API_URL"):
        yield
        return
    server = TemporaryServer()  # before Prefect is imported: its settings read PREFECT_API_URL once
    os.environ["PREFECT_API_URL"] = server.api_url  # inherited by worker processes and Dask workers
    try:
        yield server
    finally:
        drain_prefect_workers()
        os.environ.pop("PREFECT_API_URL", None)
        server.stop()


def drain_prefect_workers() -> None:
    """Send the queued logs and events while the API still answers (else they retry at exit for about a minute)."""
    if "prefect" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10, at_exit=False)
    EventsWorker.drain_all(timeout=10, at_exit=False)


def run_flow(settings: Settings, verbose: bool, *, run_id: str, **params) -> Failure | None:
    """Run the flow for the CLI (progress bar on stderr); a :class:`Failure` when the run failed."""
    configure_runtime(verbose)
    with api_server() as server:
        from flows import progress_bar
        from flows.articles import DataQualityGateError, process_articles
        from news_pipeline.gx_runtime import warm_in_background
        from news_pipeline.io.landing import LandingZoneError
        from news_pipeline.io.publish import RunLockBusy

        # what the partition's publish needs (seconds of imports), in a thread: while the server boots and the
        # batches run (mostly in Polars, which releases the GIL)
        warm_in_background()
        if server is not None:
            server.wait_until_healthy(float(os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"]))
        flow_params = {"raw_dir": str(settings.raw_dir), "data_dir": str(settings.data_dir), "run_id": run_id}
        flow_params |= {"lock_timeout": settings.lock_timeout, "task_runner": settings.task_runner}
        flow_params |= {"dask_address": settings.dask_address}
        from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

        try:
            # no heartbeat thread: it serves crash detection of deployment runs, and joining it costs up to 1 s
            with progress_bar.shown(), temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
                process_articles(**flow_params, **params)
        except DataQualityGateError as exc:
            return Failure(str(exc), 1)
        except LandingZoneError as exc:
            return Failure(str(exc), 2)
        except (RunLockBusy, TimeoutError) as exc:
            return Failure(str(exc), 1)
        except Exception as exc:
            if verbose:
                raise
            return Failure(f"run failed: {type(exc).__name__}: {exc} (rerun with --verbose for details)", 1)
        finally:
            drain_prefect_workers()
    return None
