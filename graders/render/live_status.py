"""The state of a grading run as a person watching it wants it: which assignment and
criterion run and for how long, how much of a budget the running call has used, and
which criteria finished with what points. Fed the events of :mod:`graders.core.progress`;
the terminal, the notebook and the class run's bar each draw it their own way.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from graders.core.progress import (
    AssignmentFinished,
    AssignmentNotGraded,
    AssignmentStarted,
    BudgetSampled,
    CriteriaCollected,
    CriterionFinished,
    CriterionStarted,
    Event,
)
from graders.core.results import format_points


def clock_text(seconds: float) -> str:
    """Elapsed time as a clock reads: 0:07, 12:40, 1:02:09."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class LiveStatus:
    """One assignment's run at a time (``check --all`` starts the next one afresh)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._start("", "")

    def _start(self, assignment: str, title: str) -> None:
        self.assignment = assignment
        self.title = title
        #: How many criteria this run grades (known once the grader is collected).
        self.total: int | None = None
        self.finished: list[CriterionFinished] = []
        self.running: CriterionStarted | None = None
        #: The last budget sample of a call still running in the current criterion.
        self.budget: BudgetSampled | None = None
        self.outcome: AssignmentFinished | AssignmentNotGraded | None = None
        self._assignment_started = self._criterion_started = self._clock()

    def handle(self, event: Event) -> None:
        now = self._clock()
        if isinstance(event, AssignmentStarted):
            self._start(event.assignment, event.title)
        elif isinstance(event, CriteriaCollected):
            self.total = len(event.criteria)
        elif isinstance(event, CriterionStarted):
            self.running, self.budget = event, None
            self._criterion_started = now
        elif isinstance(event, BudgetSampled) and self.running is not None:
            self.budget = event if event.running else None
        elif isinstance(event, CriterionFinished):
            self.finished.append(event)
            self.running, self.budget = None, None
        elif isinstance(event, (AssignmentFinished, AssignmentNotGraded)):
            if event.assignment != self.assignment:  # not graded before it started
                self._start(event.assignment, "")
            self.outcome, self.running, self.budget = event, None, None

    @property
    def elapsed_s(self) -> float:
        """Seconds since the assignment's grading began."""
        return self._clock() - self._assignment_started

    def line(self, brief: bool = False, sep: str = " · ") -> str:
        """The run in one line, e.g. ``a2 6/7 training.accuracy · 0:42 · CPU 34 of 240 s ·
        1:05 in all · Train on 60,000 images within the budget: test accuracy``;
        ``brief`` leaves out the criterion's title and the total time; ``sep`` parts the
        line (ASCII where the terminal is)."""
        if not self.assignment:
            return "starting"
        if self.outcome is not None:
            return self._outcome_line()
        total = f"/{self.total}" if self.total is not None else ""
        if self.running is None:
            if not self.finished:
                step = "preparing"
            elif self.total is not None and len(self.finished) >= self.total:
                step = "finishing"
            else:
                step = "starting the next criterion"
            title = "" if brief else f": {self.title}"
            return f"{self.assignment}{title}: {step}{sep}{clock_text(self.elapsed_s)}"
        parts = [
            f"{self.assignment} {len(self.finished) + 1}{total} {self.running.criterion}",
            clock_text(self._clock() - self._criterion_started),
        ]
        if self.budget is not None:
            parts.append(f"CPU {self.budget.used_s:.0f} of {self.budget.budget_s:g} s")
        if not brief:  # the title last: a narrow terminal cuts it, not the numbers
            parts += [f"{clock_text(self.elapsed_s)} in all", self.running.title]
        return sep.join(parts)

    def _outcome_line(self) -> str:
        outcome = self.outcome
        if isinstance(outcome, AssignmentNotGraded):
            return f"{self.assignment}: not graded: {outcome.reason}"
        return (
            f"{self.assignment}: {format_points(outcome.points)}/"
            f"{format_points(outcome.max_points)} points, {len(self.finished)} criteria "
            f"graded in {clock_text(outcome.duration_s)}"
        )
