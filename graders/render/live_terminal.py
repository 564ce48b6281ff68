"""``nngrade check``'s progress on a terminal: a status line redrawn in place (tqdm) that
names the criterion running, its time, the CPU seconds a budgeted call has used, and a
line for each criterion as it finishes, printed above it.

It writes to the stream it is given (stderr) and only when the command line decided a
person is watching: a terminal, the table format. The status line is gone before the
report is printed; the lines of finished criteria stay.

The grader runs under pytest in this process, and pytest points file descriptors 1 and
2 at files of its own while each criterion runs: this writes to a duplicate of the
stream's descriptor, made before, which stays on the terminal.
"""

from __future__ import annotations

import os
import threading
from typing import TextIO

from tqdm import tqdm

from graders.core.progress import (
    AssignmentFinished,
    AssignmentNotGraded,
    AssignmentStarted,
    BudgetSampled,
    CriterionFinished,
    Event,
)
from graders.core.results import format_points
from graders.render import encode, terminal
from graders.render.live_status import LiveStatus


def finished_line(event: CriterionFinished, fancy: bool) -> str:
    """``  ✔       4/4  a2 training.accuracy (12.5 s)``: a criterion as it finishes."""
    score = f"{format_points(event.points)}/{format_points(event.max_points)}"
    return (
        f"  {terminal.mark(event.status, fancy)} {score:>9}  {event.assignment} "
        f"{event.criterion} ({event.duration_s:.1f} s)"
    )


def terminal_size(stream: TextIO) -> tuple[int, int]:
    """(columns, lines) of the terminal ``stream`` writes to; 80x24 where it reports 0
    (a pseudo-terminal nobody sized: tqdm would then draw nothing)."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return 80, 24
    return size.columns or 80, size.lines or 24


def _own_copy(stream: TextIO) -> TextIO:
    """A stream on a duplicate of ``stream``'s descriptor (``stream`` itself if it has
    none), writing what the terminal's encoding cannot show as ``?``."""
    try:
        descriptor = os.dup(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return stream
    encoding = getattr(stream, "encoding", None) or "utf-8"
    return open(descriptor, "w", encoding=encoding, errors="replace", closefd=True)


class TerminalProgress:
    """A progress listener for a terminal; use it as a context manager (``close`` erases
    the status line and stops the thread that keeps its clock running)."""

    def __init__(self, stream: TextIO, refresh_s: float = 0.5):
        self._given = stream
        self._stream = _own_copy(stream)
        self._fancy = terminal.unicode_ok(stream)
        self._status = LiveStatus()
        #: The latest budget sample, left by a worker's watchdog for the next redraw.
        self._sample: BudgetSampled | None = None
        self._bar: tqdm | None = None
        self._lock = threading.RLock()
        self._stopped = threading.Event()
        self._ticker = threading.Thread(target=self._tick, args=(refresh_s,), daemon=True)
        self._ticker.start()

    def __call__(self, event: Event) -> None:
        if isinstance(event, BudgetSampled):
            # From the watchdog that enforces the budget: never wait for the terminal (a
            # paused or slow one) here. The next redraw shows it.
            self._sample = event
            return
        with self._lock:
            self._sample = None  # a call's sample, from before this event
            self._status.handle(event)
            if isinstance(event, AssignmentStarted):
                self._close_bar()
                width, height = terminal_size(self._stream)
                self._bar = tqdm(
                    file=self._stream, bar_format="{desc}", ncols=width - 1, nrows=height,
                    leave=False, mininterval=0, miniters=0,
                )  # fmt: skip
            elif isinstance(event, CriterionFinished):
                self._write(finished_line(event, self._fancy))
            elif isinstance(event, AssignmentFinished):
                self._close_bar()
            elif isinstance(event, AssignmentNotGraded):
                self._close_bar()
                self._write(f"  {event.assignment}: not graded (the report says why)")
            self._redraw()

    def _redraw(self) -> None:
        sample, self._sample = self._sample, None
        if sample is not None:
            self._status.handle(sample)
        if self._bar is not None:
            line = self._status.line(sep=" · " if self._fancy else " - ")
            self._bar.ncols = terminal_size(self._stream)[0] - 1  # also after a resize
            self._bar.set_description_str(encode.terminal(line), refresh=False)
            self._bar.refresh()

    def _write(self, line: str) -> None:
        if self._bar is not None:
            self._bar.write(line, file=self._stream)
        else:
            self._stream.write(line + "\n")
            self._stream.flush()

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _tick(self, every_s: float) -> None:
        """Keep the clocks on the status line running while nothing else happens."""
        while not self._stopped.wait(every_s):
            with self._lock:
                self._redraw()

    def close(self) -> None:
        self._stopped.set()
        self._ticker.join()
        with self._lock:
            self._close_bar()
            if self._stream is not self._given:
                self._stream.close()

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
