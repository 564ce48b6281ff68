"""Fixtures shared by the tests (helpers that are not fixtures live in helpers.py)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import FAST_A1, REFERENCE, REPO, SHARED_DATA

from graders import catalog
from graders.core.options import GradeOptions
from graders.core.results import AssignmentResult
from graders.core.runner import grade


@pytest.fixture(scope="session")
def reference_a1() -> AssignmentResult:
    return grade(FAST_A1, REFERENCE)


@pytest.fixture
def grade_a1() -> Callable[..., AssignmentResult]:
    def run(submission: Path, **options) -> AssignmentResult:
        return grade(FAST_A1, submission, GradeOptions(**options))

    return run


@pytest.fixture(scope="session")
def graded_course(tmp_path_factory) -> Callable[[str, str], AssignmentResult]:
    """``graded_course(key, "reference" | "student_template")``: that folder graded with
    the course's own spec, once per session, shared by the contract test and the
    assignment's own tests. Report files (a5's animation) go to a session folder."""
    results: dict[tuple[str, str], AssignmentResult] = {}

    def graded(key: str, folder: str) -> AssignmentResult:
        spec = catalog.spec(key)
        if spec.uses_mnist and not (SHARED_DATA / "MNIST").exists():
            pytest.skip("MNIST is not in ../shared/data")
        missing = [m for m in spec.requires if importlib.util.find_spec(m) is None]
        if missing:
            pytest.skip(f'grading {key} needs pip install "nngrade[{spec.extra}]"')
        if (key, folder) not in results:
            options = GradeOptions(
                data_dir=SHARED_DATA,
                download=False,
                artifacts_dir=tmp_path_factory.mktemp(f"artifacts-{key}-{folder}"),
            )
            results[key, folder] = grade(spec, REPO / folder, options)
        return results[key, folder]

    return graded
