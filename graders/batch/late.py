"""The late-submission policy: one kind of adjustment, computed on every run.

``late-policy.json`` in the output folder gives the rule once for the semester::

    {
      "penalty": "10%/day, max 3 days then 0",
      "semester_start": "2025-09-29",
      "timezone": "Europe/Bucharest",
      "deadlines": {"a3": "2025-11-16T23:59"},
      "grace_minutes": 15,
      "extensions": {"ann": {"a2": 2}},
      "times": "handed-in"
    }

``penalty``: ``P%/day`` takes P% of the assignment's maximum per day late (a started
day counts); ``, max N days`` stops counting after N days; ``then 0`` gives no points
to work more than N days late. Deadlines come from the catalog (the end of each
assignment's week, counted from ``semester_start``); ``deadlines`` overrides any of
them (an ISO date and time; a date alone means the end of that day). Times without an
offset are in ``timezone`` (default: this machine's). ``grace_minutes`` forgives a push
just after the deadline; ``extensions`` gives a student days more for an assignment.

``times`` says where hand-in times come from. ``"handed-in"`` (the default): only from
``handed-in.csv`` in the output folder (``graders.batch.handed_in``), what the course's
server recorded. ``"from-submission"``: also, for a hand-in that file does not list, from
the submission itself (git, zip or file times, ``graders.batch.submitted``), which the
student's machine set; every reason then says so. A hand-in with no time is not
penalised, and the run says which and why.

Each late assignment gets an adjustment on its total whose reason starts with "late by N
days" and says when it was handed in and how that was found (``graders.batch.submitted``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import zoneinfo
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graders import catalog
from graders.batch.adjustments import ALL, Adjustment, Change
from graders.batch.submitted import Submitted

FILE = "late-policy.json"
KEYS = ("penalty", "semester_start", "timezone", "deadlines", "grace_minutes", "extensions",
        "times")  # fmt: skip
#: Where hand-in times may come from (the ``times`` key).
TIMES = ("handed-in", "from-submission")
_PENALTY = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*%\s*(?:/|per)\s*day\s*"
    r"(?:,\s*max\s+(\d+)\s+days?(\s+then\s+0)?)?\s*$",
    re.IGNORECASE,
)
EXAMPLE = '"10%/day", "10%/day, max 3 days" or "10%/day, max 3 days then 0"'


class LatePolicyError(ValueError):
    """late-policy.json cannot be used; the message names the file, the key and the value."""


@dataclass(frozen=True)
class Penalty:
    percent_per_day: float
    max_days: int | None = None
    zero_after: bool = False

    @classmethod
    def parse(cls, text: str) -> Penalty:
        match = _PENALTY.match(text)
        if match is None:
            raise ValueError(f"write it as {EXAMPLE}")
        percent, days, then_zero = match.groups()
        return cls(float(percent), int(days) if days else None, bool(then_zero))

    def change(self, days: int) -> tuple[Change, str]:
        """The change for ``days`` late, and what the reason adds to "late by N days"."""
        if self.max_days is None or days <= self.max_days:
            return Change("percent", -self.percent_per_day * days), ""
        if self.zero_after:
            return Change("set", 0.0), f"more than {self.max_days}: no points"
        capped = f"penalty of {self.max_days} days"
        return Change("percent", -self.percent_per_day * self.max_days), capped


@dataclass(frozen=True)
class LatePolicy:
    penalty: Penalty
    rule: str
    zone: dt.tzinfo
    deadlines: dict[str, dt.datetime] = field(default_factory=dict)
    grace: dt.timedelta = dt.timedelta(0)
    #: Student -> assignment -> days of extension.
    extensions: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Whether times read from a submission (set by the student's machine) may be used.
    times_from_submission: bool = False

    def deadline(self, student: str, key: str) -> dt.datetime:
        days = self.extensions.get(student, {}).get(key, 0)
        return self.deadlines[key] + dt.timedelta(days=days)

    def days_late(self, submitted: dt.datetime, student: str, key: str) -> int:
        """Days (each started one counts) after the deadline and the grace; 0: on time."""
        late = submitted - self.deadline(student, key) - self.grace
        return math.ceil(late / dt.timedelta(days=1)) if late > dt.timedelta(0) else 0

    def adjustment(self, student: str, key: str, submitted: Submitted) -> Adjustment | None:
        """The late adjustment of ``key`` handed in at ``submitted``; None when on time."""
        days = self.days_late(submitted.at, student, key)
        if days == 0:
            return None
        change, more = self.penalty.change(days)
        when = submitted.at.astimezone(self.zone)
        reason = (
            f"late by {days} day{'s' if days != 1 else ''}{f' ({more})' if more else ''}: "
            f"handed in {_shown(when)} ({submitted.how}), due {_shown(self.deadline(student, key))}"
        )
        return Adjustment(student, key, ALL, change, reason, f"late policy ({self.rule})",
                          when.isoformat(timespec="minutes"), "late policy")  # fmt: skip


def _shown(moment: dt.datetime) -> str:
    """``2025-10-19 23:59+03:00``: the local time with its offset, never ambiguous."""
    return moment.isoformat(sep=" ", timespec="minutes")


def load(path: Path, students: Collection[str], assignments: Iterable[str]) -> LatePolicy | None:
    """The policy in ``path`` (None when there is none), with a deadline for each of
    ``assignments``; its extensions must name ``students``."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as error:
        raise LatePolicyError(f"cannot read {path}: {error}") from None
    except json.JSONDecodeError as error:
        raise LatePolicyError(
            f"{path} is not valid JSON (line {error.lineno}: {error.msg})"
        ) from None
    if not isinstance(data, dict):
        raise LatePolicyError(f'{path} must hold one JSON object, e.g. {{"penalty": "10%/day"}}')
    try:
        return _policy(data, students, tuple(assignments))
    except ValueError as error:
        raise LatePolicyError(f"{path}: {error}") from None


