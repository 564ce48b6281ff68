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
from graders.batch import adjustments, adjustments_file, criteria, handed_in, late
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
    #: (student, assignment) -> when, from handed-in.csv (the course's record).
    handed_in: dict[tuple[str, str], handed_in.HandIn] = field(default_factory=dict)
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
            zone = policy.zone if policy else dt.timezone.utc
            times = handed_in.read(out / handed_in.FILE, by_student, zone)
        except (
            adjustments_file.AdjustmentError, late.LatePolicyError, handed_in.HandedInError
        ) as error:  # fmt: skip
            raise AdjustingError(str(error)) from None
        return cls(rows, policy, by_student, times)

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
        return found + self.undated(records)

    def undated(self, records: Iterable[StudentRecord]) -> list[str]:
        """Hand-ins the late policy could not date, one line per assignment: no penalty
        was computed for them, and the line says why and what would date them."""
        if self.policy is None:
            return []
        missing: dict[str, list[str]] = {}
        for record in records:
            submission = self.submissions.get(record.student)
            for key in record.outcomes:
                dated = key not in self.policy.deadlines or submission is None
                if not dated and self._submitted(submission, key) is None:
                    missing.setdefault(key, []).append(record.student)
        why = (
            "not in handed-in.csv, and the submission holds no file of it"
            if self.policy.times_from_submission
            else f"not in {handed_in.FILE} (late-policy.json takes no times from submissions: "
            'they are set by the student\'s machine; "times": "from-submission" would use them)'
        )
        lines = []
        for key in sorted(missing, key=catalog.course_order):
            students = sorted(missing[key])
            shown = ", ".join(students[:5]) + (
                f" and {len(students) - 5} more" if len(students) > 5 else ""
            )
            lines.append(
                f"no late penalty computed for {key} of {len(students)} student"
                f"{'s' if len(students) != 1 else ''} ({shown}): {why}"
            )
        return lines

    def _submitted(self, submission: Submission, key: str) -> Submitted | None:
        """When ``key`` was handed in: handed-in.csv, else (where the policy allows) the
        submission's own times, named as the student's machine recorded them."""
        cached = (submission.student, key)
        if cached not in self._times:
            self._times[cached] = self._find_time(submission, key)
        return self._times[cached]

    def _find_time(self, submission: Submission, key: str) -> Submitted | None:
        listed = self.handed_in.get((submission.student, key))
        if listed is not None:
            return Submitted(listed.at, f"{handed_in.FILE}, line {listed.line}")
        if self.policy is None or not self.policy.times_from_submission:
            return None
        found = submitted_at(submission, key, self.policy.zone)
        if found is None:
            return None
        return Submitted(found.at, f"{found.how}, as the student's machine recorded it")


def _criteria(key: str) -> dict[str, float]:
    try:
        return criteria.declared(key)
    except criteria.UndeclaredCriteria as error:
        raise ValueError(str(error)) from None
