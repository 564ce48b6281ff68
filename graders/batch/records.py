"""Per-student records: one JSON file per student that accumulates every assignment graded.

A record maps each assignment to its latest outcome (points or the reason there are none)
and the fingerprint it was graded with, so a later run can tell what is unchanged. Where
adjustments apply (``graders.batch.adjustments``), the record also keeps them and the
points they make: a student's points are those, the automatic ones stay in the outcome.
Records are written atomically: an interrupted run leaves the previous file intact.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from graders import catalog
from graders.batch.adjustments import Adjusted
from graders.batch.job import JobStatus, Outcome
from graders.core.results import AssignmentResult, round_points


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


class StudentRecord:
    def __init__(
        self,
        student: str,
        outcomes: dict[str, Outcome] | None = None,
        adjusted: dict[str, Adjusted] | None = None,
    ) -> None:
        self.student = student
        self.outcomes: dict[str, Outcome] = dict(outcomes or {})
        #: Assignment -> its points after adjustments, for assignments that have any.
        self.adjusted: dict[str, Adjusted] = dict(adjusted or {})

    # -- persistence --------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> StudentRecord | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            outcomes = {key: Outcome.from_json(value) for key, value in data["outcomes"].items()}
            adjusted = {k: Adjusted.from_json(v) for k, v in data.get("adjusted", {}).items()}
            return cls(data["student"], outcomes, adjusted)
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing or damaged: that student is simply graded again

    def save(self, path: Path) -> None:
        write_atomically(path, json.dumps(self.to_json(), indent=2, sort_keys=False) + "\n")

    def to_json(self) -> dict:
        data = {
            "student": self.student,
            "lab_points": self.lab_points,
            "meets_minimum": self.meets_minimum,
            "outcomes": {key: asdict(outcome) for key, outcome in sorted(self.outcomes.items())},
        }
        if self.adjusted:
            data["adjusted"] = {k: v.to_json() for k, v in sorted(self.adjusted.items())}
        return data

    # -- views --------------------------------------------------------------------------
    def result(self, assignment: str) -> AssignmentResult | None:
        outcome = self.outcomes.get(assignment)
        if outcome is None or outcome.result is None:
            return None
        return AssignmentResult.from_dict(outcome.result)

    def automatic_points(self, assignment: str) -> float:
        """The grader's points, before any adjustment."""
        result = self.result(assignment)
        return result.points if result is not None else 0.0

    def points(self, assignment: str) -> float:
        """The points that count: the automatic ones after the adjustments."""
        adjusted = self.adjusted.get(assignment)
        return adjusted.final if adjusted is not None else self.automatic_points(assignment)

    @property
    def lab_points(self) -> float:
        return round_points(sum(self.points(key) for key in self.outcomes))

    @property
    def meets_minimum(self) -> bool:
        return self.lab_points >= catalog.pass_mark()

    def up_to_date(self, assignment: str, fingerprint: str) -> bool:
        """Graded before with this fingerprint (submission, grader, secrets and options).

        An infrastructure error is not final: that job runs again next time."""
        outcome = self.outcomes.get(assignment)
        return (
            outcome is not None
            and outcome.fingerprint == fingerprint
            and outcome.status != JobStatus.ERROR
        )
