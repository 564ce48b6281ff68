"""Where a student stands against the course minimum, from what has been graded so far.

The lab is passed with 35 of its 100 points, counted once every assignment is graded. In
week 3 only a1 (10 points) is, so "3/100: does NOT meet the minimum" would be both true
and useless: a feedback page says instead how many of the points graded so far the
student has, and what the minimum asks of the points still to come. The verdict "does
not meet" is given only once the last assignment is graded.
"""

from __future__ import annotations

from dataclasses import dataclass

from graders.core.results import ValueEnum, format_points, round_points


class Pace(ValueEnum):
    """An instructor's short view of a standing (the class summary's column)."""

    MEETS = "meets the minimum"
    ON_PACE = "on pace"
    BELOW_PACE = "below pace"
    CANNOT_REACH = "cannot reach the minimum"
    FAILS = "does not meet the minimum"
    NOTHING_YET = "nothing graded yet"


@dataclass(frozen=True)
class Standing:
    points: float
    #: Course assignments graded for this student, and those still to come.
    graded: tuple[str, ...]
    pending: tuple[str, ...]
    graded_max: float
    pending_max: float
    lab_max: float
    minimum: float

    @property
    def final(self) -> bool:
        return not self.pending

    @property
    def meets(self) -> bool:
        return self.points >= self.minimum

    @property
    def needed(self) -> float:
        """Points still missing to the minimum."""
        return round_points(max(0.0, self.minimum - self.points))

    @property
    def reachable(self) -> bool:
        return self.points + self.pending_max >= self.minimum

    @property
    def pace(self) -> Pace:
        """On pace: at least the minimum's share (35%) of the points graded so far."""
        if self.meets:
            return Pace.MEETS
        if self.final:
            return Pace.FAILS
        if not self.reachable:
            return Pace.CANNOT_REACH
        if not self.graded:
            return Pace.NOTHING_YET
        share = self.minimum / self.lab_max if self.lab_max else 0.0
        return Pace.ON_PACE if self.points >= share * self.graded_max - 1e-9 else Pace.BELOW_PACE

    def line(self) -> str:
        """The lab line of a feedback page, in plain words (no markup, no student text)."""
        p = format_points
        minimum = f"{p(self.minimum)} of {p(self.lab_max)} points"
        if self.final:
            verdict = "meets" if self.meets else "does NOT meet"
            return (
                f"Lab total {p(self.points)}/{p(self.lab_max)}: {verdict} the course minimum "
                f"of {p(self.minimum)} points."
            )
        to_come = f"{p(self.pending_max)} points still to come ({', '.join(self.pending)})"
        if self.graded:
            head = (
                f"Lab total so far: {p(self.points)} of the {p(self.graded_max)} points graded "
                f"({', '.join(self.graded)})."
            )
        else:
            head = "No assignment has been graded yet."
        if self.meets:
            return f"{head} This already meets the course minimum of {minimum}."
        if not self.reachable:
            return (
                f"{head} The course minimum is {minimum}; the {to_come} are not enough to reach it."
            )
        return (
            f"{head} The course minimum is {minimum}, counted once all "
            f"{len(self.graded) + len(self.pending)} assignments are graded: "
            f"{p(self.needed)} more points are needed from the {to_come}."
        )


def course_standing(
    points: float,
    graded: set[str],
    course: list[tuple[str, float]],
    lab_max: float,
    minimum: float,
) -> Standing:
    """The one way a standing is made: ``points`` from the ``graded`` assignments of the
    ``course`` (its assignments as (key, points), in course order); the rest still to come.
    The class run and every report use it, so they never disagree on a rounding."""
    return Standing(
        points=round_points(points),
        graded=tuple(key for key, _ in course if key in graded),
        pending=tuple(key for key, _ in course if key not in graded),
        graded_max=round_points(sum(worth for key, worth in course if key in graded)),
        pending_max=round_points(sum(worth for key, worth in course if key not in graded)),
        lab_max=lab_max,
        minimum=minimum,
    )
