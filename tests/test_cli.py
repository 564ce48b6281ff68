"""The nngrade command line as a student, an instructor and CI use it."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import A3_SMALLER_NETWORK, REFERENCE, REPO, SHARED_DATA, TEMPLATE, run_in_terminal

from graders import catalog
from graders.a1 import ASSIGNMENT
from graders.core.results import Status
from graders.core.runner import GraderBroken, MissingExtra, grade


def nngrade(*args: str, env: dict | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "graders.cli", *args],
        capture_output=True, text=True, cwd=cwd, timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO), "NNGRADE_DATA": str(SHARED_DATA), **(env or {})},
    )  # fmt: skip


def test_reference_gets_ten_of_ten_and_the_stub_zero():
    good = nngrade("check", "a1", "--submission", str(REFERENCE))
    assert good.returncode == 0, good.stderr
    assert good.stdout.splitlines()[-1] == "Points 10/10"
    assert good.stderr == ""  # no progress where nobody watches (a pipe)
    assert "checked on your machine: counts only when the course grades it" in good.stdout
    assert "sandbox layers:" not in good.stdout  # the whole list is for --verbose
    bad = nngrade("check", "a1", "--submission", str(TEMPLATE))
    assert bad.returncode == 0
    assert bad.stdout.splitlines()[-1] == "Points 0/10"
    assert bad.stdout.count("is not implemented yet") >= 8


def test_default_submission_is_the_current_folder():
    done = nngrade("check", "a1", cwd=REFERENCE)
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == "Points 10/10"


def test_missing_submission_folder_is_a_usage_error_without_traceback(tmp_path):
    done = nngrade("check", "a1", "--submission", str(tmp_path / "nope"))
    assert done.returncode == 2
    assert "does not exist" in done.stderr and "--submission" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_check_needs_an_assignment_or_all():
    done = nngrade("check")
    assert done.returncode == 2 and "nngrade check a1" in done.stderr


def test_unknown_assignment_is_rejected():
    done = nngrade("check", "a9")
    assert done.returncode == 2 and "invalid choice" in done.stderr


def test_required_layer_that_is_missing_refuses_to_grade():
    done = nngrade("check", "a1", "--submission", str(REFERENCE), "--confinement", "none",
                   "--require", "read-only-system")  # fmt: skip
    assert done.returncode == 3
    assert "refusing to grade" in done.stderr and "bubblewrap" in done.stderr
    assert done.stdout == ""


def test_unknown_layer_names_the_known_ones():
    done = nngrade("check", "a1", "--submission", str(REFERENCE), "--require", "moat")
    assert done.returncode == 3 and "no-network" in done.stderr


def _smaller_a3(folder: Path) -> None:
    """The copied a3 reference on the smaller network: these tests judge the lab's
    totals, not a3's width."""
    module = folder / "a3" / "mlp.py"
    module.write_text(A3_SMALLER_NETWORK(module.read_text()))


def test_all_reports_the_lab_total_and_the_minimum(tmp_path):
    """The lab total out of the whole lab's 100 points with the pass mark, and ``Points X/Y``
    over what was graded (the README's set-up command grades all five references this way;
    here two of them keep the test short). A folder not there is named, with what to do."""
    two = tmp_path / "two"
    for key in ("a1", "a3"):
        shutil.copytree(REFERENCE / key, two / key)
    _smaller_a3(two)
    done = nngrade("check", "--all", "--submission", str(two))
    assert done.returncode == 4, done.stderr  # graded, but not all of the lab
    assert (
        "Lab total so far: 40 of the 40 points graded (a1, a3). This already meets the course minimum of 35 of 100 points."
        in " ".join(done.stdout.split())
    )
    assert "a2 (Softmax perceptron on MNIST): not graded: there is no a2/ folder" in done.stdout
    assert "nngrade init a2" in done.stdout
    assert done.stdout.splitlines()[-1] == "Points 40/40"
    assert "not graded: a2, a4, a5" in done.stderr
    only_a1 = tmp_path / "only_a1"
    shutil.copytree(REFERENCE / "a1", only_a1 / "a1")
    done = nngrade("check", "--all", "--submission", str(only_a1))
    assert done.returncode == 4
    assert "Lab total so far: 10 of the 10 points graded (a1)." in done.stdout
    assert "does NOT meet" not in done.stdout
    assert done.stdout.splitlines()[-1] == "Points 10/10"


