"""The result objects every front end renders: one grading core, many formats."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from typing import Any

from graders.failures import Failure
from graders.sandbox.text import clean_line


class ValueEnum(str, Enum):
    """An enum of strings that reads as its value in text, JSON and comparisons."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


class Status(ValueEnum):
    """What became of a criterion; the value is what reports and JSON records show."""

    PASSED = "passed"
    PARTIAL = "partial"
    FAILED = "failed"
    #: A broken framework rule zeroed it.
    VIOLATION = "violation"
    #: The grader itself failed (an infrastructure error, never the student's fault).
    ERROR = "error"
    #: Left out of a partial run (``--only``): no points, and nothing was judged.
    NOT_RUN = "not run"


class GradedAs(ValueEnum):
    """Whether a result's points count: how the run that made it was set up."""

    #: Graded as the course grades (every layer that shared grading needs was required,
    #: so grading refused to run without one): the points count.
    COURSE = "course"
    #: A student's own check: the same points, but only the course's grading counts.
    OWN_CHECK = "own check"
    #: Graded with --insecure-sandbox: the points must not count for a grade.
    INSECURE = "insecure"


def round_points(value: float) -> float:
    """Points are kept to two decimals so that totals add up exactly as displayed."""
    return round(value + 0.0, 2)


def clean_text(text: str, limit: int = 500) -> str:
    """Student-controlled text on one line: no control characters, bounded length."""
    return clean_line(text, limit)


def format_points(value: float) -> str:
    return f"{round_points(value):.2f}".rstrip("0").rstrip(".")


@dataclass
class CriterionResult:
    id: str
    title: str
    max_points: float
    points: float
    status: Status
    reason: str = ""
    visibility: str = "visible"
    duration_s: float = 0.0
    seed: int = 0
    #: What went wrong in it, as values (the reason is the same told to people).
    failures: list[Failure] = field(default_factory=list)

    @property
    def lost(self) -> float:
        return round_points(self.max_points - self.points)


@dataclass
class Violation:
    """A broken import rule: where it happened and how it was detected."""

    rule: str
    summary: str
    module: str
    file: str
    line: int
    detected_by: str  # "static scan" | "runtime import blocker" | "loaded library"

    def describe(self) -> str:
        location = f"{self.file}:{self.line}" if self.line else self.file
        return f"{location} imports {self.module} ({self.detected_by}): {self.summary}"


def unique_violations(violations: list[Violation]) -> list[Violation]:
    """One report per rule, file, line and top-level module (``from x import y`` yields both)."""
    seen: set[tuple] = set()
    unique = []
    for v in violations:
        key = (v.rule, v.file, v.line, v.module.partition(".")[0])
        if key not in seen:
            seen.add(key)
            unique.append(v)
    return unique


@dataclass
class AssignmentResult:
    assignment: str
    title: str
    max_points: float
    criteria: list[CriterionResult] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    grader_version: str = ""
    seed: int = 0
    confinement: str = ""
    layers: list[str] = field(default_factory=list)
    #: Whether these points count (None: a record made before nngrade recorded it).
    graded_as: GradedAs | None = None
    limits: str = ""
    #: "public": the inputs anyone can read in the grader; "secret": drawn from the
    #: course's secret seed and the student's id (never the seed itself).
    inputs: str = "public"
    submission: str = ""
    duration_s: float = 0.0
    internal_errors: list[str] = field(default_factory=list)
    output_tail: dict[str, str] = field(default_factory=dict)
    #: Files saved for the report, e.g. "episode animation: a5-episode.gif".
    artifacts: list[str] = field(default_factory=list)
    #: Numbers a feedback page can plot: "history" (a3: train_loss and val_accuracy per
    #: epoch), "returns" (a5: the return of each evaluation episode).
    series: dict[str, list] = field(default_factory=dict)
    #: CPU seconds the kernel counted for the calls with a grading budget (training), per
    #: sandbox: what a budget was compared with, for an instructor asked about it.
    budget_cpu_s: dict[str, float] = field(default_factory=dict)
    #: Failures of the submission as a whole (a missing file, one that does not parse);
    #: None in a record written before failures were recorded as values.
    failures: list[Failure] | None = None

    @property
    def points(self) -> float:
        return round_points(sum(c.points for c in self.criteria))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["points"] = self.points
        if self.failures is not None:
            data["failures"] = [f.to_dict() for f in self.failures]
        for criterion, record in zip(self.criteria, data["criteria"], strict=True):
            record["failures"] = [f.to_dict() for f in criterion.failures]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AssignmentResult:
        """Read a record back, also one written by another version of nngrade: fields it
        does not know are left out, fields it lacks take their defaults."""
        data = _known_fields(cls, data)
        data["criteria"] = [
            CriterionResult(
                **{
                    **_known_fields(CriterionResult, c),
                    "status": Status(c["status"]),
                    "failures": _failures(c.get("failures")) or [],
                }
            )
            for c in data.get("criteria", [])
        ]
        data["failures"] = _failures(data.get("failures"))
        data["violations"] = [
            Violation(**_known_fields(Violation, v)) for v in data.get("violations", [])
        ]
        data["graded_as"] = GradedAs(data["graded_as"]) if data.get("graded_as") else None
        return cls(**data)


def _failures(records: object) -> list[Failure] | None:
    """Failures read back (kinds this version does not know left out); None: not recorded."""
    if not isinstance(records, list):
        return None
    read = (Failure.from_dict(r) for r in records if isinstance(r, dict))
    return [failure for failure in read if failure is not None]


def _known_fields(kind: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(kind)}
    return {key: value for key, value in data.items() if key in names}


@dataclass
class NotGraded:
    """An assignment that a run could not grade: why, and what to do so that it is."""

    assignment: str
    title: str
    reason: str
    #: What to do (a command, a folder to add); empty when the reason says it all.
    fix: str = ""
    #: The kind of reason, for programs ("missing-data", ...; see graders.core.not_graded).
    cause: str = ""


@dataclass
class LabResult:
    """Several assignments of one submission and the lab total (see graders.catalog)."""

    assignments: list[AssignmentResult]
    #: Assignments without a result (0 points in the lab total).
    missing: list[str]
    #: The whole lab's points and the points needed to pass it.
    max_points: float
    minimum_points: float
    #: Why assignments of ``missing`` were not graded and what to do, where the run knows.
    not_graded: list[NotGraded] = field(default_factory=list)

    @property
    def points(self) -> float:
        return round_points(sum(a.points for a in self.assignments))

    @property
    def graded_max_points(self) -> float:
        """The points of the assignments graded: what ``points`` is out of so far."""
        return round_points(sum(a.max_points for a in self.assignments))

    @property
    def meets_minimum(self) -> bool:
        return self.points >= self.minimum_points

    def to_dict(self) -> dict[str, Any]:
        return {
            "assignments": [a.to_dict() for a in self.assignments],
            "missing": self.missing,
            "not_graded": [asdict(n) for n in self.not_graded],
            "points": self.points,
            "graded_max_points": self.graded_max_points,
            "max_points": self.max_points,
            "minimum_points": self.minimum_points,
            "meets_minimum": self.meets_minimum,
        }
