"""The class gradebook: one CSV row per student, one column per criterion and assignment.

Columns: ``student``, then for every assignment graded in this folder its criteria
(``a1:determinant``, ...) and its total (``a1``), then ``lab_total`` (out of 100),
``meets_minimum`` (the course's 35 points) and ``status`` / ``problems`` that say which
assignments could not be graded and why. Points are written as the reports write them,
as numbers; text cells (the student, the problems) are ``encode.csv_cell``: one line,
never a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from graders import catalog
from graders.batch.job import JobStatus
from graders.batch.records import StudentRecord
from graders.core.results import format_points
from graders.render import encode


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
        names += [f"{key}:{cid}" for cid in criteria[key]] + [key]
    return names + ["lab_total", "meets_minimum", "status", "problems"]


def row(record: StudentRecord, names: list[str]) -> dict[str, str]:
    cells = {name: "" for name in names}
    cells["student"] = encode.csv_cell(record.student)
    problems = []
    for key, outcome in record.outcomes.items():
        result = record.result(key)
        if result is None:
            problems.append(f"{key}: {outcome.status}: {outcome.error}")
            cells[key] = "0"
            continue
        cells[key] = format_points(result.points)
        for criterion in result.criteria:
            cells[f"{key}:{criterion.id}"] = format_points(criterion.points)
        problems += [f"{key}: rule broken: {v.describe()}" for v in result.violations]
        problems += [f"{key}: grader error: {e}" for e in result.internal_errors]
    cells["lab_total"] = format_points(record.lab_points)
    cells["meets_minimum"] = "yes" if record.meets_minimum else "no"
    failed = [k for k, o in record.outcomes.items() if o.status != JobStatus.OK]
    cells["status"] = "ok" if not failed else "not graded: " + " ".join(sorted(failed))
    cells["problems"] = encode.csv_cell(" | ".join(problems))
    return cells


def render(records: list[StudentRecord]) -> str:
    names = columns(records)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    for record in sorted(records, key=lambda r: r.student):
        writer.writerow(row(record, names))
    return buffer.getvalue()
