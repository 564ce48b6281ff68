"""Front ends: the same grading result rendered for people, platforms and CI."""

from __future__ import annotations

from typing import Protocol

from graders.core.results import LabResult
from graders.render import github, gradescope, json_report, junit, terminal


class Renderer(Protocol):
    def __call__(self, report: LabResult, lab_total: bool, verbose: bool = False) -> str:
        """``report`` in one format; ``lab_total``: the lab's lines too (``check --all``);
        ``verbose``: the details a person asked for (every sandbox layer)."""


FORMATS: dict[str, Renderer] = {
    "table": terminal.render,
    "json": json_report.render,
    "gradescope": gradescope.render,
    "junit": junit.render,
    "github": github.render,
}
