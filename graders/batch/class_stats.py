"""A class's numbers per assignment, computed once for every summary (Markdown, HTML).

Totals count a submission that could not be graded as 0, as the gradebook does; the
criteria are ranked by the points they cost the class in all, since that is where
teaching time pays most.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graders import catalog
from graders.batch import problems
from graders.batch.records import StudentRecord
from graders.core.results import Status, round_points
from graders.render.plots import histogram_bins


@dataclass(frozen=True)
class CriterionCost:
    id: str
    title: str
    max_points: float
    #: Students who lost points on it, and the points they lost together.
    students: int
    points_lost: float


@dataclass
class AssignmentStats:
    key: str
    title: str
    max_points: float
    #: (student, total) for every student with an outcome for this assignment.
    totals: list[tuple[str, float]] = field(default_factory=list)
    graded: int = 0
    costly: list[CriterionCost] = field(default_factory=list)
    #: Every problem of this assignment, by student (see graders.batch.problems).
    problems: list[tuple[str, problems.Problem]] = field(default_factory=list)

    @property
    def not_graded(self) -> int:
        return len(self.totals) - self.graded

    @property
    def mean(self) -> float:
        return sum(t for _, t in self.totals) / len(self.totals) if self.totals else 0.0

    @property
    def full_marks(self) -> int:
        return sum(t >= self.max_points for _, t in self.totals)

    @property
    def bars(self) -> list[tuple[str, int]]:
        return histogram_bins([t for _, t in self.totals], self.max_points)


def grader_versions(records: list[StudentRecord]) -> str:
    """The nngrade versions that graded these records ("0.1.0", or "0.1.0 and 0.2.0" for a
    class regraded in part): a summary names the grader its numbers came from."""
    found = {
        str(outcome.result["grader_version"])
        for record in records
        for outcome in record.outcomes.values()
        if outcome.result and outcome.result.get("grader_version")
    }
    ordered = sorted(found)
    return " and ".join([", ".join(ordered[:-1]), ordered[-1]] if len(ordered) > 1 else ordered)


def assignment_keys(records: list[StudentRecord]) -> list[str]:
    """Every assignment any student has an outcome for, in course order."""
    return sorted({k for r in records for k in r.outcomes}, key=catalog.course_order)


def assignment_stats(records: list[StudentRecord], key: str) -> AssignmentStats:
    course = catalog.spec(key)
    stats = AssignmentStats(key, course.title, course.points)
    lost: dict[str, list] = {}
    for record in sorted(records, key=lambda r: r.student):
        outcome = record.outcomes.get(key)
        if outcome is None:
            continue
        result = record.result(key)
        stats.totals.append((record.student, record.points(key)))
        stats.problems += [(record.student, p) for p in problems.outcome_problems(outcome, result)]
        if result is None:
            continue
        stats.graded += 1
        for c in result.criteria:
            if c.status not in (Status.PASSED, Status.NOT_RUN) and c.points < c.max_points:
                entry = lost.setdefault(c.id, [c.title, c.max_points, 0, 0.0])
                entry[2] += 1
                entry[3] += c.max_points - c.points
    stats.costly = sorted(
        (CriterionCost(cid, t, m, n, round_points(p)) for cid, (t, m, n, p) in lost.items()),
        key=lambda c: (-c.points_lost, -c.students, c.id),
    )
    return stats
