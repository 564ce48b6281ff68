"""What went wrong with a submission, named: the gradebook's ``status`` and ``problems``
and the class summary's "could not be graded" tables.

A submission that does not parse or hangs still gets a result (every criterion failed
with its reason), so "graded" alone hides it from an instructor scanning 300 rows. The
kinds are read from the outcome (refused, timed out, grader error), the result's own
records (broken rules, internal errors) and the wording the grading core writes (the
runner's "is missing from the submission" and "cannot parse" notices, the sandbox's
"(it was stopped)", "crashed:" and "could not import"): tests/test_batch.py grades real
such submissions, so a change of that wording fails a test rather than hiding a problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graders import catalog
from graders.batch.job import JobStatus, Outcome
from graders.batch.records import StudentRecord
from graders.core.reasons import SEPARATOR
from graders.core.results import AssignmentResult, ValueEnum, unique_violations


class Kind(ValueEnum):
    """A kind of problem, most serious first; the value is what the gradebook shows."""

    REFUSED = "refused"
    HANGS = "hangs"
    GRADER_ERROR = "grader error"
    NOT_SUBMITTED = "not submitted"
    MISSING_FILE = "missing file"
    DOES_NOT_PARSE = "does not parse"
    DOES_NOT_IMPORT = "does not import"
    CRASHES = "crashes"
    RULE_BROKEN = "rule broken"


#: Kinds of outcome without a result: the assignment was not graded.
_NOT_GRADED = {
    JobStatus.REJECTED: Kind.REFUSED,
    JobStatus.TIMEOUT: Kind.HANGS,
    JobStatus.ERROR: Kind.GRADER_ERROR,
}
#: How the sandbox and the plugin say a call or a criterion was stopped at its limit.
_STOPPED = (
    "(it was stopped)",
    "the time budget for grading this submission ran out",
    "took too long and was stopped",
)
_CRASHED = re.compile(r"^\S+ crashed: ")
_IMPORT = re.compile(r"^could not import (\S+): ")
_PARSE = re.compile(r"^cannot parse (\S+?)(?::\d+)?: ")
_COUNT = re.compile(r" \(x\d+\)$")


@dataclass(frozen=True)
class Problem:
    assignment: str
    kind: Kind
    #: Why, in the grader's or the student's words: encode it for its sink.
    detail: str
    #: False when the assignment got no result at all (0 points, not graded).
    graded: bool = True


def _result_problems(key: str, result: AssignmentResult) -> list[Problem]:
    required = catalog.spec(key).required_files if key in catalog.assignment_keys() else ()
    missing = {f for f in required if f"{f} is missing from the submission" in result.notices}
    if required and missing == set(required):
        return [Problem(key, Kind.NOT_SUBMITTED, f"none of {', '.join(required)} was handed in")]
    found = [Problem(key, Kind.MISSING_FILE, f) for f in required if f in missing]
    unparsable = set(missing)  # their "could not import" says nothing new
    for notice in result.notices:
        if match := _PARSE.match(notice):
            unparsable.add(match.group(1))
            found.append(Problem(key, Kind.DOES_NOT_PARSE, notice.removeprefix("cannot parse ")))
    for criterion in result.criteria:
        for part in criterion.reason.split(SEPARATOR):
            part = _COUNT.sub("", part)
            if any(words in part for words in _STOPPED):
                found.append(Problem(key, Kind.HANGS, f"{criterion.id}: {part}"))
            elif _CRASHED.match(part):
                found.append(Problem(key, Kind.CRASHES, part))
            elif (match := _IMPORT.match(part)) and match.group(1) not in unparsable:
                found.append(Problem(key, Kind.DOES_NOT_IMPORT, part))
    found += [
        Problem(key, Kind.RULE_BROKEN, v.describe()) for v in unique_violations(result.violations)
    ]  # the static scan and the import blocker see the same import
    found += [Problem(key, Kind.GRADER_ERROR, error) for error in result.internal_errors]
    return found


def outcome_problems(outcome: Outcome, result: AssignmentResult | None) -> list[Problem]:
    """The problems of one assignment's outcome, each once, most serious kind first."""
    if result is None:
        kind = _NOT_GRADED.get(outcome.status, Kind.GRADER_ERROR)
        return [Problem(outcome.assignment, kind, outcome.error.strip() or str(kind), False)]
    unique = list(dict.fromkeys(_result_problems(outcome.assignment, result)))
    kinds = list(Kind)
    return sorted(unique, key=lambda p: kinds.index(p.kind))


def problems(record: StudentRecord) -> list[Problem]:
    """Every problem of the record, in course order."""
    found = []
    for key in sorted(record.outcomes, key=catalog.course_order):
        found += outcome_problems(record.outcomes[key], record.result(key))
    return found


def kinds(found: list[Problem]) -> list[Kind]:
    """The distinct kinds of ``found``, in order."""
    return list(dict.fromkeys(p.kind for p in found))
