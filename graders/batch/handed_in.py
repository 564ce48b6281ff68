"""``handed-in.csv`` in the output folder: when each student handed each assignment in, as
the course recorded it, not as the student's machine did.

One row per hand-in, with a header::

    student,assignment,time
    ann,a1,2025-10-19T21:14:03+03:00
    bob,a1,2025-10-20T08:02:00Z

What GitHub Classroom's deadline export, Moodle, Canvas or the instructor's collection
script records (the push or upload time seen by the server). ``time`` is ISO 8601; one
without an offset is in the late policy's time zone. These times take precedence over
anything read from a submission: a commit's dates, a zip member's dates and file
modification times are all set by the student's machine, so the late policy reads them
only when it says ``"times": "from-submission"`` (``graders.batch.late``).

Read and checked whole before anything is graded: an unknown student or assignment, a
time that is not one, or a second row for the same hand-in is an error naming the file,
the line and the value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from graders import catalog
from graders.batch import instructor_csv

FILE = "handed-in.csv"
COLUMNS = ("student", "assignment", "time")
MAX_ERRORS = 20


class HandedInError(ValueError):
    """handed-in.csv cannot be used; the message names the file, the line and the value."""


@dataclass(frozen=True)
class HandIn:
    at: dt.datetime  # time-zone aware
    line: int


def read(path: Path, students: Collection[str], zone: dt.tzinfo) -> dict[tuple[str, str], HandIn]:
    """(student, assignment) -> when, from ``path`` (empty when there is no such file)."""
    table = instructor_csv.read(path, HandedInError)
    if table is None:
        return {}
    missing = [column for column in COLUMNS if column not in table.header]
    if missing:
        raise HandedInError(
            f"{path}, line {table.header_line}: the header must name the columns "
            f"{', '.join(COLUMNS)} (missing: {', '.join(missing)})"
        )
    found: dict[tuple[str, str], HandIn] = {}
    errors: list[str] = []
    for number, cells in table.rows:
        try:
            key, when = _row(cells, students, zone)
        except ValueError as error:
            errors.append(f"{path}, line {number}: {error}")
            continue
        if key in found:
            errors.append(
                f"{path}, line {number}: a second time for {key[1]} of {key[0]!r} "
                f"(the first is on line {found[key].line}); keep one"
            )
            continue
        found[key] = HandIn(when, number)
    if errors:
        more = f" (and {len(errors) - MAX_ERRORS} more)" if len(errors) > MAX_ERRORS else ""
        raise HandedInError("; ".join(errors[:MAX_ERRORS]) + more)
    return found


def _row(
    cells: dict[str, str], students: Collection[str], zone: dt.tzinfo
) -> tuple[tuple[str, str], dt.datetime]:
    student, key, text = (cells.get(column, "") for column in COLUMNS)
    if student not in students:
        raise ValueError(f"unknown student {student!r} (not in the class folder)")
    if key not in catalog.assignment_keys():
        raise ValueError(
            f"unknown assignment {key!r} (one of {', '.join(catalog.assignment_keys())})"
        )
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"time {text!r} is not an ISO 8601 date and time (e.g. 2025-10-19T21:14:03+03:00)"
        ) from None
    return (student, key), moment if moment.tzinfo else moment.replace(tzinfo=zone)
