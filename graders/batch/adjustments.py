"""Adjustments: points an instructor or a policy adds to, takes from or sets on the
automatic points, applied after grading on every run so that a regrade keeps them.

An adjustment targets one criterion of an assignment, or its total (``*``). Its change
is one of ``+1`` / ``-2.5`` (points), ``-10%`` / ``+10%`` (a share of the maximum: the
criterion's, or the assignment's for ``*``, so that rows add up whatever the points
were) or ``=3`` (set the points). Criterion rows apply first, in order, then the rows
for the total; after each one the points are kept within 0 and the maximum, and what the
row actually changed is recorded next to what it asked for.

Rows come from ``adjustments.csv`` (``graders.batch.adjustments_file``) and from the
late policy (``graders.batch.late``); this module only knows what they do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from graders.core.results import AssignmentResult, format_points, round_points

#: The criterion (or student) of a row that applies to the assignment total (or everyone).
ALL = "*"

_NUMBER = r"(\d+(?:[.,]\d+)?)"
_DELTA = re.compile(rf"^([+-])\s*{_NUMBER}\s*(%?)$")
_SET = re.compile(rf"^=\s*{_NUMBER}$")


@dataclass(frozen=True)
class Change:
    """What a row does to the points: ``add`` points, add a ``percent`` of the maximum,
    or ``set`` them."""

    kind: str
    value: float

    @classmethod
    def parse(cls, text: str) -> Change:
        """``+1``, ``-2.5``, ``-10%``, ``=3``; a comma works as the decimal mark as well.
        Raises ValueError with what to write instead."""
        written = text.strip().replace("\u2212", "-")  # a spreadsheet's minus sign
        delta, assign = _DELTA.match(written), _SET.match(written)
        if delta:
            sign = -1.0 if delta.group(1) == "-" else 1.0
            value = sign * float(delta.group(2).replace(",", "."))
            return cls("percent" if delta.group(3) else "add", value)
        if assign:
            return cls("set", float(assign.group(1).replace(",", ".")))
        raise ValueError(
            "write +1 or -1 to add or take away points, -10% for a share of the maximum, "
            "or =3 to set the points"
        )

    def text(self) -> str:
        number = format_points(abs(self.value))
        if self.kind == "set":
            return f"={format_points(self.value)}"
        sign = "-" if self.value < 0 else "+"
        return f"{sign}{number}{'%' if self.kind == 'percent' else ''}"

    def target(self, before: float, maximum: float) -> float:
        """The points this change asks for, before the bounds."""
        if self.kind == "set":
            return self.value
        if self.kind == "percent":
            return before + self.value / 100 * maximum
        return before + self.value


@dataclass(frozen=True)
class Adjustment:
    student: str  # a student id, or ALL: every student with an outcome for the assignment
    assignment: str
    criterion: str  # a criterion id, or ALL: the assignment's total
    change: Change
    reason: str
    who: str
    when: str = ""
    #: Where the row comes from, e.g. "adjustments.csv line 4" or "late policy".
    source: str = ""

    def applies_to(self, student: str) -> bool:
        return self.student in (ALL, student)


@dataclass(frozen=True)
class Applied:
    """One row as it applied to one student's assignment."""

    criterion: str
    change: str  # as written: "+1", "-10%", "=3"
    reason: str
    who: str
    when: str
    source: str
    before: float
    after: float
    maximum: float

    @property
    def effect(self) -> float:
        return round_points(self.after - self.before)

    @property
    def bounded(self) -> bool:
        """The row asked for more (or less) than the bounds allowed."""
        return self.after in (0.0, self.maximum) and self.effect != self._asked

    @property
    def _asked(self) -> float:
        change = Change.parse(self.change)
        return round_points(change.target(self.before, self.maximum) - self.before)

    def key(self) -> tuple[str, str, str, str]:
        """What identifies the row across runs (not its numbers, which follow the points)."""
        return (self.criterion, self.change, self.reason, self.who)


@dataclass
class Adjusted:
    """An assignment's points after its adjustments."""

    automatic: float
    final: float
    maximum: float
    #: Criterion id -> points after the criterion rows (the criteria of a result only).
    criteria: dict[str, float] = field(default_factory=dict)
    applied: list[Applied] = field(default_factory=list)
    #: Rows that could not apply, with why (a criterion the result does not have).
    not_applied: list[str] = field(default_factory=list)

    @property
    def adjustment(self) -> float:
        return round_points(self.final - self.automatic)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Adjusted:
        data = dict(data)
        data["applied"] = [Applied(**row) for row in data.get("applied", [])]
        return cls(**data)


def _bounded(value: float, maximum: float) -> float:
    return round_points(min(maximum, max(0.0, value)))


def apply(result: AssignmentResult | None, maximum: float, rows: Iterable[Adjustment]) -> Adjusted:
    """The points of ``result`` (None: not graded, 0 points) after ``rows``, in order:
    criterion rows, then rows for the total. Each step stays within 0 and its maximum."""
    rows = list(rows)
    criteria = {c.id: c.points for c in result.criteria} if result else {}
    maxima = {c.id: c.max_points for c in result.criteria} if result else {}
    automatic = result.points if result else 0.0
    adjusted = Adjusted(automatic=automatic, final=automatic, maximum=maximum)
    for row in (r for r in rows if r.criterion != ALL):
        if row.criterion not in criteria:
            why = "was not graded" if result is None else "has no such criterion"
            adjusted.not_applied.append(
                f"{row.source}: {row.criterion} {row.change.text()} not applied: "
                f"{row.assignment} {why}"
            )
            continue
        before = criteria[row.criterion]
        after = _bounded(row.change.target(before, maxima[row.criterion]), maxima[row.criterion])
        criteria[row.criterion] = after
        adjusted.applied.append(_applied(row, before, after, maxima[row.criterion]))
    total = round_points(sum(criteria.values())) if result else automatic
    for row in (r for r in rows if r.criterion == ALL):
        after = _bounded(row.change.target(total, maximum), maximum)
        adjusted.applied.append(_applied(row, total, after, maximum))
        total = after
    adjusted.criteria, adjusted.final = criteria, total
    return adjusted


def _applied(row: Adjustment, before: float, after: float, maximum: float) -> Applied:
    return Applied(row.criterion, row.change.text(), row.reason, row.who, row.when,
                   row.source, before, after, maximum)  # fmt: skip


def describe(applied: Applied) -> str:
    """One line a student or TA reads: the change, where, what it did, and why."""
    where = "the total" if applied.criterion == ALL else applied.criterion
    line = f"{applied.change} on {where}"
    effect = applied.effect
    if applied.change != f"{'+' if effect >= 0 else '-'}{format_points(abs(effect))}":
        line += f" ({'+' if effect >= 0 else ''}{format_points(effect)} points"
        if applied.bounded:
            line += ", kept within 0 and " + format_points(applied.maximum)
        line += ")"
    return f"{line}: {applied.reason}"
