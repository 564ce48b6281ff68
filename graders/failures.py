"""What went wrong, as a value: a kind and a place, carried from where it happened (the
sandbox, the runner's scan, the plugin) to the record, the gradebook and the summary.

The one-line reason a person reads is rendered from the same event, but nothing decides
anything by reading that text back: a student's exception message can imitate every word
the grader writes ("(it was stopped)", "crashed:", "could not import") and still be a
raised exception, because its kind was set by the code that saw it happen.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any


class FailureKind(str, Enum):
    """Kinds of failure, each set by the code that observed it."""

    TIMED_OUT = "timed out"  # a call or criterion stopped at its time limit
    OVER_BUDGET = "over budget"  # a call stopped at its grading budget (CPU seconds)
    CRASHED = "crashed"  # the worker died (signal, limit, closed pipe)
    RAISED = "raised"  # student code raised an exception
    COULD_NOT_IMPORT = "could not import"  # the student's module failed to import
    DOES_NOT_PARSE = "does not parse"  # a file of the submission is not valid Python
    MISSING_FILE = "missing file"  # a required file was not handed in
    RULE_BROKEN = "rule broken"  # an import rule zeroed the criterion
    GRADER_ERROR = "grader error"  # the grader itself failed (not the student's fault)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Location:
    """A place in the submission: a file relative to its root, a line (0: unknown), and for
    a notebook the cell (``line`` is then the line within that cell)."""

    file: str
    line: int = 0
    cell: int | None = None
    #: The function the line is in, when known (``solve``).
    scope: str = ""

    def describe(self) -> str:
        """``a1/pure.py:12 in solve``, or for a notebook ``a1/pure.ipynb, cell 4, line 7``."""
        if self.cell is not None:
            place = f"{self.file}, cell {self.cell}, line {self.line}"
        else:
            place = f"{self.file}:{self.line}" if self.line else self.file
        return f"{place} in {self.scope}" if self.scope else place


#: Maps a place in the built submission to the place a student knows (a notebook's cell).
Locator = Callable[[Location], Location]


def unmoved(location: Location) -> Location:
    """The locator of a submission without notebooks."""
    return location


#: ``file:line in function`` as the worker reports the innermost student frame.
_WHERE = re.compile(r"^(?P<file>[^\s:][^:]{0,400}?):(?P<line>\d{1,9})(?: in (?P<scope>.{0,200}))?$")


def location_from_where(where: str) -> Location | None:
    """The worker's structured ``where`` field (``a1/pure.py:12 in solve``) as a Location;
    None when it names no student file."""
    match = _WHERE.match(where.strip())
    if match is None:
        return None
    return Location(match.group("file"), int(match.group("line")), scope=match.group("scope") or "")


@dataclass(frozen=True)
class Failure:
    """One failure: its kind, what it concerns (a call's label, a file), where in the
    submission, and the sentence a person reads."""

    kind: FailureKind
    #: What failed: the function called (``determinant``) or the file (``a1/pure.py``).
    subject: str = ""
    location: Location | None = None
    #: The sentence shown to people, rendered where it happened from the place the student
    #: knows (a notebook's cell: ``Locator``); never parsed.
    reason: str = ""
    #: What happened, without the place (``SyntaxError: invalid syntax``): a reason is
    #: rendered again from it when the place is only known later (the static scan).
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Failure | None:
        """A failure read back from a record; None for a kind this version does not know."""
        try:
            kind = FailureKind(data.get("kind"))
        except ValueError:
            return None
        place = data.get("location")
        location = None
        if isinstance(place, dict) and isinstance(place.get("file"), str):
            cell = place.get("cell")
            location = Location(
                place["file"],
                int(place.get("line") or 0),
                int(cell) if isinstance(cell, int) else None,
                str(place.get("scope") or ""),
            )
        return cls(
            kind,
            str(data.get("subject") or ""),
            location,
            str(data.get("reason") or ""),
            str(data.get("detail") or ""),
        )


def does_not_parse(location: Location, detail: str) -> Failure:
    """A file that could not be parsed or scanned, at ``location``."""
    return Failure(
        FailureKind.DOES_NOT_PARSE,
        location.file,
        location,
        f"{location.describe()}: {detail}",
        detail,
    )
