"""Reports speak of the built module (``a2/perceptron.py:12``); a student knows the
notebook (``a2/perceptron.ipynb, cell 4, line 7``).

Places the grader knows as values (a failure's :class:`Location`, a broken rule's file and
line, what the sandbox refused) are moved by a lookup, :func:`relocate_location`, where they
are turned into words. Only text the grader did not write, a program's printed output
(a traceback in ``--verbose``), is moved by :func:`relocate_text`; that text is the
student's, so the mapping is bounded: no text makes it slow."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import PurePosixPath

from graders.core.notebooks.building import NotebookModule
from graders.failures import Location

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
                return Location(module.notebook, scope=location.scope)
            return Location(module.notebook, place.line, place.cell, location.scope)
    return location


def relocate_violations(violations: list, locate: Callable[[Location], Location]) -> None:
    """A broken rule's file and line as the student knows them (a notebook's cell): a lookup
    on the violation's own fields."""
    for violation in violations:
        moved = locate(Location(violation.file, violation.line))
        if moved.file != violation.file:
            violation.file, violation.line = moved.describe(), 0
