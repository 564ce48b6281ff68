"""The course: every assignment package under ``graders/`` and the lab totals they make.

Each assignment describes itself once, as the ``ASSIGNMENT`` spec of its package
(``graders/a1/__init__.py`` ...). The catalog finds those packages by name (``a`` and a
number), so adding an assignment touches its own folders only; the lab maximum and the
pass mark are derived from the specs, never written down a second time. Deadlines are
the end of each assignment's ``week``, counted from a semester's first day (which the
instructor gives, see ``graders.batch.late``).
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import math
import pkgutil

import graders
from graders.core.assignment import ASSIGNMENT_KEY, AssignmentSpec
from graders.core.results import AssignmentResult, LabResult, NotGraded

#: The share of the lab's points a student needs to pass the lab (35 of 100).
PASS_FRACTION = 0.35


class UnknownAssignment(KeyError):
    """No assignment package has this key."""


@functools.cache
def specs() -> tuple[AssignmentSpec, ...]:
    """Every assignment's spec, in course order (by number)."""
    found = []
    for package in pkgutil.iter_modules(graders.__path__):
        if package.ispkg and ASSIGNMENT_KEY.fullmatch(package.name):
            spec = importlib.import_module(f"graders.{package.name}").ASSIGNMENT
            if spec.key != package.name:
                raise ValueError(f"graders/{package.name} declares the key {spec.key!r}")
            found.append(spec)
    return tuple(sorted(found, key=lambda s: s.number))


def reload() -> None:
    """Find the assignment packages again (after one was added at run time)."""
    specs.cache_clear()


def assignment_keys() -> tuple[str, ...]:
    return tuple(spec.key for spec in specs())


def spec(key: str) -> AssignmentSpec:
    for found in specs():
        if found.key == key:
            return found
    raise UnknownAssignment(key)


def lab_max_points() -> float:
    return sum(spec.points for spec in specs())


def pass_mark() -> float:
    """The points a student needs to pass the lab."""
    return math.ceil(PASS_FRACTION * lab_max_points())


def lab_result(
    assignments: list[AssignmentResult],
    missing: list[str] | None = None,
    not_graded: list[NotGraded] | None = None,
) -> LabResult:
    """A lab result of these assignments, out of the whole course's points; ``missing``
    defaults to the assignments of ``not_graded``."""
    not_graded = list(not_graded or [])
    if missing is None:
        missing = [n.assignment for n in not_graded]
    return LabResult(
        assignments, missing=list(missing), max_points=lab_max_points(),
        minimum_points=pass_mark(), not_graded=not_graded,
    )  # fmt: skip


def course_order(key: str) -> float:
    """Sort key of an assignment key: its number (keys no longer in the course last)."""
    return int(key[1:]) if ASSIGNMENT_KEY.fullmatch(key) else math.inf


def deadline(key: str, semester_start: dt.date, zone: dt.tzinfo) -> dt.datetime:
    """When assignment ``key`` is due: the end (midnight) of its week, week 1 being the
    seven days from ``semester_start``."""
    due = semester_start + dt.timedelta(days=7 * spec(key).week)
    return dt.datetime.combine(due, dt.time(), zone)
