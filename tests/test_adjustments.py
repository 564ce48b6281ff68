"""Adjustments, the late policy and regrade differences, from records and small files:
how a row changes points (and never past a criterion's or the assignment's bounds), what
makes adjustments.csv or late-policy.json an error (the file, the line, the value), when
a submission was handed in (git, zip, file times; git runs nothing of the student's), and
why a student's points moved between two runs.

Nothing here grades; tests/test_regrading.py grades a small class with all of it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from graders import catalog
from graders.batch import adjustments_file, changes, criteria, late
from graders.batch.adjustments import ALL, Adjustment, Change, apply, describe
from graders.batch.intake import Submission
from graders.batch.job import JobStatus, Outcome
from graders.batch.records import StudentRecord
from graders.batch.submitted import submitted_at
from graders.core.results import AssignmentResult, CriterionResult, Status

UTC = dt.timezone.utc
A1 = criteria.declared("a1")


def _result(points: dict[str, float] | None = None) -> AssignmentResult:
    """An a1 result: every criterion full, except those in ``points``."""
    points = points or {}
    found = [CriterionResult(cid, cid, worth, points.get(cid, worth), Status.PASSED)
             for cid, worth in A1.items()]  # fmt: skip
    return AssignmentResult("a1", catalog.spec("a1").title, 10, criteria=found,
                            grader_version="0.1.0", seed=20251)  # fmt: skip


def _row(criterion: str, change: str, student: str = "ann", reason: str = "why") -> Adjustment:
    return Adjustment(student, "a1", criterion, Change.parse(change), reason, "ta", "", "test")


# -- what a row does ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "kind", "value", "shown"),
    [("+1", "add", 1, "+1"), ("-2.5", "add", -2.5, "-2.5"), ("-10%", "percent", -10, "-10%"),
     ("+ 100 %", "percent", 100, "+100%"), ("=3", "set", 3, "=3"), ("-0,5", "add", -0.5, "-0.5"),
     ("\u22121", "add", -1, "-1")],
)  # fmt: skip
def test_a_change_is_read_as_written_and_shown_back(text, kind, value, shown):
    change = Change.parse(text)
    assert (change.kind, change.value, change.text()) == (kind, value, shown)


@pytest.mark.parametrize("text", ["5", "ten", "+", "10%", "=-1", "+1 point", ""])
def test_a_change_without_a_sign_or_number_is_refused(text):
    with pytest.raises(ValueError, match=r"write \+1 or -1"):
        Change.parse(text)


def test_criterion_rows_stay_within_the_criterion_and_the_total_within_the_assignment():
    result = _result({"pure.basic_ops": 1.2, "pure.solve_cramer": 0, "agreement": 0})  # 6.7
    rows = [
        _row("pure.basic_ops", "+1"),  # 1.2 -> 1.5, not 2.2
        _row("pure.solve_cramer", "-1"),  # 0 stays 0
        _row("agreement", "+50%"),  # half of the criterion's 2 points
        _row(ALL, "+10"),  # 8 -> 10, not 18
        _row(ALL, "-10%"),  # a share of the assignment's 10 points
    ]
    adjusted = apply(result, 10, rows)
    assert (adjusted.automatic, adjusted.final, adjusted.adjustment) == (6.7, 9, 2.3)
    assert adjusted.criteria["pure.basic_ops"] == 1.5 and adjusted.criteria["agreement"] == 1
    effects = [(a.criterion, a.before, a.after, a.effect, a.bounded) for a in adjusted.applied]
    assert effects == [
        ("pure.basic_ops", 1.2, 1.5, 0.3, True),
        ("pure.solve_cramer", 0, 0, 0, True),
        ("agreement", 0, 1, 1, False),
        (ALL, 8, 10, 2, True),
        (ALL, 10, 9, -1, False),
    ]
    assert describe(adjusted.applied[0]) == (
        "+1 on pure.basic_ops (+0.3 points, kept within 0 and 1.5): why"
    )
    assert describe(adjusted.applied[4]) == "-10% on the total (-1 points): why"


def test_the_total_rows_apply_after_the_criteria_whatever_their_order_in_the_file():
    rows = [_row(ALL, "=4"), _row("agreement", "-2")]
    adjusted = apply(_result(), 10, rows)
    assert adjusted.final == 4 and [a.criterion for a in adjusted.applied] == ["agreement", ALL]
    assert apply(_result(), 10, [_row(ALL, "-100%"), _row(ALL, "-1")]).final == 0


def test_an_ungraded_assignment_takes_rows_for_its_total_only():
    adjusted = apply(None, 10, [_row(ALL, "+3"), _row("agreement", "+1")])
    assert adjusted.final == 3 and adjusted.automatic == 0
    assert adjusted.not_applied == ["test: agreement +1 not applied: a1 was not graded"]


def test_a_record_counts_adjusted_points_and_keeps_them_in_its_file(tmp_path):
    record = StudentRecord("ann", {"a1": Outcome("ann", "a1", "f", JobStatus.OK,
                                                 _result({"agreement": 0}).to_dict())})  # fmt: skip
    record.adjusted["a1"] = apply(record.result("a1"), 10, [_row(ALL, "-10%")])
    assert (record.automatic_points("a1"), record.points("a1"), record.lab_points) == (8, 7, 7)
    record.save(tmp_path / "ann.json")
    again = StudentRecord.load(tmp_path / "ann.json")
    assert again.points("a1") == 7 and again.adjusted["a1"].applied == record.adjusted["a1"].applied


# -- adjustments.csv ---------------------------------------------------------------------------
def _read(tmp_path: Path, text: str, students=("ann", "bob")) -> list[Adjustment]:
    path = tmp_path / "adjustments.csv"
    path.write_text(text, encoding="utf-8")
    return adjustments_file.read(path, students, criteria.declared)


HEADER = "student,assignment,criterion,points,reason,who,when\n"


def test_the_file_is_read_with_comments_bom_and_semicolons(tmp_path):
    rows = _read(tmp_path, "\ufeff# kept by the TAs\n" + HEADER
                 + "ann,a1,agreement,+1,regrade request,ta-eve,2025-10-28\n\n"
                 + "# a comment row\n*,a1,*,-10%,\"unclear, so all\",instructor,\n")  # fmt: skip
    assert [(r.student, r.criterion, r.change.text(), r.reason, r.source) for r in rows] == [
        ("ann", "agreement", "+1", "regrade request", "adjustments.csv line 3"),
        ("*", "*", "-10%", "unclear, so all", "adjustments.csv line 6"),
    ]
    excel = _read(tmp_path, HEADER.replace(",", ";") + "bob;a3;backprop.small;+0,5;ok;ta;\n")
    assert excel[0].change == Change("add", 0.5) and excel[0].assignment == "a3"


def test_every_bad_row_is_named_with_its_line_and_value(tmp_path):
    text = HEADER + "\n".join([
        "ann,a1,agreement,+1,fine,ta,",
        "bobb,a1,*,+1,x,ta,",
        "ann,a9,*,+1,x,ta,",
        "ann,a1,pure.basic_op,+1,x,ta,",
        "ann,a1,*,5,x,ta,",
        "ann,a1,*,+1,,ta,",
        "ann,a1,*,+1,x,,",
        "ann,a1,*,+1,x,ta,last tuesday",
    ]) + "\n"  # fmt: skip
    with pytest.raises(adjustments_file.AdjustmentError) as error:
        _read(tmp_path, text)
    path = tmp_path / "adjustments.csv"
    assert str(error.value).splitlines() == [
        f"{path} line 3: unknown student 'bobb' (did you mean 'bob'?)",
        f"{path} line 4: unknown assignment 'a9' (the course has a1, a2, a3, a4, a5)",
        f"{path} line 5: a1 has no criterion 'pure.basic_op' (did you mean 'pure.basic_ops'?); "
        "write * for the assignment's total",
        f"{path} line 6: points '5': write +1 or -1 to add or take away points, -10% for a "
        "share of the maximum, or =3 to set the points",
        f"{path} line 7: reason is empty",
        f"{path} line 8: who is empty",
        f"{path} line 9: when 'last tuesday' is not a date (write 2025-10-28)",
    ]


def test_a_header_without_the_columns_is_an_error(tmp_path):
    with pytest.raises(adjustments_file.AdjustmentError, match="line 1: the header lacks who"):
        _read(tmp_path, "student,assignment,criterion,points,reason\nann,a1,*,+1,x\n")
    assert _read(tmp_path, "# nothing yet\n") == []
    assert adjustments_file.read(tmp_path / "absent.csv", ["ann"], criteria.declared) == []


def test_every_graders_criteria_are_read_from_its_source():
    for key in catalog.assignment_keys():
        declared = criteria.declared(key)
        assert sum(declared.values()) == catalog.spec(key).points and declared, key
    assert list(A1)[:2] == ["pure.load_system", "pure.basic_ops"]


# -- the late policy ---------------------------------------------------------------------------
def _policy(tmp_path: Path, **given) -> late.LatePolicy:
    data = {"penalty": "10%/day, max 3 days then 0", "semester_start": "2025-09-29",
            "timezone": "Europe/Bucharest", **given}  # fmt: skip
    path = tmp_path / "late-policy.json"
    path.write_text(__import__("json").dumps(data))
    return late.load(path, ["ann", "bob"], ["a1"])


def test_deadlines_come_from_the_catalog_weeks_or_the_file(tmp_path):
    policy = _policy(tmp_path, deadlines={"a2": "2025-10-24", "a3": "2025-11-16T23:59+00:00"})
    zone = policy.zone
    assert policy.deadlines["a1"] == dt.datetime(2025, 10, 20, tzinfo=zone)  # end of week 3
    assert policy.deadlines["a5"] == dt.datetime(2025, 12, 29, tzinfo=zone)  # end of week 13
    assert policy.deadlines["a2"] == dt.datetime(2025, 10, 25, tzinfo=zone)  # end of that day
    assert policy.deadlines["a3"] == dt.datetime(2025, 11, 16, 23, 59, tzinfo=UTC)


def test_days_late_count_started_days_after_the_grace_and_any_extension(tmp_path):
    policy = _policy(tmp_path, grace_minutes=15, extensions={"bob": {"a1": 2}})
    due = policy.deadlines["a1"]
    for after, days in [(dt.timedelta(minutes=14), 0), (dt.timedelta(minutes=16), 1),
                        (dt.timedelta(hours=24, minutes=15), 1), (dt.timedelta(hours=25), 2)]:  # fmt: skip
        assert policy.days_late(due + after, "ann", "a1") == days, after
    assert policy.days_late(due + dt.timedelta(days=2), "bob", "a1") == 0
    assert policy.days_late(due + dt.timedelta(days=2, hours=1), "bob", "a1") == 1


@pytest.mark.parametrize(
    ("rule", "days", "change", "more"),
    [("10%/day", 5, "-50%", ""), ("10%/day, max 3 days", 5, "-30%", "penalty of 3 days"),
     ("10% per day, max 3 days then 0", 3, "-30%", ""),
     ("10%/day, max 3 days then 0", 4, "=0", "more than 3: no points"),
     ("2.5%/day", 2, "-5%", "")],
)  # fmt: skip
def test_the_penalty_rule(rule, days, change, more):
    found, why = late.Penalty.parse(rule).change(days)
    assert (found.text(), why) == (change, more)


@pytest.mark.parametrize(
    ("given", "message"),
    [({"penalty": "10 percent"}, "penalty '10 percent': write it as"),
     ({"semester_start": None}, "no deadline for a1: give semester_start"),
     ({"semester_start": "monday"}, "semester_start 'monday' is not a date"),
     ({"timezone": "Mars/Olympus"}, "timezone 'Mars/Olympus' is not a time zone"),
     ({"deadlines": {"a7": "2025-10-10"}}, "deadlines: unknown assignment 'a7'"),
     ({"deadlines": {"a1": "soon"}}, "deadlines.a1 'soon' is not a date and time"),
     ({"extensions": {"zed": {"a1": 1}}}, "extensions: unknown student 'zed'"),
     ({"grace": 5}, "unknown key 'grace'")],
)  # fmt: skip
def test_a_bad_policy_names_the_key_and_value(tmp_path, given, message):
    data = {k: v for k, v in given.items() if v is not None}
    data = {"penalty": "10%/day", "semester_start": "2025-09-29", **data}
    for key, value in given.items():
        if value is None:
            data.pop(key)
    path = tmp_path / "late-policy.json"
    path.write_text(__import__("json").dumps(data))
    with pytest.raises(late.LatePolicyError, match=message.replace("(", r"\(")) as error:
        late.load(path, ["ann"], ["a1"])
    assert str(error.value).startswith(str(path))


def test_a_late_row_says_by_how_much_and_how_the_time_was_found(tmp_path):
    from graders.batch.submitted import Submitted

    policy = _policy(tmp_path)
    handed = Submitted(dt.datetime(2025, 10, 21, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=3))),
                       "git commit time of the last commit changing a1/")  # fmt: skip
    row = policy.adjustment("ann", "a1", handed)
    assert (row.criterion, row.change.text(), row.source) == (ALL, "-20%", "late policy")
    assert row.reason == (
        "late by 2 days: handed in 2025-10-21 10:00+03:00 (git commit time of the last commit "
        "changing a1/), due 2025-10-20 00:00+03:00"
    )
    assert row.who == "late policy (10%/day, max 3 days then 0)"
    on_time = Submitted(dt.datetime(2025, 10, 19, 23, 0, tzinfo=policy.zone), "x")
    assert policy.adjustment("ann", "a1", on_time) is None


# -- when it was handed in ---------------------------------------------------------------------
GIT = shutil.which("git")


def _commit(repo: Path, when: str, *paths: str) -> None:
    environment = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when,
                   "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}  # fmt: skip
    for arguments in (["add", *paths], ["-c", "user.name=s", "-c", "user.email=s@x",
                                        "commit", "-qm", f"work of {when}"]):  # fmt: skip
        subprocess.run(["git", "-C", str(repo), *arguments], check=True, env=environment)


def _repository(repo: Path, when: str) -> Path:
    """A student's repository whose one commit, at ``when``, adds a1/pure.py."""
    (repo / "a1").mkdir(parents=True)
    (repo / "a1" / "pure.py").write_text("x = 1\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    _commit(repo, when, "a1")
    return repo


def _sign_head(repo: Path) -> None:
    """Rewrite HEAD as a commit that carries a (fake) signature, which `git log` with the
    repository's log.showSignature would hand to its gpg.program."""
    text = subprocess.run(["git", "-C", str(repo), "cat-file", "commit", "HEAD"], check=True,
                          capture_output=True, text=True).stdout  # fmt: skip
    head, _, message = text.partition("\n\n")
    signature = "gpgsig -----BEGIN PGP SIGNATURE-----\n \n fake\n -----END PGP SIGNATURE-----"
    signed = f"{head}\n{signature}\n\n{message}"
    made = subprocess.run(["git", "-C", str(repo), "hash-object", "-t", "commit", "-w", "--stdin"],
                          input=signed, check=True, capture_output=True, text=True)  # fmt: skip
    subprocess.run(["git", "-C", str(repo), "update-ref", "HEAD", made.stdout.strip()], check=True)


@pytest.mark.skipif(GIT is None, reason="git is not installed")
def test_a_git_repository_gives_the_commit_time_of_the_assignment_and_runs_nothing(tmp_path):
    repo = _repository(tmp_path / "ann", "2025-10-21T10:00:00+03:00")
    _sign_head(repo)
    # What a hostile repository's own config could make git run: none of it may run.
    marker = tmp_path / "ran"
    script = tmp_path / "evil.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(0o755)
    for key, value in [("core.fsmonitor", script), ("log.showSignature", "true"),
                       ("gpg.program", script), ("core.pager", script)]:  # fmt: skip
        subprocess.run(["git", "-C", str(repo), "config", key, str(value)], check=True)
    for hook in ("post-checkout", "post-index-change", "reference-transaction"):
        shutil.copy(script, repo / ".git" / "hooks" / hook)
    submission = Submission("ann", repo, "folder")
    found = submitted_at(submission, "a1", UTC)
    assert found.at == dt.datetime(2025, 10, 21, 7, 0, tzinfo=UTC)
    assert found.how == "git commit time of the last commit changing a1/"
    assert not marker.exists()
    # The same log without those settings does run the repository's program: the test bites.
    subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%cI"], capture_output=True,
                   check=True, env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull})  # fmt: skip
    assert marker.exists()
    (repo / "a2").mkdir()
    (repo / "a2" / "perceptron.py").write_text("y = 2\n")
    _commit(repo, "2025-10-30T09:00:00+02:00", "a2")  # later work on a2 does not date a1
    assert submitted_at(submission, "a1", UTC).at == dt.datetime(2025, 10, 21, 7, 0, tzinfo=UTC)
    assert submitted_at(submission, "a2", UTC).at == dt.datetime(2025, 10, 30, 7, 0, tzinfo=UTC)
    assert submitted_at(submission, "a3", UTC) is None  # nothing of a3 handed in


