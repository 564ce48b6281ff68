"""Which students' points a run moved, by how much, in which criteria, and why.

Before grading, the run notes every (student, assignment) as the previous run left it in
the output folder: its points after adjustments, per criterion, its status, what it was
computed from (``Outcome.inputs``: the submission's content hash, the grader's version
and source, the seed, the secrets' fingerprint, the evaluation set) and its adjustments.
After grading and adjusting it notes them again; a mark whose points differ is a move,
and the differences in what it was computed from say why. A mark with nothing to
compare to (graded for the first time) is not a move.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from graders import catalog
from graders.batch.adjustments import ALL, Applied
from graders.batch.job import JobStatus
from graders.batch.records import StudentRecord
from graders.core.results import format_points, round_points

#: What the points were computed from, with the words a reason uses for each: digests
#: ("submission changed (content hash 3fa2... → 9bc1...)"), then values ("seed 1 → 2").
DIGESTS = {
    "submission": "submission changed (content hash",
    "grader_source": "grader source changed (hash",
    "evaluation_set": "evaluation set changed (hash",
}
VALUES = {"grader": "grader version", "seed": "seed", "secrets": "secrets fingerprint"}


@dataclass(frozen=True)
class Mark:
    """One student's assignment as a run left it."""

    status: str
    points: float
    #: Criterion id -> points after the criterion adjustments; ALL -> what the adjustments
    #: of the total changed.
    criteria: dict[str, float]
    inputs: dict[str, str]
    adjustments: tuple[Applied, ...] = ()


@dataclass
class Move:
    student: str
    assignment: str
    before: Mark
    after: Mark
    #: (criterion, before, after) for every criterion whose points moved.
    criteria: list[tuple[str, float, float]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def delta(self) -> float:
        return round_points(self.after.points - self.before.points)


@dataclass
class Comparison:
    moves: list[Move] = field(default_factory=list)
    #: (student, assignment) graded for the first time in this folder.
    new: list[tuple[str, str]] = field(default_factory=list)
    #: Marks compared whose points did not move.
    unchanged: int = 0

    @property
    def students(self) -> list[str]:
        return sorted({move.student for move in self.moves})


def marks(records: Iterable[StudentRecord]) -> dict[tuple[str, str], Mark]:
    """Every (student, assignment) of ``records`` as a Mark."""
    found = {}
    for record in records:
        for key, outcome in record.outcomes.items():
            result = record.result(key)
            criteria = {c.id: c.points for c in result.criteria} if result else {}
            adjusted = record.adjusted.get(key)
            if adjusted is not None:
                criteria.update(adjusted.criteria)
                criteria[ALL] = round_points(sum(a.effect for a in adjusted.applied
                                                 if a.criterion == ALL))  # fmt: skip
            inputs = {}
            if result is not None and result.grader_version:  # records made before inputs
                inputs = {"grader": result.grader_version, "seed": str(result.seed)}
            inputs.update(outcome.inputs)
            found[(record.student, key)] = Mark(
                str(outcome.status), record.points(key), criteria, inputs,
                tuple(adjusted.applied) if adjusted else (),
            )  # fmt: skip
    return found


def compare(before: dict[tuple[str, str], Mark], after: dict[tuple[str, str], Mark]) -> Comparison:
    comparison = Comparison()
    for (student, key), now in sorted(
        after.items(), key=lambda i: (i[0][0], catalog.course_order(i[0][1]))
    ):
        then = before.get((student, key))
        if then is None:
            comparison.new.append((student, key))
            continue
        moved = [
            (cid, then.criteria.get(cid, 0.0), now.criteria.get(cid, 0.0))
            for cid in dict.fromkeys([*then.criteria, *now.criteria])
            if round_points(then.criteria.get(cid, 0.0)) != round_points(now.criteria.get(cid, 0.0))
        ]
        if round_points(then.points) == round_points(now.points) and not moved:
            comparison.unchanged += 1
            continue
        comparison.moves.append(Move(student, key, then, now, moved, reasons(then, now)))
    return comparison


def reasons(then: Mark, now: Mark) -> list[str]:
    """Why ``then`` became ``now``, most telling first."""
    found = []
    if then.status != now.status:
        found.append(f"was {_status(then.status)}, now {_status(now.status)}")
    unknown = []
    for name, words in {**DIGESTS, **VALUES}.items():
        old, new = then.inputs.get(name), now.inputs.get(name)
        if old == new:
            continue
        if old is None or new is None:
            unknown.append(name.replace("_", " "))
        elif name in DIGESTS:
            found.append(f"{words} {_short(old)} → {_short(new)})")
        else:
            found.append(f"{words} {old or 'none'} → {new or 'none'}")
    if unknown:
        found.append(f"not recorded by one of the runs, so not compared: {', '.join(unknown)}")
    found += _adjustment_reasons(then.adjustments, now.adjustments)
    if not found:
        found.append(
            "nothing it was computed from changed: the grading gave different points "
            "(a criterion that depends on timing or chance?)"
        )
    return found


def _adjustment_reasons(old: tuple[Applied, ...], new: tuple[Applied, ...]) -> list[str]:
    """New, removed and changed adjustments (one of each criterion and author that
    changed its value is a change, not a removal and an addition)."""
    old_keys, new_keys = {a.key() for a in old}, {a.key() for a in new}
    removed = [a for a in old if a.key() not in new_keys]
    added = [a for a in new if a.key() not in old_keys]
    found = []
    for adjustment in added:
        twin = next((r for r in removed if (r.criterion, r.who) == (adjustment.criterion,
                                                                    adjustment.who)), None)  # fmt: skip
        if twin is not None:
            removed.remove(twin)
            found.append(f"changed adjustment: {_target(adjustment)} {twin.change} → "
                         f"{adjustment.change} ({adjustment.reason}; {adjustment.who})")  # fmt: skip
        else:
            found.append(f"new adjustment: {_target(adjustment)} {adjustment.change} "
                         f"({adjustment.reason}; {adjustment.who})")  # fmt: skip
    found += [f"adjustment removed: {_target(a)} {a.change} ({a.reason}; {a.who})" for a in removed]
    return found


def _target(adjustment: Applied) -> str:
    return "total" if adjustment.criterion == ALL else adjustment.criterion


def _status(status: str) -> str:
    return "graded" if status == JobStatus.OK else f"not graded ({status})"


def _short(value: str | None) -> str:
    """A digest's first 12 characters (enough to tell two apart); other values whole."""
    if value and len(value) >= 32 and all(c in "0123456789abcdef" for c in value):
        return value[:12]
    return value or ""


def signed(value: float) -> str:
    return f"{'+' if value >= 0 else ''}{format_points(value)}"
