"""Adjustments and regrade differences on a graded class of three a1 submissions: a git
repository committed late, a partial folder handed in on time, a zip whose files are
dated after the deadline.

The class is graded once (about 10 s); each test works on a copy of the output folder,
and regrades (``--force``, an edited submission) only what it must.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from helpers import REFERENCE, build_submission, replace_once

from graders import cli
from graders.batch.run import BatchOptions, grade_class
from graders.core.options import GradeOptions

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

#: a1 (week 3) is due at the end of 2025-10-19, Bucharest time (2025-10-20 00:00+03:00).
#: The class has no handed-in.csv: its times come from the submissions (git, zip, files).
POLICY = {"penalty": "10%/day, max 3 days then 0", "semester_start": "2025-09-29",
          "timezone": "Europe/Bucharest", "times": "from-submission"}  # fmt: skip
ADJUSTMENTS = """student,assignment,criterion,points,reason,who,when
bob,a1,pure.basic_ops,+1,regrade request: the sign test was too strict,ta-eve,2025-10-28
bob,a1,*,+2,partial work shown in office hours,instructor,2025-10-29
*,a1,pure.solve_cramer,+100%,Cramer's rule was unclear this year,instructor,2025-10-30
ann,a1,agreement,+1,asked for it,ta-eve,
"""
ON_TIME = dt.datetime(2025, 10, 19, 20, 0, tzinfo=dt.timezone.utc).timestamp()


def _build(root: Path) -> Path:
    """ann: a git repository committed a day and a half late; bob: a folder with a wrong
    determinant sign, handed in on time; cat: a zip dated half a day late."""
    submissions = root / "submissions"
    ann = build_submission(submissions / "ann")
    when = "2025-10-21T10:00:00+03:00"
    environment = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when,
                   "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}  # fmt: skip
    for arguments in (["init", "-q"], ["add", "a1"],
                      ["-c", "user.name=ann", "-c", "user.email=ann@x", "commit", "-qm", "a1"]):  # fmt: skip
        subprocess.run(["git", "-C", str(ann), *arguments], check=True, env=environment)
    bob = build_submission(submissions / "bob", edits={
        "a1/pure.py": replace_once("(-1) ** (row + col)", "(-1) ** row")})  # fmt: skip
    _touch(bob, ON_TIME)
    with zipfile.ZipFile(submissions / "cat.zip", "w") as bundle:
        for path in sorted((REFERENCE / "a1").rglob("*.py")):
            name = f"lab-main/a1/{path.relative_to(REFERENCE / 'a1').as_posix()}"
            bundle.writestr(zipfile.ZipInfo(name, (2025, 10, 20, 12, 0, 0)), path.read_bytes())
    return submissions


def _touch(folder: Path, stamp: float) -> None:
    for path in folder.rglob("*"):
        os.utime(path, (stamp, stamp))


def _grade(submissions: Path, out: Path, **options) -> object:
    settings = {"jobs": 2, "progress": False, **options}
    return grade_class(BatchOptions(("a1",), submissions, out, grading=GradeOptions(), **settings))


def _gradebook(out: Path) -> dict[str, dict[str, str]]:
    with (out / "gradebook.csv").open(newline="") as stream:
        return {row["student"]: row for row in csv.DictReader(stream)}


def _files(out: Path) -> dict[str, tuple[float, bytes]]:
    """Every file of ``out`` with its modification time and bytes."""
    return {p.relative_to(out).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(out.rglob("*")) if p.is_file()}  # fmt: skip


def _latest_changes(out: Path) -> list[list[str]]:
    """The rows of the newest run's table in changes.md, as cells."""
    text = (out / "changes.md").read_text()
    section = text.split("\n## ")[1]
    rows = [line for line in section.splitlines() if line.startswith("| ")][1:]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class graded once without adjustments, then the adjustments and the policy put
    in place (applied on the next run, with nothing graded again)."""
    root = tmp_path_factory.mktemp("regrading")
    submissions = _build(root)
    out = root / "out"
    first = _grade(submissions, out)
    assert first.graded == 3, first.line()
    (out / "adjustments.csv").write_text(ADJUSTMENTS)
    (out / "late-policy.json").write_text(json.dumps(POLICY))
    return submissions, out


@pytest.fixture
def work(graded, tmp_path):
    """A copy of the class and its output folder, for a test to change."""
    submissions, out = graded
    shutil.copytree(submissions, tmp_path / "submissions", symlinks=True)
    shutil.copytree(out, tmp_path / "out")
    _touch(tmp_path / "submissions" / "bob", ON_TIME)
    return tmp_path / "submissions", tmp_path / "out"


EXPECTED = {  # automatic, adjustment, points that count
    "ann": ("10", "-2", "8"),  # late by 2 days (git): -20%; agreement +1 is already full
    "bob": ("5.7", "3.3", "9"),  # basic_ops 1.2 -> 1.5, cramer 0 -> 1, +2 on the total
    "cat": ("10", "-1", "9"),  # late by 1 day (zip)
}


def _applied(out: Path) -> None:
    rows = _gradebook(out)
    for student, expected in EXPECTED.items():
        row = rows[student]
        assert (row["a1:automatic"], row["a1:adjustment"], row["a1"]) == expected, row
        assert row["lab_total"] == expected[2]
    assert rows["bob"]["a1:pure.basic_ops"] == "1.2"  # the criteria stay as the grader gave


def test_adjustments_apply_within_bounds_and_show_in_gradebook_and_feedback(work):
    submissions, out = work
    again = _grade(submissions, out)
    assert again.graded == 0 and again.skipped == 3  # adjusting needs no grading
    _applied(out)
    rows = _gradebook(out)
    assert rows["bob"]["adjustments"].startswith(
        "a1: +1 on pure.basic_ops (+0.3 points, kept within 0 and 1.5): regrade request: the "
        "sign test was too strict (ta-eve) | "
    )
    assert "late by 2 days" in rows["ann"]["adjustments"] and rows["cat"]["status"] == "ok"
    bob = (out / "feedback" / "bob.md").read_text()
    assert "| `+1` | pure.basic\\_ops | 1.2 → 1.5 | regrade request: the sign test was too " \
           "strict | ta-eve | 2025-10-28 |" in bob  # fmt: skip
    assert "**Points that count: 9/10 (5.7 from the grader + 3.3 adjusted).**" in bob
    page = (out / "feedback" / "bob.html").read_text()
    assert "<td>Cramer&#x27;s rule was unclear this year</td><td>instructor</td>" in page
    ann = (out / "feedback" / "ann.md").read_text()
    assert re.search(r"late by 2 days: handed in 2025-10-21 10:00\+03:00 \(git commit time of "
                     r"the last commit changing a1/, as the student's machine recorded it\), "
                     r"due 2025-10-20 00:00\+03:00", ann)  # fmt: skip
    cat = (out / "feedback" / "cat.html").read_text()
    assert (
        "late by 1 day: handed in 2025-10-20 12:00+03:00 (newest a1/ file date in the zip, as "
        "the student&#x27;s machine recorded it)" in cat
    )
    assert "Lab total so far: 9 of the 10 points graded" in cat
    summary = (out / "summary.html").read_text()
    assert "9 <small>(10 - 1 adjusted)</small>" in summary
    record = json.loads((out / "students" / "bob.json").read_text())
    assert record["adjusted"]["a1"]["final"] == 9 and record["lab_points"] == 9


def test_a_forced_regrade_keeps_every_adjustment(work):
    submissions, out = work
    _grade(submissions, out)
    before = (out / "gradebook.csv").read_text()
    forced = _grade(submissions, out, force=True)
    assert forced.graded == 3 and forced.moved == 0 and forced.changes == ""
    assert (out / "gradebook.csv").read_text() == before
    _applied(out)
    assert len(re.findall(r"^## ", (out / "changes.md").read_text(), flags=re.M)) == 1


def test_a_bad_row_stops_the_run_naming_the_line_and_writes_nothing(work, capsys):
    submissions, out = work
    with (out / "adjustments.csv").open("a") as stream:
        stream.write("bob,a1,pure.solve_cramr,+1,typo,ta-eve,\n")
    before = _files(out)
    status = cli.main(["grade", "a1", str(submissions), "--out", str(out), "--no-progress"])
    error = capsys.readouterr().err
    assert status == 2
    assert f"{out / 'adjustments.csv'} line 6: a1 has no criterion 'pure.solve_cramr' " \
           "(did you mean 'pure.solve_cramer'?)" in error  # fmt: skip
    assert _files(out) == before


def test_changes_name_exactly_the_students_that_moved_and_a_dry_run_writes_nothing(work, capsys):
    submissions, out = work
    _grade(submissions, out)  # the adjustments and the late policy: one run of changes
    assert [row[0] for row in _latest_changes(out)] == ["ann", "bob", "cat"]
    # bob hands in a fix (on time), and a TA takes a point from cat; ann is untouched.
    shutil.copy(REFERENCE / "a1" / "pure.py", submissions / "bob" / "a1" / "pure.py")
    _touch(submissions / "bob", ON_TIME)
    with (out / "adjustments.csv").open("a") as stream:
        stream.write("cat,a1,*,-1,README copied from ann,instructor,2025-11-02\n")
    before = _files(out)
    status = cli.main(["grade", "a1", str(submissions), "--out", str(out), "--no-progress",
                       "--dry-run"])  # fmt: skip
    shown = capsys.readouterr().out
    assert status == 0 and _files(out) == before
    assert "Dry run: nothing was written" in shown
    assert re.findall(r"^\| (\w+) \| a1 \|", shown, flags=re.M) == ["bob", "cat"]

    report = _grade(submissions, out)
    assert report.graded_jobs == [("bob", "a1")] and report.moved == 2
    rows = _latest_changes(out)
    assert [row[0] for row in rows] == ["bob", "cat"]
    bob, cat = rows
    assert bob[2:5] == ["9", "10", "+1"]  # 5.7 + 3.3 before; 10 + bounded adjustments after
    # The +2 on the total is now kept within the 10 points: it changes nothing any more.
    assert bob[5] == "pure.solve\\_inverse 0 → 1, agreement 0 → 2, adjustments of the total 2 → 0"
    assert bob[6].startswith("submission changed (content hash ")
    assert cat[2:5] == ["9", "8", "-1"]
    assert cat[6] == "new adjustment: total -1 (README copied from ann; instructor)"
    assert len(re.findall(r"^## ", (out / "changes.md").read_text(), flags=re.M)) == 2
    summary = (out / "summary.html").read_text()
    assert '<section id="changes">' in summary and "README copied from ann" in summary
    assert "2 students&#x27; points moved" in summary
    assert "points moved" in (out / "summary.md").read_text()
