"""The pytest plugin that turns a grader module into scored criteria.

A grader is an ordinary pytest module whose tests carry ``@criterion(...)``: the plugin
checks that the points add up to the assignment's total, seeds every RNG per criterion,
and records each outcome as a :class:`CriterionResult` with a one-line reason.
"""

from __future__ import annotations

import contextlib
import random
import sys
import time
from collections.abc import Iterator

import numpy
import pytest

from graders.core import progress
from graders.core.context import GradingContext
from graders.core.reasons import join_reasons
from graders.core.results import CriterionResult, Status, round_points
from graders.failures import Failure, FailureKind
from graders.sandbox.sandbox import StudentCodeError
from graders.sandbox.text import clip_words

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
CONTEXT_KEY = pytest.StashKey[GradingContext]()
PLUGIN_KEY = pytest.StashKey["GradingPlugin"]()


def criterion(
    id: str, points: float, title: str, visibility: str = "visible"
) -> pytest.MarkDecorator:
    """Declare the criterion a grader test scores: its id, points, title and visibility."""
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {VISIBILITIES}")
    return pytest.mark.criterion(id=id, points=points, title=title, visibility=visibility)


class CriterionFailed(AssertionError):
    """Raised by graders with the exact one-line reason to show the student."""


class Credit:
    """Partial credit for the running criterion: a fraction, or equal-weight parts."""

    def __init__(self) -> None:
        self.fraction: float | None = None
        self.reasons: list[str] = []
        #: Failures of student code within parts that failed (the rest still count).
        self.failures: list[Failure] = []
        self._parts: list[str] = []
        self._passed: set[str] = set()

    def award(self, fraction: float, reason: str = "") -> None:
        self.fraction = min(1.0, max(0.0, fraction))
        if reason:
            self.reasons.append(reason)

    def tiered(self, value: float, tiers: list[tuple[float, float]], describe: str) -> None:
        """Award the fraction of the first tier whose threshold ``value`` reaches."""
        for threshold, fraction in sorted(tiers, reverse=True):
            if value >= threshold:
                self.award(fraction, describe)
                return
        self.award(0.0, describe)

    def parts(self, names: tuple[str, ...] | list[str]) -> Credit:
        self._parts = list(names)
        return self

    @contextlib.contextmanager
    def check(self, name: str) -> Iterator[None]:
        """Score one part: an assertion or student error inside fails that part only."""
        if name not in self._parts:
            raise KeyError(f"unknown part {name!r}")
        try:
            yield
        except (AssertionError, StudentCodeError) as exc:
            self.reasons.append(_one_line(exc))
            if isinstance(exc, StudentCodeError):
                self.failures.append(exc.failure)
        else:
            self._passed.add(name)

    def settle(self) -> None:
        if self._parts:
            self.fraction = len(self._passed & set(self._parts)) / len(self._parts)


def _one_line(exc: BaseException, limit: int = 400) -> str:
    text = exc.reason if isinstance(exc, StudentCodeError) else str(exc)
    text = " ".join(text.strip().split()) or exc.__class__.__name__
    notes = [n for n in getattr(exc, "__notes__", []) if n.startswith("Falsifying example")]
    if notes:
        text += " | " + " ".join(notes[0].split())
    return clip_words(text, limit)


def _timed_out(exc: BaseException) -> bool:
    """pytest-timeout's stop of the whole criterion: its own exception (pytest's
    ``Failed``) raised by the grader's process, whose message is pytest-timeout's."""
    return type(exc).__name__ == "Failed" and str(exc).lstrip().startswith("Timeout")


def _is_student_failure(exc: BaseException) -> bool:
    if isinstance(exc, (AssertionError, StudentCodeError)):
        return True
    return type(exc).__name__ in ("Failed",)  # pytest.fail / pytest-timeout


def _rank(first: tuple[str, ...], cid: str) -> int:
    """Where criterion ``cid`` runs: those in ``first`` in that order, then the rest."""
    return first.index(cid) if cid in first else len(first)


