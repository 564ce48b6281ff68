"""Feedback that reads well: repeated reasons counted, long ones cut at a word (the record
keeps them whole), a lab line that says where a student stands so far, and a gradebook
that names what went wrong.

One real grading (a submission that hangs, about 15 s); everything else is built from
records. tests/test_batch.py checks the same on a graded class of 33 submissions.
"""

from __future__ import annotations

import csv
import io

import pytest
from helpers import FAST_A1, build_submission, inject_at_start

from graders import catalog
from graders.batch import feedback, gradebook
from graders.batch.job import JobStatus, Outcome
from graders.batch.records import StudentRecord
from graders.batch.standing import Pace, standing
from graders.core.reasons import join_reasons
from graders.core.results import AssignmentResult, CriterionResult, Status
from graders.render import github
from graders.sandbox.text import clip_words


def test_identical_reasons_appear_once_with_their_count():
    broken = "could not import a1/pure.py: SyntaxError: invalid syntax (pure.py, line 7)"
    assert join_reasons([broken] * 5) == f"{broken} (x5)"
    assert join_reasons(["b", "a", "b", "c"]) == "b (x2); a; c"  # first occurrence's place
    assert join_reasons([]) == "" and join_reasons(["only"]) == "only"


@pytest.mark.parametrize(
    ("text", "limit", "clipped"),
    [
        ("multiply: entry 3 is wrong here", 20, "multiply: entry 3..."),
        ("short enough", 12, "short enough"),
        ("determinant: got 48, expected 14", 24, "determinant: got 48..."),
        ("a" * 30, 10, "a" * 7 + "..."),  # one word longer than the limit: cut inside it
    ],
)
def test_clipping_stops_at_a_word_boundary(text, limit, clipped):
    assert clip_words(text, limit) == clipped and len(clipped) <= limit


def _result(key: str, points: float, reason: str = "") -> AssignmentResult:
    spec = catalog.spec(key)
    lost = spec.points - points
    criteria = [CriterionResult("work", "The work", spec.points, points,
                                Status.PASSED if not lost else Status.PARTIAL, reason=reason)]  # fmt: skip
    return AssignmentResult(key, spec.title, spec.points, criteria=criteria)


def _record(points: dict[str, float], **others: JobStatus) -> StudentRecord:
    outcomes = {k: Outcome("ann", k, "f", JobStatus.OK, _result(k, p).to_dict())
                for k, p in points.items()}  # fmt: skip
    outcomes |= {k: Outcome("ann", k, "f", status, error="why") for k, status in others.items()}
    return StudentRecord("ann", outcomes)


def test_long_reasons_are_cut_at_a_word_in_markdown_and_kept_whole_in_the_record():
    reason = "determinant of [[2.0, 3.0], [1.0, 4.0]]: got 48, expected 14; " * 10
    record = _record({})
    record.outcomes["a1"] = Outcome("ann", "a1", "f", JobStatus.OK,
                                    _result("a1", 5, reason.strip()).to_dict())  # fmt: skip
    page = feedback.markdown(record)
    [row] = [line for line in page.splitlines() if line.startswith("| 🟡 |")]
    cell = row.split(" | ")[3].removesuffix(" |").replace("\\", "")  # Markdown's \[ \]
    kept = cell.removesuffix("...")
    assert cell.endswith("...") and len(cell) <= github.REASON_CHARS
    assert reason.startswith(kept) and reason[len(kept)] in " ,;"  # after a whole word
    assert "the JSON record has them in full" in page
    assert record.result("a1").criteria[0].reason == reason.strip()  # the record: all of it
    assert reason.strip() in feedback.html_page(record)  # an HTML cell wraps: shown whole


def test_the_lab_line_counts_points_graded_so_far_and_says_what_the_minimum_needs():
    week3 = _record({"a1": 3})
    line = standing(week3).line()
    assert line.startswith("Lab total so far: 3 of the 10 points graded (a1).")
    assert "course minimum is 35 of 100 points, counted once all 5 assignments are graded" in line
    assert "32 more points are needed from the 90 points still to come (a2, a3, a4, a5)" in line
    for page in (feedback.markdown(week3), feedback.html_page(week3)):
        assert "does NOT meet" not in page and "Lab total so far: 3 of the 10" in page
    assert standing(week3).pace == Pace.BELOW_PACE  # 3 < 35% of 10
    assert standing(_record({"a1": 4})).pace == Pace.ON_PACE

    ahead = standing(_record({"a1": 10, "a2": 15, "a3": 12}))
    assert ahead.line().endswith("This already meets the course minimum of 35 of 100 points.")
    hopeless = standing(_record({"a1": 0, "a2": 0, "a3": 2, "a4": 1}))
    assert "the 30 points still to come (a5) are not enough to reach it" in hopeless.line()
    assert hopeless.pace == Pace.CANNOT_REACH

    done = {"a1": 10, "a2": 10, "a3": 5, "a4": 5, "a5": 0}
    assert standing(_record(done)).line() == (
        "Lab total 30/100: does NOT meet the course minimum of 35 points."
    )  # the verdict, only once the last assignment is graded
    assert "meets the course minimum" in standing(_record({**done, "a5": 5})).line()


def test_a_not_graded_assignment_counts_and_a_grader_error_is_still_to_come():
    refused = standing(_record({"a1": 10}, a2=JobStatus.REJECTED))
    assert refused.graded == ("a1", "a2") and refused.graded_max == 25 and refused.points == 10
    broken = standing(_record({"a1": 10}, a2=JobStatus.ERROR))  # graded again next run
    assert broken.graded == ("a1",) and "a2" in broken.pending
    page = feedback.markdown(_record({"a1": 10}, a2=JobStatus.TIMEOUT))
    assert "### a2: " in page and "0 points (not graded)" in page
    assert "look for a loop that never ends" in page  # what to do about it


def _status(record: StudentRecord) -> tuple[str, str]:
    [row] = list(csv.DictReader(io.StringIO(gradebook.render([record]))))
    return row["status"], row["problems"]


def test_the_gradebook_names_refused_hanging_and_broken_grading():
    assert _status(_record({"a1": 10})) == ("ok", "")
    status, problems = _status(_record({"a1": 10}, a2=JobStatus.REJECTED, a3=JobStatus.TIMEOUT))
    assert status == "a2: not graded, refused; a3: not graded, hangs"
    assert problems == "a2: refused: why | a3: hangs: why"
    assert _status(_record({}, a1=JobStatus.ERROR))[0] == "a1: not graded, grader error"


@pytest.fixture(scope="module")
def hanging_result(tmp_path_factory) -> AssignmentResult:
    from graders.core.runner import grade

    edits = {"a1/vectorized.py": inject_at_start("trace", "while True: pass")}
    return grade(FAST_A1, build_submission(tmp_path_factory.mktemp("hangs"), edits=edits))


def test_a_call_that_hangs_is_named_in_the_gradebook(hanging_result):
    """Graded (every other criterion has its points), yet the gradebook says it hangs."""
    record = StudentRecord("hal", {"a1": Outcome("hal", "a1", "f", JobStatus.OK,
                                                 hanging_result.to_dict())})  # fmt: skip
    status, problems = _status(record)
    assert status == "a1: hangs" and 0 < hanging_result.points < 10
    assert problems.startswith("a1: hangs: vectorized.basic_ops: trace did not finish within")
    assert "(it was stopped)" in problems
