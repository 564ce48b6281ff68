"""A run's adjustments: ``adjustments.csv`` and the late policy, read and checked once
before anything is graded or written, then applied to every student's record.

Applying is a function of the record's outcomes and the rows, so it is done again each
time a record is saved: a regrade (``--force`` too) keeps every adjustment, and a changed
row changes the points on the next run without regrading anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from graders import catalog
from graders.batch import adjustments, adjustments_file, criteria, late
from graders.batch.adjustments import Adjustment
from graders.batch.intake import Submission
from graders.batch.records import StudentRecord
from graders.batch.submitted import Submitted, submitted_at


class AdjustingError(ValueError):
    """The adjustments or the late policy cannot be applied; the message says where."""


@dataclass
class ClassAdjustments:
    rows: list[Adjustment] = field(default_factory=list)
    policy: late.LatePolicy | None = None
    submissions: dict[str, Submission] = field(default_factory=dict)
    _times: dict[tuple[str, str], Submitted | None] = field(default_factory=dict)

    @classmethod
    def load(
        cls, out: Path, submissions: Iterable[Submission], assignments: Iterable[str]
    ) -> ClassAdjustments:
        """The folder's adjustments and late policy, checked against the class; the
        policy must have a deadline for each of ``assignments``."""
        by_student = {s.student: s for s in submissions}
        try:
            rows = adjustments_file.read(out / adjustments_file.FILE, by_student, _criteria)
            policy = late.load(out / late.FILE, by_student, assignments)
        except (adjustments_file.AdjustmentError, late.LatePolicyError) as error:
            raise AdjustingError(str(error)) from None
        return cls(rows, policy, by_student)

    def rows_for(self, record: StudentRecord) -> list[Adjustment]:
        """The manual rows that apply to this student, then the late policy's."""
        found = [row for row in self.rows if row.applies_to(record.student)]
        submission = self.submissions.get(record.student)
        if self.policy is None or submission is None:
            return found
        for key in sorted(record.outcomes, key=catalog.course_order):
            if key not in self.policy.deadlines:
                continue  # an assignment no longer in the course
            when = self._submitted(submission, key)
            row = self.policy.adjustment(record.student, key, when) if when else None
            if row is not None:
                found.append(row)
        return found

    def apply(self, record: StudentRecord) -> None:
        """Set ``record.adjusted`` from its outcomes and this run's rows."""
        rows = self.rows_for(record)
        record.adjusted = {}
        for key in record.outcomes:
            own = [row for row in rows if row.assignment == key]
            if own:
                maximum = catalog.spec(key).points
                record.adjusted[key] = adjustments.apply(record.result(key), maximum, own)

    def waiting(self, records: Iterable[StudentRecord]) -> list[str]:
        """Rows that did not apply, and why (to show the instructor after the run)."""
        records = list(records)
        graded = {(r.student, key) for r in records for key in r.outcomes}
        found = [
            f"{row.source}: waits until {row.assignment} of {row.student} is graded"
            for row in self.rows
            if row.student != adjustments.ALL and (row.student, row.assignment) not in graded
        ]
        for record in records:
            for adjusted in record.adjusted.values():
                found += [f"{record.student}: {why}" for why in adjusted.not_applied]
        return found

    def _submitted(self, submission: Submission, key: str) -> Submitted | None:
        cached = (submission.student, key)
        if cached not in self._times:
            zone = self.policy.zone if self.policy else dt.timezone.utc
            self._times[cached] = submitted_at(submission, key, zone)
        return self._times[cached]


def _criteria(key: str) -> dict[str, float]:
    try:
        return criteria.declared(key)
    except criteria.UndeclaredCriteria as error:
        raise ValueError(str(error)) from None
