"""Wording shared by the human-facing renderers."""

from __future__ import annotations

from graders import catalog
from graders.core.results import LabResult, round_points
from graders.core.standing import Standing


def lab_standing(report: LabResult) -> Standing:
    """Where the graded assignments of ``report`` leave the student against the course
    minimum; an assignment not graded in this run is still to come."""
    specs = catalog.specs()
    graded = {a.assignment for a in report.assignments}
    return Standing(
        points=report.points,
        graded=tuple(s.key for s in specs if s.key in graded),
        pending=tuple(s.key for s in specs if s.key not in graded),
        graded_max=round_points(sum(s.points for s in specs if s.key in graded)),
        pending_max=round_points(sum(s.points for s in specs if s.key not in graded)),
        lab_max=report.max_points,
        minimum=report.minimum_points,
    )


def minimum_line(report: LabResult) -> str:
    """The lab line of a report of several assignments (as on a feedback page)."""
    return lab_standing(report).line()
