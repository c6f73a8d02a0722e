"""The CLI's progress bar on stderr, fed by :mod:`news_pipeline.progress`; gone from the terminal when the run ends."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from news_pipeline import progress


@contextlib.contextmanager
def shown() -> Iterator[None]:
    """A progress bar of files processed, while the block runs (only on a terminal: logs and pipes get none)."""
    console = Console(stderr=True)
    if not sys.stderr.isatty():
        yield
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("files"))
    bar = Progress(*columns, TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True)
    task = bar.add_task("starting…", total=None)

    def on_progress(done: int, total: int, label: str) -> None:
        bar.update(task, completed=done, total=total, description=f"processing {label}")

    progress.subscribe(on_progress)
    try:
        with bar:
            yield
    finally:
        progress.unsubscribe(on_progress)