def test_a_zip_gives_its_newest_member_of_the_assignment_in_the_course_zone(tmp_path):
    archive = tmp_path / "cat.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for name, stamp in [("lab-main/a1/pure.py", (2025, 10, 19, 12, 0, 0)),
                            ("lab-main/a1/vectorized.py", (2025, 10, 20, 8, 30, 0)),
                            ("lab-main/a2/perceptron.py", (2025, 11, 2, 0, 0, 0)),
                            ("__MACOSX/lab-main/a1/._pure.py", (2026, 1, 1, 0, 0, 0))]:  # fmt: skip
            bundle.writestr(zipfile.ZipInfo(name, date_time=stamp), "x = 1\n")
    zone = dt.timezone(dt.timedelta(hours=3))
    found = submitted_at(Submission("cat", archive, "zip"), "a1", zone)
    assert found.at == dt.datetime(2025, 10, 20, 8, 30, tzinfo=zone)
    assert found.how == "newest a1/ file date in the zip"


def test_a_plain_folder_gives_its_newest_file_time_and_says_so(tmp_path):
    folder = tmp_path / "dan"
    (folder / "a1" / "__pycache__").mkdir(parents=True)
    (folder / "a1" / "pure.py").write_text("x = 1\n")
    (folder / "a1" / "__pycache__" / "pure.pyc").write_bytes(b"\0")  # not the student's work
    stamp = dt.datetime(2025, 10, 19, 20, 0, tzinfo=UTC).timestamp()
    os.utime(folder / "a1" / "pure.py", (stamp, stamp))
    found = submitted_at(Submission("dan", folder, "folder"), "a1", UTC)
    assert found.at.timestamp() == stamp
    assert found.how == "newest a1/ file modification time (no git history)"


