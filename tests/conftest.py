"""Fixtures shared by the tests (helpers that are not fixtures live in helpers.py)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import FAST_A1, REFERENCE, REPO, SHARED_DATA

from graders import catalog
from graders.core.options import GradeOptions
from graders.core.results import AssignmentResult
from graders.core.runner import grade
from graders.sandbox import confinement as sandbox_kinds


def pytest_configure(config: pytest.Config) -> None:
    """Every folder this session's grading makes (sandboxes, staged copies, batch jobs,
    pytest's own temporary folders) lies in one private folder: the checks "no worker and
    no folder is left behind" then see this session's alone, on a machine where other
    graders run too. Workers of other uids must be able to pass through it."""
    work = Path(tempfile.mkdtemp(prefix="nngrade-tests-"))
    os.chmod(work, 0o711)
    os.environ["NNGRADE_WORK_DIR"] = os.environ["TMPDIR"] = str(work)
    tempfile.tempdir = None  # read TMPDIR again
    config.stash[_WORK] = work


def pytest_unconfigure(config: pytest.Config) -> None:
    work = config.stash.get(_WORK, None)
    if work is not None:
        shutil.rmtree(work, ignore_errors=True)


_WORK = pytest.StashKey[Path]()


@pytest.fixture(scope="session")
def reference_a1() -> AssignmentResult:
    return grade(FAST_A1, REFERENCE)


@pytest.fixture
def grade_a1() -> Callable[..., AssignmentResult]:
    def run(submission: Path, **options) -> AssignmentResult:
        return grade(FAST_A1, submission, GradeOptions(**options))

    return run


@pytest.fixture(scope="session")
def graded_course(tmp_path_factory) -> Callable[..., AssignmentResult]:
    """``graded_course(key, "reference" | "student_template", confinement="auto")``: that
    folder graded with the course's own spec under that kind of sandbox, once per session,
    shared by the contract test and the assignment's own tests ("auto" is the kind it
    selects, so it shares that kind's result). Report files (a5's animation) go to a
    session folder."""
    results: dict[tuple[str, str, str], AssignmentResult] = {}

    def graded(key: str, folder: str, confinement: str = "auto") -> AssignmentResult:
        spec = catalog.spec(key)
        if spec.uses_mnist and not (SHARED_DATA / "MNIST").exists():
            pytest.skip("MNIST is not in ../shared/data")
        missing = [m for m in spec.requires if importlib.util.find_spec(m) is None]
        if missing:
            pytest.skip(f'grading {key} needs pip install "nngrade[{spec.extra}]"')
        kind = sandbox_kinds.select(confinement).kind
        if (key, folder, kind) not in results:
            options = GradeOptions(
                data_dir=SHARED_DATA,
                download=False,
                confinement=kind,
                artifacts_dir=tmp_path_factory.mktemp(f"artifacts-{key}-{folder}-{kind}"),
            )
            results[key, folder, kind] = grade(spec, REPO / folder, options)
        return results[key, folder, kind]

    return graded
