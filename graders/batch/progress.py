"""The class run's progress bar: jobs done of all, and on a terminal what each running
job grades now (student, assignment, criterion, its time, the CPU budget used).

Jobs report from the engine's threads (see :func:`graders.batch.job.run_isolated`), so
every change is made under one lock. In a log (not a terminal) the bar moves per job
only, so that a long run does not fill the log with redraws.
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from tqdm import tqdm

from graders.batch.job import Job, Outcome
from graders.core.progress import AssignmentStarted, CriterionStarted, Event
from graders.render import encode, terminal
from graders.render.live_status import LiveStatus

#: Counts first, then what runs: a long line is cut at the end, never in the counts.
BAR_FORMAT = (
    "{percentage:3.0f}%|{bar:20}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}{postfix}] {desc}"
)


class ClassProgress:
    def __init__(self, total: int, enabled: bool, stream: TextIO | None = None):
        stream = stream or sys.stderr
        #: Criteria of running jobs are shown on a terminal only.
        self.live = enabled and stream.isatty()
        self._sep = " · " if terminal.unicode_ok(stream) else " - "
        self._bar = tqdm(
            total=total, unit="job", disable=not enabled or total == 0, dynamic_ncols=True,
            file=stream, desc="grading", smoothing=0.1, bar_format=BAR_FORMAT,
        )  # fmt: skip
        self._running: dict[tuple[str, str], LiveStatus] = {}
        self._lock = threading.Lock()
        self._ticker = threading.Thread(target=self._tick, daemon=True)
        self._stopped = threading.Event()
        if self.live:
            self._ticker.start()

    def event(self, job: Job, event: Event) -> None:
        """What a running job reported (called from the engine's threads). A job or a
        criterion that starts shows at once: a grading shorter than the tick's second is
        still seen on the terminal."""
        with self._lock:
            key = (job.student, job.assignment)
            self._running.setdefault(key, LiveStatus()).handle(event)
            if self.live and isinstance(event, (AssignmentStarted, CriterionStarted)):
                self._describe()
                self._bar.refresh()

    def done(self, outcome: Outcome, errors: int, rejected: int) -> None:
        """A job finished: count it, forget what it was doing."""
        with self._lock:
            self._running.pop((outcome.student, outcome.assignment), None)
            self._bar.set_postfix(errors=errors, rejected=rejected, refresh=False)
            self._describe()
            self._bar.update(1)
            self._bar.refresh()  # every job shows, however soon after the last

    def _describe(self) -> None:
        """``grading ann a2 3/7 gradients · 0:12 | ben a2 1/7 forward · 0:01``."""
        running = [
            f"{encode.terminal(student)} {status.line(brief=True, sep=self._sep)}"
            for (student, _), status in self._running.items()
            if status.assignment and status.outcome is None
        ]
        self._bar.set_description_str(
            "grading" + (f" {' | '.join(running)}" if running else ""), refresh=False
        )

    def _tick(self) -> None:
        """Redraw each second, so that the running criteria's clocks move."""
        while not self._stopped.wait(1.0):
            with self._lock:
                self._describe()
                self._bar.refresh()

    def close(self) -> None:
        self._stopped.set()
        if self._ticker.is_alive():
            self._ticker.join()
        with self._lock:
            self._bar.close()