@pytest.mark.skipif(GIT is None, reason="git is not installed")
def test_a_class_given_by_a_relative_path_is_dated_by_git(tmp_path, monkeypatch):
    """The README's own example (``nngrade grade a3 submissions/``): an honest repository
    committed before the deadline and checked out today is dated by its commit."""
    repo = _repository(tmp_path / "submissions" / "ann", "2025-10-10T10:00:00+03:00")
    os.utime(repo / "a1" / "pure.py")  # a fresh checkout: every file's time is now
    monkeypatch.chdir(tmp_path)
    found = submitted_at(Submission("ann", Path("submissions/ann"), "folder"), "a1", UTC)
    assert found.at == dt.datetime(2025, 10, 10, 7, 0, tzinfo=UTC), found
    assert found.how.startswith("git commit time")


@pytest.mark.skipif(GIT is None, reason="git is not installed")
def test_uncommitted_changes_are_dated_by_the_files_not_the_last_commit(tmp_path):
    repo = _repository(tmp_path / "ann", "2025-10-10T10:00:00+03:00")
    late_work = dt.datetime(2025, 11, 20, 12, 0, tzinfo=UTC).timestamp()
    for change in ("edited", "new file"):
        if change == "edited":
            (repo / "a1" / "pure.py").write_text("x = 2\n")
            os.utime(repo / "a1" / "pure.py", (late_work, late_work))
        else:
            subprocess.run(["git", "-C", str(repo), "checkout", "-q", "--", "a1"], check=True)
            os.utime(repo / "a1" / "pure.py", (late_work - 9, late_work - 9))
            (repo / "a1" / "helper.py").write_text("y = 1\n")
            os.utime(repo / "a1" / "helper.py", (late_work, late_work))
        found = submitted_at(Submission("ann", repo, "folder"), "a1", UTC)
        assert found.at.timestamp() == late_work, change
        assert "changes not committed to git" in found.how, change
    # A filter the repository's config names never runs (the comparison is git's blob id).
    marker = tmp_path / "ran"
    (repo / ".gitattributes").write_text("*.py filter=evil\n")
    subprocess.run(["git", "-C", str(repo), "config", "filter.evil.clean", f"touch {marker}"],
                   check=True)  # fmt: skip
    submitted_at(Submission("ann", repo, "folder"), "a1", UTC)
    assert not marker.exists()