def test_all_without_mnist_grades_what_it_can_and_says_what_to_do(tmp_path):
    """The GitHub workflow with no MNIST at hand: a1 (which needs none) is graded and
    counted, a2-a4 are named as not graded with the fix, and the Points line and the run's
    summary are written all the same; the exit status says not everything was graded."""
    submission = tmp_path / "repository"
    for key in ("a1", "a2", "a3", "a4"):
        shutil.copytree(REFERENCE / key, submission / key)
    summary = tmp_path / "summary.md"
    done = nngrade("check", "--all", "--format", "github", "--submission", str(submission),
                   "--data-dir", str(tmp_path / "empty"), "--no-download",
                   env={"GITHUB_STEP_SUMMARY": str(summary)})  # fmt: skip
    assert done.returncode == 4, done.stderr
    report = done.stdout
    assert "### a1: Linear systems with and without numpy — 10/10" in report
    for key in ("a2", "a3"):
        assert f"{key} (" in report and "MNIST train split not found" in report
    assert "not graded" in report.split("a4 (", 1)[1]  # no MNIST, or no torch: named either way
    assert "What to do: Put the four MNIST files" in report and "--data-dir" in report
    assert "What to do: the same as for a2" in report  # one fix, said once
    assert "a5 (" in report and "there is no a5/ folder" in report
    assert report.rstrip().splitlines()[-1] == "Points 10/10"
    assert summary.read_text() == report
    assert "Traceback" not in done.stderr


def test_all_reports_a_broken_grader_and_keeps_the_other_results(monkeypatch, capsys, tmp_path):
    from graders import cli

    real = cli.grade

    def broken_a3(spec, *args, **kwargs):
        if spec.key == "a3":
            raise GraderBroken("the grader of a3 could not run: boom")
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(cli, "grade", broken_a3)
    for key in ("a1", "a3"):
        shutil.copytree(REFERENCE / key, tmp_path / key)
    status = cli.main(["check", "--all", "--format", "json", "--submission", str(tmp_path)])
    out = capsys.readouterr()
    assert status == 3  # the grader's fault: reported as such, after the report
    report = json.loads(out.out)
    assert [a["assignment"] for a in report["assignments"]] == ["a1"]
    broken = next(n for n in report["not_graded"] if n["assignment"] == "a3")
    assert broken["cause"] == "grader-error" and "boom" in broken["reason"]
    assert "course staff" in broken["fix"]
    assert report["points"] == report["graded_max_points"] == 10


def test_missing_mnist_says_where_to_put_it(tmp_path):
    done = nngrade(
        "check",
        "a2",
        "--submission",
        str(REFERENCE),
        "--data-dir",
        str(tmp_path / "empty"),
        "--no-download",
    )
    assert done.returncode == 3
    assert "train-images-idx3-ubyte" in done.stderr and str(tmp_path / "empty") in done.stderr
    assert "Traceback" not in done.stderr


def test_list_shows_all_five_assignments():
    done = nngrade("list")
    assert done.returncode == 0
    for key, points, week in (
        ("a1", 10, 3),
        ("a2", 15, 4),
        ("a3", 30, 7),
        ("a4", 15, 10),
        ("a5", 30, 13),
    ):
        line = next(line for line in done.stdout.splitlines() if line.startswith(key))
        assert f" {points} " in line and f" {week} " in line
    assert "100" in done.stdout and "35" in done.stdout


def test_output_file_and_github_step_summary(tmp_path):
    summary = tmp_path / "summary.md"
    out = tmp_path / "reports" / "a1.md"
    done = nngrade("check", "a1", "--submission", str(REFERENCE), "--format", "github",
                   "--output", str(out), env={"GITHUB_STEP_SUMMARY": str(summary)})  # fmt: skip
    assert done.returncode == 0 and done.stdout == ""
    assert out.read_text().rstrip().endswith("Points 10/10")
    assert summary.read_text() == out.read_text()
    assert "sandboxed: bubblewrap; points count for the course" in out.read_text() or (
        "sandboxed: landlock; points count for the course" in out.read_text()
    )


