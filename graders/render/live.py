"""Who watches a ``check`` run while it grades: a person at a terminal, and programs that
read an events file (``notebook.check``). Reports themselves are written at the end."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from graders.core.progress import Event, EventFile, Listener
from graders.render.live_terminal import TerminalProgress


@contextlib.contextmanager
def watching(stream: TextIO, people: bool, events_file: Path | None) -> Iterator[Listener | None]:
    """The listener for a run (None when nobody watches). ``people``: the report is for
    people, so a terminal on ``stream`` shows progress (never a pipe or a file, whose
    reader gets the report alone). The terminal's status line is gone once this exits."""
    listeners: list[Listener] = []
    with contextlib.ExitStack() as stack:
        if people and stream.isatty():
            listeners.append(stack.enter_context(TerminalProgress(stream)))
        if events_file is not None:
            events_file.parent.mkdir(parents=True, exist_ok=True)  # as --output does
            listeners.append(EventFile(events_file))
        yield _fan_out(listeners) if listeners else None


def _fan_out(listeners: list[Listener]) -> Listener:
    def tell(event: Event) -> None:
        for listener in listeners:
            listener(event)

    return tell
