"""State shared by the criteria of one grading run: sandboxes, seed, time budget."""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from graders.core.assignment import AssignmentSpec
from graders.core.options import GradeOptions
from graders.core.progress import BudgetSampled, Listener
from graders.core.submission import StagedSubmission
from graders.sandbox.client import WorkerSpec
from graders.sandbox.confinement import Confinement
from graders.sandbox.load_clock import Deadline
from graders.sandbox.sandbox import RemoteModule, Sandbox, Turns
from graders.sandbox.watchdog import UsageListener


def secret_seed(secrets: dict) -> int | None:
    """The course's secret seed (``{"seed": N}``), or None."""
    seed = secrets.get("seed") if isinstance(secrets, dict) else None
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


def inputs_rng(seed: int, student: str, assignment: str, criterion_id: str):
    """The generator of one student's inputs for one criterion (a hash of all four: a
    classmate's inputs say nothing of these)."""
    import numpy

    key = f"nngrade-inputs:{seed}:{student}:{assignment}:{criterion_id}"
    digest = hashlib.sha256(key.encode()).digest()
    return numpy.random.default_rng(int.from_bytes(digest[:16], "big"))


@dataclass
class GradingContext:
    assignment: AssignmentSpec
    staged: StagedSubmission
    #: The confinement selected for this run (options.confinement names what was asked for).
    selected_confinement: Confinement
    options: GradeOptions = field(default_factory=GradeOptions)
    #: The MNIST folder, resolved from ``options.data_dir`` (None: not an MNIST assignment).
    data_root: Path | None = None
    #: The instructor's secrets, loaded from ``options.secrets_file``; never shown to students.
    secrets: dict = field(default_factory=dict)
    #: Files saved for the report, as "description: path".
    artifacts: list[str] = field(default_factory=list)
    #: Results shared between criteria of one run (e.g. one training run, two criteria).
    memo: dict = field(default_factory=dict)
    #: Numbers for the feedback page's plots (see AssignmentResult.series).
    series: dict[str, list] = field(default_factory=dict)
    #: Hears the run's progress (criteria, budget used); None: nobody is watching.
    progress: Listener | None = None
    _sandboxes: dict[str, Sandbox] = field(default_factory=dict)
    #: The submission's time limit, counted without time spent waiting for a CPU.
    deadline: Deadline = field(init=False)

    #: The submission's sandboxes take turns: one live worker at a time (no channel).
    _turns: Turns = field(default_factory=Turns)

    def __post_init__(self) -> None:
        self.deadline = Deadline(self.assignment.submission_timeout_s)

    def seed_for(self, criterion_id: str) -> int:
        """A stable per-criterion seed, so a submission always gets the same points."""
        return zlib.crc32(f"{self.options.seed}:{criterion_id}".encode()) & 0x7FFFFFFF

    @property
    def secret_inputs(self) -> bool:
        """Whether criteria draw their inputs from the course's secret seed: the assignment
        has secret inputs and the secrets file gives the seed."""
        return self.assignment.secret_inputs and secret_seed(self.secrets) is not None

    def secret_rng(self, criterion_id: str):  # -> numpy.random.Generator | None
        """A generator of ``criterion_id``'s inputs drawn from the course's secret seed
        (``{"seed": N}`` in the secrets file) and the student's id, so that each student's
        inputs are their own and no public table answers them; None without secret inputs
        (the criterion then uses its public inputs)."""
        if not self.secret_inputs:
            return None
        seed = secret_seed(self.secrets)
        return inputs_rng(seed, self.options.student_id, self.assignment.key, criterion_id)

    def sandbox(self, name: str) -> Sandbox:
        if name not in self._sandboxes:
            spec = self.assignment.sandbox(name)
            worker = WorkerSpec(
                name=name,
                source=self.staged.root,
                rules=spec.rules,
                local_modules=self.staged.local_modules,
                limits=self.assignment.limits,
                confinement=self.selected_confinement,
                libraries=spec.libraries,
                worker_modules=self.assignment.worker_modules,
            )
            self._sandboxes[name] = Sandbox(
                worker,
                self.deadline,
                self._turns,
                on_usage=self._usage_listener(name),
                locate=self.staged.locate,
            )
        return self._sandboxes[name]

    def _usage_listener(self, sandbox: str) -> UsageListener | None:
        """Budget samples of ``sandbox``'s calls as progress events (None: nobody listens)."""
        progress = self.progress
        if progress is None:
            return None

        def tell(used_s: float, budget_s: float, running: bool) -> None:
            progress(BudgetSampled(sandbox, round(used_s, 1), budget_s, running))

        return tell

    @property
    def sandboxes(self) -> dict[str, Sandbox]:
        return dict(self._sandboxes)

    def module(self, name: str, *, sandbox: str) -> RemoteModule:
        return self.sandbox(name=sandbox).module(name)

    def mnist(self, split: str):
        """MNIST ``split`` as (uint8 images, int64 labels), loaded in the grader process.

        The "test" split is the instructor's held-out set when one was given; otherwise the
        public test images with a seeded perturbation, so that memorising them gains nothing.
        """
        from graders.data.mnist import load_evaluation_set, load_mnist
        from graders.data.perturb import perturb, seed_from

        if split == "test" and self.options.eval_set is not None:
            return load_evaluation_set(*self.options.eval_set)
        images, labels = load_mnist(split, self.data_root, download=self.options.download)
        if split == "test":
            key = "mnist.test.perturbed"
            if key not in self.memo:
                self.memo[key] = perturb(images, seed_from(self.secrets)[0])
            images = self.memo[key]
        return images, labels

    def secret(self, name: str, default=None):
        """This assignment's secret ``name`` (e.g. hidden evaluation seeds), or ``default``."""
        return self.secrets.get(self.assignment.key, {}).get(name, default)

    def artifact_path(self, filename: str) -> Path | None:
        """Where to save a report file for this submission, or None when not wanted."""
        if self.options.artifacts_dir is None:
            return None
        return Path(self.options.artifacts_dir) / f"{self.assignment.key}-{filename}"

    def close(self) -> None:
        for sandbox in self._sandboxes.values():
            sandbox.close()
