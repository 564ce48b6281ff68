"""Fixtures shared by the tests (helpers that are not fixtures live in helpers.py)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
import strict
from background import BackgroundGradings
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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    strict.fail_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    outcome = yield
    strict.fail_skip(outcome.get_result())


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the gradings under a second kind of sandbox that only the contract needs."""
    default = sandbox_kinds.select("auto").kind
    kinds = {
        (item.callspec.params["key"], item.callspec.params["kind"])
        for item in session.items
        if item.path.name == "test_contract.py" and hasattr(item, "callspec")
    }
    keys = [
        (key, folder, kind)
        for folder in ("reference", "student_template")
        for key in sorted(catalog.assignment_keys(), reverse=True)  # the longest first
        for kind in sorted({k for k_key, k in kinds if k_key == key})
        if kind not in ("auto", default) and _gradable(key) is None
    ]
    if keys:
        background = BackgroundGradings(keys, REPO, SHARED_DATA, session.config.stash[_WORK].parent)
        session.config.stash[_BACKGROUND] = background
        background.start()


def _gradable(key: str) -> str | None:
    """Why ``key`` cannot be graded here (a reason to skip), or None."""
    spec = catalog.spec(key)
    if spec.uses_mnist and not (SHARED_DATA / "MNIST").exists():
        return "MNIST is not in ../shared/data"
    if any(importlib.util.find_spec(m) is None for m in spec.requires):
        return f'grading {key} needs pip install "nngrade[{spec.extra}]"'
    return None


def pytest_unconfigure(config: pytest.Config) -> None:
    background = config.stash.get(_BACKGROUND, None)
    if background is not None:
        background.stop()
    work = config.stash.get(_WORK, None)
    if work is not None:
        _end_warm_graders(work)
        shutil.rmtree(work, ignore_errors=True)


def _end_warm_graders(work: Path) -> None:
    """Warm graders that checks of this session started (``nngrade check`` of the wheel)
    listen in the session's TMPDIR: they end with it, not 15 idle minutes later."""
    from helpers import live_processes

    for pid, command in live_processes().items():
        if "graders.warm.server" in command and str(work) in command:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


_WORK = pytest.StashKey[Path]()
_BACKGROUND = pytest.StashKey[BackgroundGradings]()


@pytest.fixture(scope="session")
def reference_a1() -> AssignmentResult:
    return grade(FAST_A1, REFERENCE)


@pytest.fixture
def grade_a1() -> Callable[..., AssignmentResult]:
    def run(submission: Path, **options) -> AssignmentResult:
        return grade(FAST_A1, submission, GradeOptions(**options))

    return run


@pytest.fixture(scope="session")
def graded_course(request, tmp_path_factory) -> Callable[..., AssignmentResult]:
    """``graded_course(key, "reference" | "student_template", confinement="auto")``: that
    folder graded with the course's own spec under that kind of sandbox, once per session,
    shared by the contract test and the assignment's own tests ("auto" is the kind it
    selects, so it shares that kind's result). Report files (a5's animation) go to a
    session folder."""
    results: dict[tuple[str, str, str], AssignmentResult] = {}
    background = request.config.stash.get(_BACKGROUND, None)

    def graded(key: str, folder: str, confinement: str = "auto") -> AssignmentResult:
        spec = catalog.spec(key)
        reason = _gradable(key)
        if reason is not None:
            pytest.skip(reason)
        kind = sandbox_kinds.select(confinement).kind
        if background is not None and (key, folder, kind) in background:
            return background.result((key, folder, kind))
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
