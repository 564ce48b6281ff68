"""Grading a whole class: a synthetic class of 33 submissions (correct, partial, broken,
hostile, malformed) checked cell by cell in the gradebook, resumed runs, reports, engines."""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from a1_cases import FULL
from helpers import REFERENCE, REPO, TEMPLATE, build_submission, replace_once
from synthetic_class import REJECTED, STATUS, TIMEOUT, build_class

from graders import __version__, catalog
from graders.batch.auto_jobs import choose_jobs
from graders.batch.intake import RejectedSubmission, Submission, take_in
from graders.batch.run import BatchOptions, grade_class
from graders.core.options import GradeOptions
from graders.render import encode

JOB_TIMEOUT_S = 25.0  # the hanging submission is given up on after this long


def run_batch(submissions: Path, out: Path, grading: GradeOptions | None = None, **options):
    settings = {"jobs": 2, "progress": False, "job_timeout_s": JOB_TIMEOUT_S, **options}
    return grade_class(
        BatchOptions(("a1",), submissions, out, grading=grading or GradeOptions(), **settings)
    )


def read_gradebook(out: Path) -> dict[str, dict[str, str]]:
    with (out / "gradebook.csv").open(newline="") as stream:
        return {row["student"]: row for row in csv.DictReader(stream)}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    expected = build_class(root / "submissions")
    out = root / "out"
    report = run_batch(root / "submissions", out)
    return root, expected, out, report


def test_the_gradebook_matches_every_expected_cell(graded_class):
    _, expected, out, report = graded_class
    assert len(expected) >= 30
    rows = read_gradebook(out)
    assert sorted(rows) == sorted(expected)  # roster.csv is not a submission
    for student, want in expected.items():
        row = rows[student]
        assert row["status"] == STATUS.get(student, "ok"), (student, row)
        if want in (REJECTED, TIMEOUT):
            kind = {REJECTED: "refused", TIMEOUT: "hangs"}[want]
            assert row["problems"].startswith(f"a1: {kind}: "), (student, row["problems"])
            assert row["a1"] == "0" and row["lab_total"] == "0"
            assert row["meets_minimum"] == "not yet decided (below pace)"
            assert all(row[f"a1:{cid}"] == "" for cid in FULL)
            continue
        got = {cid: float(row[f"a1:{cid}"]) for cid in FULL}
        assert got == want, (student, row)
        assert float(row["a1"]) == sum(want.values()) == float(row["lab_total"])
        # Only a1 is graded: nobody has failed the minimum yet (3.5 of 10 is on pace).
        pace = "on pace" if float(row["a1"]) >= 3.5 else "below pace"
        assert row["meets_minimum"] == f"not yet decided ({pace})", (student, row)
        assert (row["problems"] == "") == (student not in STATUS), (student, row["problems"])
    assert report.submissions == len(expected)
    assert report.rejected == sum(w == REJECTED for w in expected.values())
    assert report.timed_out == 1 and report.errors == 0
    assert report.graded == len(expected) - report.rejected - report.timed_out


def test_reasons_name_what_was_wrong(graded_class):
    _, _, out, _ = graded_class
    rows = read_gradebook(out)
    assert "points outside the submission" in rows["zip-traversal"]["problems"]
    assert "zip bomb" in rows["zip-bomb"]["problems"]
    assert "not a valid zip file" in rows["not-a-zip"]["problems"]
    assert "symbolic link (to /etc)" in rows["linked-elsewhere"]["problems"]
    assert f"did not finish within {JOB_TIMEOUT_S:.0f} s" in rows["hangs"]["problems"]
    assert "rule broken: a1/pure.py:10 imports numpy" in rows["numpy-in-pure"]["problems"]
    inner = json.loads((out / "students" / "inner-symlink.json").read_text())
    notices = inner["outcomes"]["a1"]["result"]["notices"]
    assert any("symbolic link" in n for n in notices), notices
    zipped = json.loads((out / "students" / "zip-with-symlink.json").read_text())
    assert any("is a symbolic link in the zip; ignored" in n
               for n in zipped["outcomes"]["a1"]["result"]["notices"])  # fmt: skip


