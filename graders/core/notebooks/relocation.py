"""Reports speak of the built module (``a2/perceptron.py:12``); a student knows the
notebook. Every module location in a result (its notices, reasons, failures and violations)
is mapped back to ``a2/perceptron.ipynb, cell 4, line 7``. That text may be the student's,
so the mapping is bounded: no text makes it slow."""

from __future__ import annotations

import dataclasses
import re
from pathlib import PurePosixPath

from graders.core.notebooks.building import NotebookModule
from graders.failures import Failure, Location

#: Text longer than this is relocated only up to here (reasons and notices are shorter;
#: the rest of a longer text is kept as it is): student text never drives a regex far.
MAX_RELOCATED_CHARS = 20_000


def _pattern(module: NotebookModule) -> re.Pattern[str]:
    """A module location in text. Every repetition is bounded (a folder prefix of at most
    200 characters, a line of at most 9 digits), so no text makes it backtrack for long."""
    relative = re.escape(module.module)
    name = re.escape(PurePosixPath(module.module).name)
    return re.compile(
        rf"(?P<path>(?<![\w.])(?:[^\s\"'(),:/]{{0,100}}/){{0,20}}{relative}|(?<![\w./]){name})"
        r"(?![\w])(?:(?::|\", line |, line )(?P<line>\d{1,9})(?!\d))?"
    )


def relocate_text(text: str, modules: dict[str, NotebookModule]) -> str:
    """``a2/perceptron.py:12`` (and ``perceptron.py, line 12``, ``File ".../a2/perceptron.py",
    line 12``) as ``a2/perceptron.ipynb, cell 4, line 7`` for every notebook module."""
    text, rest = text[:MAX_RELOCATED_CHARS], text[MAX_RELOCATED_CHARS:]
    for module in modules.values():
        if module.module not in text and PurePosixPath(module.module).name not in text:
            continue

        def replace(match: re.Match[str], module: NotebookModule = module) -> str:
            path = match.group("path")
            shown = module.notebook if "/" in path else PurePosixPath(module.notebook).name
            if match.group("line") is None:
                return shown
            place = module.place(int(match.group("line")))
            return f"{shown}, cell {place.cell}, line {place.line}" if place else shown

        text = _pattern(module).sub(replace, text)
    return text + rest


def relocate_location(location: Location, modules: dict[str, NotebookModule]) -> Location:
    """A module's file and line as its notebook's cell and line: a lookup, not text."""
    for module in modules.values():
        if module.module == location.file:
            place = module.place(location.line) if location.line else None
            if place is None:
                return Location(module.notebook)
            return Location(module.notebook, place.line, place.cell)
    return location


def _relocated(failure: Failure, modules: dict[str, NotebookModule]) -> Failure:
    location = failure.location
    return dataclasses.replace(
        failure,
        location=relocate_location(location, modules) if location is not None else None,
        reason=relocate_text(failure.reason, modules),
        subject=relocate_text(failure.subject, modules),
    )


def relocate(result, modules: dict[str, NotebookModule]) -> None:
    """Map every module location in an AssignmentResult back to its notebook cell and line."""
    if not modules:
        return
    result.notices = [relocate_text(n, modules) for n in result.notices]
    for criterion in result.criteria:
        criterion.reason = relocate_text(criterion.reason, modules)
        criterion.failures = [_relocated(f, modules) for f in criterion.failures]
    if result.failures is not None:
        result.failures = [_relocated(f, modules) for f in result.failures]
    for violation in result.violations:
        where = f"{violation.file}:{violation.line}" if violation.line else violation.file
        moved = relocate_text(where, modules)
        if moved != where:
            violation.file, violation.line = moved, 0
