"""What went wrong with a submission, named: the gradebook's ``status`` and ``problems``
and the class summary's "could not be graded" tables.

A submission that does not parse or hangs still gets a result (every criterion failed
with its reason), so "graded" alone hides it from an instructor scanning 300 rows. The
kinds are read from the outcome (refused, timed out, grader error) and the result's own
records: its failures (each with the kind the code that saw it set: a hang, a crash, a
module that does not import, a missing file, a file that does not parse), broken rules
and internal errors. No reason text is read, so a student's exception message that
imitates the grader's words changes nothing here. Records written before failures were
recorded are read by one isolated reader (:func:`_legacy_result_problems`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graders import catalog
from graders.batch.job import JobStatus, Outcome
from graders.batch.records import StudentRecord
from graders.core.reasons import SEPARATOR
from graders.core.results import AssignmentResult, ValueEnum, unique_violations
from graders.failures import FailureKind


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


@dataclass(frozen=True)
class Problem:
    assignment: str
    kind: Kind
    #: Why, in the grader's or the student's words: encode it for its sink.
    detail: str
    #: False when the assignment got no result at all (0 points, not graded).
    graded: bool = True


#: Failure kinds that are a problem of the submission, as the gradebook names them (a raise
#: is a wrong answer of one criterion, told in its reason, not a problem of the whole).
_FAILURE_PROBLEMS = {
    FailureKind.TIMED_OUT: Kind.HANGS,
    FailureKind.OVER_BUDGET: Kind.HANGS,
    FailureKind.CRASHED: Kind.CRASHES,
    FailureKind.COULD_NOT_IMPORT: Kind.DOES_NOT_IMPORT,
}


def _result_problems(key: str, result: AssignmentResult) -> list[Problem]:
    """The problems of a result, from its failures as the grading recorded them (their
    kinds were set where they happened; no reason text is read)."""
    if result.failures is None:
        return _legacy_result_problems(key, result)
    required = catalog.spec(key).required_files if key in catalog.assignment_keys() else ()
    missing = {f.subject for f in result.failures if f.kind == FailureKind.MISSING_FILE}
    if required and missing >= set(required):
        return [Problem(key, Kind.NOT_SUBMITTED, f"none of {', '.join(required)} was handed in")]
    found = [Problem(key, Kind.MISSING_FILE, f) for f in required if f in missing]
    unparsable = set(missing)  # their "could not import" says nothing new
    for failure in result.failures:
        if failure.kind == FailureKind.DOES_NOT_PARSE:
            unparsable.add(failure.subject)
            found.append(Problem(key, Kind.DOES_NOT_PARSE, failure.reason))
    for criterion in result.criteria:
        for failure in criterion.failures:
            kind = _FAILURE_PROBLEMS.get(failure.kind)
            if kind is None or (kind == Kind.DOES_NOT_IMPORT and failure.subject in unparsable):
                continue
            detail = f"{criterion.id}: {failure.reason}" if kind == Kind.HANGS else failure.reason
            found.append(Problem(key, kind, detail))
    return found + _rules_and_errors(key, result)


def _rules_and_errors(key: str, result: AssignmentResult) -> list[Problem]:
    """Broken rules (each once: the static scan and the import blocker see the same
    import) and the grader's own errors, as every record keeps them."""
    return [
        Problem(key, Kind.RULE_BROKEN, v.describe()) for v in unique_violations(result.violations)
    ] + [Problem(key, Kind.GRADER_ERROR, error) for error in result.internal_errors]


# -- records written before failures were values ---------------------------------------
#: How those versions' sandbox and plugin worded a call or criterion stopped at its limit.
_LEGACY_STOPPED = (
    "(it was stopped)",
    "the time budget for grading this submission ran out",
    "took too long and was stopped",
)
_LEGACY_CRASHED = re.compile(r"^\S+ crashed: ")
_LEGACY_IMPORT = re.compile(r"^could not import (\S+): ")
_LEGACY_PARSE = re.compile(r"^cannot parse (\S+?)(?::\d+)?: ")
_LEGACY_COUNT = re.compile(r" \(x\d+\)$")


def _legacy_result_problems(key: str, result: AssignmentResult) -> list[Problem]:
    """The problems of a record written by a version that kept only reasons: read from
    the wording that version wrote (a student's text could imitate it; such records are
    only read back, never made now)."""
    required = catalog.spec(key).required_files if key in catalog.assignment_keys() else ()
    missing = {f for f in required if f"{f} is missing from the submission" in result.notices}
    if required and missing == set(required):
        return [Problem(key, Kind.NOT_SUBMITTED, f"none of {', '.join(required)} was handed in")]
    found = [Problem(key, Kind.MISSING_FILE, f) for f in required if f in missing]
    unparsable = set(missing)
    for notice in result.notices:
        if match := _LEGACY_PARSE.match(notice):
            unparsable.add(match.group(1))
            found.append(Problem(key, Kind.DOES_NOT_PARSE, notice.removeprefix("cannot parse ")))
    for criterion in result.criteria:
        for part in criterion.reason.split(SEPARATOR):
            part = _LEGACY_COUNT.sub("", part)
            if any(words in part for words in _LEGACY_STOPPED):
                found.append(Problem(key, Kind.HANGS, f"{criterion.id}: {part}"))
            elif _LEGACY_CRASHED.match(part):
                found.append(Problem(key, Kind.CRASHES, part))
            elif (match := _LEGACY_IMPORT.match(part)) and match.group(1) not in unparsable:
                found.append(Problem(key, Kind.DOES_NOT_IMPORT, part))
    return found + _rules_and_errors(key, result)


# -- one outcome, one record ---------------------------------------------------------------
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
