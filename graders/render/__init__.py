"""Front ends: the same grading result rendered for people, platforms and CI."""

from __future__ import annotations

from collections.abc import Callable

from graders.core.results import LabResult
from graders.render import github, gradescope, json_report, junit, terminal

Renderer = Callable[[LabResult, bool], str]

FORMATS: dict[str, Renderer] = {
    "table": terminal.render,
    "json": json_report.render,
    "gradescope": gradescope.render,
    "junit": junit.render,
    "github": github.render,
}
