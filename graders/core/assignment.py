"""Declarative description of an assignment: what a submission holds, how it is confined,
which rules apply to which files and which criteria a broken rule zeroes."""

from __future__ import annotations

import fnmatch
import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from graders.sandbox.inside.rules import ImportRule
from graders.sandbox.limits import Limits

#: An assignment's key and the name of its folders: "a" and its number (a1, a2, ...).
ASSIGNMENT_KEY = re.compile(r"a[1-9][0-9]*")


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
    """Everything the course knows about one assignment, declared once in its package."""

    key: str
    title: str
    points: float
    week: int
    required_files: tuple[str, ...]
    #: The first one's worker starts while pytest starts: list first the sandbox of the
    #: criteria that run first.
    sandboxes: tuple[SandboxSpec, ...]
    policies: tuple[RulePolicy, ...]
    grader_module: str
    limits: Limits = field(default_factory=Limits)
    submission_timeout_s: float = 600.0
    #: The framework rule in a few words, for `nngrade list`.
    rules: str = ""
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
    #: Whether its criteria draw their inputs from the course's secret seed when there is
    #: one (``GradingContext.secret_rng``) instead of using the public ones.
    secret_inputs: bool = False
    #: Criteria graded before the others, in this order (the report keeps the grader's
    #: order). A submission's sandboxes take turns, and each turn starts a worker (about
    #: 0.2 s): an order that changes sandbox less often starts fewer.
    run_first: tuple[str, ...] = ()
    #: Cores one grading keeps busy on average, measured (``bench/class_throughput.py``):
    #: ``--jobs auto`` runs cores / this many at once. About one for every assignment: even
    #: a4's two torch threads leave a core idle through its evaluation and checks.
    cores_per_job: float = 1.0
    #: Memory one grading holds at its peak, the grader and its workers together, measured
    #: (``bench/grader_memory.py``) and rounded up: ``--jobs auto`` runs no more at once
    #: than the available memory holds.
    job_memory_bytes: int = 2**30

    def __post_init__(self) -> None:
        if not ASSIGNMENT_KEY.fullmatch(self.key):
            raise ValueError(f"assignment key {self.key!r} must be 'a' and a number (a6)")

    @property
    def number(self) -> int:
        return int(self.key[1:])

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
