"""The result objects every front end renders: one grading core, many formats."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

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
    limits: str = ""
    submission: str = ""
    duration_s: float = 0.0
    internal_errors: list[str] = field(default_factory=list)
    output_tail: dict[str, str] = field(default_factory=dict)
    #: Files saved for the report, e.g. "episode animation: a5-episode.gif".
    artifacts: list[str] = field(default_factory=list)
    #: Numbers a feedback page can plot: "history" (a3: train_loss and val_accuracy per
    #: epoch), "returns" (a5: the return of each evaluation episode).
    series: dict[str, list] = field(default_factory=dict)

    @property
    def points(self) -> float:
        return round_points(sum(c.points for c in self.criteria))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["points"] = self.points
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AssignmentResult:
        data = dict(data)
        data.pop("points", None)
        data["criteria"] = [
            CriterionResult(**{**c, "status": Status(c["status"])})
            for c in data.get("criteria", [])
        ]
        data["violations"] = [Violation(**v) for v in data.get("violations", [])]
        return cls(**data)


@dataclass
class LabResult:
    """Several assignments of one submission and the lab total (see graders.catalog)."""

    assignments: list[AssignmentResult]
    missing: list[str]
    #: The whole lab's points and the points needed to pass it.
    max_points: float
    minimum_points: float

    @property
    def points(self) -> float:
        return round_points(sum(a.points for a in self.assignments))

    @property
    def meets_minimum(self) -> bool:
        return self.points >= self.minimum_points

    def to_dict(self) -> dict[str, Any]:
        return {
            "assignments": [a.to_dict() for a in self.assignments],
            "missing": self.missing,
            "points": self.points,
            "max_points": self.max_points,
            "minimum_points": self.minimum_points,
            "meets_minimum": self.meets_minimum,
        }
