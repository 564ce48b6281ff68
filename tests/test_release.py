"""The wheel is the product: built from this checkout, checked, installed into a fresh
virtual environment and used from a folder outside any checkout, as a student and an
instructor would (the README's commands: init, statement, list, check, grade, similarity,
gradescope-bundle). Nothing here may reach back into the repository but the test data
(a reference solution standing in for a student's finished work)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import REFERENCE, REPO

pytest.importorskip("build", reason="the test extra's build is not installed")
pytest.importorskip("twine", reason="the test extra's twine is not installed")


def _run(
    command: list[str], cwd: Path, timeout: float = 600, **kwargs
) -> subprocess.CompletedProcess:
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, **kwargs
    )
    assert done.returncode == 0, f"{command}: {done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


def _checkout_files(target: Path) -> Path:
    """The checkout's files as git knows them (tracked, or new and not ignored), copied to
    ``target``: the build sees what a clean clone holds, not this folder's build leftovers
    (an editable install's egg-info would hand setuptools its old file list)."""
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        origin, copy = REPO / name, target / name
        if not (origin.exists() or origin.is_symlink()):
            continue  # deleted in the working tree
        copy.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_symlink():
            copy.symlink_to(os.readlink(origin))
        else:
            shutil.copy2(origin, copy)
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, Path]:
    """The sdist and wheel built and checked, the wheel installed into a fresh venv, and an
    empty folder outside the checkout to work in."""
    root = tmp_path_factory.mktemp("release")
    dist = root / "dist"
    source = _checkout_files(root / "source")
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(source)], cwd=root)
    [wheel] = dist.glob("nngrade-*.whl")
    [sdist] = dist.glob("nngrade-*.tar.gz")
    _run([sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)], cwd=root)
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=root)
    _run([str(venv / "bin" / "pip"), "install", "--quiet", str(wheel)], cwd=root, timeout=900)
    work = root / "work"
    work.mkdir()
    return {"wheel": wheel, "sdist": sdist, "bin": venv / "bin", "work": work}


def nngrade(installed: dict[str, Path], *args: str, status: int = 0) -> str:
    """``nngrade ARGS`` of the installed wheel, run in the work folder with a clean
    environment (no PYTHONPATH into the checkout)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    environment["PATH"] = f"{installed['bin']}{os.pathsep}{environment.get('PATH', '')}"
    done = subprocess.run(
        [str(installed["bin"] / "nngrade"), *args], cwd=installed["work"], env=environment,
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == status, (
        f"nngrade {args}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    )
    return done.stdout


def test_the_wheel_holds_the_course_files_and_no_solutions_or_tests(installed):
    with zipfile.ZipFile(installed["wheel"]) as wheel:
        names = set(wheel.namelist())
    assert "graders/sandbox/inside/main.py" in names  # the worker's package (no __init__)
    assert "graders/course/student_template/a2/perceptron.py" in names
    assert "graders/course/student_template/notebooks/a2/perceptron.ipynb" in names
    assert "graders/course/student_template/.github/workflows/nngrade.yml" in names
    assert {f"graders/course/assignments/a{n}.md" for n in range(1, 6)} <= names
    assert not any(n.startswith(("reference/", "tests/", "bench/")) for n in names)
    template = (REPO / "student_template" / "a2" / "perceptron.py").read_bytes()
    with zipfile.ZipFile(installed["wheel"]) as wheel:
        assert wheel.read("graders/course/student_template/a2/perceptron.py") == template


def test_the_installed_package_is_not_the_checkout(installed):
    where = subprocess.run(
        [str(installed["bin"] / "python"), "-c", "import graders; print(graders.__file__)"],
        cwd=installed["work"], capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert str(REPO) not in where and "site-packages" in where


def test_a_student_starts_reads_and_checks_from_the_wheel(installed):
    from graders import __version__

    assert nngrade(installed, "--version").strip() == f"nngrade {__version__}"
    assert "Total" in nngrade(installed, "list")
    written = nngrade(installed, "init", "a1", "mine", "--workflow")
    assert "mine/a1/pure.py" in written
    assert (installed["work"] / "mine/.github/workflows/nngrade.yml").is_file()
    assert nngrade(installed, "statement", "a1").startswith("# Assignment 1")
    nngrade(installed, "init", "a1", "mine", status=2)  # never replaces a student's file
    report = json.loads(
        nngrade(installed, "check", "a1", "--submission", "mine", "--format", "json")
    )
    assert report["points"] == 0  # the template: nothing implemented yet
    finished = installed["work"] / "finished"
    shutil.copytree(REFERENCE / "a1", finished / "a1")
    report = json.loads(
        nngrade(installed, "check", "a1", "--submission", "finished", "--format", "json")
    )
    assert report["points"] == 10


def test_an_instructor_grades_compares_and_bundles_from_the_wheel(installed):
    work = installed["work"]
    for student in ("ana", "ben"):
        shutil.copytree(REFERENCE / "a1", work / "class" / student / "a1")
    nngrade(installed, "init", "a1", "class/cleo")  # handed in the template untouched
    nngrade(installed, "grade", "a1", "class", "--out", "out", "--no-progress")
    gradebook = (work / "out" / "gradebook.csv").read_text()
    assert gradebook.count("10") >= 2 and "cleo" in gradebook
    nngrade(installed, "similarity", "a1", "class", "--out", "sim")  # the packaged template
    assert (work / "sim" / "similarity.html").is_file()
    nngrade(installed, "gradescope-bundle", "a1", "--output", "a1.zip")
    with zipfile.ZipFile(work / "a1.zip") as bundle:
        names = set(bundle.namelist())
        pyproject = bundle.read("nngrade/pyproject.toml").decode()
    assert "nngrade/graders/a1/grader.py" in names
    assert "nngrade/graders/course/assignments/a1.md" in names
    assert not any("reference/" in n or "__pycache__" in n for n in names)
    assert 'name = "nngrade"' in pyproject and "numpy" in pyproject