def test_json_format_records_provenance():
    done = nngrade("check", "a1", "--submission", str(REFERENCE), "--format", "json", "--seed", "7")
    data = json.loads(done.stdout)
    assert data["points"] == 10 and data["seed"] == 7
    assert data["grader_version"] == "0.1.0" and "rlimits" in data["layers"]
    assert data["graded_as"] == "own check"  # a student's own check: a preview of the points


# -- a broken grader is reported as the grader's fault, never the student's ----------------
def _fake_assignment(tmp_path: Path, monkeypatch, source: str, points: float = 10):
    name = f"fake_graders_{tmp_path.name}"
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "grader_under_test.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    return dataclasses.replace(ASSIGNMENT, grader_module=f"{name}.grader_under_test", points=points)


def test_a_grader_bug_is_an_internal_error_not_a_lost_point(tmp_path, monkeypatch):
    spec = _fake_assignment(tmp_path, monkeypatch, (
        "from graders.core.plugin import criterion\n"
        "@criterion('ok', 4, 'passes')\ndef test_ok():\n    pass\n"
        "@criterion('buggy', 6, 'grader bug')\ndef test_buggy():\n    {}['missing']\n"
    ))  # fmt: skip
    result = grade(spec, REFERENCE)
    buggy = next(c for c in result.criteria if c.id == "buggy")
    assert buggy.status == Status.ERROR and "internal grader error (KeyError" in buggy.reason
    assert result.internal_errors and result.points == 4


def test_points_that_do_not_add_up_stop_the_grader(tmp_path, monkeypatch):
    spec = _fake_assignment(tmp_path, monkeypatch,
        "from graders.core.plugin import criterion\n@criterion('only', 3, 'x')\ndef test_only():\n    pass\n")  # fmt: skip
    with pytest.raises(GraderBroken, match="add up to 3"):
        grade(spec, REFERENCE)


def test_a_missing_extra_is_named_with_the_install_command():
    spec = dataclasses.replace(ASSIGNMENT, requires=("no_such_package_here",), extra="torch")
    with pytest.raises(MissingExtra, match=r'pip install "nngrade\[torch\]"'):
        grade(spec, REFERENCE)


def test_all_skips_an_assignment_whose_extra_is_missing(monkeypatch, capsys, tmp_path):
    from graders import catalog, cli

    real = catalog.spec

    def without_torch(key):  # a1 (fast to check) and a5 (slow to grade) lack their extra
        spec = real(key)
        missing = key in ("a1", "a5")
        return dataclasses.replace(spec, requires=("no_such_package_here",)) if missing else spec

    monkeypatch.setattr(catalog, "spec", without_torch)
    for key in ("a1", "a3", "a5"):
        shutil.copytree(REFERENCE / key, tmp_path / key)
    _smaller_a3(tmp_path)
    status = cli.main(
        ["check", "--all", "--submission", str(tmp_path), "--data-dir", str(SHARED_DATA)]
    )
    out = capsys.readouterr()
    assert status == 4
    assert "not graded: a1, a2, a4, a5" in out.err
    assert "a1 (Linear systems with and without numpy): not graded: grading a1 needs" in out.out
    assert 'What to do: pip install "nngrade[' in out.out
    assert out.out.splitlines()[-1] == "Points 30/30"  # a3, the one graded


def test_only_grades_one_criterion_and_names_the_valid_ones():
    done = nngrade("check", "a1", "--submission", str(REFERENCE), "--only", "agreement")
    assert done.returncode == 0, done.stderr
    assert "not graded in this run (--only)" in done.stdout
    assert done.stdout.splitlines()[-1] == "Points 2/10"
    typo = nngrade("check", "a1", "--submission", str(REFERENCE), "--only", "agreemnt")
    assert typo.returncode == 2 and "a1 has no criterion agreemnt" in typo.stderr
    assert "pure.load_system" in typo.stderr and "Traceback" not in typo.stderr