def _dated_class(tmp_path: Path) -> list[Submission]:
    """Three students whose own times say "on time", each by another route, though each
    handed in 30 days late: a backdated commit, backdated zip members, backdated files."""
    early = "2025-10-01T10:00:00+03:00"
    stamp = dt.datetime(2025, 10, 1, 7, 0, tzinfo=UTC).timestamp()
    repo = _repository(tmp_path / "class" / "ann", early)
    archive = tmp_path / "class" / "bob.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(zipfile.ZipInfo("a1/pure.py", date_time=(2025, 10, 1, 10, 0, 0)), "x\n")
    folder = tmp_path / "class" / "cat"
    (folder / "a1").mkdir(parents=True)
    (folder / "a1" / "pure.py").write_text("x = 1\n")
    os.utime(folder / "a1" / "pure.py", (stamp, stamp))
    return [Submission("ann", repo, "folder"), Submission("bob", archive, "zip"),
            Submission("cat", folder, "folder")]  # fmt: skip


def _record(student: str) -> StudentRecord:
    result = AssignmentResult("a1", "t", 10.0, criteria=[
        CriterionResult("agreement", "a", 10.0, 10.0, Status.PASSED)])  # fmt: skip
    return StudentRecord(student, {"a1": Outcome(student, "a1", "f", JobStatus.OK,
                                                 result.to_dict())})  # fmt: skip