class GradingPlugin:
    """Collects one :class:`CriterionResult` per grader test."""

    def __init__(self, context: GradingContext):
        self.context = context
        self.results: dict[str, CriterionResult] = {}
        self.collection_errors: list[str] = []
        self._credit: dict[str, Credit] = {}
        self._started: dict[str, float] = {}
        #: Criteria named in ``only`` that this grader does not have.
        self.unknown_criteria: list[str] = []
        #: Every criterion id of the grader, in order.
        self.criterion_ids: list[str] = []
        #: Ctrl+C or a stop signal while criteria ran: pytest ends the session and returns,
        #: and the grading must end with it, never report the criteria it had reached.
        self.interrupted: BaseException | None = None

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo) -> None:
        self.interrupted = excinfo.value

    def _not_run(self, declared: dict) -> None:
        self.results[declared["id"]] = CriterionResult(
            id=declared["id"],
            title=declared["title"],
            max_points=float(declared["points"]),
            points=0.0,
            status=Status.NOT_RUN,
            reason="not graded in this run (--only)",
            visibility=declared.get("visibility", "visible"),
        )

    # -- configuration and collection ------------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "criterion(id, points, title, visibility): scored test")
        config.stash[CONTEXT_KEY] = self.context
        config.stash[PLUGIN_KEY] = self

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(str(report.longrepr)[-2000:])

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        total = 0.0
        seen: set[str] = set()
        for item in items:
            marker = item.get_closest_marker("criterion")
            if marker is None:
                raise pytest.UsageError(f"grader test {item.nodeid} declares no @criterion")
            cid = marker.kwargs["id"]
            if cid in seen:
                raise pytest.UsageError(f"criterion {cid} is declared twice")
            seen.add(cid)
            self.criterion_ids.append(cid)
            total += marker.kwargs["points"]
        expected = self.context.assignment.points
        if items and round_points(total) != round_points(expected):
            raise pytest.UsageError(f"grader criteria add up to {total}, not {expected} points")
        only = self.context.options.only
        if only:
            self.unknown_criteria = sorted(set(only) - seen)
            kept = [i for i in items if i.get_closest_marker("criterion").kwargs["id"] in only]
            if self.unknown_criteria:  # a typo: run nothing, the runner reports it
                kept = []
            for item in items:
                if item not in kept:
                    self._not_run(item.get_closest_marker("criterion").kwargs)
            config.hook.pytest_deselected(items=[i for i in items if i not in kept])
            items[:] = kept
        declared = [item.get_closest_marker("criterion").kwargs for item in items]
        first = self.context.assignment.run_first
        items.sort(key=lambda i: _rank(first, i.get_closest_marker("criterion").kwargs["id"]))
        self._tell(progress.CriteriaCollected(
            self.context.assignment.key, tuple((d["id"], d["title"]) for d in declared)
        ))  # fmt: skip

    def _tell(self, event: progress.Event) -> None:
        if self.context.progress is not None:
            self.context.progress(event)

    # -- running ---------------------------------------------------------------------------
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        cid = item.get_closest_marker("criterion").kwargs["id"]
        seed = self.context.seed_for(cid)
        random.seed(seed)
        numpy.random.seed(seed)
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.manual_seed(seed)
        for sandbox in self.context.sandboxes.values():
            sandbox.begin_criterion()
        self._credit[cid] = Credit()
        self._started[cid] = time.monotonic()
        title = item.get_closest_marker("criterion").kwargs["title"]
        self._tell(progress.CriterionStarted(self.context.assignment.key, cid, title))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        report = outcome.get_result()
        marker = item.get_closest_marker("criterion")
        cid = marker.kwargs["id"]
        if report.when == "call" or (report.failed and cid not in self.results):
            result = self.results[cid] = self._score(marker.kwargs, report, call)
            self._tell(progress.CriterionFinished(
                self.context.assignment.key, cid, result.title, str(result.status),
                result.points, result.max_points, result.duration_s,
            ))  # fmt: skip

    def _score(
        self, declared: dict, report: pytest.TestReport, call: pytest.CallInfo
    ) -> CriterionResult:
        cid = declared["id"]
        points = float(declared["points"])
        credit = self._credit.get(cid, Credit())
        credit.settle()
        result = CriterionResult(
            id=cid,
            title=declared["title"],
            max_points=points,
            points=0.0,
            status=Status.FAILED,
            visibility=declared.get("visibility", "visible"),
            duration_s=round(time.monotonic() - self._started.get(cid, time.monotonic()), 3),
            seed=self.context.seed_for(cid),
            failures=list(dict.fromkeys(credit.failures)),
        )
        if report.passed:
            fraction = 1.0 if credit.fraction is None else credit.fraction
            result.points = round_points(points * fraction)
            result.status = (
                Status.PASSED
                if fraction >= 1
                else (Status.PARTIAL if fraction > 0 else Status.FAILED)
            )
            result.reason = join_reasons(credit.reasons)
            return result
        exc = call.excinfo.value if call.excinfo is not None else None
        if exc is not None and _is_student_failure(exc):
            result.reason = _one_line(exc)
            if isinstance(exc, StudentCodeError):
                result.failures.append(exc.failure)
            elif _timed_out(exc):
                result.reason = "grading this criterion took too long and was stopped"
                result.failures.append(Failure(FailureKind.TIMED_OUT, cid, None, result.reason))
        else:
            result.status = Status.ERROR
            detail = _one_line(exc) if exc is not None else str(report.longrepr)[-300:]
            name = type(exc).__name__ if exc is not None else "error"
            result.reason = f"internal grader error ({name}: {detail}); please report it"
            result.failures.append(Failure(FailureKind.GRADER_ERROR, cid, None, result.reason))
        return result


# -- fixtures available to every grader ------------------------------------------------------
@pytest.fixture
def grading(request: pytest.FixtureRequest) -> GradingContext:
    """The grading context: sandboxes of the submission under test, seeds, budget."""
    return request.config.stash[CONTEXT_KEY]


@pytest.fixture
def credit(request: pytest.FixtureRequest) -> Credit:
    """Partial credit for the criterion of the requesting test."""
    plugin = request.config.stash[PLUGIN_KEY]
    cid = request.node.get_closest_marker("criterion").kwargs["id"]
    return plugin._credit.setdefault(cid, Credit())


@pytest.fixture
def seed(request: pytest.FixtureRequest, grading: GradingContext) -> int:
    """The fixed seed of the requesting criterion (pass it to student training code)."""
    return grading.seed_for(request.node.get_closest_marker("criterion").kwargs["id"])


@pytest.fixture
def rng(
    request: pytest.FixtureRequest, seed: int, grading: GradingContext
) -> numpy.random.Generator:
    """A numpy generator for the requesting criterion's inputs: seeded from the public base
    seed, or, for an assignment with secret inputs graded with the course's secret seed,
    drawn for this student from that seed (``GradingContext.secret_rng``). Seeds handed to
    student code (the ``seed`` fixture) stay public: they are the student's to use."""
    secret = grading.secret_rng(request.node.get_closest_marker("criterion").kwargs["id"])
    return secret if secret is not None else numpy.random.default_rng(seed)
