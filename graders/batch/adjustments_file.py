"""``adjustments.csv`` in the output folder: the instructor's and TAs' changes to points.

One row per adjustment, with a header::

    student,assignment,criterion,points,reason,who,when
    ann,a1,agreement,+1,regrade request: the test was too strict,ta-bob,2025-10-28
    ben,a1,*,-10%,copied the README from ann,instructor,2025-10-29
    *,a1,pure.load_system,+100%,the statement was unclear this year,instructor,

``student`` is a student id as the gradebook shows it (``*``: everyone graded on the
assignment), ``criterion`` a criterion id of the assignment (``*``: its total),
``points`` one of ``+1``, ``-2.5``, ``-10%``, ``=3`` (see ``graders.batch.adjustments``),
``reason`` what the student reads, ``who`` who decided, ``when`` a date (may be empty).
Lines starting with ``#`` are comments; Excel's ``;`` separator and UTF-8 BOM are read.

The file is read and checked whole before anything is graded or written: a malformed
row or an unknown student, assignment or criterion is an error that names the file, the
line and the value, so a typo never silently drops (or misplaces) a student's points.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from graders import catalog
from graders.batch import instructor_csv
from graders.batch.adjustments import ALL, Adjustment, Change

FILE = "adjustments.csv"
COLUMNS = ("student", "assignment", "criterion", "points", "reason", "who", "when")
REQUIRED = ("student", "assignment", "criterion", "points", "reason", "who")
#: Errors listed at once, so that a file with many typos is fixed in one go.
MAX_ERRORS = 20


class AdjustmentError(ValueError):
    """adjustments.csv cannot be applied; the message names the file, line and value."""


def read(
    path: Path,
    students: Collection[str],
    criteria: Callable[[str], Mapping[str, float]],
) -> list[Adjustment]:
    """The adjustments in ``path`` (none when it does not exist), checked against the
    class's ``students`` and each assignment's declared ``criteria``."""
    table = instructor_csv.read(path, AdjustmentError)
    if table is None:
        return []
    missing = [name for name in REQUIRED if name not in table.header]
    if missing:
        raise AdjustmentError(
            f"{path} line {table.header_line}: the header lacks {', '.join(missing)}; it must "
            f"name the columns {','.join(COLUMNS)} (when may be left out)"
        )
    found, errors = [], []
    for line, row in table.rows:
        try:
            found.append(_adjustment(row, f"{path.name} line {line}", students, criteria))
        except ValueError as error:
            errors.append(f"{path} line {line}: {error}")
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise AdjustmentError("\n".join(errors))
    return found


def _adjustment(
    row: dict[str, str],
    source: str,
    students: Collection[str],
    criteria: Callable[[str], Mapping[str, float]],
) -> Adjustment:
    """One row as an Adjustment; ValueError naming the value that is wrong."""
    for name in REQUIRED:
        if not row.get(name):
            raise ValueError(f"{name} is empty")
    student, key, criterion = row["student"], row["assignment"], row["criterion"]
    if student != ALL and student not in students:
        raise ValueError(f"unknown student {student!r}{_suggest(student, students)}")
    if key not in catalog.assignment_keys():
        known = ", ".join(catalog.assignment_keys())
        raise ValueError(f"unknown assignment {key!r} (the course has {known})")
    declared = criteria(key)
    if criterion != ALL and criterion not in declared:
        raise ValueError(
            f"{key} has no criterion {criterion!r}{_suggest(criterion, declared)}; write * "
            "for the assignment's total"
        )
    try:
        change = Change.parse(row["points"])
    except ValueError as error:
        raise ValueError(f"points {row['points']!r}: {error}") from None
    when = row.get("when", "")
    if when:
        try:
            dt.datetime.fromisoformat(when)
        except ValueError:
            raise ValueError(f"when {when!r} is not a date (write 2025-10-28)") from None
    return Adjustment(student, key, criterion, change, row["reason"], row["who"], when, source)


def _suggest(value: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(value, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
