"""What a grading run says while it runs, so that people watching are not left waiting.

The runner and the grading plugin emit these events to a listener; front ends draw them
(the terminal's status line, a notebook's updating output, the class run's bar). Batch
jobs and the notebook run grading in another process: there the events travel as JSON
lines in a file (:class:`EventFile`, :class:`EventTail`).

A listener may be called from a worker's watchdog thread (the budget samples), the thread
that also enforces the limits: it must return at once, never wait for a lock that is
held while something slow happens (writing to a terminal that may be paused).
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar


@dataclass(frozen=True)
class AssignmentStarted:
    """Grading of an assignment began (data, sandbox and scan come before any criterion)."""

    kind: ClassVar[str] = "assignment_started"
    assignment: str
    title: str


@dataclass(frozen=True)
class CriteriaCollected:
    """The criteria this run will grade, in order: (id, title) each."""

    kind: ClassVar[str] = "criteria_collected"
    assignment: str
    criteria: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class CriterionStarted:
    kind: ClassVar[str] = "criterion_started"
    assignment: str
    criterion: str
    title: str


@dataclass(frozen=True)
class CriterionFinished:
    """A criterion's outcome as measured (rules found by the static scan applied); the
    report, written at the end, is what counts."""

    kind: ClassVar[str] = "criterion_finished"
    assignment: str
    criterion: str
    title: str
    status: str
    points: float
    max_points: float
    duration_s: float


@dataclass(frozen=True)
class BudgetSampled:
    """CPU seconds a call with a grading budget has used so far of that budget."""

    kind: ClassVar[str] = "budget_sampled"
    sandbox: str
    used_s: float
    budget_s: float
    #: False once the call has ended (its last figure).
    running: bool


@dataclass(frozen=True)
class AssignmentFinished:
    kind: ClassVar[str] = "assignment_finished"
    assignment: str
    points: float
    max_points: float
    duration_s: float


@dataclass(frozen=True)
class AssignmentNotGraded:
    """``check --all`` could not grade this assignment (the report says why and what to do)."""

    kind: ClassVar[str] = "assignment_not_graded"
    assignment: str
    reason: str


Event = (
    AssignmentStarted
    | CriteriaCollected
    | CriterionStarted
    | CriterionFinished
    | BudgetSampled
    | AssignmentFinished
    | AssignmentNotGraded
)
Listener = Callable[[Event], None]

_KINDS: dict[str, type] = {
    cls.kind: cls
    for cls in (
        AssignmentStarted,
        CriteriaCollected,
        CriterionStarted,
        CriterionFinished,
        BudgetSampled,
        AssignmentFinished,
        AssignmentNotGraded,
    )
}


def to_json(event: Event) -> str:
    return json.dumps({"kind": event.kind, **dataclasses.asdict(event)}, ensure_ascii=True)


def from_json(line: str) -> Event | None:
    """The event of one JSON line; None for a line that is not one (torn, or unknown)."""
    try:
        data: Any = json.loads(line)
        cls = _KINDS[data.pop("kind")]
        if cls is CriteriaCollected:
            data["criteria"] = tuple((str(i), str(t)) for i, t in data["criteria"])
        return cls(**data)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


class EventFile:
    """A listener that appends events to a file as JSON lines, for a process that watches.

    Budget samples of a running call are written at most once per ``sample_every_s``:
    a watcher redraws about once a second, and a long training call samples five times
    a second.
    """

    def __init__(self, path: Path, sample_every_s: float = 1.0):
        """Starts ``path`` empty: it holds this run's events only."""
        self.path = Path(path)
        self.path.write_text("", encoding="utf-8")
        self._sample_every_s = sample_every_s
        self._last_sample = -float("inf")
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, BudgetSampled) and event.running:
                now = time.monotonic()
                if now - self._last_sample < self._sample_every_s:
                    return
                self._last_sample = now
            with self.path.open("a", encoding="utf-8") as stream:
                stream.write(to_json(event) + "\n")


class EventTail:
    """Reads the events another process appends to a file, a complete line at a time."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._offset = 0

    def read(self) -> list[Event]:
        """The events written since the last read (none while the file does not exist)."""
        try:
            with self.path.open("rb") as stream:
                stream.seek(self._offset)
                data = stream.read()
        except OSError:
            return []
        complete = data[: data.rfind(b"\n") + 1]
        self._offset += len(complete)
        events = [from_json(line) for line in complete.decode("utf-8", "replace").splitlines()]
        return [e for e in events if e is not None]
