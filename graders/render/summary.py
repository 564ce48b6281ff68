"""Wording shared by the human-facing renderers."""

from __future__ import annotations

from graders import catalog
from graders.core.results import LabResult
from graders.core.standing import Standing, course_standing


def lab_standing(report: LabResult) -> Standing:
    """Where the graded assignments of ``report`` leave the student against the course
    minimum; an assignment not graded in this run is still to come."""
    return course_standing(
        report.points,
        {a.assignment for a in report.assignments},
        [(s.key, s.points) for s in catalog.specs()],
        lab_max=report.max_points,
        minimum=report.minimum_points,
    )


def minimum_line(report: LabResult) -> str:
    """The lab line of a report of several assignments (as on a feedback page)."""
    return lab_standing(report).line()
