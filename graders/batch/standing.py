"""A student's standing in a class run: the graded outcomes of their record (see
graders.core.standing for what it says)."""

from __future__ import annotations

from graders import catalog
from graders.batch.job import JobStatus
from graders.batch.records import StudentRecord
from graders.core.standing import Pace, Standing, course_standing

__all__ = ["FINAL", "Pace", "Standing", "standing"]

#: Outcomes that stand until the submission changes; an infrastructure error is graded
#: again on the next run, so its assignment still counts as to come.
FINAL = (JobStatus.OK, JobStatus.REJECTED, JobStatus.TIMEOUT)


def standing(record: StudentRecord) -> Standing:
    """The record's standing over the whole course (assignments no longer in it ignored)."""
    done = {
        key
        for key, outcome in record.outcomes.items()
        if outcome.status in FINAL or record.result(key) is not None
    }
    course = [(s.key, s.points) for s in catalog.specs()]
    return course_standing(
        sum(record.points(key) for key, _ in course if key in done),
        done,
        course,
        lab_max=catalog.lab_max_points(),
        minimum=catalog.pass_mark(),
    )
