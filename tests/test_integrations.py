"""CI autograding: the Gradescope bundle runs end to end and the students' GitHub workflow
grades a repository the way Actions would."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from helpers import GRADESCOPE_SCHEMA, REFERENCE, REPO, SHARED_DATA, TEMPLATE


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("bundle") / "a1.zip"
    done = subprocess.run(
        [sys.executable, "-m", "graders.cli", "gradescope-bundle", "a1", "--output", str(target)],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Configure Autograder" in done.stdout
    return target


def unpack(bundle: Path, root: Path) -> Path:
    """Lay the bundle out as Gradescope does: /autograder/source holds its files."""
    source = root / "source"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(source)
        for info in archive.infolist():  # zipfile drops permissions: restore them
            mode = info.external_attr >> 16
            if mode:
                os.chmod(source / info.filename, stat.S_IMODE(mode))
    return source


def run_autograder(root: Path) -> dict:
    environment = {
        **os.environ,
        "AUTOGRADER_ROOT": str(root),
        "NNGRADE_PYTHON": sys.executable,  # stands in for the venv that setup.sh builds
        "PYTHONPATH": str(root / "source" / "nngrade"),  # the bundled nngrade, not this one
    }
    done = subprocess.run(
        [str(root / "source" / "run_autograder")],
        capture_output=True, text=True, env=environment, timeout=300, cwd=root,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    return results


def test_bundle_holds_the_harness_and_scripts_but_no_solutions(bundle):
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
    assert {"setup.sh", "run_autograder", "nngrade/pyproject.toml"} <= names
    assert "nngrade/graders/a1/grader.py" in names and "nngrade/graders/cli.py" in names
    assert not any(n.startswith(("reference/", "nngrade/reference/", "tests/")) for n in names)
    assert not any("__pycache__" in n for n in names)
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    with zipfile.ZipFile(bundle) as archive:
        setup = archive.read("setup.sh").decode()
    assert '"./nngrade[]"' not in setup  # a1 needs no extra
    assert "bubblewrap" in setup and "/autograder/nngrade-venv" in setup


def test_run_autograder_grades_bare_files_and_writes_valid_results(bundle, tmp_path):
    root = tmp_path / "autograder"
    unpack(bundle, root)
    submission = root / "submission"
    submission.mkdir()
    for name in ("pure.py", "vectorized.py"):  # uploaded without the a1/ folder
        shutil.copy(REFERENCE / "a1" / name, submission / name)
    results = run_autograder(root)
    assert results["score"] == 10 and len(results["tests"]) == 8
    assert all(t["score"] == t["max_score"] for t in results["tests"])
    assert "Points 10/10" in results["output"]


def test_run_autograder_explains_zero_for_broken_or_missing_work(bundle, tmp_path):
    root = tmp_path / "autograder"
    unpack(bundle, root)
    shutil.copytree(TEMPLATE / "a1", root / "submission" / "a1")
    results = run_autograder(root)
    assert results["score"] == 0
    assert all("not implemented" in t["output"] for t in results["tests"])
    shutil.rmtree(root / "submission")
    shutil.rmtree(root / "results")
    results = run_autograder(root)  # nothing uploaded at all: still a results.json
    assert results["score"] == 0 and "could not be graded" in results["output"]


def test_bundle_ships_instructor_secrets_only_inside_the_bundle(tmp_path):
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"a5": {"evaluation_seed": 123}}))
    target = tmp_path / "a5.zip"
    done = subprocess.run(
        [sys.executable, "-m", "graders.cli", "gradescope-bundle", "a5", "--output", str(target),
         "--secrets", str(secrets)],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(target) as archive:
        assert json.loads(archive.read("secrets.json")) == {"a5": {"evaluation_seed": 123}}
        assert '"./nngrade[rl]"' in archive.read("setup.sh").decode()
        assert "--secrets" in archive.read("run_autograder").decode()
    secrets.write_text("{not json")
    bad = subprocess.run(
        [sys.executable, "-m", "graders.cli", "gradescope-bundle", "a5", "--output",
         str(tmp_path / "b.zip"), "--secrets", str(secrets)],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and "not valid JSON" in bad.stderr


WORKFLOW = TEMPLATE / ".github" / "workflows" / "nngrade.yml"


def test_student_workflow_installs_nngrade_and_grades_every_push():
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads `on` as True
    assert "push" in triggers
    steps = workflow["jobs"]["grade"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert '"$NNGRADE_PACKAGE"' in runs and "bubblewrap" in runs
    assert workflow["jobs"]["grade"]["env"]["NNGRADE_PACKAGE"] == "${{ vars.NNGRADE_PACKAGE }}"
    grade = next(step for step in steps if step.get("name") == "Grade")
    assert "check --all --format github" in grade["run"] and "sudo" in grade["run"]


def test_the_workflow_grade_step_prints_points_and_a_summary(tmp_path):
    """Run the workflow's Grade command as Actions would, on a student repository."""
    yaml = pytest.importorskip("yaml")
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["grade"]["steps"]
    command = next(step for step in steps if step.get("name") == "Grade")["run"]
    repository = tmp_path / "student-repo"
    shutil.copytree(REFERENCE / "a1", repository / "a1")
    summary = tmp_path / "step-summary.md"
    bin_dir = Path(sys.executable).parent
    done = subprocess.run(
        ["bash", "-e", "-c", command],
        capture_output=True, text=True, cwd=repository, timeout=300,
        env={**os.environ, "GITHUB_STEP_SUMMARY": str(summary), "NNGRADE_DATA": str(tmp_path),
             "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert done.returncode == 4, done.stderr  # graded, but a2-a5 are not there
    assert done.stdout.rstrip().splitlines()[-1] == "Points 10/10"
    assert "### a1: Linear systems" in summary.read_text()
    assert "there is no a2/ folder" in summary.read_text()


def _bundle(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "graders.cli", "gradescope-bundle", *args],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip


def _setup_sh(bundle: Path) -> str:
    with zipfile.ZipFile(bundle) as archive:
        return archive.read("setup.sh").decode()


def test_setup_installs_pytorchs_cpu_build_in_sight_of_the_build_log(tmp_path):
    done = _bundle(tmp_path, "a4", "--output", "a4.zip")
    assert done.returncode == 0, done.stderr
    setup = _setup_sh(tmp_path / "a4.zip")
    assert subprocess.run(["bash", "-n"], input=setup, text=True).returncode == 0
    torch_step = setup.index("PyTorch, CPU build")
    assert torch_step < setup.index('"./nngrade[torch]"')  # before nngrade pulls PyPI's build
    assert "whl/cpu" in setup and '"torch<3,>=2.2" "torchvision<1,>=0.17"' in setup
    # Progress shows in Gradescope's build log: nothing hidden.
    assert "--quiet" not in setup and "/dev/null\n" not in setup.replace(
        ">/dev/null 2>&1; then", ""
    )
    assert setup.count("nngrade setup: ") >= 2 and "[4/4]" in setup
    done = _bundle(tmp_path, "a4", "--torch", "cuda", "--output", "cuda.zip")
    assert done.returncode == 0 and "whl/cpu" not in _setup_sh(tmp_path / "cuda.zip")
    done = _bundle(tmp_path, "a1", "--output", "a1.zip")
    assert "torch" not in _setup_sh(tmp_path / "a1.zip").replace("no PyTorch", "")


@pytest.mark.skipif(not (SHARED_DATA / "MNIST").exists(), reason="MNIST is not in ../shared/data")
def test_with_data_ships_mnist_and_setup_uses_it(tmp_path):
    done = _bundle(
        tmp_path, "a3", "--with-data", "--data-dir", str(SHARED_DATA), "--output", "a3.zip"
    )
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(tmp_path / "a3.zip") as archive:
        data = {n for n in archive.namelist() if n.startswith("data/")}
    assert len(data) == 4 and all(n.startswith("data/MNIST/raw/") for n in data)
    assert "MNIST ships in the bundle" in _setup_sh(tmp_path / "a3.zip")
    empty = tmp_path / "empty"
    empty.mkdir()
    done = _bundle(tmp_path, "a3", "--with-data", "--data-dir", str(empty), "--output", "x.zip")
    assert done.returncode == 2 and "--with-data" in done.stderr and "MNIST/raw" in done.stderr
    assert not (tmp_path / "x.zip").exists()
