"""Progress of a run, for whoever listens (the CLI's progress bar); the flow reports, nothing here imports Prefect."""

from __future__ import annotations

from collections.abc import Callable

Listener = Callable[[int, int, str], None]
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> None:
    """Call ``listener(done_files, total_files, label)`` whenever a batch finishes."""
    _listeners.append(listener)


def unsubscribe(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def report(done: int, total: int, label: str = "") -> None:
    for listener in list(_listeners):
        listener(done, total, label)
