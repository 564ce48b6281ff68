"""The nngrade command line as a student, an instructor and CI use it."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REFERENCE, REPO, SHARED_DATA, TEMPLATE

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


def test_all_reports_the_lab_total_and_the_minimum(tmp_path):
    """Out of the whole lab's 100 points, with the pass mark (the README's set-up command
    grades all five references this way; here two of them keep the test short)."""
    two = tmp_path / "two"
    for key in ("a1", "a3"):
        shutil.copytree(REFERENCE / key, two / key)
    done = nngrade("check", "--all", "--submission", str(two))
    assert done.returncode == 0, done.stderr
    assert "meets the course minimum of 35 points" in done.stdout
    assert "a2: not graded (not found, or its extra is not installed): 0 points" in done.stdout
    assert done.stdout.splitlines()[-1] == "Points 40/100"
    only_a1 = tmp_path / "only_a1"
    shutil.copytree(REFERENCE / "a1", only_a1 / "a1")
    done = nngrade("check", "--all", "--submission", str(only_a1))
    assert "does NOT meet the course minimum of 35 points" in done.stdout
    assert "a2: not graded (not found, or its extra is not installed): 0 points" in done.stdout
    assert done.stdout.splitlines()[-1] == "Points 10/100"


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


def test_json_format_records_provenance():
    done = nngrade("check", "a1", "--submission", str(REFERENCE), "--format", "json", "--seed", "7")
    data = json.loads(done.stdout)
    assert data["points"] == 10 and data["seed"] == 7
    assert data["grader_version"] == "0.1.0" and "rlimits" in data["layers"]


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
    status = cli.main(
        ["check", "--all", "--submission", str(tmp_path), "--data-dir", str(SHARED_DATA)]
    )
    out = capsys.readouterr()
    assert status == 0
    assert "skipped a1" in out.err and "a1: not graded" in out.out
    assert "skipped a5" in out.err
    assert out.out.splitlines()[-1] == "Points 30/100"  # a3, the one graded


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
