"""The class gradebook: one CSV row per student, one column per criterion and assignment.

Columns: ``student``, then for every assignment graded in this folder its criteria as
the grader scored them (``a1:determinant``, ...), their sum (``a1:automatic``), what the
adjustments changed (``a1:adjustment``, see ``graders.batch.adjustments``) and the points
that count (``a1``), then ``lab_total`` (out of 100), ``meets_minimum`` (the course's 35
points: ``yes``, ``no`` once decided, else ``not yet decided (on pace)`` or ``(below
pace)``, as the class summary says), ``adjustments`` (each one: where, the change, why, who) and ``status`` /
``problems``: ``ok``, or per assignment what went wrong (``a1: not graded, refused``;
``a2: does not parse``; see ``graders.batch.problems``) and why. Points are written as the
reports write them, as numbers; text cells (the student, adjustments, the problems) are
``encode.csv_cell``: one line, never a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from graders import catalog
from graders.batch import adjustments, problems
from graders.batch.records import StudentRecord
from graders.batch.standing import Pace, Standing, standing
from graders.core.results import format_points
from graders.render import encode

#: Columns of each assignment besides its criteria: the grader's sum, the adjustments' change.
AUTOMATIC, ADJUSTMENT = "automatic", "adjustment"


def columns(records: Iterable[StudentRecord]) -> list[str]:
    """Assignment and criterion columns, in course order, for what was graded."""
    criteria: dict[str, list[str]] = {}
    for record in records:
        for key in record.outcomes:
            found = criteria.setdefault(key, [])
            result = record.result(key)
            for criterion in result.criteria if result else []:
                if criterion.id not in found:
                    found.append(criterion.id)
    names = ["student"]
    for key in sorted(criteria, key=catalog.course_order):
        names += [f"{key}:{cid}" for cid in criteria[key]]
        names += [f"{key}:{AUTOMATIC}", f"{key}:{ADJUSTMENT}", key]
    return names + ["lab_total", "meets_minimum", "adjustments", "status", "problems"]


def row(record: StudentRecord, names: list[str]) -> dict[str, str]:
    cells = {name: "" for name in names}
    cells["student"] = encode.csv_cell(record.student)
    for key in record.outcomes:
        adjusted = record.adjusted.get(key)
        cells[f"{key}:{AUTOMATIC}"] = format_points(record.automatic_points(key))
        cells[f"{key}:{ADJUSTMENT}"] = format_points(adjusted.adjustment if adjusted else 0)
        cells[key] = format_points(record.points(key))
        result = record.result(key)
        for criterion in result.criteria if result else []:
            cells[f"{key}:{criterion.id}"] = format_points(criterion.points)
    cells["lab_total"] = format_points(record.lab_points)
    cells["adjustments"] = encode.csv_cell(
        " | ".join(
            f"{key}: {adjustments.describe(applied)} ({applied.who})"
            for key, adjusted in sorted(record.adjusted.items())
            for applied in adjusted.applied
        )
    )
    cells["meets_minimum"] = minimum_cell(standing(record))
    found = problems.problems(record)
    cells["status"] = encode.csv_cell(status(found))
    cells["problems"] = encode.csv_cell(
        " | ".join(f"{p.assignment}: {p.kind}: {p.detail}" for p in found)
    )
    return cells


#: The gradebook's word for each standing: "no" only once it is decided, as on the class
#: summary and every feedback page (mid-semester 10/10 is on pace, not a fail).
_MINIMUM_CELL = {
    Pace.MEETS: "yes",
    Pace.FAILS: "no",
    Pace.CANNOT_REACH: "no (cannot reach the minimum)",
    Pace.ON_PACE: "not yet decided (on pace)",
    Pace.BELOW_PACE: "not yet decided (below pace)",
    Pace.NOTHING_YET: "not yet decided (nothing graded yet)",
}


def minimum_cell(student: Standing) -> str:
    """``meets_minimum`` of a standing: yes, no, or not yet decided with the pace."""
    return _MINIMUM_CELL[student.pace]


def status(found: list[problems.Problem]) -> str:
    """``ok``, or per assignment the kinds of its problems (``a1: not graded, hangs``)."""
    by_assignment: dict[str, list[str]] = {}
    for problem in found:
        words = by_assignment.setdefault(problem.assignment, [])
        if not problem.graded and "not graded" not in words:
            words.insert(0, "not graded")
        if str(problem.kind) not in words:
            words.append(str(problem.kind))
    return "; ".join(f"{key}: {', '.join(words)}" for key, words in by_assignment.items()) or "ok"


def render(records: list[StudentRecord]) -> str:
    names = columns(records)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    for record in sorted(records, key=lambda r: r.student):
        writer.writerow(row(record, names))
    return buffer.getvalue()
