"""Why ``check --all`` could not grade an assignment, in words a student can act on.

One missing piece (MNIST, an extra, a folder) stops that assignment only: the others are
graded, and the report names this one with the reason and what to do.
"""

from __future__ import annotations

from pathlib import Path

from graders.core.assignment import AssignmentSpec
from graders.core.results import NotGraded, clean_text
from graders.core.runner import GraderBroken, MissingExtra
from graders.core.submission import SubmissionError
from graders.data.mnist import MNISTError

#: What keeps one assignment from being graded while the others can be.
CANNOT_GRADE = (MissingExtra, MNISTError, SubmissionError, GraderBroken)

#: ``NotGraded.cause`` values, for programs that read the JSON record.
MISSING_FOLDER = "missing-folder"
MISSING_EXTRA = "missing-extra"
MISSING_DATA = "missing-data"
SUBMISSION = "submission"
GRADER_ERROR = "grader-error"


def missing_folder(spec: AssignmentSpec, submission: Path) -> NotGraded:
    return NotGraded(
        spec.key,
        spec.title,
        reason=clean_text(f"there is no {spec.key}/ folder in {submission}"),
        fix=f"add your work as {spec.key}/ (start with: nngrade init {spec.key})",
        cause=MISSING_FOLDER,
    )


def from_error(spec: AssignmentSpec, error: Exception) -> NotGraded:
    """``error``, one of :data:`CANNOT_GRADE`, as a report's entry."""
    if isinstance(error, MissingExtra):
        reason, fix, cause = error.problem, error.fix, MISSING_EXTRA
    elif isinstance(error, MNISTError):
        fix = error.fix or (
            "replace the MNIST file named here with a good copy, or delete it so that "
            "nngrade downloads MNIST again"
        )
        reason, cause = error.problem, MISSING_DATA
    elif isinstance(error, GraderBroken):
        reason = f"the grader itself failed: {error}"
        fix = "this is a bug in the grader, not in your work: please report it to the course staff"
        cause = GRADER_ERROR
    else:
        reason, fix, cause = str(error), "", SUBMISSION
    return NotGraded(spec.key, spec.title, clean_text(reason), clean_text(fix, 1000), cause)