def test_hostile_work_changes_nothing_outside_itself(graded_class):
    root, _, out, _ = graded_class
    assert not list(root.rglob("escaped.txt")) and not list(root.rglob("outside.py"))
    assert not Path("/tmp/nngrade-escaped.txt").exists()
    assert not Path("/tmp/nngrade-absolute.py").exists()
    assert not list(out.glob(".intake-*"))  # unpacked zips are cleaned up


def test_every_student_has_a_record_and_feedback(graded_class):
    _, expected, out, _ = graded_class
    for student in expected:
        record = json.loads((out / "students" / f"{student}.json").read_text())
        assert record["student"] == student and "a1" in record["outcomes"]
        markdown = (out / "feedback" / f"{student}.md").read_text()
        page = (out / "feedback" / f"{student}.html").read_text()
        assert markdown.startswith(f"# Feedback for {student}")
        assert page.startswith("<!doctype html>") and f"Feedback for {student}" in page
    partial = (out / "feedback" / "partial-1.md").read_text()
    assert "| ❌ | `pure.solve_cramer`" in partial
    record = json.loads((out / "students" / "partial-1.json").read_text())
    reason = next(c["reason"] for c in record["outcomes"]["a1"]["result"]["criteria"]
                  if c["id"] == "pure.solve_cramer")  # fmt: skip
    assert reason and encode.markdown(reason)[:60] in partial  # every lost point, escaped
    rejected = (out / "feedback" / "zip-bomb.md").read_text()
    assert "0 points (not graded)" in rejected and "zip bomb" in rejected


def test_summary_histogram_and_provenance(graded_class):
    _, expected, out, _ = graded_class
    summary = (out / "summary.md").read_text()
    assert f"{len(expected)} submissions. Graded with nngrade {__version__}." in summary
    assert "| `agreement` |" in summary and "## Not graded" in summary
    assert "| zip-bomb | a1 | refused |" in summary and "| hangs | a1 | hangs |" in summary
    svg = ET.parse(out / "histogram-a1.svg").getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    rows = dict(re.findall(r"^\| ([0-9.]+) \| (\d+) \|$", summary, flags=re.M))
    totals = [sum(w.values()) for w in expected.values() if isinstance(w, dict)]
    not_graded = sum(not isinstance(w, dict) for w in expected.values())
    assert sum(map(int, rows.values())) == len(expected) and list(rows)[-1] == "10"
    assert int(rows["10"]) == sum(t == 10 for t in totals)  # full marks: the bar labelled 10
    assert int(rows["9"]) == sum(9 <= t < 10 for t in totals)
    assert int(rows["0"]) == sum(t < 1 for t in totals) + not_graded
    run = json.loads((out / "run.json").read_text())
    assert run["environment"]["nngrade"] and run["environment"]["python"]
    assert "numpy" in run["environment"]["libraries"] and run["seed"] == 20251
    record = json.loads((out / "students" / "correct-1.json").read_text())
    outcome = record["outcomes"]["a1"]
    assert outcome["environment"]["libraries"]["numpy"]
    assert outcome["result"]["grader_version"] and outcome["result"]["seed"] == 20251


def test_a_resumed_run_grades_nothing_twice_and_regrades_what_changed(graded_class, tmp_path):
    root, expected, out, _ = graded_class
    work = tmp_path / "out"
    shutil.copytree(out, work)
    before = (work / "gradebook.csv").read_text()
    again = run_batch(root / "submissions", work)
    assert again.graded_jobs == [] and again.graded == 0
    assert again.skipped == len(expected)
    assert (work / "gradebook.csv").read_text() == before
    # One student pushes a fix: only that submission is graded again.
    changed = root / "submissions" / "partial-1" / "a1" / "pure.py"
    original = changed.read_text()
    changed.write_text((REFERENCE / "a1" / "pure.py").read_text())
    try:
        third = run_batch(root / "submissions", work)
    finally:
        changed.write_text(original)
    assert third.graded_jobs == [("partial-1", "a1")]
    assert read_gradebook(work)["partial-1"]["a1"] == "10"