POLICY_A1 = {"penalty": "1%/day", "deadlines": {"a1": "2025-10-19T23:59"}, "timezone": "UTC"}


@pytest.mark.skipif(GIT is None, reason="git is not installed")
@pytest.mark.parametrize("times", ["handed-in", "from-submission"])
def test_handed_in_csv_wins_over_every_time_the_student_set(times, tmp_path):
    from graders.batch.adjusting import ClassAdjustments

    submissions = _dated_class(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "late-policy.json").write_text(json.dumps({**POLICY_A1, "times": times}))
    (out / "handed-in.csv").write_text(
        "student,assignment,time\n"
        + "".join(f"{s.student},a1,2025-11-18T12:00:00Z\n" for s in submissions)  # fmt: skip
    )
    adjusting = ClassAdjustments.load(out, submissions, ["a1"])
    for line, submission in enumerate(submissions, 2):
        (row,) = adjusting.rows_for(_record(submission.student))
        assert row.reason.startswith("late by 30 days"), row.reason
        assert f"(handed-in.csv, line {line})" in row.reason, row.reason
        assert row.change.text() == "-30%"


@pytest.mark.skipif(GIT is None, reason="git is not installed")
def test_without_handed_in_csv_no_time_of_the_students_is_used_unless_told(tmp_path):
    from graders.batch.adjusting import ClassAdjustments

    submissions = _dated_class(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "late-policy.json").write_text(json.dumps(POLICY_A1))
    adjusting = ClassAdjustments.load(out, submissions, ["a1"])
    records = [_record(s.student) for s in submissions]
    assert [adjusting.rows_for(r) for r in records] == [[], [], []]
    (said,) = adjusting.undated(records)
    assert said.startswith("no late penalty computed for a1 of 3 students (ann, bob, cat)")
    assert '"times": "from-submission"' in said
    # Told to, it reads them, and says whose machine recorded them.
    (out / "late-policy.json").write_text(json.dumps({**POLICY_A1, "times": "from-submission"}))
    (out / "handed-in.csv").write_text("student,assignment,time\ncat,a1,2025-10-21T00:00:00Z\n")
    adjusting = ClassAdjustments.load(out, submissions, ["a1"])
    assert adjusting.rows_for(records[0]) == [] and adjusting.rows_for(records[1]) == []
    assert adjusting._submitted(submissions[0], "a1").how.endswith(
        "as the student's machine recorded it"
    )
    (row,) = adjusting.rows_for(records[2])
    assert row.reason.startswith("late by 2 days") and "handed-in.csv, line 2" in row.reason
    assert adjusting.undated(records) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("student,assignment,time\nzed,a1,2025-10-19T10:00Z\n", "line 2: unknown student 'zed'"),
        ("student,assignment,time\nann,a9,2025-10-19T10:00Z\n", "line 2: unknown assignment 'a9'"),
        ("student,assignment,time\nann,a1,yesterday\n", "line 2: time 'yesterday' is not"),
        ("student,assignment,time\nann,a1,2025-10-19T10:00Z\nann,a1,2025-10-20T10:00Z\n",
         "line 3: a second time for a1 of 'ann' (the first is on line 2)"),
        ("name,when\nann,2025-10-19\n", "line 1: the header must name the columns"),
    ],
)  # fmt: skip
def test_a_malformed_handed_in_csv_names_the_file_line_and_value(text, message, tmp_path):
    from graders.batch import handed_in

    path = tmp_path / "handed-in.csv"
    path.write_text(text)
    with pytest.raises(handed_in.HandedInError, match=re.escape(message)):
        handed_in.read(path, ["ann"], UTC)


def test_a_late_policy_rejects_an_unknown_source_of_times(tmp_path):
    path = tmp_path / "late-policy.json"
    path.write_text(json.dumps({**POLICY_A1, "times": "git"}))
    with pytest.raises(late.LatePolicyError, match="times 'git' must be"):
        late.load(path, ["ann"], ["a1"])


# -- why points moved --------------------------------------------------------------------------
INPUTS = {"grader": "0.1.0", "seed": "20251", "secrets": "", "evaluation_set": "",
          "submission": "a" * 64, "grader_source": "b" * 64}  # fmt: skip


def _graded(
    student: str, points: dict[str, float] | None = None, rows=(), **inputs
) -> StudentRecord:
    outcome = Outcome(student, "a1", "f", JobStatus.OK, _result(points).to_dict(),
                      inputs={**INPUTS, **inputs})  # fmt: skip
    record = StudentRecord(student, {"a1": outcome})
    if rows:
        record.adjusted["a1"] = apply(record.result("a1"), 10, rows)
    return record


def test_a_comparison_names_exactly_the_students_that_moved_and_why():
    before = changes.marks([
        _graded("ann"), _graded("bob", {"agreement": 0}), _graded("cat"), _graded("dan"),
        _graded("eve", {"agreement": 1}), _graded("fay"), _graded("gil"),
    ])  # fmt: skip
    after = changes.marks([
        _graded("ann", seed="7"),  # a new seed that moved nothing: not a move
        _graded("bob", submission="c" * 64),
        _graded("cat", {"pure.solve_cramer": 0}, grader="0.2.0", grader_source="d" * 64),
        _graded("dan", rows=[_row(ALL, "-10%", "dan", "late by 1 day")]),
        _graded("eve", {"agreement": 0}, secrets="0123456789abcdef"),
        _graded("fay", {"agreement": 0}),  # same inputs, other points
        _graded("hal"),  # graded for the first time
    ])  # fmt: skip
    comparison = changes.compare(before, after)
    assert comparison.students == ["bob", "cat", "dan", "eve", "fay"]
    assert comparison.new == [("hal", "a1")] and comparison.unchanged == 1
    moved = {m.student: m for m in comparison.moves}
    assert (moved["bob"].delta, moved["bob"].criteria) == (2, [("agreement", 0, 2)])
    assert moved["bob"].reasons == ["submission changed (content hash aaaaaaaaaaaa → cccccccccccc)"]
    assert moved["cat"].reasons == [
        "grader source changed (hash bbbbbbbbbbbb → dddddddddddd)",
        "grader version 0.1.0 → 0.2.0",
    ]
    assert moved["dan"].criteria == [(ALL, 0, -1)] and moved["dan"].delta == -1
    assert moved["dan"].reasons == ["new adjustment: total -10% (late by 1 day; ta)"]
    assert moved["eve"].reasons == ["secrets fingerprint none → 0123456789abcdef"]
    assert "nothing it was computed from changed" in moved["fay"].reasons[0]


def test_changed_and_removed_adjustments_are_reasons():
    one_day = _row(ALL, "-10%", "ann", "late by 1 day")
    two_days = Adjustment("ann", "a1", ALL, Change.parse("-20%"), "late by 2 days", "ta", "", "t")
    regrade = _row("agreement", "+1", "ann", "regrade")
    then = changes.marks([_graded("ann", {"agreement": 0}, rows=[one_day, regrade])])
    now = changes.marks([_graded("ann", {"agreement": 0}, rows=[two_days])])
    [move] = changes.compare(then, now).moves
    assert move.reasons == [
        "changed adjustment: total -10% → -20% (late by 2 days; ta)",
        "adjustment removed: agreement +1 (regrade; ta)",
    ]
    assert move.criteria == [("agreement", 1, 0), (ALL, -1, -2)]  # of the 10 points


def test_a_status_change_and_a_record_without_inputs_are_explained():
    failed = Outcome("ann", "a1", "f", JobStatus.ERROR, error="worker lost")
    then = changes.marks([StudentRecord("ann", {"a1": failed})])
    now = changes.marks([_graded("ann")])
    assert changes.compare(then, now).moves[0].reasons[0] == "was not graded (error), now graded"
    old = _graded("bob")
    old.outcomes["a1"].inputs = {}  # a record from before inputs were kept
    now = changes.marks([_graded("bob", {"agreement": 0}, seed="7")])
    reasons = changes.compare(changes.marks([old]), now).moves[0].reasons
    assert reasons == [
        "seed 20251 → 7",
        "not recorded by one of the runs, so not compared: submission, grader source, "
        "evaluation set, secrets",
    ]