def _policy(data: dict[str, Any], students: Collection[str], keys: tuple[str, ...]) -> LatePolicy:
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (the keys are {', '.join(KEYS)})")
    rule = data.get("penalty")
    if not isinstance(rule, str):
        raise ValueError(f"penalty {rule!r}: give the rule as text, e.g. {EXAMPLE}")
    try:
        penalty = Penalty.parse(rule)
    except ValueError as error:
        raise ValueError(f"penalty {rule!r}: {error}") from None
    zone = _zone(data.get("timezone"))
    deadlines = _deadlines(data, zone, keys)
    grace = data.get("grace_minutes", 0)
    if not isinstance(grace, (int, float)) or grace < 0:
        raise ValueError(f"grace_minutes {grace!r} must be a number of minutes (0 or more)")
    extensions = _extensions(data.get("extensions", {}), students)
    times = data.get("times", "handed-in")
    if times not in TIMES:
        raise ValueError(
            f'times {times!r} must be "handed-in" (handed-in.csv only) or '
            '"from-submission" (also git, zip and file times, as the student\'s machine set them)'
        )
    return LatePolicy(penalty, rule.strip(), zone, deadlines, dt.timedelta(minutes=grace),
                      extensions, times == "from-submission")  # fmt: skip


def _zone(name: Any) -> dt.tzinfo:
    if name is None:
        local = dt.datetime.now().astimezone().tzinfo
        return local if local is not None else dt.timezone.utc
    try:
        return zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"timezone {name!r} is not a time zone (e.g. Europe/Bucharest)") from None


def _deadlines(
    data: dict[str, Any], zone: dt.tzinfo, keys: tuple[str, ...]
) -> dict[str, dt.datetime]:
    """A deadline for every assignment: the file's, else the catalog's from the semester start."""
    given = data.get("deadlines", {})
    if not isinstance(given, dict):
        raise ValueError('deadlines must map assignments to dates, e.g. {"a1": "2025-10-19T23:59"}')
    found: dict[str, dt.datetime] = {}
    for key, text in given.items():
        if key not in catalog.assignment_keys():
            raise ValueError(f"deadlines: unknown assignment {key!r}")
        found[key] = _moment(text, zone, f"deadlines.{key}")
    start = data.get("semester_start")
    if start is not None:
        try:
            first_day = dt.date.fromisoformat(str(start))
        except ValueError:
            raise ValueError(f"semester_start {start!r} is not a date (e.g. 2025-09-29)") from None
        for key in catalog.assignment_keys():
            found.setdefault(key, catalog.deadline(key, first_day, zone))
    missing = [key for key in keys if key in catalog.assignment_keys() and key not in found]
    if missing:
        raise ValueError(
            f"no deadline for {', '.join(missing)}: give semester_start (each deadline is then "
            "the end of the assignment's week) or deadlines"
        )
    return found


def _moment(text: Any, zone: dt.tzinfo, name: str) -> dt.datetime:
    """A date and time (a date alone: the end of that day), in ``zone`` without an offset."""
    try:
        if isinstance(text, str) and len(text.strip()) == 10:
            day = dt.date.fromisoformat(text.strip())
            return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
        moment = dt.datetime.fromisoformat(str(text))
    except ValueError:
        raise ValueError(
            f"{name} {text!r} is not a date and time (e.g. 2025-10-19T23:59)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _extensions(given: Any, students: Collection[str]) -> dict[str, dict[str, int]]:
    if not isinstance(given, dict) or not all(isinstance(v, dict) for v in given.values()):
        raise ValueError(
            'extensions must map students to {"assignment": days}, e.g. {"ann": {"a2": 2}}'
        )
    for student, days in given.items():
        if student not in students:
            raise ValueError(f"extensions: unknown student {student!r}")
        for key, count in days.items():
            if key not in catalog.assignment_keys():
                raise ValueError(f"extensions.{student}: unknown assignment {key!r}")
            if not isinstance(count, int) or count < 0:
                raise ValueError(f"extensions.{student}.{key} {count!r} must be whole days")
    return given