def test_an_interrupted_gradebook_write_leaves_the_old_one(graded_class, tmp_path, monkeypatch):
    from graders.batch import records

    root, _, out, _ = graded_class
    work = tmp_path / "out"
    shutil.copytree(out, work)
    before = (work / "gradebook.csv").read_text()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(records.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        records.write_atomically(work / "gradebook.csv", "half a file")
    assert (work / "gradebook.csv").read_text() == before


def test_secrets_change_the_fingerprint_and_never_reach_any_output(tmp_path):
    submissions = tmp_path / "submissions"
    build_submission(submissions / "ann", assignment="a1")
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"a5": {"evaluation_seed": 918273645}}))
    out = tmp_path / "out"
    first = run_batch(submissions, out)
    second = run_batch(submissions, out, GradeOptions(secrets_file=secrets))
    assert first.graded == 1 and second.graded == 1  # new secrets: graded again
    for path in out.rglob("*"):
        if path.is_file():
            assert "918273645" not in path.read_text(errors="replace"), path
    assert json.loads((out / "run.json").read_text())["secrets"] == "instructor secrets used"


@pytest.fixture(scope="module")
def three_students(tmp_path_factory) -> tuple[Path, dict[str, dict[str, str]]]:
    """A full, an empty and a seeded-bug a1 submission, and their local engine's gradebook."""
    root = tmp_path_factory.mktemp("three")
    submissions = root / "submissions"
    build_submission(submissions / "ann", assignment="a1")
    shutil.copytree(TEMPLATE / "a1", submissions / "ben" / "a1")
    build_submission(submissions / "cat", edits={
        "a1/pure.py": replace_once("(-1) ** (row + col)", "(-1) ** row")})  # fmt: skip
    local = run_batch(submissions, root / "local")
    assert local.graded == 3
    return submissions, read_gradebook(root / "local")


def test_the_dask_engine_gives_the_same_gradebook(three_students, tmp_path):
    pytest.importorskip("distributed", reason="the cluster extra (Dask) is not installed")
    submissions, local = three_students
    dask = run_batch(submissions, tmp_path / "dask", engine="dask")
    assert dask.graded == 3
    assert read_gradebook(tmp_path / "dask") == local