# -- what a TA wrote is text in every sink -----------------------------------------------------
TA_TEXT = ["=HYPERLINK(\"http://x\")", "<img src=x onerror=alert(1)>", "# heading | a | b |",
           "line one\nline two\x1b[2J", "[link](http://x) *bold*"]  # fmt: skip


@pytest.mark.parametrize("text", TA_TEXT)
def test_a_tas_reason_and_name_stay_text_in_every_output(text):
    from graders.batch import changes_report, feedback, gradebook

    rows = [Adjustment("ann", "a1", "agreement", Change.parse("-1"), text, text, "", "t")]
    record = _graded("ann", rows=rows)
    cells = next(csv.DictReader(io.StringIO(gradebook.render([record]))))
    assert cells["a1"] == "9" and cells["adjustments"].startswith("a1: -1 on agreement")
    assert cells["a1:adjustment"] == "-1"  # a number; the text cells are never a formula
    assert not cells["adjustments"].startswith(("=", "+", "-", "@"))
    assert "\n" not in cells["adjustments"] and "\x1b" not in cells["adjustments"]
    markdown = feedback.markdown(record)
    [line] = [row for row in markdown.splitlines() if row.startswith("| `-1` |")]
    assert len(re.findall(r"(?<!\\)\|", line)) == 7  # six cells, whatever the text holds
    page = feedback.html_page(record) + changes_report.html_section(
        changes.compare(changes.marks([_graded("ann")]), changes.marks([record]))
    )
    assert "<img" not in page and "\x1b" not in page and "<h1>" not in page.split("</h1>", 1)[1]
    section = changes_report.markdown_section(
        changes.compare(changes.marks([_graded("ann")]), changes.marks([record])),
        dt.datetime(2025, 11, 1, tzinfo=UTC), ("a1",),
    )  # fmt: skip
    [row] = [row for row in section.splitlines() if row.startswith("| ann |")]
    assert len(re.findall(r"(?<!\\)\|", row)) == 8 and "\x1b" not in section