def test_malformed_secrets_are_a_clear_usage_error(tmp_path):
    bad = tmp_path / "secrets.json"
    bad.write_text('{"a5": {"evaluation_seed": 1},}')
    done = nngrade("check", "a1", "--submission", str(REFERENCE), "--secrets", str(bad))
    assert done.returncode == 2 and "is not valid JSON (line 1" in done.stderr
    bad.write_text('{"a5": 7}')
    done = nngrade("check", "a1", "--submission", str(REFERENCE), "--secrets", str(bad))
    assert done.returncode == 2 and "one JSON object per assignment" in done.stderr
    missing = nngrade(
        "check", "a1", "--submission", str(REFERENCE),
        env={"NNGRADE_SECRETS": str(tmp_path / "nope.json")},
    )  # fmt: skip
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    assert "Traceback" not in done.stderr + missing.stderr


# -- progress: shown to a person at a terminal, never mixed into a report ------------------------
@pytest.mark.skipif(not (SHARED_DATA / "MNIST").exists(), reason="MNIST is not in ../shared/data")
def test_a_terminal_shows_the_criterion_running_and_its_budget_before_the_report():
    """a2's training criterion (its budgeted call) in a pseudo-terminal: the status line
    names it with its time and the CPU seconds used of its budget, the finished criterion
    is listed as it finishes, and all that comes before the report."""
    status, shown = run_in_terminal(
        [sys.executable, "-m", "graders.cli", "check", "a2", "--submission", str(REFERENCE),
         "--data-dir", str(SHARED_DATA), "--only", "training.accuracy"],
        env={"PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert status == 0, shown
    report = shown.index("Assignment 2:")
    running = shown.index("a2 1/1 training.accuracy · 0:0")
    assert running < report
    # its time, the CPU seconds used of its budget, the run's time and the title, in place
    spec = catalog.spec("a2")
    budget = spec.budgets["train"] * spec.limits.promised_cores
    line = rf"\ra2 1/1 training\.accuracy · \d+:\d\d · CPU \d+ of {budget:g} s · \d+:\d\d in all · Train"
    assert re.search(line, shown[:report])
    assert re.search(r"✔ +4/4  a2 training\.accuracy \(\d+\.\d s\)", shown[:report])
    assert shown.rstrip().endswith("Points 4/15")


@pytest.mark.skipif(not (SHARED_DATA / "MNIST").exists(), reason="MNIST is not in ../shared/data")
def test_a_machine_format_on_a_terminal_is_the_report_alone():
    status, shown = run_in_terminal(
        [sys.executable, "-m", "graders.cli", "check", "a2", "--submission", str(REFERENCE),
         "--data-dir", str(SHARED_DATA), "--only", "forward", "--format", "json"],
        env={"PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert status == 0, shown
    assert json.loads(shown)["assignment"] == "a2"  # nothing but the JSON document


def test_verbose_lists_every_sandbox_layer():
    done = nngrade("check", "a1", "--submission", str(REFERENCE), "--verbose")
    assert done.returncode == 0, done.stderr
    layers = " ".join(done.stdout.split("sandbox layers:", 1)[1].split("limits:")[0].split())
    assert "rlimits" in layers and "seccomp" in layers and "tree-kill" in layers


def test_a_check_of_a1_loads_only_what_it_uses():
    """``nngrade check a1`` imports neither hypothesis (a1's questions are stored; pytest's
    plugin autoload is off), nor batch grading, similarity or the statement renderer, and
    loads no pytest plugin of another package."""
    program = (
        "import sys\n"
        "from graders.cli import main\n"
        f"code = main(['check', 'a1', '--submission', {str(REFERENCE)!r}])\n"
        "import _pytest, pluggy\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} | "
        "{m for m in sys.modules if m.startswith('graders.')}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, cwd=REPO, timeout=300
    )
    assert "Points 10/10" in done.stdout, done.stdout + done.stderr
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1].replace("'", '"')))
    assert not loaded & {"hypothesis", "markdown"}
    assert not [m for m in loaded if m.startswith("graders.batch.")]
    assert sorted(m for m in loaded if m.startswith("graders.similarity")) in (
        [],
        ["graders.similarity", "graders.similarity.defaults"],
    )
    assert "pytest_timeout" in loaded  # the one plugin of another package it asks for