@pytest.fixture
def dask_cluster(tmp_path) -> Iterator[str]:
    """A real Dask cluster on this machine: ``dask scheduler`` and ``dask worker`` as
    processes talking TCP on 127.0.0.1 at ports they pick; the scheduler's address."""
    pytest.importorskip("distributed", reason="the cluster extra (Dask) is not installed")
    dask = Path(sys.executable).with_name("dask")
    if not dask.is_file():
        pytest.skip(f"the dask command is not installed beside {sys.executable}")
    address_file = tmp_path / "scheduler.json"
    common = {"cwd": tmp_path, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [
        subprocess.Popen([str(dask), "scheduler", "--host", "127.0.0.1", "--port", "0",
                          "--no-dashboard", "--scheduler-file", str(address_file)], **common)
    ]  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not address_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(address_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:"), address
        processes.append(
            subprocess.Popen([str(dask), "worker", address, "--host", "127.0.0.1",
                              "--nworkers", "2", "--nthreads", "1", "--no-dashboard"], **common)
        )  # fmt: skip
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_a_real_dask_cluster_gives_the_same_gradebook(three_students, dask_cluster, tmp_path):
    submissions, local = three_students
    remote = run_batch(submissions, tmp_path / "remote", engine="dask", scheduler=dask_cluster)
    assert remote.graded == 3
    assert read_gradebook(tmp_path / "remote") == local


def test_zip_entries_are_checked_before_anything_is_written(tmp_path):
    import zipfile

    archive = tmp_path / "sneaky.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("a1/pure.py", "x = 1\n")  # harmless first entry...
        bundle.writestr("a1/../../../escaped.py", "owned = True\n")  # ...then the attack
    with pytest.raises(RejectedSubmission, match="points outside the submission"):
        take_in(Submission("sneaky", archive, "zip"), tmp_path / "work")
    assert not (tmp_path / "work" / "sneaky" / "a1" / "pure.py").exists()
    assert not list(tmp_path.rglob("escaped.py"))


def test_the_cli_shows_progress_and_the_summary(tmp_path):
    submissions = tmp_path / "submissions"
    build_submission(submissions / "ann", assignment="a1")
    shutil.copytree(TEMPLATE / "a1", submissions / "ben" / "a1")
    done = subprocess.run(
        [sys.executable, "-m", "graders.cli", "grade", "a1", str(submissions),
         "--out", str(tmp_path / "out"), "--jobs", "auto"],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    expected = choose_jobs([catalog.spec("a1")]).jobs
    assert f"--jobs auto: {expected} at once (" in done.stdout
    assert "2/2" in done.stderr and "grading" in done.stderr  # the progress bar
    assert "2 submissions: 2 graded" in done.stdout and "gradebook.csv" in done.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "graders.cli", "grade", "a1", str(tmp_path / "nope"),
         "--out", str(tmp_path / "out2")],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )  # fmt: skip
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_the_gradebook_says_what_went_wrong_and_why(graded_class):
    """A submission that does not parse, hangs, breaks a rule or was refused is named in
    ``status`` (checked for every student above) and explained in ``problems``."""
    _, _, out, _ = graded_class
    rows = read_gradebook(out)
    parse = rows["syntax-error"]["problems"]
    assert re.fullmatch(r"a1: does not parse: a1/pure\.py:\d+: SyntaxError", parse), parse
    hangs = rows["hangs"]["problems"]
    assert hangs == f"a1: hangs: grading did not finish within {JOB_TIMEOUT_S:.0f} s"
    rule = rows["numpy-in-pure"]["problems"]
    assert rule.startswith("a1: rule broken: a1/pure.py:10 imports numpy") and "|" not in rule
    assert rows["zip-bomb"]["problems"].startswith("a1: refused: zip-bomb.zip unpacks to more")
    assert "RuntimeError: half-finished" in rows["crash-on-import"]["problems"]
    assert rows["missing-file"]["problems"] == "a1: missing file: a1/pure.py"
    assert "exited with status 3" in rows["kills-its-worker"]["problems"]


def _failure_kinds(out: Path, student: str) -> set[str]:
    record = json.loads((out / "students" / f"{student}.json").read_text())
    result = record["outcomes"]["a1"]["result"]
    return {f["kind"] for c in result["criteria"] for f in c["failures"]}


def test_a_students_words_never_make_a_problem(graded_class):
    """An exception whose message is the grader's wording of a hang, a crash and a module
    that does not import is recorded as what it is, a raise: no status, no problem, not in
    the summary's tables; the worker that really died is recorded as a crash."""
    _, _, out, _ = graded_class
    row = read_gradebook(out)["imitates-the-grader"]
    assert (row["status"], row["problems"]) == ("ok", ""), row
    assert _failure_kinds(out, "imitates-the-grader") == {"raised"}
    assert "crashed" in _failure_kinds(out, "kills-its-worker")
    summary = (out / "summary.md").read_text()
    assert "| hangs | a1 | hangs |" in summary  # the table it would be in
    assert "| imitates-the-grader | a1 |" not in summary


def test_records_of_older_versions_are_still_read_by_their_wording():
    """A record written before failures were values has only reasons: one isolated reader
    still names its problems (such records are read back, never written now)."""
    from graders.batch.job import JobStatus, Outcome
    from graders.batch.problems import Kind, outcome_problems
    from graders.core.results import AssignmentResult

    old = AssignmentResult.from_dict({
        "assignment": "a1", "title": "t", "max_points": 10,
        "criteria": [{"id": "pure.solve", "title": "t", "max_points": 2, "points": 0,
                      "status": "failed", "reason": "solve did not finish within 20 s (it was stopped)"}],
    })  # fmt: skip
    assert old.failures is None
    found = outcome_problems(Outcome("old", "a1", "", JobStatus.OK), old)
    assert [p.kind for p in found] == [Kind.HANGS]


def test_feedback_counts_repeats_cuts_at_words_and_says_where_the_lab_stands(graded_class):
    _, expected, out, _ = graded_class
    broken = (out / "feedback" / "syntax-error.md").read_text()
    [row] = [line for line in broken.splitlines() if "`pure.basic_ops`" in line]
    assert row.count("could not import a1/pure.py") == 1 and row.endswith("(x5) |"), row
    # The stub's reasons quote the statement at length: cut at a word, whole in the record.
    record = json.loads((out / "students" / "stub.json").read_text())
    reasons = {c["id"]: c["reason"] for c in record["outcomes"]["a1"]["result"]["criteria"]}
    whole = reasons["pure.basic_ops"]
    stub = (out / "feedback" / "stub.md").read_text()
    [row] = [line for line in stub.splitlines() if "`pure.basic_ops`" in line]
    shown = row.rsplit(" | ", 1)[1].removesuffix(" |").replace("\\", "")
    kept = shown.removesuffix("...")
    assert len(whole) > len(shown) and shown.endswith("...")
    assert whole.startswith(kept) and whole[len(kept)] in " ,;:"  # after a whole word
    assert "the JSON record has them in full" in stub
    for student in expected:
        for suffix in (".md", ".html"):
            page = (out / "feedback" / f"{student}{suffix}").read_text()
            assert "does NOT meet" not in page and "Lab total so far: " in page, student
    partial = (out / "feedback" / "partial-1.md").read_text()
    assert partial.splitlines()[2] == (
        "Lab total so far: 5.7 of the 10 points graded (a1). The course minimum is 35 of 100 "
        "points, counted once all 5 assignments are graded: 29.3 more points are needed from "
        "the 90 points still to come (a2, a3, a4, a5)."
    )


CHROMIUM = Path("/usr/bin/chromium")


def _chromium(profile: Path, *arguments: str) -> subprocess.CompletedProcess:
    """Headless Chromium with a profile of its own (no lock shared with another browser)."""
    return subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--no-first-run", f"--user-data-dir={profile}", *arguments],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


class _Page(HTMLParser):
    """The tags, ids and links of a page as the browser left it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: the class page is "
                    "checked in a real browser (apt-get install chromium; .ci/run installs it)")  # fmt: skip
def test_the_class_page_renders_in_chromium_and_every_link_resolves(graded_class, tmp_path):
    from matplotlib import image as matplotlib_image  # the test extra: reads the PNG

    _, expected, out, _ = graded_class
    page = out / "summary.html"
    url = page.resolve().as_uri()
    shot = tmp_path / "summary.png"  # kept in the test's output folder to look at
    done = _chromium(tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2600", url)
    assert shot.is_file(), done.stderr[-2000:]
    pixels = matplotlib_image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (2600, 1280)
    assert (pixels < 0.9).any(axis=-1).mean() > 0.02  # text, tables and a chart: not blank
    bar = (abs(pixels - [0x4C / 255, 0x78 / 255, 0xA8 / 255]) < 0.03).all(axis=-1)
    assert bar.sum() > 500  # the histogram's bars (inline SVG; nothing else is this blue)

    dom = _chromium(tmp_path / "profile", "--dump-dom", url)
    assert dom.returncode == 0 and "</html>" in dom.stdout, dom.stderr[-2000:]
    parsed = _Page()
    parsed.feed(dom.stdout)
    tags = parsed.tags
    tables = {attrs.get("class") for tag, attrs in tags if tag == "table"}
    assert {"costly", "not-graded", "problems", "standing", "students"} <= tables, tables
    assert any(tag == "svg" for tag, _ in tags)
    assert not [t for t, a in tags if t in ("script", "link", "iframe", "img", "object")]
    students = re.search(r'<table class="students">.*?</table>', dom.stdout, re.S).group()
    assert students.count("<tr>") == len(expected) + 1  # a header and one row each
    ids = {attrs["id"] for _, attrs in tags if attrs.get("id")}
    hrefs = [attrs["href"] for tag, attrs in tags if tag == "a" and attrs.get("href")]
    linked = set()
    for href in hrefs:
        if href.startswith("#"):
            assert href[1:] in ids, href
            continue
        assert "://" not in href and not href.startswith("/"), href  # relative only
        target = (out / unquote(href)).resolve()
        assert target.is_file() and out.resolve() in target.parents, href
        linked.add(target.name)
    assert {f"{s}.html" for s in expected} <= linked  # every student's feedback page


def test_the_gradebook_says_no_only_once_the_minimum_is_decided():
    """Mid-semester a 10/10 is on pace, as the summary says; "no" comes with the last
    assignment graded, or when the points still to come cannot reach 35."""
    from graders.batch.gradebook import minimum_cell
    from graders.core.standing import course_standing

    course = [("a1", 10.0), ("a2", 15.0), ("a3", 30.0), ("a4", 15.0), ("a5", 30.0)]

    def cell(points: float, graded: set[str]) -> str:
        return minimum_cell(course_standing(points, graded, course, 100.0, 35.0))

    assert cell(10, {"a1"}) == "not yet decided (on pace)"
    assert cell(1, {"a1"}) == "not yet decided (below pace)"
    assert cell(0, set()) == "not yet decided (nothing graded yet)"
    assert cell(4, {"a1", "a2", "a3", "a4"}) == "no (cannot reach the minimum)"
    assert cell(34, {"a1", "a2", "a3", "a4", "a5"}) == "no"
    assert cell(35, {"a1"}) == cell(35, {"a1", "a2", "a3", "a4", "a5"}) == "yes"


def test_jobs_auto_fills_the_cores_within_the_memory():
    """As many jobs as the cores keep busy (cores / cores_per_job of the most demanding
    assignment of the run) and the available memory holds; at least one."""
    light = dataclasses.replace(catalog.spec("a1"), cores_per_job=1.0, job_memory_bytes=2**30)
    heavy = dataclasses.replace(catalog.spec("a4"), cores_per_job=2.0, job_memory_bytes=3 * 2**30)
    assert choose_jobs([light], cores=2, memory=24 * 2**30).jobs == 2
    assert choose_jobs([light], cores=16, memory=24 * 2**30).jobs == 16
    assert choose_jobs([light, heavy], cores=16, memory=64 * 2**30).jobs == 8
    tight = choose_jobs([light, heavy], cores=16, memory=10 * 2**30)
    assert tight.jobs == 3 and "3 GiB per a4 job: memory decides" in tight.reason
    assert choose_jobs([heavy], cores=1, memory=2**30).jobs == 1
    assert choose_jobs([light], cores=4, memory=None).jobs == 4  # memory unknown: cores


@pytest.mark.parametrize(
    ("jobs", "engine", "says"),
    [
        ("0", "local", "--jobs: must be at least 1"),
        ("many", "local", "--jobs: expected a number or auto, not 'many'"),
        ("auto", "dask", "--jobs auto is for the local engine"),
    ],
)
def test_a_jobs_value_it_cannot_use_is_a_usage_error(tmp_path, jobs, engine, says):
    done = subprocess.run(
        [sys.executable, "-m", "graders.cli", "grade", "a1", str(tmp_path), "--out",
         str(tmp_path / "out"), "--jobs", jobs, "--engine", engine],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr
