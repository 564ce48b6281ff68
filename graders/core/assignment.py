"""Declarative description of an assignment: what a submission holds, how it is confined,
which rules apply to which files and which criteria a broken rule zeroes."""

from __future__ import annotations

import fnmatch
import importlib
from dataclasses import dataclass, field
from pathlib import Path

from graders.sandbox.client import Limits
from graders.sandbox.inside.rules import ImportRule


@dataclass(frozen=True)
class SandboxSpec:
    """A worker flavour: the libraries it can see (nothing else is on its filesystem) and
    the import rules enforced at run time inside it (for their clear file:line reasons)."""

    name: str
    rules: tuple[ImportRule, ...]
    #: Installed distributions visible to the worker, with all they require
    #: (e.g. ("numpy",)); empty: the standard library only.
    libraries: tuple[str, ...] = ()


@dataclass(frozen=True)
class RulePolicy:
    """Applies ``rule`` to ``files`` (globs, plus whatever they import from the submission)
    and names the criteria a violation zeroes (fnmatch patterns; empty means all)."""

    rule: ImportRule
    files: tuple[str, ...]
    criteria: tuple[str, ...] = ()

    def covers(self, criterion_id: str) -> bool:
        return not self.criteria or any(fnmatch.fnmatch(criterion_id, p) for p in self.criteria)


@dataclass(frozen=True)
class AssignmentSpec:
    key: str
    number: int
    title: str
    points: float
    week: int
    summary: str
    required_files: tuple[str, ...]
    sandboxes: tuple[SandboxSpec, ...]
    policies: tuple[RulePolicy, ...]
    grader_module: str
    limits: Limits = field(default_factory=Limits)
    submission_timeout_s: float = 600.0
    rules_text: str = ""
    #: Graders of MNIST assignments load the data set; its folder is hidden from workers.
    uses_mnist: bool = False
    #: Time budgets that are part of grading, in seconds (e.g. {"train": 120}).
    budgets: dict[str, float] = field(default_factory=dict)
    #: Modules the grader itself needs (an optional extra), e.g. ("torch",).
    requires: tuple[str, ...] = ()
    #: The optional dependency group of nngrade that provides ``requires``.
    extra: str = ""
    #: Modules of nngrade that run inside the worker (probes), staged into its runtime.
    worker_modules: tuple[str, ...] = ()

    @property
    def folder(self) -> str:
        return self.key

    @property
    def grader_path(self) -> Path:
        module = importlib.import_module(self.grader_module)
        return Path(module.__file__)

    def sandbox(self, name: str) -> SandboxSpec:
        for sandbox in self.sandboxes:
            if sandbox.name == name:
                return sandbox
        raise KeyError(f"assignment {self.key} has no sandbox {name!r}")
